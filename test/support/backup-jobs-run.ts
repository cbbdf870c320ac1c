// Helpers for the backup-jobs tests: run a command asynchronously (never spawnSync: the Neo4j stand-in's
// listeners live in the test process and must keep answering), with exactly the environment given.
import { execFileSync, spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir as madeTempDir } from './temp.js';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const BACKUP_JOBS_DIR = join(REPO_ROOT, 'ops', 'db', 'backup-jobs');
export const SCRIPTS_DIR = join(BACKUP_JOBS_DIR, 'scripts');
/** Per-test budget for tests that run the scripts: each aws CLI call costs ~0.4 s of CPU, more on a busy host. */
export const SCRIPT_TIMEOUT_MS = 180_000;

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env: Record<string, string | undefined>;
  input?: string | Buffer;
  cwd?: string;
  timeoutMs?: number;
  /** Called with the child's pid right after it starts. */
  onSpawn?: (pid: number) => void;
  /** Its own process group (so a signal to the group reaches it and its children, never this process). */
  detached?: boolean;
}

/** Runs `command args` with ONLY `options.env` (plus nothing inherited), like a Job's container. */
export function run(command: string, args: string[], options: RunOptions): Promise<RunResult> {
  return new Promise((resolveRun, reject) => {
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(options.env)) if (value !== undefined) env[key] = value;
    const child = spawn(command, args, {
      env,
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: options.detached === true,
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => stdout.push(c));
    child.stderr.on('data', (c: Buffer) => stderr.push(c));
    child.on('error', reject);
    if (child.pid !== undefined) options.onSpawn?.(child.pid);
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolveRun({
        code,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** Runs a bash script from ops/db/backup-jobs/scripts the way the Job does: `bash /scripts/<name>`. */
export function runScript(name: string, options: RunOptions): Promise<RunResult> {
  return run('bash', [join(SCRIPTS_DIR, name)], options);
}

/**
 * pyenv's `aws` shim costs ~0.4 s per call (a bash + pyenv exec hop); a Job image has the CLI directly on PATH.
 * When the CLI on PATH is such a shim, put the real interpreter's bin directory first.
 */
function realAwsDir(): string[] {
  try {
    const which = execFileSync('pyenv', ['which', 'aws'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return [dirname(which.trim())];
  } catch {
    return [];
  }
}
const AWS_DIRS = realAwsDir();

/** A PATH with the system tools (psql, pg_dump, aws, pigz, …) and optionally extra dirs first. */
export function basePath(...first: string[]): string {
  return [...first, ...AWS_DIRS, process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin'].join(':');
}

export async function tempDir(prefix: string): Promise<string> {
  return madeTempDir(`${prefix}-`);
}
