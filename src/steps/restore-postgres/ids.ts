/** The restore-postgres section's spec and step ids, and what its gates and plans show of the target. */
import type { Values } from '../../runbook/values.js';
import { POSTGRES_SPEC, restoreHandles, stepIds } from '../restore-kit/spec.js';

export const SPEC = POSTGRES_SPEC;

export const SECTION = SPEC.section;

export const IDS = {
  ...stepIds(SPEC),
  load: `${SECTION}.load`,
  stopWrites: `${SECTION}.stop-writes`,
  safetyBackup: `${SECTION}.safety-backup`,
  restore: `${SECTION}.restore`,
  validate: `${SECTION}.validate`,
  resumeWrites: `${SECTION}.resume-writes`,
};

/** The Job mode derives the restore Job from this CronJob (ops/db/backup-jobs/cronjobs.yaml). */
export const BACKUP_CRONJOB = 'postgres-daily-backup';

/** The runbook's own env-only command line, secrets as placeholders. */
export function envCommand(lines: string[][], script: string): string {
  return [...lines.map((words) => `${words.join(' ')} \\`), `bash ${script}`].join('\n');
}

export function pgWords(values: Values): string[][] {
  return [
    ['AWS_ACCESS_KEY_ID=<key>', 'AWS_SECRET_ACCESS_KEY=<secret>'],
    [
      `POSTGRES_HOST=${values.get('POSTGRES_HOST') ?? '<host>'}`,
      `POSTGRES_PORT=${values.get('POSTGRES_PORT') ?? '5432'}`,
      `POSTGRES_DATABASE=${values.get('POSTGRES_DATABASE') ?? '<database>'}`,
    ],
    [`POSTGRES_USER=${values.get('POSTGRES_USER') ?? '<user>'}`, 'POSTGRES_PASSWORD=<password>'],
  ];
}

/** The target a gate names: the kube context and namespace, and the PostgreSQL server and database. */
export function target(
  values: Values,
  ctx: { target: { context: string; namespace: string } },
): Record<string, string> {
  return {
    'kube context': ctx.target.context,
    namespace: ctx.target.namespace,
    host: values.get('POSTGRES_HOST') ?? '?',
    port: values.get('POSTGRES_PORT') ?? '5432',
    database: values.get('POSTGRES_DATABASE') ?? '?',
  };
}

/** Typed handles on the shared restore steps of this section (incident, choose, integrity, override). */
export const HANDLES = restoreHandles(SPEC);
