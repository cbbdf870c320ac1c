// The sandbox's serving Neo4j is a real Neo4j 5 Community run as Kubernetes runs one: StatefulSet `neo4j`
// whose pod the process kubelet starts, its store on the claim data-neo4j-0. Scaling it to 0 stops the
// server cleanly (a dump of the store works then); scaling it back serves the same graph.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Neo4jError } from '../../src/adapters/neo4j.js';
import { createNeo4jAdapter } from '../../src/adapters/neo4j.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { waitForNeo4j } from '../../src/sandbox/neo4j.js';
import { run } from '../support/backup-jobs-run.js';
import { tempDir } from '../support/temp.js';

let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await startSandbox();
}, 300_000);

afterAll(async () => {
  await sandbox?.stop();
}, 120_000);

const client = () =>
  createNeo4jAdapter(
    {
      address: `neo4j://127.0.0.1:${sandbox.values.NEO4J_BOLT_PORT}`,
      username: sandbox.values.NEO4J_USERNAME!,
      password: sandbox.values.NEO4J_PASSWORD!,
    },
    () => undefined,
  );
const kubectl = (...args: string[]) =>
  run(
    join(sandbox.kubectlDir, 'kubectl'),
    ['--kubeconfig', sandbox.kube.adminKubeconfigPath, '-n', 'data', ...args],
    {
      env: { PATH: process.env.PATH ?? '' },
    },
  );

describe('the sandbox Neo4j', { timeout: 240_000 }, () => {
  it('is Neo4j 5.26 Community over Bolt on 127.0.0.1, with the sandbox values', async () => {
    expect(sandbox.values.NEO4J_STATEFULSET).toBe('neo4j');
    const components = await client().run('CALL dbms.components() YIELD versions, edition');
    expect(components.rows[0]?.[1]).toBe('community');
    expect(String((components.rows[0]?.[0] as string[])[0])).toMatch(/^5\.26\./);
    const pods = await kubectl('get', 'pod', 'neo4j-0', '-o', 'jsonpath={.status.phase}');
    expect(pods.stdout).toBe('Running');
    const claim = await kubectl('get', 'pvc', 'data-neo4j-0', '-o', 'jsonpath={.status.phase}');
    expect(claim.stdout).toBe('Bound');
  });

  it('stops when its StatefulSet is scaled to 0, its store can be dumped then, and it serves the same graph when scaled back', async () => {
    await client().run("MERGE (n:BackupValidation {id: 'synthetic'}) SET n.marker = 'sandbox-neo4j'");
    expect((await kubectl('scale', 'statefulset/neo4j', '--replicas=0')).code).toBe(0);
    expect((await kubectl('wait', '--for=delete', 'pod/neo4j-0', '--timeout=180s')).code).toBe(0);
    const down = await client()
      .run('RETURN 1', { connectTimeoutMs: 3000 })
      .catch((error: unknown) => error);
    expect((down as Neo4jError).kind).toBe('unavailable');

    const dumps = tempDir('sandbox-neo4j-dump-');
    const config = join(dumps, 'data.conf');
    await run(
      'sh',
      [
        '-c',
        `printf 'server.directories.data=%s\\n' "$1" > "$2"`,
        'sh',
        join(sandbox.neo4j.storeDir),
        config,
      ],
      {
        env: { PATH: process.env.PATH ?? '' },
      },
    );
    const dump = await run(
      join(sandbox.neo4jHome, 'bin', 'neo4j-admin'),
      ['database', 'dump', `--to-path=${dumps}`, `--additional-config=${config}`, 'neo4j'],
      { env: { PATH: process.env.PATH ?? '' } },
    );
    expect(dump.code, dump.stderr + dump.stdout).toBe(0);

    expect((await kubectl('scale', 'statefulset/neo4j', '--replicas=1')).code).toBe(0);
    await waitForNeo4j({
      address: `neo4j://127.0.0.1:${sandbox.values.NEO4J_BOLT_PORT}`,
      password: sandbox.values.NEO4J_PASSWORD,
    });
    const marker = await client().run("MATCH (n:BackupValidation {id: 'synthetic'}) RETURN n.marker");
    expect(marker.rows).toEqual([['sandbox-neo4j']]);
  });
});
