import { describe, expect, it } from 'vitest';
import { resolveValues, validateValue } from '../../src/runbook/values.js';

const HOSTILE = {
  empty: '',
  huge: 'a'.repeat(10_240),
  newline: 'abc\ndef',
  shell: '$(rm -rf /); `id`',
  unicode: 'bücket-ü',
  traversal: '../etc',
};

describe('value validation rejects hostile input with a message that says what is wrong', () => {
  const table: [string, keyof typeof HOSTILE][] = [
    ['S3_BUCKET', 'empty'],
    ['S3_BUCKET', 'huge'],
    ['S3_BUCKET', 'newline'],
    ['S3_BUCKET', 'shell'],
    ['S3_BUCKET', 'unicode'],
    ['S3_BUCKET', 'traversal'],
    ['POSTGRES_HOST', 'empty'],
    ['POSTGRES_HOST', 'huge'],
    ['POSTGRES_HOST', 'newline'],
    ['POSTGRES_HOST', 'shell'],
    ['POSTGRES_HOST', 'traversal'],
    ['POSTGRES_PORT', 'shell'],
    ['POSTGRES_DATABASE', 'shell'],
    ['POSTGRES_DATABASE', 'traversal'],
    ['POSTGRES_DATABASE', 'unicode'],
    ['POSTGRES_USER', 'shell'],
    ['POSTGRES_S3_PREFIX', 'traversal'],
    ['POSTGRES_S3_PREFIX', 'shell'],
    ['POSTGRES_S3_PREFIX', 'newline'],
    ['AWS_ENDPOINT_URL', 'shell'],
    ['AWS_DEFAULT_REGION', 'unicode'],
    ['POSTGRES_PASSWORD', 'newline'],
    ['POSTGRES_PASSWORD', 'huge'],
    ['AWS_ACCESS_KEY_ID', 'shell'],
  ];
  it.each(table)('%s rejects %s input', (name, kind) => {
    const message = validateValue(name, HOSTILE[kind]);
    expect(message).toBeTypeOf('string');
    expect(message!.length).toBeGreaterThan(5);
    // A rejected value is never echoed back whole (it could be a secret or 10 kB of noise).
    if (HOSTILE[kind].length > 8) expect(message).not.toContain(HOSTILE[kind]);
  });

  it.each([
    ['S3_BUCKET', 'acme-db-backups'],
    ['S3_BUCKET', 'acme.backups.eu'],
    ['POSTGRES_HOST', 'postgres.data.svc.cluster.local'],
    ['POSTGRES_HOST', '10.0.0.12'],
    ['POSTGRES_HOST', '::1'],
    ['POSTGRES_PORT', '5432'],
    ['POSTGRES_PORT', '65535'],
    ['POSTGRES_DATABASE', 'app_prod'],
    ['POSTGRES_S3_PREFIX', 'postgres/'],
    ['POSTGRES_S3_PREFIX', 'prod/postgres/'],
    ['AWS_ENDPOINT_URL', 'https://s3.eu-central-1.example.com'],
    ['AWS_ENDPOINT_URL', ''],
    ['AWS_DEFAULT_REGION', 'eu-central-1'],
    ['POSTGRES_PASSWORD', 'p@ss w0rd $(not-run) ü'],
  ])('%s accepts %s', (name, value) => {
    expect(validateValue(name, value)).toBeUndefined();
  });

  it.each([
    ['POSTGRES_PORT', '0'],
    ['POSTGRES_PORT', '65536'],
    ['POSTGRES_PORT', '54 32'],
    ['POSTGRES_PORT', '-1'],
    ['S3_BUCKET', 'Upper-Case'],
    ['S3_BUCKET', '192.168.1.1'],
    ['S3_BUCKET', 'ab'],
    ['POSTGRES_S3_PREFIX', '/postgres/'],
    ['POSTGRES_S3_PREFIX', 'postgres'],
    ['AWS_ENDPOINT_URL', 'ftp://example.com'],
    ['AWS_ENDPOINT_URL', 'https://key:secret@example.com'],
    ['POSTGRES_HOST', '999.1.1.1'],
  ])('%s rejects %s', (name, value) => {
    expect(validateValue(name, value)).toBeTypeOf('string');
  });
});

describe('value sources', () => {
  it('the environment overrides the values file, which overrides defaults', () => {
    const { values, problems } = resolveValues({
      valuesFile: { POSTGRES_PORT: 6543, S3_BUCKET: 'from-file' },
      env: { S3_BUCKET: 'from-env' },
    });
    expect(problems).toEqual([]);
    expect(values.get('S3_BUCKET')).toBe('from-env');
    expect(values.source('S3_BUCKET')).toBe('environment');
    expect(values.get('POSTGRES_PORT')).toBe('6543');
    expect(values.source('POSTGRES_PORT')).toBe('values-file');
    expect(values.get('NEO4J_BACKUP_PORT')).toBe('6362');
    expect(values.source('NEO4J_BACKUP_PORT')).toBe('default');
  });

  it('refuses a secret in the values file and says to use the environment', () => {
    const { problems, values } = resolveValues({ valuesFile: { POSTGRES_PASSWORD: 'hunter2' }, env: {} });
    expect(values.get('POSTGRES_PASSWORD')).toBeUndefined();
    expect(problems).toHaveLength(1);
    expect(problems[0]?.message).toMatch(/environment/);
    expect(problems[0]?.message).not.toContain('hunter2');
  });

  it('keeps non-value settings (rpoTarget, …) for later sections', () => {
    const { settings } = resolveValues({ valuesFile: { rpoTarget: '24h' }, env: {} });
    expect(settings).toEqual({ rpoTarget: '24h' });
  });

  it('reports a bad value from the environment with its source', () => {
    const { problems } = resolveValues({ env: { POSTGRES_PORT: '99999' } });
    expect(problems[0]).toMatchObject({ name: 'POSTGRES_PORT' });
    expect(problems[0]?.message).toMatch(/from environment/);
  });

  it('masks secrets when displayed', () => {
    const { values } = resolveValues({
      env: { AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG', S3_BUCKET: 'acme-backups' },
    });
    expect(values.display('AWS_SECRET_ACCESS_KEY')).not.toContain('wJalr');
    expect(values.display('S3_BUCKET')).toBe('acme-backups');
    expect(values.secretValues()).toEqual(['wJalrXUtnFEMI/K7MDENG']);
  });
});
