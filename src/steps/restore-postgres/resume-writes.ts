/**
 * Resume application writes: the operator leaves maintenance mode (their procedure) and confirms it, the
 * gate showing how validation went; the report records when the service was handed back.
 */
import type { Gate } from '../../runbook/step.js';
import { defineStep } from '../define.js';
import { IDS, SECTION, target } from './ids.js';
import { validate } from './validate.js';

export const resumeWrites = defineStep({
  id: IDS.resumeWrites,
  section: SECTION,
  title: 'Resume application writes',
  description:
    'Leave maintenance mode / scale the writers back up (your procedure), then mark it done here: the report records when the service was handed back.',
  inputs: ['POSTGRES_DATABASE'],
  database: 'postgres',
  plan: () => ({ actions: [{ summary: 'resume application writes (your procedure), then confirm' }] }),
  gate(values, ctx): Gate {
    const entries = ctx.from(validate)?.validation ?? [];
    const failed = entries.filter((entry) => !entry.ok).length;
    return {
      kind: 'confirm',
      prompt: `Application writes to ${values.get('POSTGRES_DATABASE')} are resumed (maintenance mode off)?`,
      target: {
        ...target(values, ctx),
        validation:
          entries.length === 0
            ? 'NOT RUN in this session'
            : failed === 0
              ? `${entries.length} check(s) passed`
              : `${failed} of ${entries.length} FAILED`,
      },
    };
  },
  async run(ctx) {
    const at = new Date().toISOString();
    // Under --yes nobody was asked: say so rather than claim an operator confirmed it.
    const by =
      ctx.confirmedVia === 'flag'
        ? 'non-interactive: --yes, no person confirmed it'
        : 'confirmed by the operator';
    return {
      summary: `writes resumed (${by} at ${at})`,
      data: { resumedAt: at, confirmedVia: ctx.confirmedVia ?? 'unknown' },
    };
  },
});
