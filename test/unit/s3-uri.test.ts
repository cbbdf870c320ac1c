import { describe, expect, it } from 'vitest';
import { baseName, formatS3Uri, parseS3Uri } from '../../src/runbook/s3-uri.js';

describe('parseS3Uri', () => {
  it('splits s3://bucket/key', () => {
    expect(parseS3Uri('s3://acme-db-backups/postgres/20260102T030405Z.sql.gz')).toEqual({
      ok: true,
      bucket: 'acme-db-backups',
      key: 'postgres/20260102T030405Z.sql.gz',
    });
  });

  it('trims surrounding whitespace from a pasted URI', () => {
    expect(parseS3Uri('  s3://bucket-a/k.sql.gz \n'.trimEnd())).toMatchObject({ ok: true, key: 'k.sql.gz' });
  });

  it('keeps keys with spaces, unicode and question marks as they are', () => {
    expect(parseS3Uri('s3://bucket-a/dir/a b?x=ü.sql.gz')).toMatchObject({
      ok: true,
      key: 'dir/a b?x=ü.sql.gz',
    });
  });

  it.each([
    ['', /empty/],
    ['bucket/key', /not an s3:\/\/ URI/],
    ['https://bucket.s3.amazonaws.com/key', /not s3:\/\//],
    ['S3://bucket/key', /lower case/],
    ['s3://', /no bucket/],
    ['s3:///key', /no bucket/],
    ['s3://bucket-a', /no object key/],
    ['s3://bucket-a/', /no object key/],
    ['s3://bucket-a/postgres/', /is a prefix/],
    ['s3://Bad_Bucket/key', /bucket "Bad_Bucket"/],
    ['s3://ab/key', /3 to 63/],
    ['s3://bucket-a/a/../b', /"\.\."/],
    ['s3://bucket-a/key\nrm -rf', /control character/],
  ])('refuses %j', (input, problem) => {
    const parsed = parseS3Uri(input);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).toMatch(problem);
  });

  it('refuses keys longer than 1024 bytes', () => {
    const parsed = parseS3Uri(`s3://bucket-a/${'é'.repeat(513)}`);
    expect(parsed).toMatchObject({ ok: false, problem: expect.stringMatching(/1024 bytes/) });
  });

  it('round-trips with formatS3Uri and names the file', () => {
    const uri = formatS3Uri('bucket-a', 'postgres/pre-restore/x.sql.gz');
    expect(parseS3Uri(uri)).toMatchObject({
      ok: true,
      bucket: 'bucket-a',
      key: 'postgres/pre-restore/x.sql.gz',
    });
    expect(baseName('postgres/pre-restore/x.sql.gz')).toBe('x.sql.gz');
    expect(baseName('x.sql.gz')).toBe('x.sql.gz');
  });
});
