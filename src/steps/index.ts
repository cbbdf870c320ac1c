import { UsageError } from '../runbook/errors.js';
import { isSectionId, type SectionId, SECTIONS } from '../runbook/sections.js';
import { configureSteps } from './configure/index.js';
import type { RunbookStep } from './define.js';
import { deploySteps } from './deploy/index.js';
import { drValidationSteps } from './dr-validation/index.js';
import { prerequisitesSteps } from './prerequisites/index.js';
import { restoreNeo4jSteps } from './restore-neo4j/index.js';
import { restorePostgresSteps } from './restore-postgres/index.js';
import { testNeo4jSteps } from './test-neo4j/index.js';
import { testPostgresSteps } from './test-postgres/index.js';
import { troubleshootSteps } from './troubleshoot/index.js';

/** Every built step, in runbook order. A section with no steps here is "not available yet". */
export const STEPS: readonly RunbookStep[] = [
  ...prerequisitesSteps,
  ...configureSteps,
  ...deploySteps,
  ...testPostgresSteps,
  ...testNeo4jSteps,
  ...restorePostgresSteps,
  ...restoreNeo4jSteps,
  ...drValidationSteps,
  ...troubleshootSteps,
];

export function stepsOf(section: SectionId): RunbookStep[] {
  return STEPS.filter((step) => step.section === section);
}

export function isAvailable(section: SectionId): boolean {
  return STEPS.some((step) => step.section === section);
}

/** Resolves command-line words (section ids or step ids) to steps, in runbook order. */
export function selectSteps(words: readonly string[]): RunbookStep[] {
  if (words.length === 0)
    throw new UsageError(
      'name at least one section or step',
      `Sections: ${SECTIONS.map((s) => s.id).join(', ')}`,
    );
  const chosen = new Set<RunbookStep>();
  for (const word of words) {
    if (isSectionId(word)) {
      const steps = stepsOf(word);
      if (steps.length === 0)
        throw new UsageError(
          `section ${word} is not available yet`,
          'Run db-runbook plan to see what is available.',
        );
      steps.forEach((step) => chosen.add(step));
      continue;
    }
    const step = STEPS.find((candidate) => candidate.id === word);
    if (!step) {
      throw new UsageError(
        `unknown section or step "${word}"`,
        `Sections: ${SECTIONS.map((s) => s.id).join(', ')}; steps look like prerequisites.s3 (see db-runbook plan).`,
      );
    }
    chosen.add(step);
  }
  return STEPS.filter((step) => chosen.has(step));
}
