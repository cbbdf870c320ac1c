/**
 * The typed override of a failed integrity check, journaled as a deviation.
 */
import { RunbookError } from '../../runbook/errors.js';
import { baseName } from '../../runbook/s3-uri.js';
import { defineStep, type RunbookStep } from '../define.js';
import type { Gate } from '../../runbook/step.js';
import {
  chosenBackup,
  type ChosenBackup,
  DEVIATION_MARK,
  integrityOf,
  type OverrideData,
  restoreHandles,
  type RestoreSpec,
  stepIds,
} from './spec.js';

export function overridePhrase(chosen: Pick<ChosenBackup, 'key'>): string {
  return `restore unverified ${baseName(chosen.key)}`;
}

export function overrideStep(spec: RestoreSpec): RunbookStep<OverrideData> {
  const ids = stepIds(spec);
  return defineStep<OverrideData>({
    ...restoreHandles(spec).override,
    section: spec.section,
    title: 'Override a failed integrity check',
    description:
      'Only when the integrity check failed: restoring an unverified backup takes a typed phrase that names it, and is journaled as a deviation. Nothing to do when the check passed.',
    inputs: [],
    database: spec.database,
    plan: () => ({
      actions: [
        { summary: 'when the integrity check failed: ask for the typed phrase "restore unverified <file>"' },
      ],
      notes: ['A refused override stops the section before anything touches the database.'],
    }),
    gate(_values, { from }): Gate | undefined {
      const chosen = chosenBackup(from, spec);
      const integrity = integrityOf(from, spec);
      if (!chosen || !integrity || integrity.verified || integrity.uri !== chosen.uri) return undefined;
      return {
        kind: 'typed',
        prompt: `The integrity check FAILED for ${chosen.uri}. Restore it anyway? This is recorded as a deviation.`,
        phrase: overridePhrase(chosen),
        target: {
          backup: chosen.uri,
          problem: integrity.problems.join('; '),
          'sha256 (object)': integrity.inStream ? '(read by the restore)' : integrity.sha256,
          'sha256 (sidecar)': integrity.expectedSha256 ?? '(none)',
          ...(integrity.problems.some((problem) => !/^the sidecar \S+ is missing$/.test(problem))
            ? {
                note: 'the restore script checks again: ALLOW_UNVERIFIED=true lets it skip a MISSING sidecar, but it still refuses a mismatch or a broken archive (exit 5)',
              }
            : {}),
        },
      };
    },
    async run(ctx) {
      const chosen = chosenBackup(ctx.from, spec);
      const integrity = integrityOf(ctx.from, spec);
      if (!chosen || !integrity || integrity.uri !== chosen.uri)
        throw new RunbookError('the integrity of the chosen backup has not been checked in this session', {
          next: `Run ${ids.integrity} first.`,
        });
      if (integrity.verified)
        return {
          summary: 'not needed: the integrity check passed',
          data: { overridden: false, uri: chosen.uri },
        };
      const reason = `integrity check overridden for ${chosen.uri}: ${integrity.problems.join('; ')}`;
      ctx.mark(DEVIATION_MARK, { reason, uri: chosen.uri, step: ids.integrity });
      ctx.log(reason);
      return {
        summary: 'OVERRIDDEN by typed phrase: the restore will use an unverified backup (deviation)',
        checks: [{ id: 'override', label: 'integrity overridden', status: 'warn', detail: reason }],
        data: { overridden: true, uri: chosen.uri, reason, deviation: true },
      };
    },
  });
}
