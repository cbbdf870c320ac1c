// Pure rules of the Kubernetes stand-in: validation wording, cron schedules, selectors, patches,
// access rules, request paths, the kubelet's env/path computations and protobuf decoding.
import { describe, expect, it } from 'vitest';

import { AccessPolicy, ruleMatches } from '../../src/sandbox/kube/access.js';
import type { RequestAttributes } from '../../src/sandbox/kube/access.js';
import { scheduleError, timeZoneError } from '../../src/sandbox/kube/cron.js';
import { jsonPatch, mergePatch } from '../../src/sandbox/kube/patch.js';
import {
  containerEnv,
  ContainerConfigError,
  expandVars,
  pathRewriter,
} from '../../src/sandbox/cluster/pod-env.js';
import { decodeProtobufObject } from '../../src/sandbox/kube/protobuf.js';
import { parseResourcePath } from '../../src/sandbox/kube/request.js';
import { mustResource } from '../../src/sandbox/kube/resources.js';
import { matchesLabels, parseLabelSelector } from '../../src/sandbox/kube/selectors.js';
import type { StatusError } from '../../src/sandbox/kube/status.js';
import { humanDuration } from '../../src/sandbox/kube/table.js';
import { validationErrors } from '../../src/sandbox/kube/validate.js';
import type { KubeObject } from '../../src/sandbox/kube/types.js';

describe('validation', () => {
  const cronJob = (spec: Record<string, unknown>): KubeObject => ({
    metadata: { name: 'nightly' },
    spec: {
      schedule: '0 2 * * *',
      concurrencyPolicy: 'Forbid',
      jobTemplate: {
        spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'i' }] } } },
      },
      ...spec,
    },
  });
  const errors = (plural: string, obj: KubeObject) =>
    validationErrors(mustResource(plural === 'cronjobs' || plural === 'jobs' ? 'batch' : '', plural), obj);

  it('checks names as DNS subdomains, and namespaces as DNS labels', () => {
    expect(errors('secrets', { metadata: { name: 'a.b-c' } })).toEqual([]);
    expect(errors('secrets', { metadata: { name: 'UPPER' } })[0]).toMatchObject({
      type: 'FieldValueInvalid',
      field: 'metadata.name',
      value: 'UPPER',
    });
    expect(errors('namespaces', { metadata: { name: 'a.b' } })[0]?.detail).toMatch(
      /^a lowercase RFC 1123 label must consist of/,
    );
    expect(errors('secrets', { metadata: {} })).toEqual([
      { type: 'FieldValueRequired', field: 'metadata.name', detail: 'name or generateName is required' },
    ]);
    expect(errors('secrets', { metadata: { name: 's' }, data: { 'bad key': '' } })[0]?.field).toBe(
      'data[bad key]',
    );
  });

  it('checks CronJob schedules, time zones and templates', () => {
    expect(errors('cronjobs', cronJob({}))).toEqual([]);
    expect(errors('cronjobs', cronJob({ schedule: '@daily', timeZone: 'Europe/Berlin' }))).toEqual([]);
    expect(errors('cronjobs', cronJob({ schedule: 'TZ=UTC 0 2 * * *' }))[0]?.detail).toBe(
      'cannot use TZ or CRON_TZ in schedule, use timeZone field instead',
    );
    expect(errors('cronjobs', cronJob({ timeZone: 'Local' }))[0]).toMatchObject({
      field: 'spec.timeZone',
      detail: 'unknown time zone Local',
    });
    const noContainers = cronJob({
      jobTemplate: {
        spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ image: 'x' }] } } },
      },
    });
    expect(errors('cronjobs', noContainers)).toEqual([
      { type: 'FieldValueRequired', field: 'spec.jobTemplate.spec.template.spec.containers[0].name' },
    ]);
  });

  it('parses cron schedules like robfig/cron', () => {
    expect(scheduleError('*/15 0-6,22 1 jan-mar mon-fri')).toBeUndefined();
    expect(scheduleError('@every 1h30m')).toBeUndefined();
    expect(scheduleError('0 2 * *')).toBe('expected exactly 5 fields, found 4: [0 2 * *]');
    expect(scheduleError('0 24 * * *')).toBe('end of range (24) above maximum (23): 24');
    expect(scheduleError('x * * * *')).toBe(
      'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax',
    );
    expect(scheduleError('@fortnightly')).toBe('unrecognized descriptor: @fortnightly');
    expect(timeZoneError('Etc/UTC')).toBeUndefined();
    expect(timeZoneError('Nowhere/Town')).toBe('unknown time zone Nowhere/Town');
  });
});

describe('selectors, patches, durations', () => {
  it('matches equality, set and existence requirements', () => {
    const labels = { app: 'db', tier: 'backend' };
    const match = (text: string) => matchesLabels(labels, parseLabelSelector(text));
    expect(match('app=db,tier!=frontend')).toBe(true);
    expect(match('app==web')).toBe(false);
    expect(match('tier in (backend, cache),!missing')).toBe(true);
    expect(match('app notin (db)')).toBe(false);
    expect(() => parseLabelSelector('a b c')).toThrow(/unable to parse requirement/);
  });

  it('applies merge patches and JSON patches', () => {
    expect(mergePatch({ a: 1, b: { c: 2, d: 3 } }, { b: { c: null, e: 4 }, f: [1] })).toEqual({
      a: 1,
      b: { d: 3, e: 4 },
      f: [1],
    });
    const doc = { metadata: { labels: { a: 'x' } }, list: [1, 2] };
    expect(
      jsonPatch(doc, [
        { op: 'replace', path: '/metadata/labels/a', value: 'y' },
        { op: 'add', path: '/list/-', value: 3 },
        { op: 'remove', path: '/list/0' },
        { op: 'copy', from: '/list/0', path: '/first' },
        { op: 'test', path: '/first', value: 2 },
      ]),
    ).toEqual({ metadata: { labels: { a: 'y' } }, list: [2, 3], first: 2 });
    const failed = (() => {
      try {
        jsonPatch(doc, [{ op: 'test', path: '/list/0', value: 9 }]);
      } catch (error) {
        return (error as StatusError).toBody();
      }
      return undefined;
    })();
    expect(failed).toMatchObject({
      code: 422,
      reason: 'Invalid',
      details: {
        causes: [
          { reason: 'UnexpectedServerResponse', message: 'testing value /list/0 failed: test failed' },
        ],
      },
    });
    expect(() => jsonPatch(doc, [{ op: 'remove', path: '/nope' }])).toThrow();
  });

  it('prints ages like kubectl', () => {
    expect([5_000, 150_000, 3_600_000 * 5, 86_400_000 * 3].map(humanDuration)).toEqual([
      '5s',
      '2m30s',
      '5h',
      '3d',
    ]);
  });
});

describe('access rules and request paths', () => {
  const attrs = (over: Partial<RequestAttributes>): RequestAttributes => ({
    verb: 'create',
    group: '',
    resource: 'secrets',
    subresource: '',
    namespace: 'data',
    name: '',
    ...over,
  });

  it('matches rules with wildcards, optional group and namespace, and subresources', () => {
    expect(ruleMatches({ verb: 'create', resource: 'secrets' }, attrs({}))).toBe(true);
    expect(ruleMatches({ verb: '*', resource: 'secrets', namespace: 'other' }, attrs({}))).toBe(false);
    expect(
      ruleMatches(
        { verb: 'get', resource: 'pods' },
        attrs({ verb: 'get', resource: 'pods', subresource: 'log' }),
      ),
    ).toBe(false);
    expect(
      ruleMatches(
        { verb: 'get', resource: 'pods/log' },
        attrs({ verb: 'get', resource: 'pods', subresource: 'log' }),
      ),
    ).toBe(true);
    expect(
      ruleMatches(
        { verb: 'patch', resource: 'cronjobs', group: 'batch' },
        attrs({ verb: 'patch', resource: 'cronjobs', group: 'batch' }),
      ),
    ).toBe(true);
    expect(
      ruleMatches(
        { verb: 'patch', resource: 'cronjobs', group: '' },
        attrs({ verb: 'patch', resource: 'cronjobs', group: 'batch' }),
      ),
    ).toBe(false);
  });

  it('lifts denials that an allow rule covers', () => {
    const policy = new AccessPolicy([
      { verb: 'create', resource: 'secrets', namespace: 'data' },
      { verb: 'delete', resource: 'jobs', group: 'batch' },
    ]);
    expect(policy.isAllowed(attrs({}))).toBe(false);
    policy.allow({ verb: '*', resource: 'secrets' });
    expect(policy.isAllowed(attrs({}))).toBe(true);
    expect(
      policy.check(attrs({ verb: 'delete', resource: 'jobs', group: 'batch', name: 'j' }))?.message,
    ).toBe(
      'jobs.batch "j" is forbidden: User "sandbox-user" cannot delete resource "jobs" in API group "batch" in the namespace "data"',
    );
  });

  it('parses API paths like the API server', () => {
    expect(parseResourcePath('/api/v1/namespaces/data/pods/p-1/log')).toEqual({
      group: '',
      version: 'v1',
      namespace: 'data',
      resource: 'pods',
      name: 'p-1',
      subresource: 'log',
    });
    expect(parseResourcePath('/api/v1/namespaces/data')).toEqual({
      group: '',
      version: 'v1',
      namespace: 'data',
      resource: 'namespaces',
      name: 'data',
      subresource: '',
    });
    expect(parseResourcePath('/apis/batch/v1/jobs')).toMatchObject({
      group: 'batch',
      resource: 'jobs',
      namespace: '',
      name: '',
    });
    expect(parseResourcePath('/apis/batch/v1')).toBeUndefined();
  });
});

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

describe('protobuf request bodies', () => {
  // A minimal protobuf writer for the test: varint keys, length-delimited strings and messages.
  const varint = (n: number): number[] => {
    const out: number[] = [];
    let v = n;
    while (v > 0x7f) {
      out.push((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    out.push(v);
    return out;
  };
  const bytes = (field: number, value: Buffer | string): Buffer => {
    const data = Buffer.from(value);
    return Buffer.from([...varint((field << 3) | 2), ...varint(data.length), ...data]);
  };
  const num = (field: number, value: number): Buffer =>
    Buffer.from([...varint(field << 3), ...varint(value)]);
  const msg = (...parts: Buffer[]): Buffer => Buffer.concat(parts);
  const envelope = (apiVersion: string, kind: string, raw: Buffer): Buffer =>
    Buffer.concat([
      Buffer.from([0x6b, 0x38, 0x73, 0x00]),
      bytes(1, msg(bytes(1, apiVersion), bytes(2, kind))),
      bytes(2, raw),
    ]);

  it('decodes a SelfSubjectAccessReview as kubectl auth can-i sends it', () => {
    const meta = msg(bytes(1, ''), bytes(8, msg()));
    const attributes = msg(bytes(1, 'data'), bytes(2, 'create'), bytes(3, ''), bytes(5, 'secrets'));
    const review = msg(bytes(1, meta), bytes(2, bytes(1, attributes)), bytes(3, msg()));
    expect(
      decodeProtobufObject(envelope('authorization.k8s.io/v1', 'SelfSubjectAccessReview', review)),
    ).toEqual({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      metadata: {},
      spec: { resourceAttributes: { namespace: 'data', verb: 'create', resource: 'secrets' } },
    });
  });

  it('decodes a Job, keeping pointer zeros and inlined references, and refuses unknown fields', () => {
    const container = msg(
      bytes(1, 'c'),
      bytes(2, 'img'),
      bytes(3, '/bin/sh'),
      bytes(3, '-c'),
      bytes(7, msg(bytes(1, 'A'), bytes(3, bytes(4, msg(bytes(1, bytes(1, 'creds')), bytes(2, 'K')))))),
    );
    const volume = msg(
      bytes(1, 'scripts'),
      bytes(2, bytes(19, msg(bytes(1, bytes(1, 'cm')), num(3, 0o755)))),
    );
    const podSpec = msg(bytes(1, volume), bytes(2, container), bytes(3, 'Never'), num(11, 0));
    const jobSpec = msg(bytes(6, msg(bytes(1, msg()), bytes(2, podSpec))), num(7, 0));
    const job = msg(
      bytes(1, msg(bytes(1, 'j'), bytes(11, msg(bytes(1, 'app'), bytes(2, 'x'))))),
      bytes(2, jobSpec),
      bytes(3, msg()),
    );
    expect(decodeProtobufObject(envelope('batch/v1', 'Job', job))).toEqual({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'j', labels: { app: 'x' } },
      spec: {
        backoffLimit: 0,
        template: {
          metadata: {},
          spec: {
            restartPolicy: 'Never',
            volumes: [{ name: 'scripts', configMap: { name: 'cm', defaultMode: 0o755 } }],
            containers: [
              {
                name: 'c',
                image: 'img',
                command: ['/bin/sh', '-c'],
                env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 'creds', key: 'K' } } }],
              },
            ],
          },
        },
      },
    });
    expect(() => decodeProtobufObject(envelope('batch/v1', 'Job', msg(bytes(99, 'x'))))).toThrow(
      /field 99 of Job/,
    );
  });
});
