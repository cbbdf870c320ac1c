import { cronProblem } from './cron.js';
import { SETTINGS, settingSpec, type Settings } from './options.js';
import { didYouMean } from './suggest.js';
import * as v from './validate.js';

/**
 * The values the runbook names (S3_BUCKET, POSTGRES_HOST, …). Sources, lowest to highest: defaults,
 * the --values YAML file (never secrets), environment variables with the runbook's names, TUI input.
 */
export interface ValueSpec {
  name: string;
  label: string;
  help?: string;
  secret?: boolean;
  default?: string;
  example?: string;
  validators: readonly v.Validator[];
}

function spec(
  name: string,
  label: string,
  validators: v.Validator[],
  extra: Partial<ValueSpec> = {},
): ValueSpec {
  return { name, label, validators: [v.singleLine, v.required, ...validators], ...extra };
}

export const VALUE_SPECS: readonly ValueSpec[] = [
  spec('S3_BUCKET', 'S3 bucket', [v.s3Bucket], { example: 'acme-db-backups' }),
  spec('AWS_DEFAULT_REGION', 'Region', [v.region], { default: 'us-east-1' }),
  spec('AWS_ACCESS_KEY_ID', 'Access key id', [v.awsAccessKeyId], { secret: true }),
  spec('AWS_SECRET_ACCESS_KEY', 'Secret access key', [v.secretText], { secret: true }),
  spec('AWS_ENDPOINT_URL', 'S3-compatible endpoint (empty for AWS)', [v.httpUrl], {
    help: 'Only for S3-compatible providers (MinIO, R2, Ceph, …). Leave empty for AWS S3.',
  }),
  spec('POSTGRES_S3_PREFIX', 'PostgreSQL S3 prefix', [v.s3Prefix], { default: 'postgres/' }),
  spec('NEO4J_S3_PREFIX', 'Neo4j S3 prefix', [v.s3Prefix], { default: 'neo4j/' }),
  spec('POSTGRES_HOST', 'PostgreSQL host', [v.host], { example: 'postgres.data.svc.cluster.local' }),
  spec('POSTGRES_PORT', 'PostgreSQL port', [v.port], { default: '5432' }),
  spec('POSTGRES_DATABASE', 'PostgreSQL database', [v.databaseName]),
  spec('POSTGRES_USER', 'PostgreSQL user', [v.userName]),
  spec('POSTGRES_PASSWORD', 'PostgreSQL password', [v.secretText], { secret: true }),
  spec('DRILL_POSTGRES_HOST', 'Drill: isolated PostgreSQL host', [v.host], {
    help: 'dr-validation restores into a scratch database on this server instead of the source server; roles come from the backup’s globals. Empty: the source server.',
  }),
  spec('DRILL_POSTGRES_PORT', 'Drill: isolated PostgreSQL port', [v.port], { default: '5432' }),
  spec('DRILL_POSTGRES_USER', 'Drill: isolated PostgreSQL user', [v.userName]),
  spec('DRILL_POSTGRES_PASSWORD', 'Drill: isolated PostgreSQL password', [v.secretText], { secret: true }),
  spec('NEO4J_HOST', 'Neo4j host', [v.host], { example: 'neo4j.data.svc.cluster.local' }),
  spec('NEO4J_BOLT_PORT', 'Neo4j Bolt port', [v.port], { default: '7687' }),
  spec('NEO4J_BACKUP_PORT', 'Neo4j backup port', [v.port], {
    default: '6362',
    help: 'neo4j-admin backups use the backup port (server.backup.listen_address, default 6362), not Bolt.',
  }),
  spec('NEO4J_DATABASE', 'Neo4j database', [v.databaseName], { default: 'neo4j' }),
  spec('NEO4J_USERNAME', 'Neo4j user', [v.userName], { default: 'neo4j' }),
  spec('NEO4J_PASSWORD', 'Neo4j password', [v.secretText], { secret: true }),
  spec('NEO4J_STATEFULSET', 'Neo4j StatefulSet (Kubernetes)', [v.dns1123Subdomain], {
    example: 'neo4j',
    help: 'The StatefulSet that runs Neo4j in the namespace: Community backups and restores scale it to 0 and back, and mount its data-<name>-0 claim. Empty: Neo4j runs on a host (neo4j stop/start there).',
  }),
  spec('DATABASES', 'Databases in scope', [inScopeList], {
    default: 'postgres,neo4j',
    help: 'Which databases this session covers: postgres, neo4j, or both (comma-separated).',
  }),
  spec('POSTGRES_BACKUP_SCHEDULE', 'PostgreSQL backup schedule (cron, UTC)', [cronProblem], {
    default: '0 2 * * *',
    help: '5-field cron (minute hour day-of-month month day-of-week) in Etc/UTC: 0 2 * * * is daily at 02:00 UTC.',
  }),
  spec('NEO4J_BACKUP_SCHEDULE', 'Neo4j backup schedule (cron, UTC)', [cronProblem], {
    default: '30 2 * * *',
    help: '5-field cron (minute hour day-of-month month day-of-week) in Etc/UTC: 30 2 * * * is daily at 02:30 UTC.',
  }),
];

function inScopeList(value: string): string | undefined {
  const parts = value.split(',').map((part) => part.trim());
  return parts.length > 0 && parts.every((part) => part === 'postgres' || part === 'neo4j')
    ? undefined
    : 'must be postgres, neo4j or postgres,neo4j';
}

const SPEC_BY_NAME = new Map(VALUE_SPECS.map((s) => [s.name, s]));

export function valueSpec(name: string): ValueSpec {
  const found = SPEC_BY_NAME.get(name);
  if (!found) throw new Error(`unknown value ${name}`);
  return found;
}

export function isSecret(name: string): boolean {
  return SPEC_BY_NAME.get(name)?.secret === true;
}

export type ValueSource = 'default' | 'values-file' | 'environment' | 'input' | 'sandbox';

export interface ResolvedValue {
  value: string;
  source: ValueSource;
}

/** Values resolved for a session: name → value and where it came from. */
export class Values {
  private readonly entries = new Map<string, ResolvedValue>();

  constructor(entries: Iterable<[string, ResolvedValue]> = []) {
    for (const [name, entry] of entries) this.entries.set(name, entry);
  }

  get(name: string): string | undefined {
    const entry = this.entries.get(name);
    return entry && entry.value !== '' ? entry.value : undefined;
  }

  /** The value, or throws: steps call it only for inputs the engine already checked. */
  require(name: string): string {
    const value = this.get(name);
    if (value === undefined) throw new Error(`${name} is not set`);
    return value;
  }

  source(name: string): ValueSource | undefined {
    return this.entries.get(name)?.source;
  }

  with(name: string, value: string, source: ValueSource): Values {
    const next = new Values(this.entries);
    next.entries.set(name, { value, source });
    return next;
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  /** Every secret value that is set: the journal and the screen mask these wherever they appear. */
  secretValues(): string[] {
    return [...this.entries.entries()]
      .filter(([name, entry]) => isSecret(name) && entry.value !== '')
      .map(([, entry]) => entry.value);
  }

  /** Shown form: secrets masked. */
  display(name: string): string {
    const value = this.get(name);
    if (value === undefined) return '(not set)';
    return isSecret(name) ? maskSecret(value) : value;
  }

  inScope(database: 'postgres' | 'neo4j'): boolean {
    return (this.get('DATABASES') ?? 'postgres,neo4j')
      .split(',')
      .map((part) => part.trim())
      .includes(database);
  }
}

export const MASK = '••••••';

export function maskSecret(_value: string): string {
  return MASK;
}

export interface ValueProblem {
  name: string;
  message: string;
}

/** Checks one value against its spec. */
export function validateValue(name: string, value: string): string | undefined {
  const found = SPEC_BY_NAME.get(name);
  if (!found) return undefined;
  if (value === '' && name === 'AWS_ENDPOINT_URL') return undefined; // optional: empty means AWS S3
  return v.firstError(value, found.validators);
}

export interface ResolveInput {
  valuesFile?: Record<string, unknown>;
  env: NodeJS.ProcessEnv | Record<string, string | undefined>;
  overrides?: Record<string, string>;
  overrideSource?: ValueSource;
  /** Settings that are not the operator's (the sandbox's paths); they win over the values file. */
  settings?: Settings;
}

export interface Resolution {
  values: Values;
  problems: ValueProblem[];
  /** Non-value settings from the values file (rpoTarget, validation queries, …), each checked. */
  settings: Settings;
}

/** Merges the sources and validates what is set; missing values are not problems here (steps ask). */
export function resolveValues(input: ResolveInput): Resolution {
  const problems: ValueProblem[] = [];
  const settings: Record<string, unknown> = {};
  const entries: [string, ResolvedValue][] = [];
  const fileValues = new Map<string, string>();
  for (const [key, raw] of Object.entries(input.valuesFile ?? {})) {
    if (!SPEC_BY_NAME.has(key)) {
      const setting = settingSpec(key);
      if (!setting || setting.internal) {
        const known = [
          ...VALUE_SPECS.map((s) => s.name),
          ...SETTINGS.filter((s) => !('internal' in s)).map((s) => s.name),
        ];
        problems.push({
          name: key,
          message: `in the values file is not a value or setting db-runbook knows${didYouMean(key, known)}`,
        });
        continue;
      }
      const problem = raw === null || raw === undefined ? undefined : setting.validate(raw);
      if (problem) {
        problems.push({ name: key, message: `${problem} (from values-file)` });
        continue;
      }
      if (raw !== null && raw !== undefined) settings[key] = raw;
      continue;
    }
    if (isSecret(key)) {
      problems.push({
        name: key,
        message: `is a secret and is never read from the values file; remove it there and set ${key} in the environment`,
      });
      continue;
    }
    if (typeof raw !== 'string' && typeof raw !== 'number') {
      problems.push({ name: key, message: 'must be a string in the values file' });
      continue;
    }
    fileValues.set(key, String(raw));
  }
  for (const spec of VALUE_SPECS) {
    let resolved: ResolvedValue | undefined;
    if (spec.default !== undefined) resolved = { value: spec.default, source: 'default' };
    const fromFile = fileValues.get(spec.name);
    if (fromFile !== undefined) resolved = { value: fromFile, source: 'values-file' };
    const fromEnv = input.env[spec.name];
    if (fromEnv !== undefined && fromEnv !== '') resolved = { value: fromEnv, source: 'environment' };
    const fromOverride = input.overrides?.[spec.name];
    if (fromOverride !== undefined)
      resolved = { value: fromOverride, source: input.overrideSource ?? 'input' };
    if (!resolved) continue;
    const message = validateValue(spec.name, resolved.value);
    if (message) {
      problems.push({ name: spec.name, message: `${message} (from ${resolved.source})` });
      continue;
    }
    entries.push([spec.name, resolved]);
  }
  for (const [key, raw] of Object.entries(input.settings ?? {})) settings[key] = raw;
  return { values: new Values(entries), problems, settings: settings as Settings };
}

/** The inputs a step needs that are not set, in the order given. */
export function missingInputs(values: Values, names: readonly string[]): string[] {
  return names.filter((name) => values.get(name) === undefined);
}
