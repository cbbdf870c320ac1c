// troubleshoot says what S3 answered: only AccessDenied is a missing permission; InternalError (a
// server-side error) or anything else never sends the operator to grant s3:ListBucket.
import { describe, expect, it } from 'vitest';
import { diagnoseS3Probe } from '../../src/runbook/diagnose.js';

describe('S3 probe diagnosis', () => {
  it('calls InternalError a server-side error, not a denied permission, and suggests no grant', () => {
    const diagnosis = diagnoseS3Probe(
      'ListObjectsV2',
      { code: 'InternalError', message: 'We encountered an internal error' },
      'acme',
    );
    expect(diagnosis.kind).toBe('s3-server-error');
    expect(diagnosis.cause).toMatch(/on the S3 side \(InternalError\): not a permission answer/);
    expect(`${diagnosis.cause} ${diagnosis.fix}`).not.toMatch(/[Gg]rant s3:/);
    expect(diagnosis.iamAction).toBeUndefined();
  });

  it('an unknown failure is not a permission either', () => {
    const diagnosis = diagnoseS3Probe('HeadObject', { code: 'BadDigest', message: 'x' }, 'acme');
    expect(diagnosis.kind).toBe('unknown');
    expect(diagnosis.fix).not.toMatch(/[Gg]rant s3:/);
  });

  it('AccessDenied still names the IAM action to grant', () => {
    const diagnosis = diagnoseS3Probe('ListObjectsV2', { code: 'AccessDenied', message: 'x' }, 'acme');
    expect(diagnosis.fix).toMatch(/^Grant s3:ListBucket on/);
  });
});
