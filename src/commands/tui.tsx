import { Box, render, Text } from 'ink';
import { useEffect, useState, type ReactNode } from 'react';
import { describeError, EXIT } from '../runbook/errors.js';
import type { GlobalOptions } from './context.js';
import type { Booted } from './tui-boot.js';

/**
 * The first frame needs only Ink: it is drawn before the rest of the TUI (steps, engine, adapters) is
 * even loaded, then `tui-boot` brings up the session behind it.
 */
function Root({
  options,
  onBoot,
  onQuit,
}: {
  options: GlobalOptions;
  onBoot(booted: Booted): void;
  onQuit(outcome: 'quit' | 'interrupted'): void;
}) {
  const [screen, setScreen] = useState<ReactNode>();
  const [error, setError] = useState<{ message: string; next?: string } | undefined>();
  useEffect(() => {
    (async () => {
      const { boot, BootedApp, ResumeOffer } = await import('./tui-boot.js');
      const booted = await boot(
        options,
        (id, at) =>
          new Promise<boolean>((answer) => setScreen(<ResumeOffer id={id} at={at} onAnswer={answer} />)),
      );
      onBoot(booted);
      setScreen(<BootedApp booted={booted} options={options} onQuit={onQuit} />);
    })().catch((caught: unknown) => setError(describeError(caught)));
  }, [options, onBoot, onQuit]);
  if (error) {
    return (
      <Box flexDirection="column">
        <Text color="red">error: {error.message}</Text>
        {error.next ? <Text color="yellow">→ {error.next}</Text> : null}
      </Box>
    );
  }
  if (screen) return <>{screen}</>;
  return (
    <Text>
      db-runbook:{' '}
      {options.sandbox ? 'starting the sandbox (S3, PostgreSQL, Kubernetes API stand-in)…' : 'loading…'}
    </Text>
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
  const onBoot = (b: Booted) => {
    booted = b;
  };
  const instance = render(<Root options={options} onBoot={onBoot} onQuit={onQuit} />, { exitOnCtrlC: false });
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
