import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/adapters/types.js';
import {
  assessBackupSettings,
  assessDurations,
  backupPortCause,
  diagnoseAwsCliError,
  diagnoseJob,
  diagnoseS3Probe,
  eventsFor,
  jobRun,
  missingCommand,
  parsePlainRows,
  splitListenAddress,
  type JobEvidence,
} from '../../src/runbook/diagnose.js';
import type { JobSummary } from '../../src/runbook/job-status.js';

function failedJob(exitCode: number, extra: Partial<JobSummary> = {}): JobSummary {
  return {
    name: 'postgres-daily-backup-29000000',
    phase: 'failed',
    finished: true,
    active: 0,
    succeeded: 0,
    failed: 2,
    conditions: [
      {
        type: 'Failed',
        status: 'True',
        reason: 'BackoffLimitExceeded',
        message: 'Job has reached the specified backoff limit',
      },
    ],
    podCount: 2,
    backoffLimit: 1,
    pod: {
      name: 'postgres-daily-backup-29000000-abcde',
      phase: 'Failed',
      exitCode,
      terminatedReason: 'Error',
    },
    ...extra,
  };
}

function evidence(exitCode: number, logTail: string[], extra: Partial<JobEvidence> = {}): JobEvidence {
  return { job: failedJob(exitCode), logTail, bucket: 'acme-db-backups', ...extra };
}

describe('diagnoseJob', () => {
  it('names the missing aws CLI from exit 127 and "command not found", with the manifest fix', () => {
    const d = diagnoseJob(
      evidence(127, ['postgres-backup: dumping app', 'bash: line 1: aws: command not found'], {
        installsAwsCli: false,
      }),
    );
    expect(d.kind).toBe('aws-missing');
    expect(d.cause).toContain('exit 127: bash: line 1: aws: command not found');
    expect(d.fix).toMatch(/does not install awscli: re-apply ops\/db\/backup-jobs\/cronjobs.yaml/);
    expect(d.evidence).toBe('bash: line 1: aws: command not found');
  });

  it("recognises dash's wording and the script's own tool check", () => {
    expect(diagnoseJob(evidence(127, ['/bin/sh: 1: aws: not found'])).kind).toBe('aws-missing');
    const scripted = diagnoseJob(
      evidence(2, [
        'postgres-backup: error: aws is not installed (the Job installs awscli and pigz with apt-get when missing)',
      ]),
    );
    expect(scripted.kind).toBe('aws-missing');
    expect(scripted.fix).toMatch(/^Install awscli in the job image/);
  });

  it('says when apt-get could not install awscli (exit 100)', () => {
    const d = diagnoseJob(
      evidence(100, [
        'installing awscli pigz with apt-get',
        'E: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease  Temporary failure resolving',
      ]),
    );
    expect(d.kind).toBe('apt-get-failed');
    expect(d.cause).toMatch(/^the image lacks awscli and apt-get could not install it \(exit 100: E: Failed/);
  });

  it('names other missing commands and the image to use', () => {
    const d = diagnoseJob(evidence(127, ['bash: line 9: pg_dump: command not found']));
    expect(d.kind).toBe('command-missing');
    expect(d.cause).toMatch(/^pg_dump is not in the job's container/);
    expect(d.fix).toMatch(/postgres:<server major>/);
    expect(diagnoseJob(evidence(127, [])).cause).toMatch(
      /a command the script runs is not in the job's container \(exit 127\)/,
    );
  });

  it('names the IAM action from an aws CLI AccessDenied line', () => {
    const d = diagnoseJob(
      evidence(6, [
        'upload failed: - to s3://acme-db-backups/postgres/.partial/x An error occurred (AccessDenied) when calling the CreateMultipartUpload operation: Access Denied',
      ]),
    );
    expect(d.kind).toBe('s3-access-denied');
    expect(d.iamAction).toBe('s3:PutObject');
    expect(d.cause).toBe(
      "S3 denied CreateMultipartUpload on bucket acme-db-backups: the job's credentials lack s3:PutObject.",
    );
    expect(d.fix).toContain('arn:aws:s3:::acme-db-backups/*');
    const list = diagnoseAwsCliError(
      'An error occurred (AccessDenied) when calling the ListObjectsV2 operation: Access Denied',
      'b',
    );
    expect(list?.iamAction).toBe('s3:ListBucket');
    expect(
      diagnoseAwsCliError(
        'upload failed: - to s3://job-bucket/postgres/x An error occurred (AccessDenied) when calling the PutObject operation: Access Denied',
        'session-bucket',
      )?.cause,
    ).toBe("S3 denied PutObject on bucket job-bucket: the job's credentials lack s3:PutObject.");
    expect(list?.fix).toContain('arn:aws:s3:::b ');
    expect(
      diagnoseAwsCliError(
        'fatal error: An error occurred (403) when calling the HeadObject operation: Forbidden',
      )?.iamAction,
    ).toBe('s3:GetObject');
  });

  it('tells rejected credentials from a missing permission', () => {
    const d = diagnoseJob(
      evidence(4, [
        'An error occurred (InvalidAccessKeyId) when calling the ListObjectsV2 operation: The AWS Access Key Id you provided does not exist in our records.',
      ]),
    );
    expect(d.kind).toBe('s3-credentials');
    expect(d.cause).toMatch(/rejected the job's credentials \(InvalidAccessKeyId\)/);
  });

  it('names the Neo4j backup port and the default listen address', () => {
    const d = diagnoseJob(
      evidence(5, [
        'ERROR [c.n.b.v.b.BackupOutputMonitor] Unable to connect to neo4j.data.svc:6362: Connection refused',
        'neo4j-backup: error: neo4j-admin database backup failed',
      ]),
    );
    expect(d.kind).toBe('neo4j-backup-port');
    expect(d.fix).toContain('127.0.0.1:6362 refuses remote backups');
  });

  it('reads a missing ConfigMap from the events', () => {
    const d = diagnoseJob({
      job: { ...failedJob(0), pod: { name: 'p', phase: 'Pending', waitingReason: 'ContainerCreating' } },
      logTail: [],
      events: [
        {
          type: 'Warning',
          reason: 'FailedMount',
          message:
            'MountVolume.SetUp failed for volume "scripts" : configmap "database-backup-scripts" not found',
          object: 'Pod/p',
        },
      ],
    });
    expect(d.kind).toBe('config-missing');
    expect(d.fix).toBe('Create the Secrets and ConfigMaps the job reads: db-runbook run configure.');
  });

  it('falls back to the Job state (deadline) and splits it into cause and fix', () => {
    const d = diagnoseJob({
      job: failedJob(137, {
        conditions: [{ type: 'Failed', status: 'True', reason: 'DeadlineExceeded' }],
        activeDeadlineSeconds: 14400,
      }),
      logTail: ['postgres-backup: dumping app'],
    });
    expect(d.kind).toBe('job-state');
    expect(d.cause).toBe('the Job ran longer than activeDeadlineSeconds (14400 s).');
    expect(d.fix).toMatch(/^A slow dump or a hang/);
  });
});

describe('helpers', () => {
  it('finds the last "not found" command', () => {
    expect(missingCommand(['x', 'bash: line 2: aws: command not found'])).toEqual({
      command: 'aws',
      line: 'bash: line 2: aws: command not found',
    });
    expect(missingCommand(['all fine'])).toBeUndefined();
  });

  it('S3 probe failures: AccessDenied names the action; bad credentials block the other probes', () => {
    const denied = diagnoseS3Probe('HeadObject', { code: 'AccessDenied', message: 'x' }, 'b');
    expect(denied).toMatchObject({ iamAction: 's3:GetObject', blocksOthers: false });
    expect(denied.fix).toContain('arn:aws:s3:::b/*');
    const rejected = diagnoseS3Probe('ListObjectsV2', { code: 'InvalidAccessKeyId', message: 'x' }, 'b');
    expect(rejected).toMatchObject({
      kind: 's3-credentials',
      iamAction: 's3:ListBucket',
      blocksOthers: true,
    });
    expect(rejected.cause).toContain('ListObjectsV2 (s3:ListBucket) could not be checked');
  });

  it('events of a job and its pods, oldest first', () => {
    const event = (name: string, kind: string, at: string, reason: string): KubeObject => ({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${name}.1` },
      involvedObject: { kind, name },
      type: 'Warning',
      reason,
      message: reason,
      lastTimestamp: at,
      count: 2,
    });
    const all = [
      event('j', 'Job', '2026-01-01T00:00:02Z', 'BackoffLimitExceeded'),
      event('p', 'Pod', '2026-01-01T00:00:01Z', 'Failed'),
      event('other', 'Pod', '2026-01-01T00:00:00Z', 'Nope'),
    ];
    expect(eventsFor(all, new Set(['Job/j', 'Pod/p'])).map((e) => e.reason)).toEqual([
      'Failed',
      'BackoffLimitExceeded',
    ]);
  });
});

describe('Neo4j backup settings', () => {
  it('the default 127.0.0.1:6362 refuses remote backups', () => {
    const a = assessBackupSettings({ 'server.backup.enabled': 'true' }, 6362);
    expect(a).toMatchObject({
      listenAddress: '127.0.0.1:6362',
      defaulted: true,
      loopbackOnly: true,
      port: 6362,
    });
    expect(a.problems[0]).toMatch(/\(the default\): it accepts connections from the server's own host only/);
  });

  it('0.0.0.0 on the expected port is fine; a disabled backup or another port is named', () => {
    expect(
      assessBackupSettings(
        { 'server.backup.enabled': 'true', 'server.backup.listen_address': '0.0.0.0:6362' },
        6362,
      ).problems,
    ).toEqual([]);
    const off = assessBackupSettings(
      { 'server.backup.enabled': 'false', 'server.backup.listen_address': ':6363' },
      6362,
    );
    expect(off.problems.join(' ')).toMatch(/server.backup.enabled=false/);
    expect(off.problems.join(' ')).toMatch(/port 6363, but NEO4J_BACKUP_PORT is 6362/);
    expect(splitListenAddress('[::]:6362')).toEqual({ host: '::', port: 6362 });
  });

  it('parses cypher-shell plain rows', () => {
    expect(parsePlainRows('name, value\n"server.backup.enabled", "true"\n')).toEqual([
      ['server.backup.enabled', 'true'],
    ]);
  });
});

describe('backup durations', () => {
  const job = (name: string, start: string, end: string | undefined, failed = false): KubeObject => ({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name },
    status: {
      startTime: start,
      ...(end && !failed ? { completionTime: end } : {}),
      conditions: end
        ? [{ type: failed ? 'Failed' : 'Complete', status: 'True', lastTransitionTime: end }]
        : [],
    },
  });

  it('reads durations from Job status (complete, failed, running)', () => {
    const now = new Date('2026-01-01T03:00:00Z');
    expect(jobRun(job('a', '2026-01-01T02:00:00Z', '2026-01-01T02:12:30Z'), now)).toMatchObject({
      seconds: 750,
      outcome: 'succeeded',
    });
    expect(jobRun(job('b', '2026-01-01T02:00:00Z', '2026-01-01T02:01:00Z', true), now)).toMatchObject({
      seconds: 60,
      outcome: 'failed',
    });
    expect(jobRun(job('c', '2026-01-01T02:30:00Z', undefined), now)).toMatchObject({
      seconds: 1800,
      outcome: 'running',
    });
  });

  it('flags runs over half the deadline, near it, or longer than the schedule gap', () => {
    const run = (seconds: number) => ({ name: 'x', seconds, outcome: 'succeeded' as const });
    expect(assessDurations([run(600)], { activeDeadlineSeconds: 14400 }).verdict).toBe('ok');
    expect(assessDurations([run(8000)], { activeDeadlineSeconds: 14400 }).verdict).toBe('slow');
    expect(assessDurations([run(12000)], { activeDeadlineSeconds: 14400 }).verdict).toBe('near-deadline');
    expect(assessDurations([run(120)], { thresholdSeconds: 60 }).verdict).toBe('slow');
    expect(assessDurations([run(5000)], { intervalSeconds: 3600 }).detail).toMatch(
      /longer than the time between/,
    );
    expect(assessDurations([], {}).verdict).toBe('no-runs');
  });
});

describe('backupPortCause', () => {
  const loopback = assessBackupSettings({ 'server.backup.enabled': 'true' }, 6362);
  it('reachable from the cluster: no cause', () => {
    expect(
      backupPortCause({
        host: 'neo4j.data.svc',
        port: 6362,
        here: { ok: false, refused: false },
        cluster: { ok: true, refused: false },
      }),
    ).toBeUndefined();
  });

  it('the default loopback listen address, for a remote host', () => {
    expect(
      backupPortCause({
        host: 'neo4j.data.svc',
        port: 6362,
        here: { ok: false, refused: false },
        cluster: { ok: false, refused: true },
        settings: loopback,
      }),
    ).toBe(
      "server.backup.listen_address is 127.0.0.1:6362 (the default): only the server's own host may connect, so the backup pod is refused.",
    );
  });

  it('refused on the listen address itself: nothing listens', () => {
    const cause = backupPortCause({
      host: '127.0.0.1',
      port: 6362,
      here: { ok: false, refused: true },
      cluster: { ok: false, refused: true },
      settings: loopback,
    });
    expect(cause).toBe(
      'nothing listens on 127.0.0.1:6362 (connection refused): the Neo4j server or its backup listener is not running there.',
    );
    expect(backupPortCause({ host: 'h', port: 6362, here: { ok: false, refused: true } })).toMatch(
      /or it is bound to the default 127.0.0.1:6362, which refuses remote backups/,
    );
  });

  it('disabled, another port, dropped packets', () => {
    const evidence = {
      host: 'h',
      port: 6362,
      here: { ok: false, refused: false },
      cluster: { ok: false, refused: false },
    };
    expect(
      backupPortCause({
        ...evidence,
        settings: assessBackupSettings({ 'server.backup.enabled': 'false' }, 6362),
      }),
    ).toMatch(/server.backup.enabled=false/);
    expect(
      backupPortCause({
        ...evidence,
        settings: assessBackupSettings({ 'server.backup.listen_address': '0.0.0.0:6363' }, 6362),
      }),
    ).toMatch(/port 6363, but the jobs connect to h:6362/);
    expect(backupPortCause(evidence)).toMatch(/does not answer from the cluster: packets are dropped/);
  });
});
