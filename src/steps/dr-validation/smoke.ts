/**
 * The drill's smoke tests on the PostgreSQL scratch database: the values file's critical queries
 * (read-only), row counts against the dump's, the backup_validation marker, and owners and privileges
 * as in the backup. All passing marks the drill validated (the end of RTO).
 */
import { MARK } from '../../runbook/marks.js';
import { RunbookError } from '../../runbook/errors.js';
import {
  firstValue,
  MARKER_TABLE_EXISTS_SQL,
  markerRowsSql,
  parseMarkerRows,
  parseRowCounts,
  parseValidationQueries,
  ROW_COUNTS_SQL,
} from '../../runbook/pg-queries.js';
import { defineStep } from '../define.js';
import { PG_INPUTS, runValidationQuery } from '../clients/psql.js';
import { psqlOrThrow } from '../clients/psql-run.js';
import { privilegeChecks } from '../restore-kit/privilege-checks.js';
import { integrityOf } from '../restore-kit/spec.js';
import { validationList } from '../restore-kit/validation.js';
import { dumpRowCounts, restoredScratch } from './restore.js';
import { DRILL_IDS, DRILL_SPEC, onDrillServer, SECTION } from './spec.js';

/** The values file's smokeQueries (same shape as validationQueries: {name, sql, expect?}), else validationQueries. */
function smokeQueries(settings: Record<string, unknown>) {
  const key = settings.smokeQueries !== undefined ? 'smokeQueries' : 'validationQueries';
  const parsed = parseValidationQueries(settings[key]);
  return {
    key,
    queries: parsed.queries,
    problems: parsed.problems.map((problem) => problem.replace(/^validationQueries/, key)),
  };
}

export const smoke = defineStep({
  id: DRILL_IDS.smoke,
  section: SECTION,
  database: 'postgres',
  title: 'Smoke tests on the scratch database',
  description:
    'The critical application queries from the values file (smokeQueries: [{name, sql, expect?}], each run read-only), the per-table row counts against those recorded in the dump, and the backup_validation marker. All ✓ marks the drill validated (the end of RTO).',
  inputs: PG_INPUTS,
  plan: () => ({
    actions: [
      {
        summary:
          'smokeQueries from the values file, each in a READ ONLY transaction, on the scratch database',
      },
      { summary: 'row counts of every table against the dump; backup_validation marker rows' },
    ],
  }),
  async run(raw) {
    const ctx = onDrillServer(raw);
    const scratch = restoredScratch(ctx.from);
    if (!scratch)
      throw new RunbookError('no scratch database was restored in this session', {
        next: `Run ${DRILL_IDS.restore} first.`,
      });
    const { checks, validation, add } = validationList();

    const { key, queries, problems } = smokeQueries(ctx.settings);
    for (const problem of problems) add(`problem:${problem}`, key, false, problem);
    if (queries.length === 0 && problems.length === 0)
      add(
        'queries',
        'smoke queries',
        'warn',
        'no smokeQueries in the values file: only row counts and the marker were checked',
        'Add the critical application queries: smokeQueries: [{name, sql, expect?}] (expect: a value, or ">= 1").',
      );
    for (const query of queries) {
      const verdict = await runValidationQuery(ctx, query, scratch);
      add(`query:${query.name}`, query.name, verdict.ok, verdict.detail);
    }

    const integrity = integrityOf(ctx.from, DRILL_SPEC);
    const live = parseRowCounts(await psqlOrThrow(ctx, ROW_COUNTS_SQL, scratch));
    const recorded = dumpRowCounts(ctx.from) ?? integrity?.rowCounts ?? {};
    const tables = Object.keys(recorded);
    if (tables.length > 0) {
      const mismatches = tables
        .filter((table) => live.get(table) !== recorded[table])
        .map((table) => `${table}: ${live.get(table) ?? 'missing'} (backup ${recorded[table]})`);
      const rows = Object.values(recorded).reduce((sum, n) => sum + n, 0);
      add(
        'rows',
        `row counts of ${tables.length} table(s)`,
        mismatches.length === 0,
        mismatches.length === 0
          ? `all equal to the backup (${rows} rows)`
          : mismatches.slice(0, 5).join('; '),
      );
    } else
      add(
        'rows',
        'row counts',
        'skip',
        `${live.size} table(s) restored (no counts recorded for this backup)`,
      );

    if (firstValue(await psqlOrThrow(ctx, MARKER_TABLE_EXISTS_SQL, scratch)) === 't') {
      const markers = parseMarkerRows(await psqlOrThrow(ctx, markerRowsSql(1), scratch));
      add(
        'marker',
        'backup_validation marker rows',
        markers.count > 0,
        markers.count > 0
          ? `${markers.count} row(s); newest: ${markers.latest[0]?.note ?? ''}`
          : 'the table is empty',
      );
    } else
      add('marker', 'backup_validation marker rows', 'skip', 'this backup has no backup_validation table');

    // Owners, privileges, default privileges and settings as in the backup; each role reads its tables.
    for (const { check, entry } of await privilegeChecks(ctx, DRILL_SPEC, scratch)) {
      checks.push(check);
      if (entry) validation.push(entry);
    }

    const failed = validation.filter((entry) => !entry.ok);
    const validatedAt = new Date().toISOString();
    if (failed.length === 0) ctx.mark(MARK.validated, { database: scratch, drill: true });
    return {
      summary:
        failed.length === 0
          ? `smoke tests passed on ${scratch}: ${validation.length} check(s)`
          : `${failed.length} of ${validation.length} smoke check(s) FAILED on ${scratch}: ${failed.map((entry) => entry.query).join(', ')}`,
      checks,
      data: { database: scratch, validation, ...(failed.length === 0 ? { validatedAt } : {}) },
    };
  },
});
