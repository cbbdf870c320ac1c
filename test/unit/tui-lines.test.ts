// Lines as the TUI draws them: a label and its hint never run together, a wrapped line keeps every
// character, a cut line ends in "…" within the width.
import { describe, expect, it } from 'vitest';
import { choiceLines, choiceState } from '../../src/screens/prompts.js';
import { line, plain, textWidth, truncateLine, wrapLine } from '../../src/screens/text.js';
import { stepListLines } from '../../src/screens/views.js';
import { sectionInfo } from '../../src/runbook/sections.js';

describe('TUI lines', () => {
  it('a backup choice shows its key and its size apart, at 160 columns', () => {
    const state = choiceState('Which PostgreSQL backup to restore?', [
      { label: '2026-11-24T02-00-00.123456Z.sql.gz', value: 'a', hint: '15.4 KiB · 3h ago · sha256 ✓' },
    ]);
    const text = choiceLines(state, 160).map(plain).join('\n');
    expect(text).toContain('2026-11-24T02-00-00.123456Z.sql.gz  15.4 KiB');
    expect(text).not.toMatch(/sql\.gz15/);
  });

  it('a step row keeps its title and its summary apart, and within the width', () => {
    const rows = stepListLines(
      sectionInfo('test-postgres'),
      [
        {
          id: 'x',
          title: 'Run the backup Job now',
          skippable: false,
          status: 'done',
          summary: 'Job postgres-backup-test created',
        },
      ],
      0,
      160,
    ).map(plain);
    expect(rows[1]).toContain('Run the backup Job now  · Job postgres-backup-test created');
    const narrow = stepListLines(
      sectionInfo('test-postgres'),
      [
        {
          id: 'x',
          title: 'Run the backup Job now',
          skippable: false,
          status: 'done',
          summary: 'x'.repeat(200),
        },
      ],
      0,
      80,
    ).map(plain);
    expect(textWidth(narrow[1] ?? '')).toBeLessThanOrEqual(80);
    expect(narrow[1]).toMatch(/…$/);
  });

  it('wraps at spaces without losing a character, and cuts with an ellipsis', () => {
    const text =
      'written: /tmp/a-very-long-path/session-dr-report.md, /tmp/a-very-long-path/session-dr-report.html';
    const wrapped = wrapLine(line(text), 40);
    expect(wrapped.map(plain).join('')).toBe(text);
    for (const row of wrapped) expect(textWidth(plain(row))).toBeLessThanOrEqual(40);
    expect(plain(truncateLine(line(text), 20))).toHaveLength(20);
  });
});
