/**
 * `db-runbook sandbox`: keeps the sandbox running in the foreground and prints what a facilitator needs
 * to use kubectl, aws and psql against it. `--sandbox` in other terminals joins it. Ctrl-C tears it down.
 */

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { isSecret, maskSecret } from '../runbook/values.js';
import { UsageError } from '../runbook/errors.js';

/** The exports, in the order a facilitator reads them, with psql's own variables for the database. */
function exportsOf(
  values: Record<string, string>,
  kubeconfig: string,
  kubectlDir: string,
): [string, string][] {
  const pg: [string, string][] = [
    ['PGHOST', values.POSTGRES_HOST ?? ''],
    ['PGPORT', values.POSTGRES_PORT ?? ''],
    ['PGDATABASE', values.POSTGRES_DATABASE ?? ''],
    ['PGUSER', values.POSTGRES_USER ?? ''],
    ['PGPASSWORD', values.POSTGRES_PASSWORD ?? ''],
  ];
  return [
    ['KUBECONFIG', kubeconfig],
    ['PATH', `${kubectlDir}:$PATH`],
    ...Object.entries(values).sort(([a], [b]) => a.localeCompare(b)),
    ...pg,
  ];
}

const shellQuote = (value: string): string =>
  /^[\w@%+=:,./-]*$/.test(value) ? value : `'${value.replaceAll("'", "'\\''")}'`;

export async function sandboxCommand(options: { json?: boolean }): Promise<number> {
  const { parseFaults, startSandbox } = await import('../sandbox/index.js');
  const { announce, findRunningSandbox, handleOf } = await import('../sandbox/handle.js');
  const running = findRunningSandbox();
  if (running) {
    throw new UsageError(
      `a sandbox is already running (${running.dir})`,
      'Use it with --sandbox in this terminal, or stop it with Ctrl-C where `db-runbook sandbox` runs.',
    );
  }
  let faults;
  try {
    faults = parseFaults(process.env.DB_RUNBOOK_SANDBOX_FAULTS);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const sandbox = await startSandbox({ faults });
  const handle = handleOf(sandbox);
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= sandbox.stop());
  const stopped = new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
      process.once(signal, () => void stop().then(resolve, resolve));
  });
  try {
    const exports = exportsOf(handle.values, handle.kubeconfigPath, handle.kubectlDir);
    const envFile = join(handle.dir, 'env.sh');
    await writeFile(
      envFile,
      `${exports.map(([name, value]) => `export ${name}=${name === 'PATH' ? `${shellQuote(handle.kubectlDir)}:"$PATH"` : shellQuote(value)}`).join('\n')}\n`,
      { mode: 0o600 },
    );
    await announce(handle);
    if (options.json) {
      process.stdout.write(
        `${JSON.stringify({ type: 'sandbox', dir: handle.dir, kubeconfig: handle.kubeconfigPath, adminKubeconfig: handle.adminKubeconfigPath, server: handle.kubeServer, version: handle.kubeVersion, envFile, startupMs: handle.startupMs })}\n`,
      );
    } else {
      const shown = exports.map(
        ([name, value]) =>
          `  export ${name}=${isSecret(name) || name === 'PGPASSWORD' ? maskSecret(value) : name === 'PATH' ? `${handle.kubectlDir}:$PATH` : value}`,
      );
      process.stdout.write(
        [
          `SANDBOX running (started in ${handle.startupMs} ms) in ${handle.dir}`,
          `  Kubernetes ${handle.kubeVersion} at ${handle.kubeServer}, node sandbox-node`,
          `  kubeconfig (the operator, a real RBAC role): ${handle.kubeconfigPath}`,
          `  admin kubeconfig: ${handle.adminKubeconfigPath}`,
          '',
          'Every variable below, secrets included, for kubectl, aws and psql in another terminal:',
          `  source ${envFile}`,
          '',
          ...shown,
          '',
          'db-runbook --sandbox (TUI, run, plan) in another terminal joins this sandbox.',
          'Ctrl-C here stops it and removes its folder.',
          '',
        ].join('\n'),
      );
    }
    await stopped;
  } finally {
    await stop();
  }
  if (!options.json) process.stdout.write('SANDBOX stopped; its folder is removed.\n');
  return 0;
}
