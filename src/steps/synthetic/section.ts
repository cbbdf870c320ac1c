/** A synthetic test section's steps in the runbook's order: seed, trigger, wait, verify, cleanup. */
import type { RunbookStep } from '../define.js';
import { cleanupStep } from './cleanup.js';
import type { SyntheticTarget } from './target.js';
import { triggerStep } from './trigger.js';
import { waitStep } from './wait.js';

/** `seed` and `verify` are the database's own; the rest is the same for every target. */
export function syntheticSteps(
  target: SyntheticTarget,
  seed: RunbookStep,
  verify: RunbookStep,
): readonly RunbookStep[] {
  return [seed, triggerStep(target), waitStep(target), verify, cleanupStep(target)];
}
