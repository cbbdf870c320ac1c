/**
 * The roles preflight step of a PostgreSQL restore (restore-postgres and dr-validation): the roles the dump
 * names (owners and grantees, collected by the integrity pass), whether the target has each one and whether
 * the restoring user may act for it, as a table; a missing role offers three choices, each behind its gate:
 * create it from the backup's globals object (no password), map it to an existing role (--role-map
 * old=new, or picked in the TUI), or restore without owners and privileges (a typed override that says
 * what will be lost). Nothing is touched here.
 */
import { RunbookError } from '../../runbook/errors.js';
import { quoteLiteral } from '../../runbook/pg-queries.js';
import { classifyPrivilegeLine, parseGlobals, parseRoleMap, roleMapEnv } from '../../runbook/privileges.js';
import type { Check, Choice, Gate, Preview } from '../../runbook/step.js';
import type { Values } from '../../runbook/values.js';
import { defineStep, type RunbookStep } from '../define.js';
import { fetchGlobals } from './globals.js';
import { lastLines, MAINTENANCE_DATABASE, PG_INPUTS } from '../clients/psql.js';
import { runPsql } from '../clients/psql-run.js';
import {
  type RoleRow,
  type RolesData,
  type RolesDecision,
  rolesHandle,
  rolesStepId,
  WITHOUT_PRIVILEGES_PHRASE,
} from './roles.js';
import { type Ctx, DEVIATION_MARK, operatorChoice, requireRestorable, type RestoreSpec } from './spec.js';

/** A command-line option of the restore (--role-map, --create-roles, --without-privileges). */
function optionOf(ctx: Pick<Ctx, 'options'>, name: string): unknown {
  return (ctx.options as unknown as Readonly<Record<string, unknown>>)[name];
}

interface ServerRoles {
  superuser: boolean;
  createrole: boolean;
  user: string;
  roles: Record<string, { exists: boolean; canAct: boolean }>;
  all: string[];
}

async function serverRoles(ctx: Ctx, names: readonly string[]): Promise<ServerRoles> {
  const list = names.length > 0 ? names.map(quoteLiteral).join(', ') : 'NULL';
  const sql = [
    "SELECT json_build_object('user', current_user,",
    "  'superuser', (SELECT rolsuper FROM pg_roles WHERE rolname = current_user),",
    "  'createrole', (SELECT rolcreaterole FROM pg_roles WHERE rolname = current_user),",
    "  'roles', (SELECT coalesce(json_object_agg(r, json_build_object('exists', x.oid IS NOT NULL,",
    "            'canAct', coalesce(pg_has_role(current_user, x.oid, 'MEMBER'), false))), '{}'::json)",
    `            FROM unnest(ARRAY[${list}]::text[]) r LEFT JOIN pg_roles x ON x.rolname = r WHERE r IS NOT NULL),`,
    "  'all', (SELECT coalesce(json_agg(rolname ORDER BY rolname), '[]'::json) FROM pg_roles WHERE rolname !~ '^pg_'));",
  ].join('\n');
  const result = await runPsql(ctx, sql, MAINTENANCE_DATABASE, { pgOptions: '-c search_path=' });
  if (result.exitCode !== 0)
    throw new RunbookError(
      `psql (${ctx.values.get('POSTGRES_HOST')}:${ctx.values.get('POSTGRES_PORT')}) could not list the roles: ${lastLines(result.stderr, 2)}`,
      { next: 'Check POSTGRES_HOST/PORT/USER/PASSWORD (prerequisites).' },
    );
  const line = result.stdout.trim().split('\n').at(-1) ?? '{}';
  return JSON.parse(line) as ServerRoles;
}

/** The roles the restore needs: the dump's owners and grantees, and (globals) the database's own. */
async function neededRoles(ctx: Ctx, spec: RestoreSpec) {
  const { chosen, integrity } = requireRestorable(ctx.from, spec);
  // A backup without a globals object records no roles up front: the restore checks those the dump names as it
  // streams (and stops, the target untouched, when one is missing).
  const privileges = integrity.privileges ?? {
    owners: [],
    grantees: [],
    counts: { owner: 0, grant: 0, defaults: 0 },
  };
  const uses = new Map<string, Set<'owner' | 'grantee'>>();
  const add = (name: string, use: 'owner' | 'grantee') =>
    uses.set(name, (uses.get(name) ?? new Set()).add(use));
  for (const name of privileges.owners) add(name, 'owner');
  for (const name of privileges.grantees) add(name, 'grantee');
  let globalsRoles: string[] = [];
  if (integrity.globals && !integrity.globals.missing) {
    const s3 = await ctx.adapters.s3();
    const globals = await fetchGlobals(s3, chosen.bucket, chosen.key, ctx.signal);
    if (globals.text !== undefined) {
      const parsed = parseGlobals(globals.text);
      globalsRoles = parsed.roles;
      for (const statement of parsed.databaseStatements)
        for (const role of classifyPrivilegeLine(statement)?.roles ?? []) add(role.name, role.use);
      for (const statement of parsed.databaseStatements) {
        const setting = /^ALTER ROLE ("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*) IN DATABASE /.exec(statement);
        if (setting?.[1])
          add(
            setting[1].startsWith('"') ? setting[1].slice(1, -1).replaceAll('""', '"') : setting[1],
            'grantee',
          );
      }
    }
  }
  return { uses, globalsRoles, privileges };
}

function rowsFor(
  uses: Map<string, Set<'owner' | 'grantee'>>,
  map: Record<string, string>,
  server: ServerRoles,
  globalsRoles: readonly string[],
): RoleRow[] {
  const rows = new Map<string, RoleRow>();
  for (const [name, used] of uses) {
    const role = map[name] ?? name;
    const row = rows.get(role) ?? {
      role,
      ...(role !== name ? { from: name } : {}),
      uses: [],
      exists: server.roles[role]?.exists ?? false,
      canAct: server.superuser || (server.roles[role]?.canAct ?? false),
      inGlobals: globalsRoles.includes(role),
    };
    for (const use of used) if (!row.uses.includes(use)) row.uses.push(use);
    rows.set(role, row);
  }
  return [...rows.values()].sort((a, b) => a.role.localeCompare(b.role));
}

function problemsOf(rows: readonly RoleRow[], user: string): string[] {
  const problems: string[] = [];
  for (const row of rows) {
    if (!row.exists)
      problems.push(
        `role ${row.role}${row.from ? ` (mapped from ${row.from})` : ''} does not exist on the target`,
      );
    else if (row.uses.includes('owner') && !row.canAct)
      problems.push(
        `${user} cannot act for ${row.role} (it owns objects: ALTER … OWNER TO needs membership)`,
      );
  }
  return problems;
}

function tableLines(rows: readonly RoleRow[], user: string): string[] {
  const width = Math.max(4, ...rows.map((row) => (row.from ? `${row.role} ← ${row.from}` : row.role).length));
  return [
    `${'role'.padEnd(width)}  ${'in the backup as'.padEnd(16)}  ${'on the target'.padEnd(13)}  ${user} may act for it`,
    ...rows.map(
      (row) =>
        `${(row.from ? `${row.role} ← ${row.from}` : row.role).padEnd(width)}  ${row.uses.join(', ').padEnd(16)}  ${(row.exists ? 'exists' : 'MISSING').padEnd(13)}  ${row.exists ? (row.canAct ? 'yes' : 'NO') : '-'}`,
    ),
  ];
}

function lostText(ctx: Ctx, spec: RestoreSpec): string {
  const { integrity } = requireRestorable(ctx.from, spec);
  const counts = integrity.privileges?.counts ?? { owner: 0, grant: 0, defaults: 0 };
  const owners = integrity.privileges?.owners ?? [];
  const grantees = integrity.privileges?.grantees ?? [];
  return (
    `${counts.owner} ownership(s)${owners.length ? ` (owners ${owners.join(', ')})` : ''}, ` +
    `${counts.grant} GRANT/REVOKE(s)${grantees.length ? ` (grantees ${grantees.join(', ')})` : ''}, ` +
    `${counts.defaults} default privilege(s), the database's owner, privileges and per-role settings; ` +
    `everything will be owned by ${ctx.values.get('POSTGRES_USER')} and the application's roles will have no access until granted again`
  );
}

function rolesPreview(preview: Preview | undefined): RolesData | undefined {
  const data = preview?.data as Partial<RolesData> | undefined;
  return typeof data?.decision === 'string' ? (data as RolesData) : undefined;
}

export interface RolesStepOptions {
  /** The values of the server restored into (dr-validation: an isolated drill server). */
  values?: (values: Values) => Values;
  /** Non-interactive default when roles are missing and can be created (an isolated drill server). */
  createByDefault?: (values: Values) => boolean;
}

export function rolesStep(spec: RestoreSpec, stepOptions: RolesStepOptions = {}): RunbookStep<RolesData> {
  const id = rolesStepId(spec);
  const on = <T extends { values: Values }>(ctx: T): T =>
    stepOptions.values ? { ...ctx, values: stepOptions.values(ctx.values) } : ctx;
  return defineStep<RolesData>({
    ...rolesHandle(spec),
    section: spec.section,
    database: 'postgres',
    title: 'Roles and privileges (preflight)',
    description:
      'Before anything is touched: the roles the backup names (owners and grantees), whether the target has each one and whether the restoring user may act for it. A missing role: create it from the backup’s globals object (no password), map it to an existing role (--role-map old=new), or restore without owners and privileges (typed override naming what is lost).',
    inputs: PG_INPUTS,
    plan: (values) => ({
      actions: [
        {
          summary: `list the roles the dump names and check them on ${values.get('POSTGRES_HOST') ?? '<host>'}: exists, ${values.get('POSTGRES_USER') ?? '<user>'} is a member (or superuser)`,
          command: `PGPASSWORD=<password> psql -h ${values.get('POSTGRES_HOST') ?? '<host>'} -U ${values.get('POSTGRES_USER') ?? '<user>'} -d postgres -c "SELECT rolname, pg_has_role(current_user, oid, 'MEMBER') FROM pg_roles"`,
        },
      ],
      notes: [
        'Missing roles: --create-roles (from the globals object, no password), --role-map old=new, or --without-privileges with --confirm "restore without owners and privileges".',
      ],
    }),
    async preview(raw) {
      const ctx = on(raw);
      const { map, problems: mapProblems } = parseRoleMap(
        optionOf(ctx, 'role-map') as string | string[] | undefined,
      );
      if (mapProblems.length > 0) throw new RunbookError(mapProblems.join('; '), { exitCode: 2 });
      const { uses, globalsRoles } = await neededRoles(ctx, spec);
      const names = [...new Set([...uses.keys(), ...Object.values(map), ...Object.keys(map)])];
      const server = await serverRoles(ctx, names);
      let roleMap = { ...map };
      let rows = rowsFor(uses, roleMap, server, globalsRoles);
      let problems = problemsOf(rows, server.user);
      const base: Omit<RolesData, 'decision' | 'rows' | 'problems' | 'create'> = { roleMap };
      if (problems.length === 0)
        return {
          lines: [
            ...tableLines(rows, server.user),
            rows.length ? 'every role exists and can be given its objects' : 'the dump names no roles',
          ],
          data: { ...base, decision: 'ok', rows, problems, create: [] } satisfies RolesData,
        };
      const missing = rows.filter((row) => !row.exists);
      const canCreate =
        missing.length > 0 &&
        missing.every((row) => row.inGlobals && !row.from) &&
        rows.every((row) => !row.exists || row.canAct || !row.uses.includes('owner')) &&
        (server.superuser || server.createrole);
      const choices: Choice[] = [
        ...(canCreate
          ? [
              {
                label: `Create ${missing.map((row) => row.role).join(', ')} from the backup's globals (no password)`,
                value: 'create',
                hint: 'in the restore’s transaction; set passwords after',
              },
            ]
          : []),
        { label: 'Map them to existing roles', value: 'map', hint: '--role-map old=new' },
        {
          label: 'Restore WITHOUT owners and privileges',
          value: 'without',
          hint: `typed: "${WITHOUT_PRIVILEGES_PHRASE}"`,
        },
        { label: 'Stop: change nothing', value: 'stop' },
      ];
      const fallback =
        Object.keys(map).length > 0
          ? 'map'
          : (optionOf(ctx, 'create-roles') === true || stepOptions.createByDefault?.(raw.values) === true) &&
              canCreate
            ? 'create'
            : optionOf(ctx, 'without-privileges') === true
              ? 'without'
              : 'stop';
      const decision = ((await operatorChoice(
        ctx,
        `The backup names roles the target cannot give objects to: ${problems.join('; ')}. What now?`,
        choices,
        fallback,
      )) ?? fallback) as RolesDecision;
      if (decision === 'map') {
        // each role still missing (or not actable) is mapped to an existing role, picked from the server's list
        for (const row of rows.filter((r) => !r.exists || (r.uses.includes('owner') && !r.canAct))) {
          const from = row.from ?? row.role;
          if (roleMap[from] && roleMap[from] !== row.role) continue;
          const options: Choice[] = server.all.map((name) => ({ label: name, value: name }));
          const picked = await operatorChoice(
            ctx,
            `Map role ${from} to which existing role?`,
            options,
            undefined,
          );
          if (picked) roleMap[from] = picked;
        }
        const mappedNames = [...new Set(Object.values(roleMap))];
        const again = await serverRoles(ctx, [...names, ...mappedNames]);
        rows = rowsFor(uses, roleMap, again, globalsRoles);
        problems = problemsOf(rows, again.user);
      }
      roleMap = { ...roleMap };
      const create = decision === 'create' ? missing.map((row) => row.role) : [];
      const lost = decision === 'without' ? lostText(ctx, spec) : undefined;
      return {
        lines: [
          ...tableLines(rows, server.user),
          ...(decision === 'create'
            ? [`create from the globals object, without passwords: ${create.join(', ')}`]
            : []),
          ...(decision === 'map'
            ? [
                `role map: ${roleMapEnv(roleMap) || '(none)'}`,
                ...problems.map((problem) => `still: ${problem}`),
              ]
            : []),
          ...(decision === 'without' ? [`WITHOUT owners and privileges: lost: ${lost}`] : []),
          ...(decision === 'stop' ? problems.map((problem) => `problem: ${problem}`) : []),
        ],
        data: {
          decision: decision === 'map' && problems.length > 0 ? 'stop' : decision,
          roleMap,
          rows,
          problems,
          create,
          ...(lost ? { lost } : {}),
        } satisfies RolesData,
      };
    },
    gate(given, ctx): Gate | undefined {
      const values = stepOptions.values ? stepOptions.values(given) : given;
      const data = rolesPreview(ctx.preview);
      const target = {
        host: values.get('POSTGRES_HOST') ?? '?',
        port: values.get('POSTGRES_PORT') ?? '5432',
        database: values.get('POSTGRES_DATABASE') ?? '?',
      };
      if (!data || data.decision === 'ok' || data.decision === 'stop') return undefined;
      if (data.decision === 'create')
        return {
          kind: 'confirm',
          prompt: `Create role(s) ${data.create.join(', ')} on ${target.host}:${target.port} from the backup's globals object, WITHOUT passwords (set them after the restore)?`,
          target: { ...target, create: data.create.join(', ') },
        };
      if (data.decision === 'map')
        return {
          kind: 'confirm',
          prompt: `Restore with the backup's roles mapped to existing ones: ${roleMapEnv(data.roleMap)}?`,
          target: { ...target, 'role map': roleMapEnv(data.roleMap) },
        };
      return {
        kind: 'typed',
        prompt: `Restore WITHOUT owners and privileges? Lost: ${data.lost ?? 'owners and privileges'}. Recorded as a deviation.`,
        phrase: WITHOUT_PRIVILEGES_PHRASE,
        target: { ...target, lost: data.lost ?? '?' },
      };
    },
    async run(raw) {
      const ctx = on(raw);
      const data = rolesPreview(ctx.preview);
      if (!data) throw new RunbookError('the roles were not checked (no preview)');
      const table = data.rows.map((row) => ({
        id: `role:${row.role}`,
        label: `role ${row.role}${row.from ? ` (backup: ${row.from})` : ''}`,
        status: (row.exists && (row.canAct || !row.uses.includes('owner'))
          ? 'ok'
          : data.decision === 'create' && data.create.includes(row.role)
            ? 'warn'
            : data.decision === 'without'
              ? 'warn'
              : 'fail') as Check['status'],
        detail: `${row.uses.join(', ')}; ${row.exists ? 'exists' : 'missing'}${row.exists ? `; ${row.canAct ? 'may act for it' : 'may NOT act for it'}` : ''}${data.create.includes(row.role) ? '; created from the globals object (no password)' : ''}`,
      }));
      if (data.decision === 'stop')
        return {
          summary: `STOPPED before anything was touched: ${data.problems.join('; ')}`,
          checks: [
            ...table,
            {
              id: 'roles',
              label: 'roles',
              status: 'fail',
              detail: data.problems.join('; '),
              next: `Choose: --create-roles (from the backup's globals, no password), --role-map old=new, or --without-privileges --confirm "${WITHOUT_PRIVILEGES_PHRASE}" (loses owners and privileges); or create the roles / GRANT them to ${ctx.values.get('POSTGRES_USER')} by hand.`,
            },
          ],
          data: { ...data },
        };
      if (data.decision === 'without') {
        const reason = `restore WITHOUT owners and privileges: ${data.lost ?? ''}`;
        ctx.mark(DEVIATION_MARK, { reason, step: id });
        ctx.log(reason);
      }
      return {
        summary:
          data.decision === 'ok'
            ? `${data.rows.length} role(s): every one exists and can be given its objects`
            : data.decision === 'create'
              ? `will create ${data.create.join(', ')} from the backup's globals (no password)`
              : data.decision === 'map'
                ? `roles mapped: ${roleMapEnv(data.roleMap)}`
                : 'OVERRIDDEN: restore without owners and privileges (deviation)',
        checks: table,
        data: { ...data },
      };
    },
  });
}
