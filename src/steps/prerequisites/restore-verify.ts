/**
 * prerequisites.restore-verify: what the postgres-restore-verify Job needs of the server, asked as the backup's
 * user before the first scheduled run finds out. It never writes to the production database; it needs CREATEDB
 * (for <db>_verify), to act for the roles that own objects (to restore them as they were), and the scratch name free.
 */
import type { Check } from '../../runbook/step.js';
import { quoteLiteral } from '../../runbook/pg-queries.js';
import { psqlStatement } from '../clients/psql-run.js';
import { PG_INPUTS } from '../clients/psql.js';
import { defineStep } from '../define.js';

const SCRATCH_MARKER = 'db-runbook postgres-verify scratch database';

/** Owners in the production database the user cannot act for (a superuser acts for all; pg_* roles are built in). */
const OWNERS_OUT_OF_REACH = `
SELECT DISTINCT r.rolname FROM (
  SELECT relowner AS owner FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
  UNION SELECT nspowner FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema')
    AND nspname NOT LIKE 'pg_%'
  UNION SELECT datdba FROM pg_database WHERE datname = current_database()
) o JOIN pg_roles r ON r.oid = o.owner
WHERE NOT pg_has_role(current_user, r.oid, 'MEMBER') AND r.rolname NOT LIKE 'pg\\_%' ORDER BY 1`;

export const restoreVerifyGrants = defineStep({
  id: 'prerequisites.restore-verify',
  section: 'prerequisites',
  database: 'postgres',
  title: 'Restore verification grants',
  description:
    'What the daily postgres-restore-verify Job needs, asked as POSTGRES_USER: CREATEDB for its scratch database <db>_verify, membership in every role that owns objects (so the copy keeps its owners), and that no other database has the scratch name. Reads only.',
  inputs: [],
  optionalInputs: PG_INPUTS,
  continueOnFailure: true,
  plan: (values) => {
    const database = values.get('POSTGRES_DATABASE') ?? '$POSTGRES_DATABASE';
    return {
      actions: [
        {
          summary: 'whether the user may create databases',
          command: `psql -d ${database} -c "SELECT rolsuper, rolcreatedb FROM pg_roles WHERE rolname = current_user"`,
        },
        { summary: 'the owner roles the user cannot act for' },
        {
          summary: `whether ${database}_verify exists and was not made by the Job`,
          command: `psql -d ${database} -c "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '${database}_verify'"`,
        },
      ],
      notes: [
        'A Secret postgres-verify-credentials points the Job at another server or user: check that one by hand.',
      ],
    };
  },
  async run(ctx) {
    const database = ctx.values.get('POSTGRES_DATABASE');
    const user = ctx.values.get('POSTGRES_USER') ?? '?';
    const label = (what: string) => `${what} (${user})`;
    if (ctx.settings.restoreVerify === false)
      return {
        summary: 'restoreVerify: false — no verify Job is deployed',
        checks: [
          { id: 'verify-off', label: 'restore verification', status: 'skip', detail: 'restoreVerify: false' },
        ],
      };
    if (!database || !ctx.values.get('POSTGRES_HOST'))
      return {
        summary: 'POSTGRES_HOST/POSTGRES_DATABASE not set',
        checks: [{ id: 'createdb', label: 'restore verification', status: 'skip', detail: 'not set' }],
      };
    const scratch = `${database}_verify`;
    const [rights, owners, existing] = await Promise.all([
      psqlStatement(
        ctx,
        "SELECT rolsuper::text || ' ' || rolcreatedb::text FROM pg_roles WHERE rolname = current_user",
        database,
      ),
      psqlStatement(ctx, OWNERS_OUT_OF_REACH, database),
      psqlStatement(
        ctx,
        `SELECT coalesce(shobj_description(oid, 'pg_database'), '(no comment)') FROM pg_database WHERE datname = ${quoteLiteral(scratch)}`,
        database,
      ),
    ]);
    if (!rights.ok)
      return {
        summary: `cannot ask ${ctx.values.get('POSTGRES_HOST')}: ${rights.error}`,
        checks: [
          {
            id: 'createdb',
            label: label('restore verification'),
            status: 'fail',
            detail: rights.error,
            next: 'Check POSTGRES_HOST/PORT/USER/PASSWORD (prerequisites.network) and run again.',
          },
        ],
      };
    const [superuser, createdb] = rights.stdout.trim().split(' ');
    const isSuper = superuser === 'true';
    const checks: Check[] = [
      isSuper || createdb === 'true'
        ? {
            id: 'createdb',
            label: label('may create the scratch database'),
            status: 'ok',
            detail: isSuper ? 'superuser' : 'CREATEDB',
          }
        : {
            id: 'createdb',
            label: label('may create the scratch database'),
            status: 'fail',
            detail: `${user} has neither CREATEDB nor superuser: the Job cannot create ${scratch}`,
            next: `ALTER ROLE ${user} CREATEDB; or give the Job another server/user (Secret postgres-verify-credentials); or restoreVerify: false.`,
          },
    ];
    const outOfReach = owners.ok
      ? owners.stdout
          .split('\n')
          .map((line) => line.trim())
          .filter(Boolean)
      : [];
    checks.push(
      !owners.ok
        ? { id: 'owners', label: label('acts for the owner roles'), status: 'warn', detail: owners.error }
        : isSuper || outOfReach.length === 0
          ? {
              id: 'owners',
              label: label('acts for the owner roles'),
              status: 'ok',
              detail: isSuper ? 'superuser' : 'member of every owner role',
            }
          : {
              id: 'owners',
              label: label('acts for the owner roles'),
              status: 'fail',
              detail: `not a member of ${outOfReach.join(', ')}: the copy could not keep their ownership, so verification fails at the restore`,
              next: `GRANT ${outOfReach.join(', ')} TO ${user}; (or a superuser in Secret postgres-verify-credentials).`,
            },
    );
    const comment = existing.ok ? existing.stdout.trim() : '';
    checks.push(
      comment === ''
        ? {
            id: 'scratch-name',
            label: `${scratch} is free`,
            status: existing.ok ? 'ok' : 'warn',
            detail: existing.ok ? 'no such database' : existing.error,
          }
        : comment.startsWith(SCRATCH_MARKER)
          ? {
              id: 'scratch-name',
              label: `${scratch} is free`,
              status: 'ok',
              detail: 'left by an earlier verify run: the next run drops it',
            }
          : {
              id: 'scratch-name',
              label: `${scratch} is free`,
              status: 'fail',
              detail: `a database ${scratch} exists that the Job did not create: it refuses to touch it (exit 2)`,
              next: `Rename or drop ${scratch} if it is not needed, or set VERIFY_DATABASE in the CronJob to another name.`,
            },
    );
    const failed = checks.filter((check) => check.status === 'fail').length;
    return {
      summary:
        failed === 0
          ? 'the verify Job has what it needs here'
          : `${failed} problem(s) would make the daily verification fail`,
      checks,
    };
  },
});
