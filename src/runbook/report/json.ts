import type { ReportModel } from './model.js';

/** The DR report as JSON, as docs/report-schema.json documents it. */
export function renderJson(model: ReportModel): string {
  return `${JSON.stringify(model, null, 2)}\n`;
}
