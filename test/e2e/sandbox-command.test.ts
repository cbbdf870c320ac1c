// `db-runbook sandbox` keeps the sandbox running, prints what kubectl, aws and psql need, lets
// `--sandbox` in another terminal join it, and tears it all down on Ctrl-C.
import { chmodSync, existsSync } from 'node:fs';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { CLI } from '../support/cli.js';
import { tempDir } from '../support/temp.js';

describe('db-runbook sandbox', () => {
  it('prints the kubeconfig and a sourceable env file, is joined by --sandbox, and Ctrl-C removes it', async () => {
    // A temp folder of its own, so that no other test's --sandbox joins this one.
    const tmp = tempDir('db-runbook-sandbox-cmd-');
    chmodSync(tmp, 0o711);
    const env = { NO_COLOR: '1', TMPDIR: tmp };
    const sandbox = execa('node', [CLI, 'sandbox'], { env, reject: false, stdin: 'ignore' });
    let output = '';
    sandbox.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 120_000;
    while (!output.includes('Ctrl-C here stops it') && Date.now() < deadline) {
      if (sandbox.exitCode !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(output).toContain('SANDBOX running');
    expect(output).toMatch(/Kubernetes v1\.\d+\.\d+ at https:\/\/127\.0\.0\.1:\d+/);
    expect(output).toContain('export KUBECONFIG=');
    expect(output).not.toContain('sandbox-pg-password');
    const envFile = /source (\S+env\.sh)/.exec(output)?.[1] ?? '';
    const dir = /in (\S+db-runbook-sandbox-\S+)/.exec(output)?.[1] ?? '';
    expect(existsSync(envFile)).toBe(true);

    // kubectl (built at the server's version), aws and psql, as a facilitator would use them.
    const shell = await execa(
      'bash',
      [
        '-c',
        `source ${envFile} && kubectl version -o json | grep -c gitVersion && kubectl auth can-i create cronjobs -n data && aws --endpoint-url "$AWS_ENDPOINT_URL" s3 ls "s3://$S3_BUCKET" >/dev/null && echo s3-ok && psql -X -At -c 'select count(*) from customers'`,
      ],
      { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmp, TMPDIR: tmp }, reject: false },
    );
    expect(shell.stderr).toBe('');
    expect(String(shell.stdout).split('\n')).toEqual(['2', 'yes', 's3-ok', '200']);

    const joined = await execa(
      'node',
      [
        CLI,
        'run',
        'prerequisites.cluster',
        '--sandbox',
        '--yes',
        '--session-dir',
        tempDir('db-runbook-join-'),
      ],
      { env, reject: false, stdin: 'ignore' },
    );
    expect(joined.stdout).toContain('SANDBOX joined');
    expect(joined.exitCode, joined.stdout).toBe(0);

    sandbox.kill('SIGINT');
    const ended = await sandbox;
    expect(ended.exitCode).toBe(0);
    expect(output).toContain('SANDBOX stopped');
    expect(existsSync(dir)).toBe(false);
  }, 240_000);
});
