import type { SectionInfo } from './sections.js';
import type { Plan, StepDefinition } from './step.js';
import { isSecret, type Values } from './values.js';

export interface PlannedStep {
  step: Pick<StepDefinition, 'id' | 'title' | 'description' | 'inputs' | 'skippable'>;
  plan: Plan;
  gate?: string;
  missing: string[];
}

export interface PlannedSection {
  section: SectionInfo;
  available: boolean;
  steps: PlannedStep[];
}

function inputsLine(values: Values, names: readonly string[]): string {
  return names.map((name) => `${name}=${values.display(name)}`).join(' ');
}

/** Plain text, for `db-runbook plan` on a terminal. */
export function renderPlanText(sections: PlannedSection[], values: Values): string {
  const out: string[] = [];
  for (const { section, available, steps } of sections) {
    out.push(`${section.title}  [${section.id}]`);
    if (!available) {
      out.push('  not available yet', '');
      continue;
    }
    for (const planned of steps) {
      out.push(`  ${planned.step.id}: ${planned.step.title}${planned.step.skippable ? ' (optional)' : ''}`);
      if (planned.step.inputs.length > 0) out.push(`    uses: ${inputsLine(values, planned.step.inputs)}`);
      if (planned.missing.length > 0) out.push(`    missing: ${planned.missing.join(', ')}`);
      if (planned.gate) out.push(`    gate: ${planned.gate}`);
      for (const action of planned.plan.actions) {
        const tag = action.destructive ? ' [destructive]' : action.writes ? ' [writes]' : '';
        out.push(`    - ${action.summary}${tag}`);
        // `$ ` marks where a command starts; the lines after it (a heredoc) are printed as they are,
        // so the whole block pastes into a shell (an indented EOF would not end the heredoc).
        if (action.command) {
          const [first, ...rest] = action.command.split('\n');
          out.push(`        $ ${first ?? ''}`, ...rest);
        }
      }
      for (const note of planned.plan.notes ?? []) out.push(`    note: ${note}`);
    }
    out.push('');
  }
  return out.join('\n');
}

/** Markdown: the runbook document regenerated from the step definitions. */
export function renderPlanMarkdown(sections: PlannedSection[], values: Values): string {
  const out: string[] = ['# Database Backup and Restore Runbook', ''];
  for (const { section, available, steps } of sections) {
    out.push(`## ${section.title}`, '', section.summary, '');
    if (!available) {
      out.push('_Not available yet._', '');
      continue;
    }
    steps.forEach((planned, index) => {
      out.push(
        `${index + 1}. **${planned.step.title}**${planned.step.skippable ? ' (optional)' : ''} — ${planned.step.description}`,
      );
      if (planned.gate) out.push(`   - Gate: ${planned.gate}`);
      for (const action of planned.plan.actions) {
        out.push(`   - ${action.summary}`);
        if (action.command)
          out.push('     ```bash', ...action.command.split('\n').map((l) => `     ${l}`), '     ```');
      }
      for (const note of planned.plan.notes ?? []) out.push(`   - Note: ${note}`);
    });
    out.push('');
  }
  void values;
  return out.join('\n');
}

/** Quotes a word for a POSIX shell when it needs it. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export function shellCommand(words: readonly string[]): string {
  return words.map(shellQuote).join(' ');
}
/**
 * Values as a plan shows them: a value the step uses and nobody set yet reads `<NAME>` (never
 * "undefined"); secrets and the S3 endpoint (empty means AWS itself) stay unset.
 */
export function planValues(values: Values, step: Pick<StepDefinition, 'inputs' | 'optionalInputs'>): Values {
  let out = values;
  for (const name of [...step.inputs, ...(step.optionalInputs ?? [])]) {
    if (values.get(name) !== undefined || isSecret(name) || name === 'AWS_ENDPOINT_URL') continue;
    out = out.with(name, `<${name}>`, 'default');
  }
  return out;
}
