import type { ReportModel, ReportRecovery, ReportTimes } from './model.js';

/**
 * The picture's lanes: what each part of a session was for. A session may set up, test, restore and
 * drill; each gets its own lane (Mermaid section, SVG row group) with its recoveries' milestones.
 */
export const PHASES = [
  { id: 'setup', label: 'Setup', sections: ['prerequisites', 'configure', 'deploy'] },
  { id: 'synthetic-test', label: 'Synthetic data test', sections: ['test-postgres', 'test-neo4j'] },
  { id: 'incident-restore', label: 'Incident restore', sections: ['restore-postgres', 'restore-neo4j'] },
  { id: 'drill', label: 'DR drill', sections: ['dr-validation'] },
  { id: 'troubleshoot', label: 'Troubleshooting', sections: ['troubleshoot'] },
] as const;

export type PhaseId = (typeof PHASES)[number]['id'] | 'other';

export function phaseOfSection(section: string): PhaseId {
  return PHASES.find((phase) => (phase.sections as readonly string[]).includes(section))?.id ?? 'other';
}

export function phaseLabel(id: PhaseId): string {
  return PHASES.find((phase) => phase.id === id)?.label ?? 'Other';
}

export interface Bar {
  phase: PhaseId;
  step: string;
  /** `restore-postgres.restore (attempt 2)`. */
  name: string;
  start: number;
  end: number;
  status: ReportModel['sections'][number]['steps'][number]['attempts'][number]['status'];
}

export interface Milestone {
  phase: PhaseId;
  label: string;
  at: number;
  key: keyof ReportTimes;
}

/** Every step attempt as a bar, in its phase (attempts without a readable start are left out). */
export function barsOf(model: ReportModel): Bar[] {
  const bars: Bar[] = [];
  for (const section of model.sections) {
    const phase = phaseOfSection(section.id);
    for (const step of section.steps)
      step.attempts.forEach((attempt, index) => {
        const start = Date.parse(attempt.startedAt);
        if (Number.isNaN(start)) return;
        const parsed = attempt.endedAt === null ? start : Date.parse(attempt.endedAt);
        bars.push({
          phase,
          step: step.id,
          name: step.attempts.length > 1 ? `${step.id} (attempt ${index + 1})` : step.id,
          start,
          end: Math.max(start, Number.isNaN(parsed) ? start : parsed),
          status: attempt.status,
        });
      });
  }
  return bars;
}

const MILESTONE_KEYS: readonly { key: keyof ReportTimes; label: string }[] = [
  { key: 'incidentDeclared', label: 'Incident declared' },
  { key: 'restoreStarted', label: 'Restore started' },
  { key: 'restoreDone', label: 'Restore done' },
  { key: 'validated', label: 'Validated' },
];

/** The recoveries' points in time, in their scenario's phase; one milestone where several databases share it. */
export function milestonesOf(recoveries: readonly ReportRecovery[]): Milestone[] {
  const out: Milestone[] = [];
  for (const recovery of recoveries) {
    const phase: PhaseId = recovery.scenario === 'drill' ? 'drill' : 'incident-restore';
    const engines = new Set(recoveries.filter((r) => r.scenario === recovery.scenario).map((r) => r.engine));
    for (const { key, label } of MILESTONE_KEYS) {
      const at = recovery.times[key] === null ? Number.NaN : Date.parse(recovery.times[key] as string);
      if (Number.isNaN(at)) continue;
      const shared = out.find((m) => m.phase === phase && m.key === key && m.at === at);
      if (shared) continue;
      const engine = recovery.engine === 'postgres' ? 'PostgreSQL' : 'Neo4j';
      out.push({
        phase,
        key,
        at,
        label: engines.size > 1 && key !== 'incidentDeclared' ? `${label} · ${engine}` : label,
      });
    }
  }
  return out.sort((a, b) => a.at - b.at);
}
