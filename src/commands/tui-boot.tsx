import { useMemo } from 'react';
import { defaultSessionDir } from '../adapters/journal-store.js';
import { ChoicePrompt } from '../screens/components/ChoicePrompt.js';
import type { Session } from '../engine/session.js';
import type { SandboxHandle } from '../sandbox/handle.js';
import { App, type AppProps } from '../screens/App.js';
import { stepsOf } from '../steps/index.js';
import {
  describeTarget,
  inputProblems,
  maybeStartSandbox,
  openSession,
  resolveAll,
  valuesFileProblems,
  type GlobalOptions,
} from './context.js';
import { reportActions } from './report-actions.js';
import { restoreFromReplay, unfinishedSession } from './resume.js';
import { stepOptions } from './run.js';

/**
 * Everything behind the TUI's first frame: loaded after it is drawn (see tui.tsx), so start-up shows a
 * frame at Ink's own pace while the steps, the session and (with --sandbox) the sandbox come up.
 */
export interface Booted {
  session: Session;
  sandbox?: SandboxHandle;
  /** Said on the checklist at start: an unfinished session that cannot be resumed here, and why. */
  startNotice?: string;
}

/** Starts the sandbox if asked, resolves values, and opens (or, when the operator agrees, resumes) a session. */
export async function boot(
  options: GlobalOptions,
  offerResume: (id: string, interruptedStep: string | undefined) => Promise<boolean>,
): Promise<Booted> {
  // A values-file typo is named before the sandbox starts (it takes seconds).
  const early = inputProblems(await valuesFileProblems(options));
  if (early) throw early;
  const sandbox = await maybeStartSandbox(options);
  const resolution = await resolveAll(options, sandbox);
  const target = await describeTarget(options, resolution, sandbox);
  const unfinished = unfinishedSession(options.sessionDir ?? defaultSessionDir(), sandbox);
  const resume =
    unfinished !== undefined &&
    !unfinished.notResumable &&
    (await offerResume(unfinished.id, unfinished.replay.interrupted?.step));
  const session = resume
    ? openSession(options, resolution, target, sandbox, 'resume', unfinished.id)
    : openSession(options, resolution, target, sandbox, 'tui');
  if (resume) restoreFromReplay(session, unfinished.replay);
  const startNotice = unfinished?.notResumable
    ? `Session ${unfinished.id} did not finish${unfinished.replay.interrupted ? ` (it stopped in ${unfinished.replay.interrupted.step})` : ''}, and cannot be resumed here: ${unfinished.notResumable}. This is a new session.`
    : undefined;
  return { session, sandbox, startNotice };
}

export function ResumeOffer({
  id,
  at,
  onAnswer,
}: {
  id: string;
  at?: string;
  onAnswer(resume: boolean): void;
}) {
  return (
    <ChoicePrompt
      prompt={`Session ${id} did not finish${at ? ` (it stopped in ${at})` : ''}. Resume it?`}
      choices={[
        { label: 'Resume it: finished steps stay done, the interrupted step starts again', value: 'resume' },
        { label: 'Start a new session', value: 'new' },
      ]}
      fallback="resume"
      onChoose={(value) => onAnswer(value === 'resume')}
    />
  );
}

export function BootedApp({
  booted,
  options,
  onQuit,
  signals,
}: {
  booted: Booted;
  options: GlobalOptions;
  onQuit(outcome: 'quit' | 'interrupted'): void;
  signals?: AppProps['signals'];
}) {
  const report = useMemo(() => reportActions(booted.session, options.operator), [booted, options.operator]);
  const initialOptions = useMemo(() => stepOptions(options), [options]);
  return (
    <App
      session={booted.session}
      stepsOf={stepsOf}
      onQuit={onQuit}
      report={report}
      initialOptions={initialOptions}
      startNotice={booted.startNotice}
      signals={signals}
      clusterProblem={booted.session.target.clusterProblem}
      readProof
    />
  );
}
