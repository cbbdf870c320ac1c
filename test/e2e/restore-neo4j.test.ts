// `db-runbook run restore-neo4j` (built CLI) against the sandbox's real Neo4j 5 Community on Kubernetes:
// the StatefulSet is scaled to 0, neo4j-restore.sh runs as a Job that mounts its claim and loads the dump
// with the real neo4j-admin, the StatefulSet is scaled back, and every label's count and the marker node
// are as they were when the backup was taken.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createNeo4jAdapter } from '../../src/adapters/neo4j.js';
import { journalEvents, journalText, runCli } from '../support/cli.js';
import { startSyntheticEnv, type SyntheticEnv } from '../support/synthetic.js';
import { tempDir } from '../support/temp.js';

let lab: SyntheticEnv;
let valuesFile: string;
let backupUri = '';
let marker = '';
let backedUp: Record<string, number> = {};

const cypher = async (statement: string) =>
  (
    await createNeo4jAdapter(
      {
        address: `neo4j://127.0.0.1:${lab.sandbox.values.NEO4J_BOLT_PORT}`,
        username: lab.sandbox.values.NEO4J_USERNAME!,
        password: lab.sandbox.values.NEO4J_PASSWORD!,
      },
      () => undefined,
    ).run(statement, { database: 'neo4j' })
  ).rows;
const labelCounts = async (): Promise<Record<string, number>> =>
  Object.fromEntries(
    (await cypher('MATCH (n) UNWIND labels(n) AS label RETURN label, count(*) ORDER BY label')) as [
      string,
      number,
    ][],
  );
async function replicas(): Promise<number | undefined> {
  const kube = await lab.kube();
  const sts = await kube.get({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    name: 'neo4j',
    namespace: 'data',
  });
  return (sts?.spec as { replicas?: number } | undefined)?.replicas;
}
function args(confirm: string): string[] {
  // Each typed gate takes its own phrase: the database name (member stopped), then "overwrite <name>".
  return [
    'run',
    'restore-neo4j',
    '--yes',
    '--confirm',
    confirm,
    '--confirm',
    `overwrite ${confirm}`,
    '--restore-uri',
    backupUri,
    '--values',
    valuesFile,
  ];
}

beforeAll(async () => {
  lab = await startSyntheticEnv();
  valuesFile = join(tempDir('restore-neo4j-values-'), 'values.yaml');
  await writeFile(valuesFile, 'neo4jUriScheme: neo4j\n');
  await cypher('UNWIND range(1, 50) AS i CREATE (:Person {id: i})');
  await cypher('UNWIND range(1, 20) AS i CREATE (:Item {id: i})-[:OF]->(:Order {id: i})');
  // The backup: the product's own synthetic test (marker over Bolt, the Community backup Job).
  const backup = await runCli(
    [
      'run',
      'configure',
      'deploy',
      'test-neo4j.seed',
      'test-neo4j.trigger',
      'test-neo4j.wait',
      'test-neo4j.verify',
      '--yes',
      '--values',
      valuesFile,
    ],
    { env: lab.env(), timeoutMs: 600_000 },
  );
  expect(backup.exitCode, backup.stdout + backup.stderr).toBe(0);
  const verified = journalEvents(backup.sessionDir).find(
    (event) => event.type === 'result' && event.step === 'test-neo4j.verify',
  ) as { data: { uri: string } };
  backupUri = verified.data.uri;
  marker = String((await cypher("MATCH (n:BackupValidation {id: 'synthetic'}) RETURN n.marker"))[0]?.[0]);
  backedUp = await labelCounts();
  expect(backedUp).toEqual({ BackupValidation: 1, Item: 20, Order: 20, Person: 50 });
  // After the backup: damage.
  await cypher('MATCH (n:Person) WHERE n.id > 5 DETACH DELETE n');
  await cypher('CREATE (:AfterBackup {id: 1})');
}, 900_000);

afterAll(async () => {
  await lab?.stop();
}, 120_000);

describe('restore-neo4j on Kubernetes (real Neo4j Community, built CLI)', () => {
  it('refuses the wrong --confirm with exit 3: Neo4j keeps running and nothing is touched', async () => {
    const run = await runCli(args('wrong'), { env: lab.env() });
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(3);
    expect(await replicas()).toBe(1);
    expect((await labelCounts()).AfterBackup).toBe(1);
    expect(journalText(run.sessionDir)).not.toContain('neo4j-restore');
  }, 300_000);

  it('scales the StatefulSet to 0, loads the dump in a Job on its claim, scales it back, and every label count and the marker are as backed up', async () => {
    const run = await runCli(args('neo4j'), { env: lab.env(), timeoutMs: 900_000 });
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toMatch(
      /Neo4j 5\.26\.\d+ community: database neo4j is online \(StatefulSet neo4j: 1 wanted, 1 pod\)/,
    );
    expect(run.stdout).toContain('kubectl scale statefulset/neo4j --replicas=0 (it had 1)');
    expect(run.stdout).toMatch(/created Job neo4j-restore-\d+ in data from CronJob neo4j-daily-backup/);
    expect(run.stdout).toContain('database load');
    expect(run.stdout).toContain('kubectl scale statefulset/neo4j --replicas=1');
    expect(run.stdout).toMatch(/✓ nodes per label {2}BackupValidation 1, Item 20, Order 20, Person 50/);
    expect(run.stdout).toContain(marker);
    expect(run.stdout).not.toContain('stand-in');

    expect(await replicas()).toBe(1);
    expect(await labelCounts()).toEqual(backedUp);
    expect(await cypher("MATCH (n:BackupValidation {id: 'synthetic'}) RETURN n.marker")).toEqual([[marker]]);

    const events = journalEvents(run.sessionDir);
    expect(events.filter((e) => e.type === 'mark').map((e) => e.name)).toEqual([
      'incident-declared',
      'restore-started',
      'download-done',
      'restore-done',
      'recovery-point',
      'validated',
    ]);
    expect(journalText(run.sessionDir)).not.toContain(lab.sandbox.values.NEO4J_PASSWORD!);
  }, 900_000);
});
