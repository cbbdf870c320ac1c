/**
 * Resume application writes: the operator leaves maintenance mode (their procedure) and confirms it, the
 * gate showing how validation went; the report records when the service was handed back. Then the database
 * as it was before the swap (kept by name as the undo) is dropped when validation passed, else kept.
 */
import type { Check, Gate } from '../../runbook/step.js';
import { quoteIdent } from '../../runbook/pg-queries.js';
import { defineStep } from '../define.js';
import { lastLines, MAINTENANCE_DATABASE, PG_INPUTS } from '../clients/psql.js';
import { runPsql } from '../clients/psql-run.js';
import { IDS, SECTION, target } from './ids.js';
import { SWAP } from './restore.js';
import { validate } from './validate.js';

function validated(entries: readonly { ok: boolean }[]): boolean {
  return entries.length > 0 && entries.every((entry) => entry.ok);
}

export const resumeWrites = defineStep({
  id: IDS.resumeWrites,
  section: SECTION,
  title: 'Resume application writes',
  description:
    'Leave maintenance mode / scale the writers back up (your procedure), then mark it done here: the report records when the service was handed back.',
  inputs: PG_INPUTS,
  database: 'postgres',
  plan: () => ({ actions: [{ summary: 'resume application writes (your procedure), then confirm' }] }),
  gate(values, ctx): Gate {
    const entries = ctx.from(validate)?.validation ?? [];
    const failed = entries.filter((entry) => !entry.ok).length;
    const previous = ctx.from(SWAP)?.previous;
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
        ...(previous
          ? {
              'previous database': validated(entries)
                ? `${previous}: dropped after this (validation passed)`
                : `${previous}: KEPT (validation did not pass): the undo`,
            }
          : {}),
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
    const checks: Check[] = [];
    const swap = ctx.from(SWAP);
    const database = ctx.values.get('POSTGRES_DATABASE') ?? '?';
    if (swap?.previous) {
      const previous = swap.previous;
      const drop = `DROP DATABASE IF EXISTS ${quoteIdent(previous)} WITH (FORCE);`;
      if (validated(ctx.from(validate)?.validation ?? [])) {
        const dropped = await runPsql(ctx, drop, MAINTENANCE_DATABASE);
        checks.push(
          dropped.exitCode === 0
            ? {
                id: 'previous',
                label: `previous database ${previous}`,
                status: 'ok',
                detail: 'dropped: validation passed',
              }
            : {
                id: 'previous',
                label: `previous database ${previous}`,
                status: 'warn',
                detail: `could not drop it: ${lastLines(dropped.stderr, 2)}`,
                next: `Drop it when done: ${drop}`,
              },
        );
      } else
        checks.push({
          id: 'previous',
          label: `previous database ${previous}`,
          status: 'warn',
          detail: 'kept: validation did not pass',
          next: `Undo the restore: BEGIN; ALTER DATABASE ${quoteIdent(database)} RENAME TO ${quoteIdent(`${database}_discarded`)}; ALTER DATABASE ${quoteIdent(previous)} RENAME TO ${quoteIdent(database)}; COMMIT; — or drop it: ${drop}`,
        });
    }
    return {
      summary: `writes resumed (${by} at ${at})`,
      checks,
      data: { resumedAt: at, confirmedVia: ctx.confirmedVia ?? 'unknown' },
    };
  },
});
