// The Neo4j adapter (official neo4j-driver) against a real Neo4j Community server from Maven Central:
// what the edition and version are, and what a person reads when the password is wrong, the server is
// down, or the database does not exist.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createNeo4jAdapter, Neo4jError } from '../../src/adapters/neo4j.js';
import type { JournalEventBody } from '../../src/runbook/journal.js';
import { createLocalNeo4j, freePort, type LocalNeo4j } from '../../src/sandbox/neo4j.js';
import { tempDir } from '../support/temp.js';

let neo4j: LocalNeo4j;
const recorded: JournalEventBody[] = [];

beforeAll(async () => {
  neo4j = await createLocalNeo4j({ directory: tempDir('neo4j-driver-') });
}, 240_000);

afterAll(async () => {
  await neo4j?.stop();
}, 120_000);

function client(overrides: { address?: string; password?: string } = {}) {
  return createNeo4jAdapter(
    {
      address: overrides.address ?? neo4j.address,
      username: neo4j.username,
      password: overrides.password ?? neo4j.password,
    },
    (event) => recorded.push(event),
  );
}

async function failure(promise: Promise<unknown>): Promise<Neo4jError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(Neo4jError);
  return error as Neo4jError;
}

describe('Cypher through the official driver on a real Neo4j 5 Community', () => {
  it('reads the edition and version from CALL dbms.components() and writes and reads back a node', async () => {
    const components = await client().run('CALL dbms.components() YIELD name, versions, edition');
    expect(components.keys).toEqual(['name', 'versions', 'edition']);
    expect(components.rows[0]?.[2]).toBe('community');
    expect(String((components.rows[0]?.[1] as string[])[0])).toMatch(/^5\.26\./);

    const merged = await client().run(
      "MERGE (n:BackupValidation {id: 'synthetic'}) SET n.checkedAt = datetime(), n.marker = $marker RETURN n.marker, n.checkedAt",
      { params: { marker: 'driver-test' } },
    );
    expect(merged.rows[0]?.[0]).toBe('driver-test');
    expect(String(merged.rows[0]?.[1])).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    const count = await client().run('MATCH (n:BackupValidation) RETURN count(n) AS n', {
      database: 'neo4j',
    });
    expect(count.rows).toEqual([[1]]);
  });

  it('says the password was refused, names the user and the address, and never shows the password', async () => {
    const error = await failure(client({ password: 'not-the-password' }).run('RETURN 1'));
    expect(error.kind).toBe('auth');
    expect(error.message).toBe(
      `Neo4j at ${neo4j.address} refused user 'neo4j': authentication failure (wrong username or password)`,
    );
    expect(error.next).toContain('NEO4J_USERNAME and NEO4J_PASSWORD');
    expect(JSON.stringify(recorded)).not.toContain('not-the-password');
    expect(JSON.stringify(recorded)).not.toContain(neo4j.password);
  });

  it('says a database that does not exist does not exist, and how to list the ones there', async () => {
    const error = await failure(client().run('MATCH (n) RETURN count(n)', { database: 'nosuchdb' }));
    expect(error.kind).toBe('database-not-found');
    expect(error.message).toBe(`database 'nosuchdb' does not exist on Neo4j at ${neo4j.address}`);
    expect(error.next).toContain('SHOW DATABASES');
  });

  it('says Community has no STOP DATABASE', async () => {
    const error = await failure(client().run('STOP DATABASE neo4j WAIT', { database: 'system' }));
    expect(error.kind).toBe('unsupported');
  });

  it('says nothing answers when no server listens there, and to check host, port and that it runs', async () => {
    const address = `neo4j://127.0.0.1:${await freePort()}`;
    const error = await failure(client({ address }).run('RETURN 1', { connectTimeoutMs: 3000 }));
    expect(error.kind).toBe('unavailable');
    expect(error.message).toMatch(new RegExp(`^Neo4j does not answer at ${address}: `));
    expect(error.next).toContain('Is the server running?');
  });

  it('says the server is down after neo4j stop', async () => {
    await neo4j.stop();
    expect(await neo4j.running()).toBe(false);
    const error = await failure(client().run('RETURN 1', { connectTimeoutMs: 3000 }));
    expect(error.kind).toBe('unavailable');
    expect(error.message).toMatch(/^Neo4j does not answer at neo4j:\/\/127\.0\.0\.1:\d+/);
  }, 120_000);
});
