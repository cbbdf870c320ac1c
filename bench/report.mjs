// Exports the DR report of a generated 100k-event journal as Markdown and as JSON, each in a fresh
// process, and prints time and peak RSS. Goal: < 2 s and < 200 MB each. Needs `npm run build` first.
//   node bench/report.mjs [EVENTS]
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const GOAL_MS = 2000;
const GOAL_MB = 200;

if (process.argv[2] === '--export') {
  await exportOnce(process.argv[3], process.argv[4], process.argv[5]);
} else {
  // --quick (from npm run bench -- report --quick): a tenth of the events
  const count = process.argv.slice(2).find((arg) => /^\d+$/.test(arg));
  main(Number(count ?? (process.argv.includes('--quick') ? 10_000 : 100_000)));
}

/** Child: one `report` export, then its figures as one JSON line. */
async function exportOnce(sessionDir, format, output) {
  const { reportCommand } = await import('../dist/commands/report.js');
  const started = performance.now();
  const code = await reportCommand({
    sessionDir,
    format,
    output,
    secrets: ['bench-secret-value', 'AKIABENCH0EXAMPLE00'],
    settings: { rpoTarget: '24h', rtoTarget: '4h' },
    notes: 'Generated journal for the report benchmark.',
  });
  const ms = performance.now() - started;
  const maxRssMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`${JSON.stringify({ code, ms, maxRssMb })}\n`);
}

function main(count) {
  const work = mkdtempSync(join(tmpdir(), 'db-runbook-bench-report-'));
  try {
    const sessionDir = join(work, 'sessions');
    const id = '20260115T100000Z-bench';
    const generated = performance.now();
    const path = generateJournal(sessionDir, id, count);
    const size = statSync(path).size;
    console.log(
      `journal: ${count} events, ${(size / 1024 / 1024).toFixed(1)} MB, generated in ${Math.round(performance.now() - generated)} ms`,
    );
    let failed = false;
    for (const format of ['markdown', 'json']) {
      const output = join(work, `report.${format === 'json' ? 'json' : 'md'}`);
      const child = spawnSync(
        process.execPath,
        [new URL(import.meta.url).pathname, '--export', sessionDir, format, output],
        {
          encoding: 'utf8',
        },
      );
      if (child.status !== 0) {
        console.log(`${format}: the export process failed\n${child.stderr}`);
        failed = true;
        continue;
      }
      const { code, ms, maxRssMb } = JSON.parse(child.stdout.trim().split('\n').at(-1));
      const ok = code === 0 && ms < GOAL_MS && maxRssMb < GOAL_MB;
      if (!ok) failed = true;
      console.log(
        `${format.padEnd(8)} ${String(Math.round(ms)).padStart(5)} ms  peak RSS ${maxRssMb.toFixed(0).padStart(4)} MB  ` +
          `output ${(statSync(output).size / 1024 / 1024).toFixed(1)} MB  exit ${code}  ${ok ? 'ok' : `over the goal (< ${GOAL_MS} ms, < ${GOAL_MB} MB)`}`,
      );
    }
    process.exitCode = failed ? 1 : 0;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** A drill-shaped journal: sections of steps, each with state changes, API calls, commands, logs, checks and a result. */
function generateJournal(dir, id, count) {
  spawnSync('mkdir', ['-p', dir]);
  const path = join(dir, `${id}.jsonl`);
  const fd = openSync(path, 'w', 0o600);
  const start = Date.parse('2026-01-15T10:00:00Z');
  const sections = [
    'configure',
    'deploy',
    'test-postgres',
    'restore-postgres',
    'restore-neo4j',
    'dr-validation',
  ];
  let seq = 0;
  let buffer = '';
  const emit = (body) => {
    seq++;
    const ts = new Date(start + seq * 250).toISOString();
    buffer += `${JSON.stringify({ ...body, ts, seq, session: id })}\n`;
    if (buffer.length > 1 << 20) {
      writeSync(fd, buffer);
      buffer = '';
    }
  };
  const target = {
    context: 'bench',
    namespace: 'data',
    s3Endpoint: 'http://127.0.0.1:9000',
    bucket: 'bench',
    sandbox: false,
  };
  emit({
    type: 'session-start',
    version: 1,
    tool: 'db-runbook',
    toolVersion: '0.1.0',
    operator: 'bench',
    argv: [],
    target,
    mode: 'run',
  });
  emit({
    type: 'mark',
    name: 'incident-declared',
    at: new Date(start).toISOString(),
    data: { at: '2026-01-15T09:40:00Z' },
  });
  emit({
    type: 'mark',
    step: 'restore-postgres.select-backup',
    name: 'recovery-point',
    at: new Date(start).toISOString(),
    data: {
      at: '2026-01-15T02:00:05Z',
      uri: 's3://bench/postgres/2026-01-15T020005Z.sql.gz',
      size: 123456789,
      sha256: 'ab'.repeat(32),
      verified: true,
    },
  });
  let n = 0;
  while (seq < count - 3) {
    const section = sections[n % sections.length];
    const step = `${section}.step-${n}`;
    emit({ type: 'step-state', step, section, from: 'pending', to: 'ready' });
    emit({ type: 'step-state', step, section, from: 'ready', to: 'running' });
    for (let i = 0; i < 4 && seq < count - 3; i++) {
      emit({
        type: 'api',
        step,
        service: 'kubernetes',
        method: 'GET',
        path: `/apis/batch/v1/namespaces/data/jobs/job-${n}-${i}`,
        object: `job-${n}-${i}`,
        status: 200,
        ms: 12,
      });
      emit({
        type: 'command',
        step,
        command: `psql -X -h db.bench -U bench -c "SELECT ${i}" # bench-secret-value`,
        exitCode: 0,
        ms: 40,
      });
      emit({ type: 'log', step, line: `progress ${i}: ${'.'.repeat(60)}` });
    }
    emit({ type: 'step-state', step, section, from: 'running', to: 'verifying' });
    emit({
      type: 'check',
      step,
      id: 'ok',
      label: `step ${n} verified`,
      status: n % 17 === 0 ? 'warn' : 'ok',
      detail: 'fine',
    });
    emit({ type: 'step-state', step, section, from: 'verifying', to: n % 23 === 0 ? 'failed' : 'done' });
    emit({
      type: 'result',
      step,
      status: n % 23 === 0 ? 'failed' : 'done',
      summary: `step ${n} finished`,
      data:
        section === 'dr-validation'
          ? { validation: [{ query: 'SELECT 1', ok: true, detail: '1 row' }] }
          : undefined,
    });
    n++;
  }
  emit({ type: 'mark', name: 'validated', at: new Date(start + seq * 250).toISOString() });
  emit({ type: 'session-end', outcome: 'done', exitCode: 0 });
  writeSync(fd, buffer);
  closeSync(fd);
  return path;
}
