import { maskString } from '../runbook/journal.js';
import { shellCommand } from '../runbook/plan.js';
import type { ProcAdapter, ProcResult, Recorder } from './types.js';

/** Variables a child inherits from this process; everything else (secrets included) is passed explicitly. */
const INHERITED = [
  'PATH',
  'HOME',
  'LANG',
  'LC_ALL',
  'TZ',
  'TMPDIR',
  'USER',
  'KUBECONFIG',
  'SSL_CERT_FILE',
  'HTTPS_PROXY',
  'HTTP_PROXY',
  'NO_PROXY',
  // Test hooks of the backup-jobs scripts (inert unless set; see test_hook in scripts/lib-common.sh): tests
  // interrupt a named phase of a script the CLI runs deterministically, never by timing.
  'DB_RUNBOOK_TEST_HOOK_PHASE',
  'DB_RUNBOOK_TEST_HOOK_SIGNAL',
  'DB_RUNBOOK_TEST_HOOK_TARGET',
  'DB_RUNBOOK_TEST_HOOK_DIR',
];

/**
 * What every child gets: the inherited variables above, plus `extra` — the session's own (the sandbox
 * gives its Neo4j tools' NEO4J_HOME this way, as a setting). Never secrets.
 */
export function baseEnv(extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  const env: Record<string, string> = { ...extra };
  for (const name of INHERITED) {
    const value = process.env[name];
    if (value !== undefined && env[name] === undefined) env[name] = value;
  }
  return env;
}

/** Runs programs through execa: arguments never pass through a shell, secrets only through env. */
export function createProcAdapter(
  record: Recorder,
  step: () => string | undefined = () => undefined,
  childEnv: Readonly<Record<string, string>> = {},
): ProcAdapter {
  return {
    async which(binary) {
      const { execa } = await import('execa');
      const found = await execa('sh', ['-c', 'command -v "$1"', 'sh', binary], {
        reject: false,
        env: baseEnv(childEnv),
        extendEnv: false,
      });
      return found.exitCode === 0 && found.stdout.trim() !== '' ? found.stdout.trim() : undefined;
    },
    async run(file, args, options = {}): Promise<ProcResult> {
      const { execa } = await import('execa');
      const secrets = options.secrets ?? [];
      const command = maskString(shellCommand([file, ...args]), secrets);
      const started = Date.now();
      const group = options.processGroup === true;
      const child = execa(file, args, {
        env: { ...baseEnv(childEnv), ...options.env },
        extendEnv: false,
        input: options.input,
        cwd: options.cwd,
        cancelSignal: group ? undefined : options.signal,
        detached: group,
        timeout: options.timeoutMs,
        reject: false,
        all: false,
        stripFinalNewline: true,
        killSignal: 'SIGTERM',
        forceKillAfterDelay: 5000,
      });
      if (options.onLine) {
        const onLine = options.onLine;
        const split = (stream: 'stdout' | 'stderr') => {
          let buffered = '';
          return (chunk: Buffer) => {
            buffered += chunk.toString('utf8');
            const lines = buffered.split('\n');
            buffered = lines.pop() ?? '';
            for (const line of lines) onLine(maskString(line, secrets), stream);
          };
        };
        child.stdout?.on('data', split('stdout'));
        child.stderr?.on('data', split('stderr'));
      }
      // A process group is signalled whole on abort: bash runs its traps only once the pipeline it
      // waits for has ended, so the pipeline's own processes must get the signal too.
      let killTimer: NodeJS.Timeout | undefined;
      const killGroup = () => {
        const signalGroup = (signal: NodeJS.Signals) => {
          try {
            if (child.pid !== undefined) process.kill(-child.pid, signal);
          } catch {
            // already gone
          }
        };
        signalGroup('SIGTERM');
        killTimer = setTimeout(() => signalGroup('SIGKILL'), 10_000);
        killTimer.unref();
      };
      if (group) {
        if (options.signal?.aborted) killGroup();
        else options.signal?.addEventListener('abort', killGroup, { once: true });
      }
      const result = await child.finally(() => {
        options.signal?.removeEventListener('abort', killGroup);
        if (killTimer) clearTimeout(killTimer);
      });
      const exitCode = typeof result.exitCode === 'number' ? result.exitCode : result.signal ? 128 : 1;
      record({ type: 'command', step: step(), command, exitCode, ms: Date.now() - started });
      const failedToStart =
        result.failed && result.exitCode === undefined && !result.isCanceled && !result.signal;
      return {
        exitCode: failedToStart ? 127 : exitCode,
        stdout: maskString(String(result.stdout ?? ''), secrets),
        stderr: maskString(String(result.stderr ?? (failedToStart ? result.shortMessage : '')), secrets),
        interrupted: Boolean(
          result.isCanceled || result.signal || result.timedOut || (group && options.signal?.aborted),
        ),
      };
    },
  };
}
