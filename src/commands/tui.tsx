import { Box, render, Text, useApp } from 'ink';
import { EventEmitter } from 'node:events';
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
  signals,
  onError,
}: {
  options: GlobalOptions;
  onBoot(booted: Booted): void;
  onQuit(outcome: 'quit' | 'interrupted'): void;
  signals: EventEmitter;
  onError(exitCode: number): void;
}) {
  const { exit } = useApp();
  const [screen, setScreen] = useState<ReactNode>();
  const [error, setError] = useState<{ message: string; next?: string } | undefined>();
  // A start that fails (bad values, a values-file typo, no sandbox) says why and ends: exit 2 for bad input.
  useEffect(() => {
    if (error) setTimeout(() => exit(), 30);
  }, [error, exit]);
  useEffect(() => {
    (async () => {
      const { boot, BootedApp, ResumeOffer } = await import('./tui-boot.js');
      const booted = await boot(
        options,
        (id, at) =>
          new Promise<boolean>((answer) => setScreen(<ResumeOffer id={id} at={at} onAnswer={answer} />)),
      );
      onBoot(booted);
      setScreen(<BootedApp booted={booted} options={options} onQuit={onQuit} signals={signals} />);
    })().catch((caught: unknown) => {
      onError((caught as { exitCode?: number }).exitCode ?? EXIT.stepFailed);
      setError(describeError(caught));
    });
  }, [options, onBoot, onQuit, signals, onError]);
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
      db-runbook: {options.sandbox ? 'starting the sandbox (S3, PostgreSQL, Neo4j, Kubernetes)…' : 'loading…'}
    </Text>
  );
}

/** The interactive checklist. Returns the exit code once the operator quits. */
export async function tuiCommand(options: GlobalOptions): Promise<number> {
  let booted: Booted | undefined;
  let exitCode: number = EXIT.done;
  let closed = false;
  const onQuit = (outcome: 'quit' | 'interrupted') => {
    if (closed) return;
    closed = true;
    exitCode = outcome === 'interrupted' ? EXIT.interrupted : EXIT.done;
    booted?.session.close(outcome, exitCode);
  };
  const onBoot = (b: Booted) => {
    booted = b;
  };
  // SIGINT/SIGTERM from outside are Ctrl-C: the App interrupts the running step and says what it left;
  // before the App is up (or a second time) they end the process at once.
  const signals = new EventEmitter();
  const onError = (code: number) => {
    exitCode = code;
  };
  const instance = render(
    <Root options={options} onBoot={onBoot} onQuit={onQuit} signals={signals} onError={onError} />,
    {
      exitOnCtrlC: false,
    },
  );
  let signalled = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signalled++;
    if (booted && signals.listenerCount('interrupt') > 0 && signalled === 1) {
      signals.emit('interrupt');
      return;
    }
    if (!booted) {
      // Still starting (the sandbox comes up): the signal does what it did before the TUI was here.
      process.removeListener('SIGTERM', onSignal);
      process.removeListener('SIGINT', onSignal);
      process.kill(process.pid, signal);
      return;
    }
    onQuit('interrupted');
    instance.unmount();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    await instance.waitUntilExit();
  } finally {
    process.removeListener('SIGTERM', onSignal);
    process.removeListener('SIGINT', onSignal);
    await booted?.sandbox?.stop();
  }
  return exitCode;
}
