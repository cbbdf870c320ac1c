import type { ReportModel } from './model.js';

/**
 * A Mermaid `gantt` block: one bar per step attempt, grouped by runbook section, and the recovery
 * marks as milestones (not the recovery point: it is often hours earlier and would squash the chart).
 * Renders as a picture where Markdown supports Mermaid (GitHub, GitLab).
 */
export function renderGantt(model: ReportModel): string[] {
  const lines = [
    '```mermaid',
    'gantt',
    `    title ${label(`Session ${model.session.id} (UTC)`)}`,
    '    dateFormat YYYY-MM-DD HH:mm:ss',
    '    axisFormat %H:%M',
  ];
  let taskId = 0;
  for (const section of model.sections) {
    const bars: string[] = [];
    for (const step of section.steps) {
      step.attempts.forEach((attempt, index) => {
        const start = Date.parse(attempt.startedAt);
        if (Number.isNaN(start)) return;
        const parsedEnd = attempt.endedAt === null ? start : Date.parse(attempt.endedAt);
        // Mermaid hides zero-length bars: give every bar at least a second.
        const end = Math.max(Number.isNaN(parsedEnd) ? start : parsedEnd, start + 1000);
        const name = step.attempts.length > 1 ? `${step.id} (attempt ${index + 1})` : step.id;
        const tags = TAGS[attempt.status];
        bars.push(`    ${label(name)} :${tags}t${++taskId}, ${mermaidTime(start)}, ${mermaidTime(end)}`);
      });
    }
    if (bars.length > 0) lines.push(`    section ${label(section.title)}`, ...bars);
  }
  const milestones = MILESTONES.flatMap(({ key, name }) => {
    const at = model.recovery.times[key];
    const ms = at === null ? Number.NaN : Date.parse(at);
    return Number.isNaN(ms) ? [] : [`    ${name} :milestone, m${++taskId}, ${mermaidTime(ms)}, 0d`];
  });
  if (milestones.length > 0) lines.push('    section Recovery', ...milestones);
  lines.push('```');
  return lines;
}

const TAGS: Readonly<Record<string, string>> = {
  done: 'done, ',
  failed: 'crit, ',
  interrupted: 'crit, active, ',
  refused: 'active, ',
  skipped: '',
};

const MILESTONES = [
  { key: 'incidentDeclared', name: 'Incident declared' },
  { key: 'restoreStarted', name: 'Restore started' },
  { key: 'downloadDone', name: 'Download done' },
  { key: 'restoreDone', name: 'Restore done' },
  { key: 'validated', name: 'Validated' },
] as const;

/** `2026-01-15 10:03:12` in UTC: the chart's dateFormat. */
function mermaidTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/** Mermaid gantt task and section names end at `:`, and `#`/`;` start entities and statements. */
function label(text: string): string {
  return text.replace(/[:#;]/g, ' ').replace(/\s+/g, ' ').trim();
}
