import { createAdapters } from '../../src/adapters/index.js';
import { newSessionId, openJournal } from '../../src/adapters/journal-store.js';
import type { Adapters } from '../../src/adapters/types.js';
import { Session } from '../../src/engine/session.js';
import type { TargetInfo } from '../../src/runbook/journal.js';
import { resolveValues } from '../../src/runbook/values.js';
import { tempDir } from './temp.js';

export interface TestSessionOptions {
  env: Record<string, string>;
  kubeconfig?: string;
  namespace?: string;
  target?: Partial<TargetInfo>;
  /** Replace some adapters (only for what cannot run here; say so in the test name). */
  adapters?: (real: Adapters) => Adapters;
}

/** A session with real adapters (pointed at the sandbox by the caller) and a journal in a temp dir. */
export function testSession(options: TestSessionOptions): { session: Session; journalDir: string } {
  const journalDir = tempDir('db-runbook-test-journal-');
  const { values, settings } = resolveValues({ env: options.env });
  const journal = openJournal(journalDir, newSessionId(), values.secretValues());
  const namespace = options.namespace ?? 'data';
  const session: Session = new Session({
    journal,
    values,
    settings,
    target: {
      context: 'SANDBOX',
      namespace,
      sandbox: true,
      bucket: values.get('S3_BUCKET'),
      s3Endpoint: values.get('AWS_ENDPOINT_URL'),
      ...options.target,
    },
    adapters: (self) => {
      const real = createAdapters({
        kubeconfig: options.kubeconfig,
        namespace,
        sessionDir: journalDir,
        values: () => self.values,
        record: (event) => self.record(event),
        currentStep: () => self.currentStep,
      });
      return options.adapters ? options.adapters(real) : real;
    },
  });
  return { session, journalDir };
}

/** Waits until the frame satisfies the predicate (ink renders asynchronously). */
export async function waitForFrame(
  lastFrame: () => string | undefined,
  predicate: (frame: string) => boolean,
  timeoutMs = 20_000,
): Promise<string> {
  const started = Date.now();
  for (;;) {
    const frame = lastFrame() ?? '';
    if (predicate(frame)) {
      // A freshly mounted input subscribes on the next tick: give it one before the next key.
      await new Promise((resolve) => setImmediate(resolve));
      return frame;
    }
    if (Date.now() - started > timeoutMs)
      throw new Error(`frame not reached in ${timeoutMs} ms; last frame:\n${frame}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
