// The one options table (src/runbook/options.ts): it generates the CLI flags of run/resume/plan, the
// TUI's toggle keys, the README's two tables, and checks options and the values file before any work.
import { readFileSync } from 'node:fs';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import {
  flagText,
  OPTIONS,
  optionsFor,
  optionsMarkdown,
  resolveStepOptions,
  settingsMarkdown,
  toggleOption,
  type OptionSpec,
  type StepOptions,
} from '../../src/runbook/options.js';
import { resolveValues } from '../../src/runbook/values.js';
import { KEY_TABLE } from '../../src/screens/key-table.js';
import { CLI } from '../support/cli.js';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

function between(name: string): string {
  const start = README.indexOf(`<!-- ${name}:start -->`);
  const end = README.indexOf(`<!-- ${name}:end -->`);
  expect(start, `README has <!-- ${name}:start -->`).toBeGreaterThan(0);
  return README.slice(start + `<!-- ${name}:start -->`.length, end).trim();
}

describe('the options table', () => {
  it('is the README options table, row for row', () => {
    expect(between('options-table')).toBe(optionsMarkdown());
  });

  it('is the README settings table, row for row', () => {
    expect(between('settings-table')).toBe(settingsMarkdown());
  });

  it('gives run, resume and plan exactly their flags (resume takes --write-canary and --restore-mode too)', async () => {
    for (const command of ['run', 'resume', 'plan'] as const) {
      const help = String((await execa('node', [CLI, command, '--help'])).stdout);
      for (const option of OPTIONS as readonly OptionSpec[]) {
        const expected = option.commands.includes(command);
        expect(help.includes(flagText(option)), `${command} --help and ${flagText(option)}`).toBe(expected);
      }
    }
    const resume = optionsFor('resume').map((option) => option.name);
    expect(resume).toContain('write-canary');
    expect(resume).toContain('restore-mode');
  });

  it('turns each TUI toggle into a key of the key table, in the sections the option names', () => {
    for (const option of OPTIONS as readonly OptionSpec[]) {
      if (!option.tui) continue;
      const binding = KEY_TABLE.find((entry) => entry.command === `toggle:${option.name}`);
      expect(binding?.keys).toEqual([{ name: 'char', text: option.tui.key }]);
      expect(binding?.sections).toEqual(option.tui.sections);
    }
    let options: StepOptions = { 'write-canary': false };
    options = toggleOption(options, 'write-canary');
    expect(options['write-canary']).toBe(true);
    options = toggleOption(options, 'job-timeout');
    expect(options['job-timeout']).toBe('30m');
  });

  it('names every bad option at once, and reads RESTORE_S3_URI from the environment', () => {
    const { options, problems } = resolveStepOptions(
      { jobTimeout: 'banana', incidentTime: '2999-01-01T00:00:00Z', restoreMode: 'cloud', roleMap: ['app'] },
      { RESTORE_S3_URI: 's3://bucket-a/postgres/x.sql.gz' },
      'run',
    );
    expect(problems.map((problem) => problem.name)).toEqual([
      '--incident-time',
      '--job-timeout',
      '--restore-mode',
      '--role-map',
    ]);
    expect(problems.find((p) => p.name === '--job-timeout')?.message).toMatch(/not a duration/);
    expect(problems.find((p) => p.name === '--incident-time')?.message).toMatch(/in the future/);
    expect(options['restore-uri']).toBe('s3://bucket-a/postgres/x.sql.gz');
    expect(resolveStepOptions({ restoreUri: 'http://x' }, {}, 'run').problems[0]?.message).toMatch(/s3:\/\//);
  });
});

describe('the values file', () => {
  it('names an unknown key with the name it was meant to be, and a bad setting, together', () => {
    const { problems, settings } = resolveValues({
      valuesFile: {
        POSTGRES_HSOT: 'db',
        rtoTarget: 'soon',
        rpoTarget: '24h',
        smokeQueries: 'SELECT 1',
        validationQueris: [],
      },
      env: {},
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          name: 'POSTGRES_HSOT',
          message: expect.stringContaining('did you mean POSTGRES_HOST?'),
        }),
        expect.objectContaining({
          name: 'validationQueris',
          message: expect.stringContaining('did you mean validationQueries?'),
        }),
        expect.objectContaining({
          name: 'rtoTarget',
          message: expect.stringContaining('"soon" is not a duration'),
        }),
        expect.objectContaining({ name: 'smokeQueries', message: expect.stringContaining('must be a list') }),
      ]),
    );
    expect(problems).toHaveLength(4);
    expect(settings.rpoTarget).toBe('24h');
  });

  it('refuses the sandbox-only setting in a values file', () => {
    const { problems } = resolveValues({ valuesFile: { childEnv: { A: 'b' } }, env: {} });
    expect(problems[0]?.name).toBe('childEnv');
  });
});
