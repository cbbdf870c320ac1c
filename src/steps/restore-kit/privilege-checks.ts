/**
 * The validation checks after a PostgreSQL restore (restore-postgres and dr-validation): owners,
 * privileges, default privileges and database settings against the backup's catalog facts, then each
 * role reads every table it could read in the backup.
 */
import { backupJobsDir, readCatalogFactsSql } from '../../adapters/backup-jobs-files.js';
import {
  compareFacts,
  describeDifference,
  type Fact,
  type FactGroup,
  parseFactLines,
  parseGlobals,
  parseReadNotices,
  readableTables,
  readAsRoleSql,
  roleMapEnv,
} from '../../runbook/privileges.js';
import type { Check } from '../../runbook/step.js';
import { fetchGlobals } from './globals.js';
import { lastLines } from '../clients/psql.js';
import { runPsql } from '../clients/psql-run.js';
import { rolesHandle } from './roles.js';
import { type Ctx, requireRestorable, type RestoreSpec } from './spec.js';

/** Catalog names as the backup wrote them: no schema on the search path. */
const SEARCH_PATH = { pgOptions: '-c search_path=' };

export interface PrivilegeCheck {
  check: Check;
  /** For the validation list (the report). */
  entry?: { query: string; ok: boolean; detail: string };
}

const GROUP_LABELS: Record<FactGroup, string> = {
  owners: 'owners of tables, sequences, views, functions and schemas',
  'table privileges': 'privileges per role',
  'default privileges': 'default privileges',
  database: 'database owner, privileges and settings',
};

/**
 * After the restore: the backup's catalog facts (its globals object) against the restored database's,
 * one check per group with the roles and objects that differ; then every role reads each table it could
 * read (SET ROLE; SELECT … LIMIT 1), as the application would.
 */
export async function privilegeChecks(
  ctx: Ctx,
  spec: RestoreSpec,
  database: string,
): Promise<PrivilegeCheck[]> {
  const out: PrivilegeCheck[] = [];
  const add = (id: string, label: string, status: Check['status'], detail: string, next?: string) =>
    out.push({
      check: { id, label, status, detail, ...(next ? { next } : {}) },
      ...(status === 'ok' || status === 'fail'
        ? { entry: { query: label, ok: status === 'ok', detail } }
        : {}),
    });
  const restorable = (() => {
    try {
      return requireRestorable(ctx.from, spec);
    } catch {
      return undefined;
    }
  })();
  const roles = ctx.from(rolesHandle(spec));
  if (!restorable?.integrity.globals || restorable.integrity.globals.missing) {
    add(
      'privileges',
      'owners and privileges',
      'skip',
      'the backup has no globals object: nothing to compare with',
    );
    return out;
  }
  const s3 = await ctx.adapters.s3();
  const globals = await fetchGlobals(s3, restorable.chosen.bucket, restorable.chosen.key, ctx.signal);
  if (!globals.text || !globals.verified) {
    add(
      'privileges',
      'owners and privileges',
      'fail',
      globals.problem ?? 'the globals object cannot be read',
    );
    return out;
  }
  const backupFacts = parseGlobals(globals.text).facts;
  const result = await runPsql(ctx, readCatalogFactsSql(backupJobsDir(ctx.settings)), database, SEARCH_PATH);
  if (result.exitCode !== 0) {
    add(
      'privileges',
      'owners and privileges',
      'fail',
      lastLines(result.stderr, 2) || `psql exit ${result.exitCode}`,
    );
    return out;
  }
  const restoredFacts = parseFactLines(result.stdout);
  const without = roles?.decision === 'without';
  const map = roles?.roleMap ?? {};
  // without owners and privileges, only the database's own settings are expected to come back
  const expected = without
    ? backupFacts.filter((fact) => fact.fact === 'database setting' && fact.role === '')
    : backupFacts;
  const actual = without
    ? restoredFacts.filter((fact) => fact.fact === 'database setting' && fact.role === '')
    : restoredFacts;
  const differences = compareFacts(expected, actual, map);
  for (const group of Object.keys(GROUP_LABELS) as FactGroup[]) {
    const inGroup = differences.filter((difference) => difference.group === group);
    const count = expected.filter((fact) => groupOf(fact) === group).length;
    if (without && group !== 'database') {
      add(
        `privileges:${group}`,
        `${GROUP_LABELS[group]} as in the backup`,
        'skip',
        'restored WITHOUT owners and privileges (typed override): not compared',
      );
      continue;
    }
    add(
      `privileges:${group}`,
      `${GROUP_LABELS[group]} as in the backup`,
      inGroup.length === 0 ? 'ok' : 'fail',
      inGroup.length === 0
        ? `${count} fact(s) equal${Object.keys(map).length ? ` (roles mapped: ${roleMapEnv(map)})` : ''}`
        : `${inGroup.length} differ: ${inGroup.slice(0, 5).map(describeDifference).join('; ')}${inGroup.length > 5 ? '; …' : ''}`,
      inGroup.length
        ? 'The application may be locked out: compare with the backup and GRANT/ALTER … OWNER as needed.'
        : undefined,
    );
  }
  if (without) return out;
  // read as each role, every table it could read in the backup
  const readable = readableTables(backupFacts.map((fact) => mapFactRoles(fact, map)));
  const me = ctx.values.get('POSTGRES_USER');
  for (const [role, tables] of readable) {
    if (role === me) continue;
    const run = await runPsql(ctx, '', database, { ...SEARCH_PATH, input: readAsRoleSql(role, tables) });
    if (run.exitCode !== 0) {
      add(
        `read:${role}`,
        `${role} reads its tables`,
        'skip',
        `cannot act as ${role} to try: ${lastLines(run.stderr, 1)}`,
      );
      continue;
    }
    const reads = parseReadNotices(run.stderr, tables);
    const denied = reads.denied;
    const untried = tables.length - reads.ok.length - denied.length;
    add(
      `read:${role}`,
      `SET ROLE ${role}; SELECT … LIMIT 1 on ${tables.length} table(s)`,
      denied.length === 0 && untried === 0 ? 'ok' : 'fail',
      denied.length === 0 && untried === 0
        ? `reads all ${tables.length}`
        : denied
            .slice(0, 5)
            .map((item) => `${item.table}: ${item.error}`)
            .join('; ') + (untried ? `; ${untried} not tried` : ''),
      denied.length
        ? `${role} could read these in the backup: GRANT the privileges back (USAGE on the schema, SELECT on the table).`
        : undefined,
    );
  }
  return out;
}

function groupOf(fact: Fact): FactGroup {
  if (fact.fact === 'owner') return 'owners';
  if (fact.fact === 'privileges') return 'table privileges';
  if (fact.fact === 'default privileges') return 'default privileges';
  return 'database';
}

function mapFactRoles(fact: Fact, map: Readonly<Record<string, string>>): Fact {
  return 'role' in fact && map[fact.role] ? ({ ...fact, role: map[fact.role] } as Fact) : fact;
}
