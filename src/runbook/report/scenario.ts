import type { ReportScenario, ScenarioId } from './model.js';

export const SCENARIO_LABELS: Readonly<Record<ScenarioId, string>> = {
  setup: 'Setup: configure and deploy the backup jobs',
  'synthetic-test': 'Synthetic data test: prove a backup holds fresh data',
  'incident-restore': 'Incident restore',
  drill: 'DR drill: restore into an isolated target',
};

export function isScenarioId(value: unknown): value is ScenarioId {
  return typeof value === 'string' && Object.hasOwn(SCENARIO_LABELS, value);
}

/**
 * What the session was for. The operator's word wins; otherwise the sections it touched decide:
 * dr-validation → drill; a restore → incident restore (a drill when run against the sandbox);
 * a synthetic test → synthetic test; anything else → setup.
 */
export function detectScenario(
  sections: readonly string[],
  context: { given?: unknown; sandbox?: boolean },
): ReportScenario {
  const scenario = (id: ScenarioId, basis: string): ReportScenario => ({
    id,
    label: SCENARIO_LABELS[id],
    basis,
  });
  if (isScenarioId(context.given)) return scenario(context.given, 'given by the operator');
  const touched = (prefix: string) => sections.filter((section) => section.startsWith(prefix));
  if (sections.includes('dr-validation')) return scenario('drill', 'the session ran dr-validation');
  const restores = touched('restore-');
  if (restores.length > 0)
    return context.sandbox
      ? scenario('drill', `the session ran ${restores.join(', ')} against the sandbox`)
      : scenario('incident-restore', `the session ran ${restores.join(', ')}`);
  const tests = touched('test-');
  if (tests.length > 0) return scenario('synthetic-test', `the session ran ${tests.join(', ')}`);
  return scenario(
    'setup',
    sections.length > 0 ? `the session ran ${sections.join(', ')}` : 'the session ran no step',
  );
}
