/**
 * The step that records when the incident was declared (the RPO's reference point).
 */
import { formatDuration, parseTimestamp } from '../../runbook/backup-catalog.js';
import { UsageError } from '../../runbook/errors.js';
import {
  incidentAt,
  type IncidentData,
  operatorChoice,
  POSTGRES_SPEC,
  restoreHandles,
  type RestoreSpec,
} from './spec.js';
import { defineStep, type RunbookStep } from '../define.js';
import type { Choice } from '../../runbook/step.js';
import { MARK } from '../../runbook/marks.js';

export const INCIDENT_AGO_MINUTES = [5, 15, 30, 60, 120, 240, 480];

export function parseIncidentTime(text: string, now: Date): string {
  const iso = /[zZ]|[+-]\d{2}:?\d{2}$/.test(text.trim())
    ? Number.isFinite(Date.parse(text))
      ? new Date(Date.parse(text)).toISOString()
      : parseTimestamp(text)
    : parseTimestamp(text);
  if (!iso)
    throw new UsageError(
      `--incident-time "${text}" is not a time`,
      'Give it as UTC ISO 8601, e.g. 2026-01-02T03:04:05Z.',
    );
  if (Date.parse(iso) > now.getTime() + 5 * 60000)
    throw new UsageError(
      `--incident-time ${iso} is in the future`,
      'Give the time the incident was declared (UTC).',
    );
  return iso;
}

export function incidentStep(spec: RestoreSpec): RunbookStep<IncidentData> {
  return defineStep<IncidentData>({
    ...restoreHandles(spec).incident,
    section: spec.section,
    title: 'Incident declared',
    description:
      'When the incident was declared (now unless --incident-time says otherwise): the report measures RTO from it, and the data-loss window is counted up to it.',
    inputs: [],
    database: spec.database,
    plan: (_values, options) => ({
      actions: [
        {
          summary:
            typeof options['incident-time'] === 'string'
              ? `record the incident as declared at ${options['incident-time']} (--incident-time)`
              : 'record the incident as declared now (or pick a time: --incident-time ISO)',
        },
      ],
    }),
    async run(ctx) {
      const now = new Date();
      const nowIso = now.toISOString();
      const given = ctx.options['incident-time'];
      const explicit = typeof given === 'string' && given !== '' ? parseIncidentTime(given, now) : undefined;
      const other = spec.section === 'restore-neo4j' ? incidentAt(ctx.from, POSTGRES_SPEC) : undefined;
      const fallback = explicit ?? other ?? nowIso;
      const choices: Choice[] = [
        ...(explicit ? [{ label: '--incident-time', value: explicit, hint: explicit }] : []),
        ...(other && !explicit
          ? [{ label: 'as declared for PostgreSQL in this session', value: other, hint: other }]
          : []),
        { label: `now (${nowIso.slice(11, 16)} UTC)`, value: nowIso },
        ...INCIDENT_AGO_MINUTES.map((minutes) => {
          const at = new Date(now.getTime() - minutes * 60000).toISOString();
          return {
            label: `${formatDuration(minutes * 60000)} ago`,
            value: at,
            hint: `${at.slice(11, 16)} UTC`,
          };
        }),
      ];
      const at =
        (await operatorChoice(ctx, 'When was the incident declared?', choices, fallback)) ?? fallback;
      const source =
        at === explicit ? 'option' : at === other ? 'restore-postgres' : at === nowIso ? 'now' : 'chosen';
      ctx.mark(MARK.incidentDeclared, { at });
      return { summary: `incident declared at ${at}`, data: { at, source } };
    },
  });
}
