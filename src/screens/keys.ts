import type { Key } from 'ink';

/** Named key bindings: one place to read and change them; the help overlay lists these. */
export const KEY_HELP: readonly { keys: string; action: string }[] = [
  { keys: '↑/↓ or k/j', action: 'move' },
  { keys: 'Enter', action: 'open a section / run the selected step' },
  { keys: 'r', action: 'the DR report of this session: RTO/RPO, deviations, notes (n), export (x)' },
  { keys: 'a', action: 'run every step of the section, in order' },
  { keys: 's', action: 'skip the selected step (optional steps only)' },
  { keys: 'e', action: 'deploy: edit the backup schedules (cron, UTC)' },
  { keys: 'w', action: 'prerequisites: toggle the S3 write canary (it writes)' },
  {
    keys: 'Esc',
    action: 'back / cancel; while a step waits for a Job: stop waiting (the Job keeps running)',
  },
  { keys: '?', action: 'this help' },
  { keys: 'q, Ctrl-C', action: 'quit (a running step is interrupted first)' },
];

export const isUp = (input: string, key: Key) => key.upArrow || input === 'k';
export const isDown = (input: string, key: Key) => key.downArrow || input === 'j';
export const isQuit = (input: string, key: Key) => input === 'q' || (key.ctrl && input === 'c');
export const isHelp = (input: string) => input === '?';
export const isBack = (_input: string, key: Key) => key.escape;
