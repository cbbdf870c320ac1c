import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { tempDir } from './temp.js';

export const CLI = new URL('../../dist/cli.js', import.meta.url).pathname;

export interface CliRun {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI with its own session dir; returns exit code and output (never throws on exit code). */
export async function runCli(
  args: string[],
  options: { env?: Record<string, string>; sessionDir?: string; timeoutMs?: number } = {},
): Promise<CliRun & { sessionDir: string }> {
  const sessionDir = options.sessionDir ?? tempDir('db-runbook-e2e-sessions-');
  const result = await execa('node', [CLI, ...args, '--session-dir', sessionDir], {
    env: { NO_COLOR: '1', ...options.env },
    reject: false,
    timeout: options.timeoutMs ?? 120_000,
    stdin: 'ignore',
  });
  return {
    exitCode: result.exitCode ?? 1,
    stdout: String(result.stdout),
    stderr: String(result.stderr),
    sessionDir,
  };
}

export function startCli(
  args: string[],
  options: { env?: Record<string, string>; sessionDir: string },
): ResultPromise {
  return execa('node', [CLI, ...args, '--session-dir', options.sessionDir], {
    env: { NO_COLOR: '1', ...options.env },
    reject: false,
    stdin: 'ignore',
  });
}

/** The text of every journal in the dir (one session per CLI run). */
export function journalText(sessionDir: string): string {
  return readdirSync(sessionDir)
    .filter((name) => name.endsWith('.jsonl'))
    .map((name) => readFileSync(join(sessionDir, name), 'utf8'))
    .join('');
}

export function journalEvents(sessionDir: string): Record<string, unknown>[] {
  return journalText(sessionDir)
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/**
 * Environment that points the CLI at an already running sandbox (started in the test with
 * startSandbox()), so several CLI runs share one PostgreSQL, S3 and Kubernetes control plane — as a real cluster would.
 */
export function sandboxEnv(
  sandbox: { values: Record<string, string>; kubeconfigPath: string; kubectlDir: string },
  neo4jBinDir: string,
): Record<string, string> {
  return {
    ...sandbox.values,
    KUBECONFIG: sandbox.kubeconfigPath,
    PATH: `${sandbox.kubectlDir}:${neo4jBinDir}:${process.env.PATH ?? ''}`,
  };
}
