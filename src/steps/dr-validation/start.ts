/**
 * The drill's first step: the simulated incident is declared (now, or at --incident-time), the time the
 * report measures RTO from and RPO up to. Nothing is touched.
 */
import { UsageError } from '../../runbook/errors.js';
import { MARK } from '../../runbook/marks.js';
import { defineStep } from '../define.js';
import type { IncidentData } from '../restore-kit/spec.js';
import { DRILL_IDS, SECTION } from './spec.js';

/** Its output is read through restoreHandles(DRILL_SPEC).incident, as a restore's incident step. */
export const start = defineStep<IncidentData & { drill: boolean }>({
  id: DRILL_IDS.incident,
  section: SECTION,
  title: 'Drill started',
  description:
    'The drill’s simulated incident is declared now (or at --incident-time): the report measures RTO from it and RPO up to it. Nothing is touched.',
  inputs: [],
  plan: (_values, options) => ({
    actions: [
      {
        summary:
          typeof options['incident-time'] === 'string'
            ? `record the simulated incident at ${options['incident-time']} (--incident-time)`
            : 'record the simulated incident as declared now',
      },
    ],
  }),
  async run(ctx) {
    const given = ctx.options['incident-time'];
    let at = new Date().toISOString();
    let source = 'now';
    if (typeof given === 'string' && given !== '') {
      const parsed = Date.parse(given);
      if (!/[zZ]|[+-]\d{2}:?\d{2}$/.test(given) || !Number.isFinite(parsed))
        throw new UsageError(
          `--incident-time "${given}" is not a UTC time`,
          'Give it as ISO 8601, e.g. 2026-01-02T03:04:05Z.',
        );
      at = new Date(parsed).toISOString();
      source = 'option';
    }
    ctx.mark(MARK.incidentDeclared, { at, drill: true });
    return {
      summary: `drill started: the simulated incident is declared at ${at}`,
      data: { at, source, drill: true },
    };
  },
});
