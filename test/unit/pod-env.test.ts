// The process kubelet's pure part: a container's environment and mount paths, as the kubelet computes them.
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/sandbox/cluster/json.js';
import {
  containerEnv,
  ContainerConfigError,
  expandVars,
  pathRewriter,
} from '../../src/sandbox/cluster/pod-env.js';

describe('the kubelet side', () => {
  const pod: KubeObject = { metadata: { name: 'p', namespace: 'data', labels: { app: 'x' } } };
  const lookup = {
    secret: (name: string) => (name === 'creds' ? { PASSWORD: 'pw', 'bad key': 'skipped' } : undefined),
    configMap: (name: string) => (name === 'cfg' ? { REGION: 'eu' } : undefined),
  };

  it('expands $(VAR) references with $$ as the escape', () => {
    const env = new Map([['A', 'one']]);
    expect(expandVars('$(A)-$(B)-$$(A)-$$-$', (n) => env.get(n))).toBe('one-$(B)-$(A)-$-$');
  });

  it('builds the environment from envFrom, env, references and the downward API', () => {
    const env = containerEnv(
      pod,
      {
        envFrom: [
          { secretRef: { name: 'creds' }, prefix: 'DB_' },
          { configMapRef: { name: 'gone', optional: true } },
        ],
        env: [
          { name: 'REGION', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'REGION' } } },
          { name: 'WHERE', value: '$(REGION)/$(POD)' },
          { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        ],
      },
      lookup,
    );
    expect(Object.fromEntries(env)).toEqual({
      DB_PASSWORD: 'pw',
      REGION: 'eu',
      WHERE: 'eu/$(POD)',
      POD: 'p',
      APP: 'x',
    });
    expect(() =>
      containerEnv(
        pod,
        { env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'creds', key: 'NOPE' } } }] },
        lookup,
      ),
    ).toThrow(new ContainerConfigError("couldn't find key NOPE in Secret data/creds"));
    expect(() => containerEnv(pod, { envFrom: [{ configMapRef: { name: 'gone' } }] }, lookup)).toThrow(
      'configmap "gone" not found',
    );
  });

  it('rewrites mount paths only as whole path prefixes, longest first', () => {
    const rewrite = pathRewriter([
      { mountPath: '/backup', localPath: '/tmp/pod/volumes/work' },
      { mountPath: '/backup/neo4j/', localPath: '/tmp/pvc/neo4j' },
      { mountPath: '/scripts', localPath: '/tmp/pod/volumes/scripts' },
    ]);
    expect(rewrite('/scripts/run.sh')).toBe('/tmp/pod/volumes/scripts/run.sh');
    expect(rewrite('--to-path=/backup/neo4j/db')).toBe('--to-path=/tmp/pvc/neo4j/db');
    expect(rewrite('tar -C /backup -cf x /backup/a:/backups /var/backup')).toBe(
      'tar -C /tmp/pod/volumes/work -cf x /tmp/pod/volumes/work/a:/backups /var/backup',
    );
  });
});
