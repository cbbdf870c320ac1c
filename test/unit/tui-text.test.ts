// Inside the TUI nobody is at a shell prompt: the steps' prose names the TUI's key or place instead
// of db-runbook's flags and commands. Shell commands (kubectl, aws) are left for copying.
import { describe, expect, it } from 'vitest';
import { CLI_WORDS, tuiText } from '../../src/screens/tui-text.js';

const EXAMPLES: [string, string][] = [
  [
    'gate refused: Apply? → Run again with --yes to accept.',
    'Run the step again (Enter) and answer y at the gate.',
  ],
  ['not run (it writes); use --write-canary', 'not run (it writes); press w (write canary) and run it again'],
  [
    'write canary skipped (it writes; enable with --write-canary, or w in the TUI)',
    'press w (write canary) and run it again',
  ],
  ['To proceed, confirm with the exact text "app" (--confirm).', '(typed at the gate)'],
  ['record the incident as declared now (or pick a time: --incident-time ISO)', 'the incident time list'],
  [
    'Run db-runbook run deploy (it applies ops/db/backup-jobs/cronjobs.yaml).',
    'Open "Deploy CronJobs" in the checklist (it applies',
  ],
  ['run db-runbook run troubleshoot', 'open "Troubleshoot" in the checklist'],
  [
    'Wait longer (--job-timeout 30m), or inspect: kubectl describe job x -n data',
    'Wait longer (t (Job timeout)), or inspect: kubectl describe job x -n data',
  ],
  ['the s3:// URI given with --restore-uri / RESTORE_S3_URI', 'RESTORE_S3_URI or the backup list'],
  ['Set X in the environment or the --values file.', 'or the values file'],
];

describe('TUI prose', () => {
  it.each(EXAMPLES)('%s', (cli, tui) => {
    const shown = tuiText(cli);
    expect(shown).toContain(tui);
    expect(shown).not.toMatch(CLI_WORDS);
  });
});
