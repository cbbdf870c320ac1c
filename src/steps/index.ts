/**
 * The runbook's steps, one folder per section (`src/steps/<section>/index.ts` lists its steps in order, one file
 * per step or per job). What sections share sits below them, and imports only point down:
 *
 *   <section>/     prerequisites, configure, deploy, test-postgres, test-neo4j, restore-postgres, restore-neo4j,
 *                  dr-validation, troubleshoot, verify (`db-runbook verify`)
 *   restore-kit/   the steps every restore-like section builds for itself: incident, choose, integrity, override,
 *                  roles preflight, privilege checks; their typed handles (restoreHandles)
 *   synthetic/     the synthetic backup test both test sections run: seed → trigger → wait → verify → cleanup
 *   clients/       the one driver per tool: psql, Cypher, the restore scripts, verification records
 *   kit/           applying objects, the backup CronJobs, cluster permissions, RTO/RPO lines
 *   define.ts      defineStep<Out>: a step declares what it hands on; later steps read it with ctx.from(step)
 *
 * Pure logic (parsing, comparing, wording) lives in src/runbook; I/O only through ctx.adapters.
 */
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
