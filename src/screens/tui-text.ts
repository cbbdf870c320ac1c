/**
 * The steps' prose is written once for both the command line and the TUI ("run with --write-canary",
 * "db-runbook run deploy"). In the TUI nobody is at a shell prompt: these phrases become the TUI's own
 * key or place ("press w (write canary) and run it again", 'open "Deploy CronJobs"'). Shell commands
 * (kubectl, aws, psql) are left alone: they are for copying. Pure.
 */
import { SECTIONS } from '../runbook/sections.js';

function sectionTitle(word: string): string | undefined {
  const section = SECTIONS.find((info) => info.id === word || word.startsWith(`${info.id}.`));
  if (!section) return undefined;
  return word.includes('.') ? `"${section.title}" (step ${word})` : `"${section.title}"`;
}

const REPLACEMENTS: readonly [RegExp, string | ((...groups: string[]) => string)][] = [
  // "… or w in the TUI": the key is said on its own below.
  [/,? or w in the TUI|\s*\(w in the TUI\)/g, ''],
  [/only with --write-canary/g, 'only with w (write canary) on'],
  [
    /([Rr]un |[Uu]se |[Ee]nable with |[Rr]un with )?--write-canary\b/g,
    (_match, lead?: string) =>
      `${lead && /^[RUE]/.test(lead) ? 'P' : 'p'}ress w (write canary) and run it again`,
  ],
  [/--job-timeout(?: \d+[a-z]+)?/g, 't (Job timeout)'],
  [/--incident-time(?: ISO)?/g, 'the incident time list'],
  [/--restore-uri (?:\/|or) RESTORE_S3_URI/g, 'RESTORE_S3_URI or the backup list'],
  [/--restore-uri/g, 'the backup list'],
  [/--restore-mode/g, 'the "Where should postgres-restore.sh run?" list'],
  [/[Rr]un again with --yes to accept\.?/g, 'Run the step again (Enter) and answer y at the gate.'],
  [/\(--confirm\)/g, '(typed at the gate)'],
  [/--confirm/g, 'the phrase typed at the gate'],
  [/--yes/g, 'y at the gate'],
  [/(the )?--values file/g, 'the values file'],
  [
    /\b([Rr]un )?db-runbook run ([a-z0-9][a-z0-9.-]*[a-z0-9])/g,
    (match, lead: string | undefined, word: string) => {
      const where = sectionTitle(word);
      if (!where) return match;
      return `${lead && lead.startsWith('R') ? 'O' : 'o'}pen ${where} in the checklist`;
    },
  ],
  [/ and db-runbook report --export/g, ''],
  [/db-runbook report(?: <session>)? --export/g, 'x in the report screen (r)'],
  [/db-runbook report(?: \S+)?/g, 'the report screen (r)'],
  [/db-runbook sessions/g, 'the list of sessions (outside the TUI)'],
  [/\(?see db-runbook plan\)?/g, '(see "Will do")'],
  [/db-runbook plan/g, 'the "Will do" list'],
];

/** A step's prose as the TUI shows it: no db-runbook command lines or flags. */
export function tuiText(text: string): string {
  let out = text;
  for (const [pattern, replacement] of REPLACEMENTS)
    out = out.replace(pattern, replacement as (substring: string, ...args: string[]) => string);
  return out;
}

/** db-runbook's own command-line words, which the TUI must not show. */
export const CLI_WORDS =
  /--(?:yes|confirm|write-canary|restore-uri|incident-time|job-timeout|restore-mode|values)\b|db-runbook (?:run|plan|resume|report|sessions)\b/;
