// The backup scripts pass shellcheck (Debian's shellcheck package; .ci/run installs it when missing) with no
// findings at any severity, and the container commands of cronjobs.yaml do too.
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { BACKUP_JOBS_DIR, SCRIPTS_DIR, basePath, run, tempDir } from '../support/backup-jobs-run.js';

let dir: string;

beforeAll(async () => {
  dir = await tempDir('backup-jobs-shellcheck');
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('shellcheck', () => {
  it('finds nothing in ops/db/backup-jobs/scripts/*.sh', async () => {
    const scripts = (await readdir(SCRIPTS_DIR)).filter((f) => f.endsWith('.sh')).sort();
    expect(scripts).toEqual([
      'lib-common.sh',
      'lib-verify.sh',
      'neo4j-backup.sh',
      'neo4j-restore.sh',
      'neo4j-verify.sh',
      'postgres-backup.sh',
      'postgres-restore.sh',
      'postgres-verify.sh',
    ]);
    const result = await run('shellcheck', ['--severity=style', '--shell=bash', ...scripts], {
      env: { PATH: basePath() },
      cwd: SCRIPTS_DIR,
    });
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('');
    expect(result.code).toBe(0);
  });

  it('finds nothing in the container commands of cronjobs.yaml', async () => {
    const docs = parseAllDocuments(await readFile(join(BACKUP_JOBS_DIR, 'cronjobs.yaml'), 'utf8')).map(
      (d) =>
        d.toJS() as {
          metadata: { name: string };
          spec: { jobTemplate: { spec: { template: { spec: { containers: { command: string[] }[] } } } } };
        },
    );
    for (const doc of docs) {
      const command = doc.spec.jobTemplate.spec.template.spec.containers[0]!.command;
      const file = join(dir, `${doc.metadata.name}.sh`);
      await writeFile(file, `#!/bin/bash\n${command[2]}`);
      const result = await run('shellcheck', ['--severity=style', file], { env: { PATH: basePath() } });
      expect(result.stdout, doc.metadata.name).toBe('');
      expect(result.code).toBe(0);
    }
  });
});
