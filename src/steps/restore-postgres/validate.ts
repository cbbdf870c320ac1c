/**
 * Validate the restored data: the backup_validation marker rows, per-table row counts next to the counts
 * recorded in the dump, owners and privileges as in the backup, and the operator's validationQueries.
 */
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
import { privilegeChecks } from '../restore-kit/privilege-checks.js';
import { PG_INPUTS, runValidationQuery } from '../clients/psql.js';
import { concludeValidation, type ValidationEntry, validationList } from '../restore-kit/validation.js';
import { psqlOrThrow } from '../clients/psql-run.js';
import { HANDLES, IDS, SECTION, SPEC } from './ids.js';
import { LOAD } from './load.js';

/** The validate step's output: each check as the report (and the resume-writes gate) lists it. */
export interface ValidateData {
  validation: ValidationEntry[];
}

export const validate = defineStep<ValidateData>({
  id: IDS.validate,
  section: SECTION,
  title: 'Validate the restored data',
  description:
    'Targeted queries: the backup_validation marker rows, per-table row counts next to the counts recorded in the dump, and your own validationQueries from the values file ({name, sql, expect?}). Each ✓/✗.',
  inputs: PG_INPUTS,
  database: 'postgres',
  plan: (values) => ({
    actions: [
      {
        summary: 'marker rows and per-table row counts',
        command: `PGPASSWORD=<password> psql -h ${values.get('POSTGRES_HOST') ?? '<host>'} -U ${values.get('POSTGRES_USER') ?? '<user>'} -d ${values.get('POSTGRES_DATABASE') ?? '<database>'} -c 'SELECT id, note FROM backup_validation ORDER BY id DESC LIMIT 5'`,
      },
      { summary: 'your validationQueries (values file), each read-only' },
    ],
  }),
  async run(ctx) {
    const list = validationList();
    const { checks, validation, add } = list;
    const integrity = ctx.from(HANDLES.integrity);
    // what the dump held: counted as it streamed into the new database (older sessions: by the integrity pass)
    const loaded = ctx.from(LOAD);
    const dump = loaded?.rowCounts ? loaded : integrity;
    const database = ctx.values.require('POSTGRES_DATABASE');

    // Marker rows (the synthetic-data test writes them).
    const exists = firstValue(await psqlOrThrow(ctx, MARKER_TABLE_EXISTS_SQL, database)) === 't';
    if (exists) {
      const markers = parseMarkerRows(await psqlOrThrow(ctx, markerRowsSql(3), database));
      const latest = markers.latest[0];
      add(
        'marker',
        'backup_validation marker rows',
        markers.count > 0,
        markers.count > 0
          ? `${markers.count} row(s); newest #${latest?.id}: ${latest?.note ?? ''}`
          : 'the table is empty',
        'The backup has the table but no marker row: was the synthetic test run before it?',
      );
    } else if (dump?.markerFound) {
      add(
        'marker',
        'backup_validation marker rows',
        false,
        'the dump has backup_validation but the restored database does not',
      );
    } else
      add('marker', 'backup_validation marker rows', 'skip', 'this backup has no backup_validation table');

    // Per-table row counts against the dump.
    // The load step counted the restored copy before the swap; when the database IS that copy (same oid), its
    // counts are not taken again (a full scan of every table: seconds on a large database, with writes stopped).
    const oidNow = firstValue(
      await psqlOrThrow(ctx, 'SELECT oid FROM pg_database WHERE datname = current_database()', database),
    );
    const counted = loaded?.loaded && loaded.oid === oidNow ? loaded.restoredCounts : undefined;
    if (counted)
      ctx.log(`row counts: taken in ${loaded?.scratch} before the swap (the same database, oid ${oidNow})`);
    const live = counted
      ? new Map(Object.entries(counted))
      : parseRowCounts(await psqlOrThrow(ctx, ROW_COUNTS_SQL, database));
    const recorded = dump?.rowCounts;
    if (recorded && Object.keys(recorded).length > 0) {
      const mismatches: string[] = [];
      for (const [table, expected] of Object.entries(recorded)) {
        const actual = live.get(table);
        const ok = actual === expected;
        if (!ok) mismatches.push(`${table}: ${actual ?? 'missing'} (backup ${expected})`);
        if (Object.keys(recorded).length <= 25)
          add(`rows:${table}`, `rows in ${table}`, ok, `${actual ?? 'missing'} (backup: ${expected})`);
      }
      if (Object.keys(recorded).length > 25)
        add(
          'rows',
          `row counts of ${Object.keys(recorded).length} tables`,
          mismatches.length === 0,
          mismatches.length === 0 ? 'all equal to the backup' : mismatches.slice(0, 5).join('; '),
        );
      const extra = [...live.keys()].filter((table) => !(table in recorded));
      if (extra.length > 0) ctx.log(`tables not in the backup: ${extra.join(', ')}`);
    } else {
      add(
        'rows',
        'row counts',
        'skip',
        `${live.size} table(s), ${[...live.values()].reduce((sum, n) => sum + n, 0)} row(s) (no counts recorded for this backup)`,
      );
    }

    // Owners, privileges, default privileges and settings as in the backup; each role reads its tables.
    for (const { check, entry } of await privilegeChecks(
      ctx,
      SPEC,
      ctx.values.require('POSTGRES_DATABASE'),
    )) {
      checks.push(check);
      if (entry) validation.push(entry);
    }

    // The operator's own queries.
    const { queries, problems } = parseValidationQueries(ctx.settings.validationQueries);
    for (const problem of problems) add(`query-problem:${problem}`, 'validationQueries', false, problem);
    for (const query of queries) {
      const verdict = await runValidationQuery(ctx, query);
      add(`query:${query.name}`, query.name, verdict.ok, verdict.detail);
    }

    const failed = concludeValidation(ctx, list, {
      section: SECTION,
      engine: 'postgres',
      database,
    });
    return {
      summary:
        failed.length === 0
          ? `validated: ${validation.length} check(s) passed`
          : `${failed.length} of ${validation.length} check(s) FAILED: ${failed.map((entry) => entry.query).join(', ')}`,
      checks,
      data: { validation },
    };
  },
});
