/**
 * The validation checks after a restore (restore-postgres, restore-neo4j): each a ✓/✗ check and an entry
 * for the report, and the end of it: `validated` journaled when none failed, with the recovery figures.
 */
import type { Check } from '../../runbook/step.js';
import { MARK } from '../../runbook/marks.js';
import { recoveryFigureChecks } from '../kit/recovery-figures.js';
import type { Ctx } from './spec.js';

/** One validation check as the report lists it. */
export interface ValidationEntry {
  query: string;
  ok: boolean;
  detail: string;
}

export interface ValidationList {
  checks: Check[];
  validation: ValidationEntry[];
  /**
   * A check. 'skip' and 'warn' show it so and leave it out of the validation entries (they fail nothing).
   * `next` only when it did not pass.
   */
  add(id: string, label: string, ok: boolean | 'skip' | 'warn', detail: string, next?: string): void;
}

export function validationList(): ValidationList {
  const checks: Check[] = [];
  const validation: ValidationEntry[] = [];
  return {
    checks,
    validation,
    add(id, label, ok, detail, next) {
      checks.push({
        id,
        label,
        status: ok === 'skip' || ok === 'warn' ? ok : ok ? 'ok' : 'fail',
        detail,
        ...(next && ok !== true ? { next } : {}),
      });
      if (typeof ok === 'boolean') validation.push({ query: label, ok, detail });
    },
  };
}

/**
 * The failed entries. When none failed, journals `validated` for `database` and adds the figures the
 * report shows for this recovery (RTO/RPO, from the same computation).
 */
export function concludeValidation(
  ctx: Ctx,
  list: ValidationList,
  recovery: { section: string; engine: 'postgres' | 'neo4j'; database: string | undefined },
): ValidationEntry[] {
  const failed = list.validation.filter((entry) => !entry.ok);
  if (failed.length === 0) {
    ctx.mark(MARK.validated, { database: recovery.database });
    list.checks.push(...recoveryFigureChecks(ctx, recovery.section, recovery.engine));
  }
  return failed;
}
