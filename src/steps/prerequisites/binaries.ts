/** prerequisites.binaries: the tools the runbook drives are on this workstation's PATH, with their versions. */
import { shellCommand } from '../../runbook/plan.js';
import type { Check } from '../../runbook/step.js';
import { firstLine } from '../../runbook/text.js';
import { defineStep } from '../define.js';

interface BinarySpec {
  name: string;
  versionArgs: string[];
  purpose: string;
  install: string;
  database?: 'postgres' | 'neo4j';
  /** Not needed for the runbook's usual path: missing is a note, not a failure (why). */
  optional?: string;
}

const BINARIES: readonly BinarySpec[] = [
  {
    name: 'kubectl',
    versionArgs: ['version', '--client'],
    purpose: 'cluster access',
    install: 'https://kubernetes.io/docs/tasks/tools/ — or: apt-get install kubectl (Kubernetes apt repo)',
  },
  {
    name: 'aws',
    versionArgs: ['--version'],
    purpose: 'S3 listing and copies',
    install: 'apt-get install awscli, or pip install awscli',
  },
  {
    name: 'psql',
    versionArgs: ['--version'],
    purpose: 'PostgreSQL seed, restore, validation',
    install: 'apt-get install postgresql-client (its major must be ≥ the pg_dump that made the backup)',
    database: 'postgres',
  },
  {
    name: 'pg_dump',
    versionArgs: ['--version'],
    purpose: 'PostgreSQL safety backups',
    install: 'apt-get install postgresql-client (major ≥ the server)',
    database: 'postgres',
  },
  {
    name: 'neo4j-admin',
    versionArgs: ['--version'],
    purpose: 'a Neo4j restore on this host, the Community drill’s isolated instance',
    install: 'a Neo4j 5 distribution (Java 17) with its bin/ on PATH',
    database: 'neo4j',
    optional:
      'only for restoring on this host or drilling Community here; on Kubernetes the restore runs in a Job, and Cypher goes over Bolt with the built-in driver (no cypher-shell or Java needed here)',
  },
];

export const binaries = defineStep({
  id: 'prerequisites.binaries',
  section: 'prerequisites',
  title: 'Tools on this workstation',
  description:
    'kubectl, aws, psql and pg_dump on PATH, with their versions (neo4j-admin only when Neo4j is restored or drilled on this host). No cypher-shell or Java: db-runbook speaks Bolt with the official driver.',
  inputs: [],
  optionalInputs: ['DATABASES'],
  continueOnFailure: true,
  plan: () => ({
    actions: BINARIES.map((binary) => ({
      summary: `find ${binary.name} (${binary.purpose})`,
      command: `command -v ${binary.name} && ${shellCommand([binary.name, ...binary.versionArgs])}`,
    })),
  }),
  async run(ctx) {
    const checks = await Promise.all(
      BINARIES.map(async (binary): Promise<Check> => {
        const inScope = binary.database === undefined || ctx.values.inScope(binary.database);
        const path = await ctx.adapters.proc.which(binary.name);
        if (!path && binary.optional) {
          return {
            id: binary.name,
            label: binary.name,
            status: 'skip',
            detail: `not on PATH: ${binary.optional}`,
          };
        }
        if (!path) {
          return {
            id: binary.name,
            label: binary.name,
            status: inScope ? 'fail' : 'warn',
            detail: inScope
              ? 'not found on PATH'
              : `not found on PATH (${binary.database} is out of scope: DATABASES=${ctx.values.get('DATABASES')})`,
            next: `Install it: ${binary.install}`,
          };
        }
        const version = await ctx.adapters.proc.run(binary.name, binary.versionArgs, { timeoutMs: 15_000 });
        const text = firstLine(version.stdout) || firstLine(version.stderr);
        return {
          id: binary.name,
          label: binary.name,
          status: version.exitCode === 0 ? 'ok' : 'warn',
          detail:
            version.exitCode === 0
              ? `${text} (${path})`
              : `${path} did not report a version (exit ${version.exitCode})`,
        };
      }),
    );
    const missing = checks.filter((check) => check.status === 'fail').map((check) => check.label);
    return {
      summary: missing.length ? `missing: ${missing.join(', ')}` : 'all tools found',
      checks,
      data: { tools: Object.fromEntries(checks.map((check) => [check.id, check.detail ?? ''])) },
    };
  },
});
