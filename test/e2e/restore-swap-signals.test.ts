// postgres-restore.sh interrupted at each phase of its swap, on a real PostgreSQL 15 and s3rver. The signal is
// delivered by the script's own test hook at the named phase (DB_RUNBOOK_TEST_HOOK_PHASE), never by timing.
// Whatever happens, one complete copy survives under a name the script prints: before the swap the target is
// as it was; from the commit on, the target IS the restored database and the previous one is kept by name.
import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprint, startBackupEnv, type BackupEnv } from '../support/backup-jobs-env.js';
import { runScript, SCRIPT_TIMEOUT_MS } from '../support/backup-jobs-run.js';

let env: BackupEnv;
let backupUri: string;
let seeded: Record<string, string>;

/** Databases of the target's family (app, app_restore_…, app_pre_restore_…). */
const family = async () =>
  (
    await env.psql(
      `SELECT coalesce(string_agg(datname, ' ' ORDER BY datname), '') FROM pg_database WHERE datname = 'app' OR datname LIKE 'app\\_%'`,
      'postgres',
    )
  )
    .split(' ')
    .filter(Boolean);

/** Changes one row, so "as it was" and "restored" can be told apart; returns the fingerprint now. */
async function damage(): Promise<Record<string, string>> {
  await env.psql(`UPDATE customers SET name = 'damaged ' || now() WHERE id = 1`);
  const now = await fingerprint(env);
  expect(now).not.toEqual(seeded);
  return now;
}

const restore = (hook: Record<string, string>) =>
  runScript('postgres-restore.sh', {
    env: env.jobEnv({ RESTORE_S3_URI: backupUri, CLEAN_TARGET: 'true', ...hook }),
    detached: true,
  });

beforeAll(async () => {
  env = await startBackupEnv('swap-signals');
  seeded = await fingerprint(env);
  const backup = await runScript('postgres-backup.sh', { env: env.jobEnv() });
  expect(backup.code, backup.stderr).toBe(0);
  backupUri = /^object=(.*)$/m.exec(backup.stdout)![1]!;
}, SCRIPT_TIMEOUT_MS);

afterAll(async () => {
  await env?.stop();
});

interface Case {
  phase: string;
  signal: 'INT' | 'TERM';
  to: 'script' | 'group';
  code: number;
  restored: boolean;
}

const CASES: Case[] = [
  { phase: 'restore', signal: 'INT', to: 'script', code: 130, restored: false },
  { phase: 'restore', signal: 'TERM', to: 'group', code: 143, restored: false },
  { phase: 'swap-before', signal: 'TERM', to: 'script', code: 143, restored: false },
  { phase: 'swap-before', signal: 'INT', to: 'group', code: 130, restored: false },
  { phase: 'swap-during', signal: 'TERM', to: 'script', code: 143, restored: true },
  { phase: 'swap-during', signal: 'TERM', to: 'group', code: 143, restored: true },
  { phase: 'swap-during', signal: 'INT', to: 'script', code: 130, restored: true },
  { phase: 'swap-after', signal: 'INT', to: 'script', code: 130, restored: true },
];

describe('postgres-restore.sh interrupted at each phase of the swap', { timeout: SCRIPT_TIMEOUT_MS }, () => {
  for (const c of CASES) {
    const outcome = c.restored
      ? 'the target IS the restored database and the previous one is kept by name'
      : 'the target is as it was and the new database is dropped';
    it(`SIG${c.signal} to the ${c.to} at ${c.phase}: exit ${c.code}; ${outcome}`, async () => {
      const before = await damage();
      const result = await restore({
        DB_RUNBOOK_TEST_HOOK_PHASE: c.phase,
        DB_RUNBOOK_TEST_HOOK_SIGNAL: c.signal,
        DB_RUNBOOK_TEST_HOOK_TARGET: c.to,
      });
      expect(result.code, result.stderr).toBe(c.code);
      expect(result.stderr).toContain(`restore INTERRUPTED by SIG${c.signal} (exit ${c.code})`);
      expect(result.stderr).not.toContain('FAILED');
      if (c.restored) {
        expect(await fingerprint(env)).toEqual(seeded);
        const previous = /the previous app is kept as (\S+): drop it when satisfied/.exec(result.stderr)?.[1];
        expect(previous, result.stderr).toMatch(/^app_pre_restore_\d{14}$/);
        expect(result.stderr).toContain('AFTER the swap was committed: app IS the restored database');
        expect(result.stderr).toContain(`DROP DATABASE "${previous}" WITH (FORCE);`);
        expect(result.stderr).toContain(`ALTER DATABASE "${previous}" RENAME TO "app"`);
        // the previous database is whole, under the name printed
        expect(await fingerprint(env, previous)).toEqual(before);
        expect(await family()).toEqual(['app', previous]);
        await env.psql(`DROP DATABASE "${previous}"`, 'postgres');
      } else {
        expect(await fingerprint(env)).toEqual(before);
        expect(result.stderr).toMatch(
          /before the swap: app is as it was; the new database app_restore_\d{14} was dropped/,
        );
        expect(await family()).toEqual(['app']);
      }
      expect(await readdir(env.work)).toEqual([]);
    });
  }

  it('SIGKILL in the middle of the swap: the swap completes; the next run names and removes the work directory holding the dump, and names the previous database', async () => {
    const before = await damage();
    const killed = await restore({
      DB_RUNBOOK_TEST_HOOK_PHASE: 'swap-during',
      DB_RUNBOOK_TEST_HOOK_SIGNAL: 'KILL',
    });
    expect(killed.signal ?? killed.code).toBe(killed.signal ? 'SIGKILL' : 137);
    // no handler ran, but the transaction of renames does not stop half-way: the target is the restored one
    const left = await readdir(env.work);
    expect(left).toHaveLength(1);
    const leftDir = `${env.work}/${left[0]}`;
    expect((await readdir(leftDir)).some((name) => name.endsWith('.sql.gz'))).toBe(true);
    const names = await family();
    const previous = names.find((name) => name.startsWith('app_pre_restore_'))!;
    expect(names).toEqual(['app', previous]);
    expect(await fingerprint(env)).toEqual(seeded);
    expect(await fingerprint(env, previous)).toEqual(before);

    const next = await restore({});
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toMatch(
      new RegExp(
        `removed the work directory ${leftDir} \\(\\S+\\) left by an interrupted run \\(pid \\d+, killed without cleanup\\)`,
      ),
    );
    expect(next.stderr).toContain(
      `warning: database ${previous} was left by an interrupted restore of app; drop it when it is not needed: DROP DATABASE "${previous}" WITH (FORCE);`,
    );
    expect(await readdir(env.work)).toEqual([]);
    await env.psql(`DROP DATABASE "${previous}"`, 'postgres');
    expect(await family()).toEqual(['app']);
  });
});
