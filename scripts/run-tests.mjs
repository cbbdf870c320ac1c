// `npm test`: runs vitest (extra arguments pass through), prints one plain line "N passed, N failed", and
// checks that the run left the machine as it found it: no new entries in the system temp folder and no
// process of the run still alive. Anything left behind is named and fails the run.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const tempEntries = () => new Set(readdirSync(tmpdir()));

/** pid → { sid, ppid, command } for every live process. */
function processes() {
  const table = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z') continue;
      const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      table.set(Number(entry), {
        ppid: Number(fields[1]),
        sid: Number(fields[4]),
        command: command.slice(0, 140),
      });
    } catch {
      // exited meanwhile
    }
  }
  return table;
}

const entriesBefore = tempEntries();
const processesBefore = processes();
// The report goes to a folder of our own, outside the checked temp folder's new entries.
const reportDir = mkdtempSync(join(tmpdir(), 'db-runbook-test-report-'));
entriesBefore.add(reportDir.split('/').pop());
const reportFile = join(reportDir, 'vitest.json');

// vitest leads its own session: every process it starts, and theirs, can be found by session id.
const vitest = spawn(
  process.execPath,
  [
    join(root, 'node_modules', 'vitest', 'vitest.mjs'),
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${reportFile}`,
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit', detached: true, cwd: root },
);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => vitest.kill(signal));
const status = await new Promise((resolve) =>
  vitest.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))),
);

const summary = spawn(process.execPath, [join(root, 'scripts', 'test-summary.mjs'), reportFile], {
  stdio: 'inherit',
});
await new Promise((resolve) => summary.on('exit', resolve));
rmSync(reportDir, { recursive: true, force: true });

let leftEntries = [];
let leftProcesses = [];
// Servers stopped by the last suite may take a moment to exit.
for (let attempt = 0; attempt < 20; attempt++) {
  leftEntries = [...tempEntries()].filter((name) => !entriesBefore.has(name));
  leftProcesses = [...processes()]
    .filter(([pid, info]) => !processesBefore.has(pid) && (info.sid === vitest.pid || info.ppid === 1))
    .map(([pid, info]) => `${pid} ${info.command}`);
  if (leftEntries.length === 0 && leftProcesses.length === 0) break;
  await new Promise((resolve) => setTimeout(resolve, 250));
}
if (leftEntries.length || leftProcesses.length) {
  console.error('\nThe test run left things behind:');
  for (const name of leftEntries) console.error(`  left in ${tmpdir()}: ${name}`);
  for (const line of leftProcesses) console.error(`  still running: ${line}`);
  process.exit(status || 1);
}
process.exit(status);
