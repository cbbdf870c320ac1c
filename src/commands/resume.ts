import { printError } from './print-error.js';
import { defaultSessionDir, listSessions, readJournal } from '../adapters/journal-store.js';
import type { Session } from '../engine/session.js';
import { UsageError } from '../runbook/errors.js';
import type { TargetInfo } from '../runbook/journal.js';
import { replayJournal, type JournalReplay } from '../runbook/replay.js';
import { selectSteps, STEPS } from '../steps/index.js';
import { describeTarget, openSession } from './context.js';
import { resolveSessionId } from './report.js';
import { withSession, type RunOptions } from './run.js';

/** The sections/steps the original `run` named: the words after `run` up to the first option. */
export function originalTargets(argv: readonly string[]): string[] {
  const start = argv.indexOf('run');
  if (start < 0) return [];
  const words: string[] = [];
  for (const word of argv.slice(start + 1)) {
    if (word.startsWith('-')) break;
    words.push(word);
  }
  return words;
}

function originalArgv(replayEvents: ReturnType<typeof readJournal>['events']): string[] {
  const start = replayEvents.find((event) => event.type === 'session-start');
  return start && start.type === 'session-start' ? start.argv : [];
}

/**
 * `db-runbook resume [SESSION]`: continues an unfinished `run` session in the same journal. Steps that
 * finished stay done; the interrupted step starts again from the beginning (each step is safe to re-run:
 * apply is idempotent, a restore starts from its gates).
 */
export async function resumeCommand(wanted: string | undefined, options: RunOptions): Promise<number> {
  const sessionDir = options.sessionDir ?? defaultSessionDir();
  let replay: JournalReplay;
  let sessionId: string;
  let words: string[];
  try {
    sessionId = resolveSessionId(sessionDir, wanted);
    const journal = readJournal(sessionDir, sessionId);
    for (const line of journal.damaged)
      process.stderr.write(`warning: journal line ${line.line} is damaged (a torn write) and was left out\n`);
    replay = replayJournal(journal.events);
    if (replay.outcome === 'done')
      throw new UsageError(
        `session ${sessionId} finished already`,
        `See it with: db-runbook report ${sessionId}`,
      );
    // Sandbox or not must match before anything starts; the sandbox's identity is checked once it is up.
    const kind = sandboxMismatch(
      replay.target,
      options.sandbox ? { kubeServer: replay.target?.server ?? '' } : undefined,
    );
    if (kind) throw new UsageError(`session ${sessionId} cannot be resumed: ${kind}`, SANDBOX_GONE_NEXT);
    words = originalTargets(originalArgv(journal.events));
    if (words.length === 0)
      throw new UsageError(
        `session ${sessionId} was not started with \`db-runbook run\`; it cannot be resumed unattended`,
        'Open the TUI and run the remaining steps.',
      );
  } catch (error) {
    return printError(error);
  }
  const steps = selectSteps(words);
  if (!options.json) {
    const interrupted = replay.interrupted
      ? `; ${replay.interrupted.step} was interrupted while ${replay.interrupted.state} and starts again`
      : '';
    process.stdout.write(`resuming ${sessionId}: ${replay.done.length} step(s) done${interrupted}\n`);
  }
  return withSession(
    options,
    steps,
    async ({ resolution, sandbox, listener }) => {
      const problem = sandboxMismatch(replay.target, sandbox);
      if (problem)
        throw new UsageError(`session ${sessionId} cannot be resumed: ${problem}`, SANDBOX_GONE_NEXT);
      const target = await describeTarget(options, resolution, sandbox);
      const session = openSession(options, resolution, target, sandbox, 'resume', sessionId, listener);
      restoreFromReplay(session, replay);
      return session;
    },
    'resume',
  );
}

const SANDBOX_GONE_NEXT =
  'Start a new session instead (a sandbox is new each time; to resume against one, keep it with `db-runbook sandbox`).';

/**
 * Why a session's done steps cannot be trusted here: it ran against a sandbox that is gone (the one
 * running now, if any, has another API server), or it ran against a sandbox and this is a cluster
 * (or the other way round). undefined when they match.
 */
export function sandboxMismatch(
  recorded: TargetInfo | undefined,
  sandbox: { kubeServer: string } | undefined,
): string | undefined {
  if (!recorded) return undefined;
  if (recorded.sandbox && !sandbox)
    return `it ran against a sandbox (${recorded.server ?? 'gone'}), and this run has none: what it did is gone with it`;
  if (!recorded.sandbox && sandbox)
    return `it ran against the cluster ${recorded.context}, not a sandbox: resume it without --sandbox`;
  if (recorded.sandbox && sandbox && recorded.server && recorded.server !== sandbox.kubeServer)
    return `it ran against a sandbox that no longer exists (API ${recorded.server}; this one is ${sandbox.kubeServer}): its done steps (a verified backup, an accepted gate) are gone with it`;
  return undefined;
}

/**
 * The newest session in the dir when it did not finish (killed, interrupted). `notResumable` says why
 * it cannot be resumed here (its sandbox is gone, or the target differs): the TUI says so instead.
 */
export function unfinishedSession(
  sessionDir: string,
  sandbox: { kubeServer: string } | undefined,
): { id: string; replay: JournalReplay; notResumable?: string } | undefined {
  const newest = listSessions(sessionDir)[0];
  if (!newest) return undefined;
  try {
    const replay = replayJournal(readJournal(sessionDir, newest.id).events);
    if (replay.outcome !== 'unfinished' && replay.outcome !== 'interrupted') return undefined;
    const notResumable = sandboxMismatch(replay.target, sandbox);
    return { id: newest.id, replay, ...(notResumable ? { notResumable } : {}) };
  } catch {
    return undefined;
  }
}

/** Marks what an earlier run of this session finished, so it is not run again. */
export function restoreFromReplay(session: Session, replay: JournalReplay): void {
  for (const step of replay.steps) {
    if (!STEPS.some((known) => known.id === step.step)) continue;
    session.restoreStep(
      step.step,
      step.resumeAs,
      step.result ? { summary: step.result.summary, data: step.result.data } : undefined,
    );
  }
}
