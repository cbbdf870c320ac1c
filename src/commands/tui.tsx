import { Box, render, Text } from 'ink';
import { useEffect, useMemo, useState } from 'react';
import type { Session } from '../engine/session.js';
import { describeError, EXIT } from '../runbook/errors.js';
import type { Sandbox } from '../sandbox/index.js';
import { App } from '../screens/App.js';
import { stepsOf } from '../steps/index.js';
import { defaultSessionDir } from '../adapters/journal-store.js';
import { ChoicePrompt } from '../components/ChoicePrompt.js';
import { reportActions } from './report-actions.js';
import { stepOptions } from './run.js';
import { restoreFromReplay, unfinishedSession } from './resume.js';
import { describeTarget, maybeStartSandbox, openSession, resolveAll, type GlobalOptions } from './context.js';

interface Booted {
  session: Session;
  sandbox?: Sandbox;
}

/** First frame at once; the sandbox and the session come up behind it. */
function Root({
  options,
  onBoot,
  onQuit,
}: {
  options: GlobalOptions;
  onBoot(booted: Booted): void;
  onQuit(outcome: 'quit' | 'interrupted'): void;
}) {
  const [booted, setBooted] = useState<Booted | undefined>();
  const [error, setError] = useState<{ message: string; next?: string } | undefined>();
  const [offer, setOffer] = useState<
    { id: string; at?: string; answer(resume: boolean): void } | undefined
  >();
  useEffect(() => {
    let cancelled = false;
    (async () => {
      const sandbox = await maybeStartSandbox(options);
      const resolution = await resolveAll(options, sandbox);
      const target = await describeTarget(options, resolution, sandbox);
      const unfinished = unfinishedSession(options.sessionDir ?? defaultSessionDir(), Boolean(sandbox));
      const resume =
        unfinished !== undefined &&
        (await new Promise<boolean>((answer) =>
          setOffer({ id: unfinished.id, at: unfinished.replay.interrupted?.step, answer }),
        ));
      setOffer(undefined);
      const session = resume
        ? openSession(options, resolution, target, sandbox, 'resume', unfinished.id)
        : openSession(options, resolution, target, sandbox, 'tui');
      if (resume) restoreFromReplay(session, unfinished.replay);
      const result = { session, sandbox };
      onBoot(result);
      if (!cancelled) setBooted(result);
    })().catch((caught: unknown) => setError(describeError(caught)));
    return () => {
      cancelled = true;
    };
  }, [options, onBoot]);
  const report = useMemo(
    () => (booted ? reportActions(booted.session, options.operator) : undefined),
    [booted, options.operator],
  );
  if (offer) {
    return (
      <ChoicePrompt
        prompt={`Session ${offer.id} did not finish${offer.at ? ` (it stopped in ${offer.at})` : ''}. Resume it?`}
        choices={[
          {
            label: 'Resume it: finished steps stay done, the interrupted step starts again',
            value: 'resume',
          },
          { label: 'Start a new session', value: 'new' },
        ]}
        fallback="resume"
        onChoose={(value) => offer.answer(value === 'resume')}
      />
    );
  }
  if (error) {
    return (
      <Box flexDirection="column">
        <Text color="red">error: {error.message}</Text>
        {error.next ? <Text color="yellow">→ {error.next}</Text> : null}
      </Box>
    );
  }
  if (!booted)
    return (
      <Text>
        db-runbook:{' '}
        {options.sandbox ? 'starting the sandbox (S3, PostgreSQL, Kubernetes API stand-in)…' : 'loading…'}
      </Text>
    );
  return (
    <App
      session={booted.session}
      stepsOf={stepsOf}
      onQuit={onQuit}
      report={report}
      initialOptions={stepOptions(options)}
    />
  );
}

/** The interactive checklist. Returns the exit code once the operator quits. */
export async function tuiCommand(options: GlobalOptions): Promise<number> {
  let booted: Booted | undefined;
  let exitCode: number = EXIT.done;
  const onQuit = (outcome: 'quit' | 'interrupted') => {
    exitCode = outcome === 'interrupted' ? EXIT.interrupted : EXIT.done;
    booted?.session.close(outcome, exitCode);
  };
  const instance = render(<Root options={options} onBoot={(b) => (booted = b)} onQuit={onQuit} />, {
    exitOnCtrlC: false,
  });
  const onSignal = () => {
    onQuit('interrupted');
    instance.unmount();
  };
  process.once('SIGTERM', onSignal);
  try {
    await instance.waitUntilExit();
  } finally {
    process.removeListener('SIGTERM', onSignal);
    await booted?.sandbox?.stop();
  }
  return exitCode;
}
