import type { StepOptions } from '../runbook/options.js';
import { type PlannedSection, planValues, renderPlanMarkdown, renderPlanText } from '../runbook/plan.js';
import { SECTIONS } from '../runbook/sections.js';
import type { Plan } from '../runbook/step.js';
import { missingInputs, type Values } from '../runbook/values.js';
import type { RunbookStep } from '../steps/define.js';
import { isAvailable, selectSteps, stepsOf } from '../steps/index.js';
import { type GlobalOptions, maybeStartSandbox, resolveAll } from './context.js';

export interface PlanOptions extends GlobalOptions {
  format?: 'text' | 'markdown';
  writeCanary?: boolean;
}

export function planSections(
  words: readonly string[],
  values: Values,
  options: StepOptions,
): PlannedSection[] {
  const chosen = words.length ? new Set(selectSteps(words).map((step) => step.id)) : undefined;
  return SECTIONS.filter((section) => !chosen || stepsOf(section.id).some((step) => chosen.has(step.id))).map(
    (section) => ({
      section,
      available: isAvailable(section.id),
      steps: stepsOf(section.id)
        .filter((step) => !chosen || chosen.has(step.id))
        .map((step) => {
          const missing = missingInputs(values, step.inputs);
          const shown = planValues(values, step);
          return {
            step,
            plan: safePlan(step, shown, options),
            gate: gateText(step, shown, options, missing),
            missing,
          };
        }),
    }),
  );
}

/** `db-runbook plan [SECTION|STEP…]`: what would be done, with the equivalent commands. Changes nothing. */
export async function planCommand(words: string[], options: PlanOptions): Promise<number> {
  const sandbox = await maybeStartSandbox(options);
  try {
    const resolution = await resolveAll(options, sandbox);
    const planned = planSections(words, resolution.values, {
      'write-canary': options.writeCanary === true,
      namespace: options.namespace,
    });
    const render = options.format === 'markdown' ? renderPlanMarkdown : renderPlanText;
    process.stdout.write(
      render(planned, resolution.values).replaceAll('"$NAMESPACE"', options.namespace) + '\n',
    );
    return 0;
  } finally {
    await sandbox?.stop();
  }
}

/** A step's plan; one that cannot be drawn without its values says which it needs. */
function safePlan(step: RunbookStep, values: Values, options: StepOptions): Plan {
  try {
    return step.plan(values, options);
  } catch {
    return { actions: [{ summary: `(set ${step.inputs.join(', ')} to see the exact commands)` }] };
  }
}

function gateText(
  step: RunbookStep,
  values: Values,
  options: StepOptions,
  missing: string[],
): string | undefined {
  if (!step.gate) return undefined;
  try {
    return step.gate(values, {
      target: { context: '', namespace: '', sandbox: false },
      from: () => undefined,
      options,
    })?.prompt;
  } catch {
    return `confirmation before it runs (needs ${missing.join(', ') || 'earlier steps'})`;
  }
}
