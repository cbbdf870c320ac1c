import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunbookError } from '../runbook/errors.js';

/**
 * The files the runbook deploys (ops/db/backup-jobs: cronjobs.yaml and scripts/), read from the package or
 * from where the operator points. The only place the configure and deploy steps touch the file system.
 */

/** The package root (where package.json is): works from src/ (tests) and dist/ (installed). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('db-runbook: cannot find package.json above ' + import.meta.url);
    dir = parent;
  }
}

/** Where the runbook's relative paths (ops/db/backup-jobs/…) are shown from. */
export const BACKUP_JOBS_RELATIVE = 'ops/db/backup-jobs';

/**
 * The backup-jobs directory (cronjobs.yaml, scripts/): the `backupJobsDir` setting of the --values file,
 * else DB_RUNBOOK_BACKUP_JOBS_DIR, else the copy shipped in the package.
 */
export function backupJobsDir(settings: Record<string, unknown> = {}): string {
  const fromSettings = settings.backupJobsDir;
  if (typeof fromSettings === 'string' && fromSettings !== '') return fromSettings;
  const fromEnv = process.env.DB_RUNBOOK_BACKUP_JOBS_DIR;
  if (fromEnv) return fromEnv;
  return join(packageRoot(), BACKUP_JOBS_RELATIVE);
}

/** How a path under the backup-jobs directory is shown in plans: the runbook's relative path when it is the shipped copy. */
export function displayPath(dir: string, file: string): string {
  const shipped = join(packageRoot(), BACKUP_JOBS_RELATIVE);
  const rel = relative(shipped, join(dir, file));
  return dir === shipped || !rel.startsWith('..') ? `${BACKUP_JOBS_RELATIVE}/${rel}` : join(dir, file);
}

export interface ScriptFile {
  key: string;
  path: string;
}

/** `scripts/*.sh`, sorted; key = file name (as `--from-file=NAME=PATH`). */
export function listScripts(dir: string): ScriptFile[] {
  const scripts = join(dir, 'scripts');
  let names: string[];
  try {
    names = readdirSync(scripts, { withFileTypes: true })
      .filter((entry) => entry.isFile() && entry.name.endsWith('.sh'))
      .map((entry) => entry.name)
      .sort();
  } catch (error) {
    throw new RunbookError(
      `cannot read the backup scripts in ${scripts}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
      {
        next: 'Run from a db-runbook checkout or package that has ops/db/backup-jobs/scripts, or set backupJobsDir in the --values file.',
      },
    );
  }
  return names.map((name) => ({ key: name, path: join(scripts, name) }));
}

/** A script's bytes, for the scripts ConfigMap. */
export function readScriptFile(path: string): Buffer {
  return readFileSync(path);
}

/** The CronJob manifest's text. */
export function readManifestText(dir: string, file: string): { path: string; text: string } {
  const path = join(dir, file);
  try {
    return { path, text: readFileSync(path, 'utf8') };
  } catch (error) {
    throw new RunbookError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`, {
      next: 'Run from a db-runbook checkout or package that has ops/db/backup-jobs/cronjobs.yaml, or set backupJobsDir in the --values file.',
    });
  }
}

/**
 * The catalog facts query (owners, privileges, default privileges and settings of a database), read from
 * scripts/lib-common.sh where postgres-backup.sh takes it from: the backup and the restore's validation run
 * the same SQL.
 */
export function readCatalogFactsSql(dir: string): string {
  const path = join(dir, 'scripts', 'lib-common.sh');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new RunbookError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`, {
      next: 'Run from a db-runbook checkout or package that has ops/db/backup-jobs/scripts, or set backupJobsDir in the --values file.',
    });
  }
  const start = text.indexOf('-- BEGIN db-runbook catalog facts');
  const end = text.indexOf('-- END db-runbook catalog facts');
  if (start === -1 || end === -1 || end < start)
    throw new RunbookError(`${path} has no catalog facts query (-- BEGIN/END db-runbook catalog facts)`);
  return text.slice(start, end);
}
