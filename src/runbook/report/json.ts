import type { ReportModel } from './model.js';

/** The DR report as JSON, as docs/report-schema.json documents it. */
export function renderJson(model: ReportModel): string {
  return [...jsonChunks(model)].join('');
}

const ROW_BATCH = 2000;

/**
 * The same JSON in pieces: everything indented, except that each `digest` and `timeline` row is one
 * line, so a 100k-event report stays readable and is written out without one huge string.
 */
export function* jsonChunks(model: ReportModel): Generator<string> {
  const { digest, timeline, ...rest } = model;
  const head = JSON.stringify(rest, null, 2);
  yield `${head.slice(0, head.lastIndexOf('}')).trimEnd()},\n`;
  yield* rows('digest', digest);
  yield ',\n';
  yield* rows('timeline', timeline);
  yield '\n}\n';
}

function* rows(name: string, list: readonly unknown[]): Generator<string> {
  yield `  "${name}": [`;
  for (let start = 0; start < list.length; start += ROW_BATCH) {
    const batch = list.slice(start, start + ROW_BATCH).map((row) => `\n    ${JSON.stringify(row)}`);
    yield `${start > 0 ? ',' : ''}${batch.join(',')}`;
  }
  yield `${list.length > 0 ? '\n  ' : ''}]`;
}
