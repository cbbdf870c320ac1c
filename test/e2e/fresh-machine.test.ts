// What a new user on a fresh machine meets: the sandbox never installs anything on the host, works for
// root from a private folder, and the setup step is a no-op the second time.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { REPO_ROOT } from '../support/backup-jobs-run.js';
import { tempDir } from '../support/temp.js';

const DPKG_STATUS = '/var/lib/dpkg/status';

function dpkgState(): string {
  try {
    const stat = statSync(DPKG_STATUS);
    return `${stat.mtimeMs}:${readFileSync(DPKG_STATUS, 'utf8').length}`;
  } catch {
    return 'no dpkg';
  }
}

describe('a pod that runs apt-get in the sandbox', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox();
  });
  afterAll(async () => {
    await sandbox?.stop();
  });

  async function runJob(name: string, script: string): Promise<{ outcome: string; log: string }> {
    const { BatchV1Api, CoreV1Api } = await import('@kubernetes/client-node');
    const batch = sandbox.kube.admin.makeApiClient(BatchV1Api);
    const core = sandbox.kube.admin.makeApiClient(CoreV1Api);
    await batch.createNamespacedJob({
      namespace: 'data',
      body: {
        metadata: { name },
        spec: {
          backoffLimit: 0,
          template: {
            spec: {
              restartPolicy: 'Never',
              containers: [{ name: 'main', image: 'debian:12', command: ['/bin/sh', '-c', script] }],
            },
          },
        },
      },
    });
    const outcome = await sandbox.kube.waitForJob('data', name, 60_000);
    const pods = await core.listNamespacedPod({ namespace: 'data', labelSelector: `job-name=${name}` });
    const log = await core.readNamespacedPodLog({
      name: pods.items[0]?.metadata?.name ?? '',
      namespace: 'data',
    });
    return { outcome, log };
  }

  it('succeeds without installing anything when the packages it asks for are already on this machine', async () => {
    const before = dpkgState();
    const { outcome, log } = await runJob(
      'apt-present',
      'apt-get update && apt-get install -y --no-install-recommends ca-certificates gzip && gzip --version | head -n1',
    );
    expect(outcome).toBe('Complete');
    expect(log).toContain('apt-get install skipped: every package');
    expect(log).toContain('gzip');
    expect(dpkgState()).toBe(before);
  });

  it('fails, naming the package, when the pod asks for a tool this machine lacks, and installs nothing', async () => {
    const before = dpkgState();
    const { outcome, log } = await runJob(
      'apt-missing',
      'apt-get install -y no-such-tool-xyz && echo installed',
    );
    expect(outcome).toBe('Failed');
    expect(log).toContain('apt-get install refused');
    expect(log).toContain('no-such-tool-xyz');
    expect(log).not.toContain('installed\n');
    expect(dpkgState()).toBe(before);
  });
});

describe.runIf(process.getuid?.() === 0)('root with the checkout in a folder others cannot enter', () => {
  it('runs the sandbox (PostgreSQL as an unprivileged user) and says nothing of a stack trace', async () => {
    const home = tempDir('db-runbook-private-home-');
    chmodSync(home, 0o700);
    const checkout = join(home, 'db-runbook');
    mkdirSync(checkout);
    // Hard links: a full checkout in a 0700 folder, in a moment and without copying node_modules.
    for (const part of ['package.json', 'dist', 'node_modules', 'ops', 'scripts', 'sandbox', 'src']) {
      try {
        execFileSync('cp', ['-al', join(REPO_ROOT, part), join(checkout, part)]);
      } catch {
        cpSync(join(REPO_ROOT, part), join(checkout, part), { recursive: true });
      }
    }
    const sessions = tempDir('db-runbook-private-sessions-');
    const run = await execa(
      'node',
      [
        join(checkout, 'dist', 'cli.js'),
        'run',
        'prerequisites.cluster',
        '--sandbox',
        '--yes',
        '--session-dir',
        sessions,
      ],
      { reject: false, env: { NO_COLOR: '1' }, stdin: 'ignore', timeout: 180_000 },
    );
    const output = `${String(run.stdout)}\n${String(run.stderr)}`;
    expect(output).not.toMatch(/\n\s+at .+:\d+:\d+/);
    expect(output).not.toContain('EACCES');
    expect(output).toContain('SANDBOX started');
    expect(run.exitCode).toBe(0);
  });
});

describe('a machine without Go and without built control-plane binaries', () => {
  it('--sandbox says in one line what it needs (Go or DB_RUNBOOK_K8S_ASSETS) and exits 2', async () => {
    const awsDir = dirname(execFileSync('bash', ['-c', 'command -v aws'], { encoding: 'utf8' }).trim());
    const run = await execa(
      process.execPath,
      [
        join(REPO_ROOT, 'dist', 'cli.js'),
        'run',
        'prerequisites.cluster',
        '--sandbox',
        '--yes',
        '--session-dir',
        tempDir('db-runbook-nogo-'),
      ],
      {
        reject: false,
        stdin: 'ignore',
        env: {
          PATH: `/usr/bin:/bin:${awsDir}`,
          XDG_CACHE_HOME: tempDir('db-runbook-empty-cache-'),
          NO_COLOR: '1',
          HOME: process.env.HOME ?? '/tmp',
        },
        extendEnv: false,
      },
    );
    expect(run.exitCode).toBe(2);
    const lines = String(run.stderr).trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('Go >= 1.26');
    expect(lines[0]).toContain('DB_RUNBOOK_K8S_ASSETS');
    expect(String(run.stdout) + String(run.stderr)).not.toMatch(/\n\s+at .+:\d+:\d+/);
  });
});

describe('the setup step', () => {
  it('does nothing the second time and says where the control plane is', async () => {
    const first = await execa('node', [join(REPO_ROOT, 'scripts', 'setup.mjs'), '--no-apt'], {
      reject: false,
    });
    expect(first.exitCode).toBe(0);
    const again = await execa('node', [join(REPO_ROOT, 'scripts', 'setup.mjs'), '--no-apt'], {
      reject: false,
    });
    expect(again.exitCode).toBe(0);
    expect(String(again.stderr)).toBe('');
    const { controlPlaneDir } = JSON.parse(String(again.stdout)) as { controlPlaneDir: string };
    expect(statSync(join(controlPlaneDir, 'control-plane')).isFile()).toBe(true);
    expect(statSync(join(controlPlaneDir, 'kubectl')).isFile()).toBe(true);
  });
});
