export { buildReport, resultOf, type ReportOptions } from './build.js';
export { outcomeText } from './format.js';
export { htmlChunks, renderHtml } from './html.js';
export { jsonChunks, renderJson } from './json.js';
export { markdownChunks, renderMarkdown } from './markdown.js';
export * from './model.js';
export { nextDrillDate, addMonthsUtc, DRILL_INTERVAL_MONTHS } from './next-drill.js';
export { detectScenario, SCENARIO_LABELS, isScenarioId } from './scenario.js';
