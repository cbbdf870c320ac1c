/**
 * One table of the step options (command-line flags of `run`/`resume`, TUI toggles) and of the values
 * file's settings (rpoTarget, validationQueries, …). The CLI builds its flags from it, the TUI its
 * toggle keys, the README its two tables (test/unit/options-table.test.ts compares them), and
 * `ctx.options`/`ctx.settings` get their types from it. Pure: no I/O.
 */
import { cronProblem } from './cron.js';
import { parseDuration } from './durations.js';
import { parseValidationQueries } from './pg-queries.js';
import { parseS3Uri } from './s3-uri.js';
import { parseNeo4jSmokeQueries } from './smoke-queries.js';
import type { SectionId } from './sections.js';
import { databaseName } from './validate.js';

// ---------------------------------------------------------------- step options

export type OptionCommand = 'run' | 'resume' | 'plan';

interface OptionBase {
  /** The key in ctx.options and the flag's name: `write-canary` → `--write-canary`. */
  name: string;
  /** What it does, for `--help` and the README. */
  description: string;
  /** Which commands take the flag. */
  commands: readonly OptionCommand[];
  /** An environment variable that gives it when the flag does not (RESTORE_S3_URI). */
  env?: string;
  /** How the TUI sets it: a key in the sections where it matters. */
  tui?: {
    key: string;
    sections: readonly SectionId[];
    /** Short name shown beside the key in the footer: `w write canary: off`. */
    label: string;
  };
  /**
   * How prose inside the TUI refers to it instead of the flag (`w in Prerequisites`): the TUI never
   * sends an operator to a command line they are not using.
   */
  inTui: string;
}

export type OptionSpec =
  | (OptionBase & { kind: 'flag' })
  | (OptionBase & {
      kind: 'text';
      /** The flag's argument name in help: `--job-timeout <duration>`. */
      argument: string;
      /** Values the TUI key cycles through (the first is the default). */
      cycle?: readonly string[];
      validate(text: string, now: Date): string | undefined;
    })
  | (OptionBase & { kind: 'choice'; argument: string; choices: readonly string[] })
  | (OptionBase & {
      /** Repeatable: each use adds one (`--role-map a=b --role-map c=d`). */
      kind: 'list';
      argument: string;
      validate(text: string): string | undefined;
    });

/** Parses the `--incident-time` text: a full ISO-8601 time with a zone, not in the future. */
export function incidentTimeProblem(text: string, now: Date): string | undefined {
  const trimmed = text.trim();
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(trimmed))
    return `"${text}" is not a UTC time: give ISO 8601 with a zone, e.g. 2026-01-02T03:04:05Z`;
  const ms = Date.parse(trimmed);
  if (Number.isNaN(ms)) return `"${text}" is not a valid time`;
  if (ms > now.getTime() + 5 * 60_000) return `${trimmed} is in the future`;
  return undefined;
}

/** A Job timeout: a duration with a unit, more than zero. */
export function jobTimeoutProblem(text: string): string | undefined {
  const parsed = parseDuration(text);
  if (!parsed.ok) return parsed.message;
  return parsed.ms > 0 ? undefined : `"${text}" is zero: give e.g. 15m`;
}

export const OPTIONS = [
  {
    name: 'write-canary',
    kind: 'flag',
    description: 'prerequisites, troubleshoot: put/head/delete a tiny object under the prefix (it writes)',
    commands: ['run', 'resume', 'plan'],
    tui: { key: 'w', sections: ['prerequisites', 'troubleshoot'], label: 'write canary' },
    inTui: 'w (write canary) in this section',
  },
  {
    name: 'restore-uri',
    kind: 'text',
    argument: 'uri',
    description: 'restore: the backup to restore, s3://bucket/key (else RESTORE_S3_URI, else the newest)',
    commands: ['run', 'resume'],
    env: 'RESTORE_S3_URI',
    inTui: 'the backup list of the restore',
    validate: (text) => {
      const parsed = parseS3Uri(text);
      return parsed.ok ? undefined : parsed.problem;
    },
  },
  {
    name: 'incident-time',
    kind: 'text',
    argument: 'time',
    description: 'restore, drill: when the incident was declared, ISO 8601 UTC (default: now)',
    commands: ['run', 'resume'],
    inTui: 'the incident time list of the first step',
    validate: incidentTimeProblem,
  },
  {
    name: 'job-timeout',
    kind: 'text',
    argument: 'duration',
    description: 'how long to wait for a backup or restore Job, e.g. 15m (default 15m)',
    commands: ['run', 'resume'],
    tui: {
      key: 't',
      sections: ['test-postgres', 'test-neo4j', 'restore-postgres'],
      label: 'Job timeout',
    },
    cycle: ['15m', '30m', '1h', '2h'],
    inTui: 't (Job timeout) in this section',
    validate: jobTimeoutProblem,
  },
  {
    name: 'restore-mode',
    kind: 'choice',
    argument: 'where',
    choices: ['host', 'job'],
    description:
      'restore-postgres: run postgres-restore.sh on this host (default) or as a Kubernetes Job from the scripts ConfigMap',
    commands: ['run', 'resume'],
    inTui: 'the "Where should postgres-restore.sh run?" list',
  },
  {
    name: 'role-map',
    kind: 'list',
    argument: 'old=new',
    description:
      "restore, drill: restore the backup's role OLD as the existing role NEW (repeatable, or old=new,old2=new2)",
    commands: ['run', 'resume'],
    inTui: 'the roles step’s list (map them to existing roles)',
    validate: (text) =>
      text
        .split(',')
        .filter((item) => item.trim() !== '')
        .every((item) => /^[^=]+=[^=]+$/.test(item))
        ? undefined
        : `"${text}": use old=new (several: old=new,old2=new2)`,
  },
  {
    name: 'create-roles',
    kind: 'flag',
    description: "restore, drill: create roles missing on the target from the backup's globals (no password)",
    commands: ['run', 'resume'],
    inTui: 'the roles step’s list (create them)',
  },
  {
    name: 'without-privileges',
    kind: 'flag',
    description:
      'restore, drill: restore without owners and privileges (typed gate: --confirm "restore without owners and privileges")',
    commands: ['run', 'resume'],
    inTui: 'the roles step’s list (restore without owners and privileges)',
  },
] as const satisfies readonly OptionSpec[];

export type OptionName = (typeof OPTIONS)[number]['name'];

type ValueOf<O> = O extends { kind: 'flag' }
  ? boolean
  : O extends { kind: 'choice'; choices: readonly (infer C)[] }
    ? C
    : O extends { kind: 'list' }
      ? readonly string[]
      : string;

/**
 * What steps read as `ctx.options`: the table's options, plus the plan's namespace and the
 * restore's internal skip choice (set by the TUI list, never a flag).
 */
export type StepOptions = {
  readonly [O in (typeof OPTIONS)[number] as O['name']]?: ValueOf<O>;
} & {
  readonly namespace?: string;
  readonly 'skip-safety-backup'?: boolean;
};

export function optionSpec(name: OptionName): OptionSpec {
  const found = (OPTIONS as readonly OptionSpec[]).find((option) => option.name === name);
  if (!found) throw new Error(`unknown option ${name}`);
  return found;
}

export function optionsFor(command: OptionCommand): readonly OptionSpec[] {
  return (OPTIONS as readonly OptionSpec[]).filter((option) => option.commands.includes(command));
}

/** commander's camelCase of a flag: `write-canary` → `writeCanary`. */
export function camelName(name: string): string {
  return name.replace(/-([a-z])/g, (_match, letter: string) => letter.toUpperCase());
}

/** `--job-timeout <duration>`, `--write-canary`, `--role-map <old=new...>`. */
export function flagText(option: OptionSpec): string {
  return option.kind === 'flag' ? `--${option.name}` : `--${option.name} <${option.argument}>`;
}

export interface OptionProblem {
  name: string;
  message: string;
}

/**
 * Step options from parsed flags (commander's camelCase keys) and the environment, validated all at
 * once: problems name each bad option, nothing is thrown.
 */
export function resolveStepOptions(
  flags: Readonly<Record<string, unknown>>,
  env: Readonly<Record<string, string | undefined>>,
  command: OptionCommand,
  now = new Date(),
): { options: StepOptions; problems: OptionProblem[] } {
  const out: Record<string, string | boolean | readonly string[]> = {};
  const problems: OptionProblem[] = [];
  for (const option of optionsFor(command)) {
    const given = flags[camelName(option.name)];
    if (option.kind === 'flag') {
      out[option.name] = given === true;
      continue;
    }
    if (option.kind === 'list') {
      const items = (Array.isArray(given) ? given : typeof given === 'string' ? [given] : []) as string[];
      for (const item of items) {
        const problem = option.validate(item);
        if (problem) problems.push({ name: `--${option.name}`, message: problem });
      }
      if (items.length) out[option.name] = items;
      continue;
    }
    const fromEnv = option.env ? env[option.env] : undefined;
    const text =
      typeof given === 'string' ? given : fromEnv !== undefined && fromEnv !== '' ? fromEnv : undefined;
    if (text === undefined) continue;
    const source = typeof given === 'string' ? `--${option.name}` : (option.env ?? option.name);
    const problem =
      option.kind === 'choice'
        ? option.choices.includes(text)
          ? undefined
          : `must be one of ${option.choices.join(', ')}`
        : option.validate(text, now);
    if (problem) problems.push({ name: source, message: problem });
    else out[option.name] = text;
  }
  return { options: out as StepOptions, problems };
}

/** The next value of a TUI toggle: a flag flips, a text option cycles through its values. */
export function toggleOption(options: StepOptions, name: OptionName): StepOptions {
  const option = optionSpec(name);
  const current = (options as Record<string, string | boolean | undefined>)[name];
  if (option.kind === 'flag') return { ...options, [name]: current !== true };
  if (option.kind === 'text' && option.cycle) {
    const at = option.cycle.indexOf(String(current ?? option.cycle[0]));
    return { ...options, [name]: option.cycle[(at + 1) % option.cycle.length] };
  }
  return options;
}

/** How a toggle reads in the footer: `on`/`off`, or the current value. */
export function optionDisplay(options: StepOptions, name: OptionName): string {
  const option = optionSpec(name);
  const current = (options as Record<string, string | boolean | undefined>)[name];
  if (option.kind === 'flag') return current === true ? 'ON' : 'off';
  if (option.kind === 'text' && option.cycle) return String(current ?? option.cycle[0]);
  return String(current ?? '-');
}

// ---------------------------------------------------------------- settings (values file)

export interface SettingSpec {
  name: string;
  /** What goes there, as the README shows it: `duration (4h)`. */
  shape: string;
  description: string;
  /** Settings the sandbox fills in for its own processes; refused in a values file. */
  internal?: boolean;
  /** undefined when fine, else what is wrong. */
  validate(raw: unknown): string | undefined;
}

const duration = (name: string) => (raw: unknown) => {
  if (typeof raw !== 'string' && typeof raw !== 'number') return `${name} must be a duration such as 4h`;
  const parsed = parseDuration(String(raw));
  return parsed.ok ? undefined : parsed.message;
};

const nonEmptyText = (raw: unknown) =>
  typeof raw === 'string' && raw.trim() !== '' ? undefined : 'must be a non-empty string';

const queries = (name: string) => (raw: unknown) => {
  const { problems } = parseValidationQueries(raw);
  return problems.length
    ? problems.map((problem) => problem.replace('validationQueries', name)).join('; ')
    : undefined;
};

const dbName = (raw: unknown) =>
  typeof raw === 'string' ? databaseName(raw.trim()) : 'must be a database name (a string)';

const oneOf = (choices: readonly string[]) => (raw: unknown) =>
  typeof raw === 'string' && choices.includes(raw) ? undefined : `must be one of ${choices.join(', ')}`;

export const NEO4J_URI_SCHEMES = ['neo4j', 'neo4j+s', 'neo4j+ssc', 'bolt', 'bolt+s', 'bolt+ssc'] as const;
export const SCENARIOS = ['setup', 'synthetic-test', 'incident-restore', 'drill'] as const;

export const SETTINGS = [
  {
    name: 'rpoTarget',
    shape: 'duration (24h)',
    description: 'report: RPO target, PASS/FAIL',
    validate: duration('rpoTarget'),
  },
  {
    name: 'rtoTarget',
    shape: 'duration (4h)',
    description: 'report: RTO target, PASS/FAIL',
    validate: duration('rtoTarget'),
  },
  {
    name: 'validationQueries',
    shape: 'list of {name, sql, expect?}',
    description: 'restore-postgres: your own read-only checks after the restore',
    validate: queries('validationQueries'),
  },
  {
    name: 'smokeQueries',
    shape: 'list of {name, sql, expect?}',
    description: 'dr-validation: the critical application queries',
    validate: queries('smokeQueries'),
  },
  {
    name: 'neo4jSmokeQueries',
    shape: 'list of {name, cypher, expect?}',
    description: 'neo4j-restore-verify: read-only Cypher checks on the restored copy',
    validate: (raw: unknown) => {
      const { problems } = parseNeo4jSmokeQueries(raw);
      return problems.length ? problems.join('; ') : undefined;
    },
  },
  {
    name: 'drillDatabase',
    shape: 'database name',
    description: 'dr-validation scratch database (default <db>_drill_<yyyymmdd>)',
    validate: dbName,
  },
  {
    name: 'neo4jDrillDatabase',
    shape: 'database name',
    description: 'dr-validation Neo4j scratch database, Enterprise only (default <db>-drill-<yyyymmdd>)',
    validate: dbName,
  },
  {
    name: 'slowBackupThreshold',
    shape: 'duration (30m)',
    description: 'troubleshoot: a backup Job slower than this is "slow"',
    validate: duration('slowBackupThreshold'),
  },
  {
    name: 'restoreVerify',
    shape: 'true | false',
    description:
      'deploy: the restore-verify CronJobs (postgres-restore-verify, neo4j-restore-verify) that prove the newest backups restorable daily (default true)',
    validate: (raw: unknown) => (typeof raw === 'boolean' ? undefined : 'must be true or false'),
  },
  {
    name: 'restoreVerifySchedule',
    shape: 'cron (0 6 * * *)',
    description: 'deploy: when the restore-verify CronJobs run, in UTC: after the backups and their deadline',
    validate: (raw: unknown) =>
      typeof raw === 'string' ? cronProblem(raw) : 'must be a 5-field cron schedule (a string)',
  },
  {
    name: 'neo4jUriScheme',
    shape: NEO4J_URI_SCHEMES.join(' | '),
    description: 'Bolt scheme for Cypher (default neo4j+s; neo4j in the sandbox)',
    validate: oneOf(NEO4J_URI_SCHEMES),
  },
  {
    name: 'neo4jAddress',
    shape: 'URI (neo4j+s://host:7687)',
    description: 'the Neo4j address this host uses (default neo4j://NEO4J_HOST:NEO4J_BOLT_PORT)',
    validate: (raw: unknown) =>
      typeof raw === 'string' && /^(neo4j|bolt)(\+s|\+ssc)?:\/\/[^\s/]+/.test(raw)
        ? undefined
        : 'must be a URI such as neo4j+s://neo4j.data.svc:7687',
  },
  {
    name: 'neo4jHome',
    shape: 'absolute path',
    description: 'NEO4J_HOME on this host for restore-neo4j (default NEO4J_HOME, else /var/lib/neo4j)',
    validate: (raw: unknown) =>
      typeof raw === 'string' && raw.startsWith('/') ? undefined : 'must be an absolute path',
  },
  {
    name: 'backupJobsDir',
    shape: 'path',
    description: 'where cronjobs.yaml and scripts/ are read (default: the package’s ops/db/backup-jobs)',
    validate: nonEmptyText,
  },
  {
    name: 'restoreMode',
    shape: 'host | job',
    description: 'restore-postgres: where postgres-restore.sh runs unless --restore-mode says otherwise',
    validate: oneOf(['host', 'job']),
  },
  {
    name: 'scenario',
    shape: SCENARIOS.join(' | '),
    description: 'report: what the session was for (default: from the sections it ran)',
    validate: oneOf(SCENARIOS),
  },
  {
    name: 'childEnv',
    shape: 'map',
    description: 'sandbox only: variables its Neo4j tools need',
    internal: true,
    validate: (raw: unknown) =>
      raw !== null &&
      typeof raw === 'object' &&
      Object.values(raw).every((value) => typeof value === 'string')
        ? undefined
        : 'must be a map of strings',
  },
] as const satisfies readonly SettingSpec[];

export type SettingName = (typeof SETTINGS)[number]['name'];

/** What steps read as `ctx.settings`: every setting optional and, once validated, of its shape. */
export type Settings = {
  readonly rpoTarget?: string | number;
  readonly rtoTarget?: string | number;
  readonly validationQueries?: unknown;
  readonly smokeQueries?: unknown;
  readonly neo4jSmokeQueries?: unknown;
  readonly drillDatabase?: string;
  readonly neo4jDrillDatabase?: string;
  readonly slowBackupThreshold?: string | number;
  readonly restoreVerify?: boolean;
  readonly restoreVerifySchedule?: string;
  readonly neo4jUriScheme?: (typeof NEO4J_URI_SCHEMES)[number];
  readonly neo4jAddress?: string;
  readonly neo4jHome?: string;
  readonly backupJobsDir?: string;
  readonly restoreMode?: 'host' | 'job';
  readonly scenario?: (typeof SCENARIOS)[number];
  readonly childEnv?: Readonly<Record<string, string>>;
};

// Every Settings key is a table row and every row a Settings key (a compile error otherwise).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const settingsMatchTable: Same<keyof Settings, SettingName> = true;
void settingsMatchTable;

export function settingSpec(name: string): SettingSpec | undefined {
  return (SETTINGS as readonly SettingSpec[]).find((setting) => setting.name === name);
}

// ---------------------------------------------------------------- README tables

function cell(text: string): string {
  return text.replaceAll('|', '\\|');
}

/** The README's options table, generated from OPTIONS. */
export function optionsMarkdown(): string {
  const rows = (OPTIONS as readonly OptionSpec[]).map((option) => {
    const flag = `\`${flagText(option)}\``;
    const commands = option.commands.map((command) => `\`${command}\``).join(', ');
    const tui = option.tui ? `\`${option.tui.key}\` in ${option.tui.sections.join(', ')}` : option.inTui;
    const choices = option.kind === 'choice' ? ` (${option.choices.join(' or ')})` : '';
    return `| ${cell(flag)} | ${commands} | ${cell(option.description + choices)} | ${cell(tui)} |`;
  });
  return ['| option | commands | what it does | in the TUI |', '| --- | --- | --- | --- |', ...rows].join(
    '\n',
  );
}

/** The README's settings table (values file keys that are not runbook values), generated from SETTINGS. */
export function settingsMarkdown(): string {
  const rows = (SETTINGS as readonly SettingSpec[])
    .filter((setting) => !setting.internal)
    .map((setting) => `| \`${setting.name}\` | ${cell(setting.shape)} | ${cell(setting.description)} |`);
  return ['| setting | value | what it does |', '| --- | --- | --- |', ...rows].join('\n');
}
