import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/adapters/types.js';
import {
  describeCondition,
  formatElapsed,
  likelyCause,
  statusLine,
  summarizeJob,
} from '../../src/runbook/job-status.js';

function job(
  status: Record<string, unknown>,
  spec: Record<string, unknown> = { backoffLimit: 1 },
): KubeObject {
  return { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'postgres-backup-test' }, spec, status };
}

function pod(name: string, created: string, status: Record<string, unknown>): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, creationTimestamp: created }, status };
}

const running = pod('postgres-backup-test-abcde', '2026-01-24T02:00:01Z', {
  phase: 'Running',
  containerStatuses: [{ name: 'backup', state: { running: { startedAt: '2026-01-24T02:00:02Z' } } }],
});

const failedPod = (name: string, created: string, exitCode: number, reason = 'Error') =>
  pod(name, created, {
    phase: 'Failed',
    containerStatuses: [{ name: 'backup', state: { terminated: { exitCode, reason } } }],
  });

describe('summarizeJob', () => {
  it('a Job with a running pod is running', () => {
    const summary = summarizeJob(job({ active: 1, startTime: '2026-01-24T02:00:00Z' }), [running]);
    expect(summary).toMatchObject({ phase: 'running', finished: false, active: 1 });
    expect(summary.pod).toMatchObject({ name: 'postgres-backup-test-abcde', phase: 'Running' });
    expect(statusLine(summary, 42_000)).toBe('pod Running · 42 s');
  });

  it('a Job whose pod waits for its container says why', () => {
    const waiting = pod('p', '2026-01-24T02:00:01Z', {
      phase: 'Pending',
      containerStatuses: [{ name: 'backup', state: { waiting: { reason: 'ContainerCreating' } } }],
    });
    const summary = summarizeJob(job({ active: 1 }), [waiting]);
    expect(summary.phase).toBe('pending');
    expect(statusLine(summary, 3_000)).toBe('pod Pending (ContainerCreating) · 3 s');
  });

  it('a Job with no pod yet is pending', () => {
    expect(statusLine(summarizeJob(job({})), 1_000)).toBe('waiting for a pod · 1 s');
  });

  it('Complete=True is succeeded and finished', () => {
    const done = pod('p', '2026-01-24T02:00:01Z', {
      phase: 'Succeeded',
      containerStatuses: [{ name: 'backup', state: { terminated: { exitCode: 0, reason: 'Completed' } } }],
    });
    const summary = summarizeJob(
      job({
        succeeded: 1,
        completionTime: '2026-01-24T02:01:00Z',
        conditions: [
          { type: 'SuccessCriteriaMet', status: 'True' },
          { type: 'Complete', status: 'True' },
        ],
      }),
      [done],
    );
    expect(summary).toMatchObject({ phase: 'succeeded', finished: true, succeeded: 1 });
    expect(summary.pod?.exitCode).toBe(0);
  });

  it('Failed=True is failed; the newest pod gives the exit code', () => {
    const summary = summarizeJob(
      job({
        failed: 2,
        conditions: [
          { type: 'FailureTarget', status: 'True', reason: 'BackoffLimitExceeded' },
          {
            type: 'Failed',
            status: 'True',
            reason: 'BackoffLimitExceeded',
            message: 'Job has reached the specified backoff limit',
          },
        ],
      }),
      [failedPod('first', '2026-01-24T02:00:01Z', 1), failedPod('second', '2026-01-24T02:00:20Z', 2)],
    );
    expect(summary).toMatchObject({ phase: 'failed', finished: true, failed: 2 });
    expect(summary.pod).toMatchObject({ name: 'second', exitCode: 2, terminatedReason: 'Error' });
    expect(describeCondition(summary.conditions[1]!)).toBe(
      'Failed=True (BackoffLimitExceeded: Job has reached the specified backoff limit)',
    );
  });

  it('takes Date timestamps as @kubernetes/client-node hands them out', () => {
    const older = {
      ...failedPod('first', '', 1),
      metadata: { name: 'first', creationTimestamp: new Date('2026-01-24T02:00:01Z') },
    };
    const newer = {
      ...failedPod('second', '', 2),
      metadata: { name: 'second', creationTimestamp: new Date('2026-01-24T02:00:20Z') },
    };
    const summary = summarizeJob(job({ failed: 2, startTime: new Date('2026-01-24T02:00:00Z') }), [
      newer,
      older,
    ] as never);
    expect(summary.pod).toMatchObject({ name: 'second', createdAt: '2026-01-24T02:00:20.000Z' });
    expect(summary.startTime).toBe('2026-01-24T02:00:00.000Z');
  });

  it('a retry in progress shows the attempt', () => {
    const summary = summarizeJob(job({ active: 1, failed: 1 }), [
      failedPod('first', '2026-01-24T02:00:01Z', 1),
      pod('second', '2026-01-24T02:00:20Z', { phase: 'Running' }),
    ]);
    expect(statusLine(summary, 65_000)).toBe('pod Running · attempt 2 · 1 min 05 s');
  });
});

describe('likelyCause', () => {
  const failedWith = (exitCode: number, reason = 'Error', conditionReason = 'BackoffLimitExceeded') =>
    summarizeJob(
      job({ failed: 2, conditions: [{ type: 'Failed', status: 'True', reason: conditionReason }] }),
      [failedPod('p', '2026-01-24T02:00:01Z', exitCode, reason)],
    );

  it('names a wrong PostgreSQL password from the log', () => {
    expect(
      likelyCause(failedWith(1), [
        'pg_dump: error: connection to server at "127.0.0.1", port 5432 failed: FATAL:  password authentication failed for user "app"',
      ]),
    ).toMatch(/refused the password.*postgres-backup-credentials/);
  });

  it('names S3 credential and bucket problems', () => {
    expect(
      likelyCause(failedWith(1), ['An error occurred (InvalidAccessKeyId) when calling the PutObject']),
    ).toMatch(/access key/);
    expect(likelyCause(failedWith(1), ['An error occurred (NoSuchBucket) when calling'])).toMatch(/bucket/);
  });

  it('names a deadline, an OOM kill, an image pull and a missing Secret', () => {
    expect(likelyCause(failedWith(1, 'Error', 'DeadlineExceeded'))).toMatch(/activeDeadlineSeconds/);
    expect(likelyCause(failedWith(137, 'OOMKilled'))).toMatch(/memory/);
    const pulling = summarizeJob(job({ active: 1 }), [
      pod('p', 't', {
        phase: 'Pending',
        containerStatuses: [{ state: { waiting: { reason: 'ImagePullBackOff' } } }],
      }),
    ]);
    expect(likelyCause(pulling)).toMatch(/image cannot be pulled/);
    const config = summarizeJob(job({ active: 1 }), [
      pod('p', 't', {
        phase: 'Pending',
        containerStatuses: [
          {
            state: {
              waiting: {
                reason: 'CreateContainerConfigError',
                message: 'secret "postgres-backup-credentials" not found',
              },
            },
          },
        ],
      }),
    ]);
    expect(likelyCause(config)).toMatch(/postgres-backup-credentials.*configure/);
  });

  it('falls back to the exit code and the log tail', () => {
    expect(likelyCause(failedWith(3), ['something odd'])).toBe(
      'the script exited with code 3 on every attempt (backoffLimit 1): read the log tail',
    );
    expect(likelyCause(failedWith(127), ['x'])).toMatch(/not found in the image/);
  });
});

describe('formatElapsed', () => {
  it('reads like a clock for people', () => {
    expect(formatElapsed(0)).toBe('0 s');
    expect(formatElapsed(59_999)).toBe('59 s');
    expect(formatElapsed(185_000)).toBe('3 min 05 s');
    expect(formatElapsed(3_720_000)).toBe('1 h 02 min');
  });
});
