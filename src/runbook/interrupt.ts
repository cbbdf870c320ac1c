/**
 * What stopping a running step means, said before (the quit question) and after (the last frame and
 * the journal): a restore is rolled back, a Job is left running under its name, nothing after the step
 * runs. Read from the step and the session's own journal events. Pure.
 */
import type { JournalEvent } from './journal.js';

const JOB_COLLECTION = /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs$/;
const JOB_OBJECT = /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs\/([^/?]+)/;

function ok(status: number | string | undefined): boolean {
  return (
    status === undefined || status === 'ok' || (typeof status === 'number' && status >= 200 && status < 300)
  );
}

/** Jobs this session created and did not delete: `{name, namespace, step}`. */
export function jobsLeft(
  events: readonly JournalEvent[],
): { name: string; namespace: string; step?: string }[] {
  const jobs = new Map<string, { name: string; namespace: string; step?: string }>();
  for (const event of events) {
    if (event.type !== 'api' || event.service !== 'kubernetes' || !ok(event.status)) continue;
    const collection = JOB_COLLECTION.exec(event.path);
    if (event.method === 'POST' && collection && event.object)
      jobs.set(`${collection[1]}/${event.object}`, {
        name: event.object,
        namespace: collection[1]!,
        step: event.step,
      });
    const object = JOB_OBJECT.exec(event.path);
    if (event.method === 'DELETE' && object) jobs.delete(`${object[1]}/${decodeURIComponent(object[2]!)}`);
  }
  return [...jobs.values()];
}

function isRestore(stepId: string): boolean {
  return /\.restore$/.test(stepId);
}

/** Before: what interrupting `stepId` would do, in one sentence. */
export function interruptConsequence(stepId: string, events: readonly JournalEvent[]): string {
  const parts: string[] = [];
  if (isRestore(stepId))
    parts.push(
      'the restore is rolled back and the database stays as it was (a swap already begun completes)',
    );
  const jobs = jobsLeft(events);
  if (jobs.length)
    parts.push(
      `${jobs.map((job) => `Job ${job.name}`).join(', ')} stay${jobs.length === 1 ? 's' : ''} in the cluster (left, not deleted)`,
    );
  if (parts.length === 0) parts.push('the step stops where it is');
  parts.push('nothing after it runs');
  return parts.join('; ');
}

/**
 * After: the lines the last frame shows and the journal keeps — the step, what it said as it stopped,
 * the Jobs left running with the command that deletes them.
 */
export function interruptSummary(input: {
  stepId?: string;
  stepTitle?: string;
  how: 'ctrl-c' | 'quit' | 'signal';
  events: readonly JournalEvent[];
}): string[] {
  const how = input.how === 'ctrl-c' ? 'Ctrl-C' : input.how === 'quit' ? 'q' : 'a signal';
  const lines: string[] = [];
  if (!input.stepId) return [`Stopped by ${how}: no step was running.`];
  lines.push(`Interrupted by ${how}: "${input.stepTitle ?? input.stepId}" (${input.stepId}).`);
  const said = input.events.filter(
    (event): event is Extract<JournalEvent, { type: 'log' }> =>
      event.type === 'log' && event.step === input.stepId,
  );
  const last = [...said]
    .reverse()
    .find((event) => /interrupt|rolled back|as it was|restored|left/i.test(event.line));
  if (last) lines.push(`The step said: ${last.line}`);
  else if (isRestore(input.stepId))
    lines.push('The restore was stopped before its swap: the database is as it was.');
  for (const job of jobsLeft(input.events))
    lines.push(
      `Job ${job.name} (namespace ${job.namespace}) was left in the cluster (it may still be running). Delete it: kubectl delete job ${job.name} -n ${job.namespace}`,
    );
  return lines;
}
