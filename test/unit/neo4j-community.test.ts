// Pure parts of the Neo4j work: what a driver error tells the operator, the Community CronJob rendered for a
// StatefulSet, and the Role that may scale that one StatefulSet and nothing more.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import { classify } from '../../src/adapters/neo4j.js';
import { neo4jScalerObjects } from '../../src/steps/configure/neo4j-scaler-role.js';
import { communityCronJob } from '../../src/steps/clients/neo4j-edition.js';

const connection = {
  address: 'neo4j+s://graph.data.svc:7687',
  username: 'backup',
  password: 'pw-never-shown',
};
const BACKUP_JOBS = join(fileURLToPath(new URL('../..', import.meta.url)), 'ops', 'db', 'backup-jobs');

function driverError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('what a Neo4j driver error tells the operator', () => {
  it('a refused password names the user and the address, never the password', () => {
    const error = classify(
      driverError(
        'Neo.ClientError.Security.Unauthorized',
        'The client is unauthorized due to authentication failure.',
      ),
      connection,
    );
    expect(error.kind).toBe('auth');
    expect(error.message).toBe(
      "Neo4j at neo4j+s://graph.data.svc:7687 refused user 'backup': authentication failure (wrong username or password)",
    );
    expect(error.message + (error.next ?? '')).not.toContain('pw-never-shown');
  });

  it('a missing database names it and how to list the ones there', () => {
    const error = classify(
      driverError(
        'Neo.ClientError.Database.DatabaseNotFound',
        'Unable to get a routing table for database x',
      ),
      connection,
      'shop',
    );
    expect(error.kind).toBe('database-not-found');
    expect(error.message).toBe("database 'shop' does not exist on Neo4j at neo4j+s://graph.data.svc:7687");
    expect(error.next).toContain('SHOW DATABASES');
  });

  it('nothing answering says to check the server, host and port; a TLS mismatch says which scheme to use', () => {
    const down = classify(
      driverError('ServiceUnavailable', 'connect ECONNREFUSED 10.0.0.7:7687'),
      connection,
    );
    expect(down.kind).toBe('unavailable');
    expect(down.next).toContain('Is the server running?');
    const tls = classify(
      driverError('ServiceUnavailable', 'Failed to connect to server: SSL routines: wrong version number'),
      connection,
    );
    expect(tls.message).toContain('(TLS does not match)');
    expect(tls.next).toContain('neo4j+s:// for TLS');
  });

  it('Community without STOP DATABASE is "not available", an expired password says how to change it', () => {
    expect(
      classify(
        driverError(
          'Neo.ClientError.Statement.UnsupportedAdministrationCommand',
          'Unsupported administration command: STOP DATABASE neo4j',
        ),
        connection,
      ).kind,
    ).toBe('unsupported');
    const expired = classify(
      driverError('Neo.ClientError.Security.CredentialsExpired', 'expired'),
      connection,
    );
    expect(expired.kind).toBe('credentials-expired');
    expect(expired.next).toContain('ALTER CURRENT USER SET PASSWORD');
  });
});

describe('Neo4j Community on Kubernetes', () => {
  it('the scaler Role allows get on the one StatefulSet and get/patch/update of its scale, bound to database-backup', () => {
    const [role, binding] = neo4jScalerObjects('graph', 'prod');
    expect(role?.rules).toEqual([
      { apiGroups: ['apps'], resources: ['statefulsets'], resourceNames: ['graph'], verbs: ['get'] },
      {
        apiGroups: ['apps'],
        resources: ['statefulsets/scale'],
        resourceNames: ['graph'],
        verbs: ['get', 'patch', 'update'],
      },
    ]);
    expect(binding?.subjects).toEqual([
      { kind: 'ServiceAccount', name: 'database-backup', namespace: 'prod' },
    ]);
    expect(binding?.roleRef).toMatchObject({ kind: 'Role', name: 'neo4j-backup-scaler' });
  });

  it('the Community CronJob dumps with the StatefulSet stopped, and names that StatefulSet and its claim', () => {
    const cronJob = communityCronJob(BACKUP_JOBS, 'graph');
    expect(cronJob.metadata.name).toBe('neo4j-daily-backup');
    const pod = (cronJob.spec as { jobTemplate: { spec: { template: { spec: Record<string, unknown> } } } })
      .jobTemplate.spec.template.spec;
    expect(pod.automountServiceAccountToken).toBe(true);
    const env = (pod.containers as { env: { name: string; value?: string }[] }[])[0]!.env;
    expect(env).toContainEqual({ name: 'NEO4J_BACKUP_METHOD', value: 'dump' });
    expect(env).toContainEqual({ name: 'NEO4J_STATEFULSET', value: 'graph' });
    expect(env).toContainEqual({ name: 'NEO4J_DATA_DIR', value: '/data' });
    expect(pod.volumes).toContainEqual({
      name: 'data',
      persistentVolumeClaim: { claimName: 'data-graph-0' },
    });
  });
});
