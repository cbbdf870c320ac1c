import type { ReportModel } from './model.js';

/** The DR report as JSON, as docs/report-schema.json documents it. */
export function renderJson(model: ReportModel): string {
  return [...jsonChunks(model)].join('');
}

const TIMELINE_BATCH = 2000;

/**
 * The same JSON in pieces: everything indented, except that each timeline row is one line, so a
 * 100k-row timeline stays readable and can be written out without one huge string.
 */
export function* jsonChunks(model: ReportModel): Generator<string> {
  const { timeline, ...rest } = model;
  const head = JSON.stringify(rest, null, 2);
  yield `${head.slice(0, head.lastIndexOf('}')).trimEnd()},\n  "timeline": [`;
  for (let start = 0; start < timeline.length; start += TIMELINE_BATCH) {
    const rows = timeline.slice(start, start + TIMELINE_BATCH).map((row) => `\n    ${JSON.stringify(row)}`);
    yield `${start > 0 ? ',' : ''}${rows.join(',')}`;
  }
  yield `${timeline.length > 0 ? '\n  ' : ''}]\n}\n`;
}
