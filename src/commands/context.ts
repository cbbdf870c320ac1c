import { FileInputError, MAX_VALUES_FILE_BYTES, readBoundedFile } from '../adapters/bounded-file.js';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { createAdapters } from '../adapters/index.js';
import { defaultSessionDir, newSessionId, openJournal } from '../adapters/journal-store.js';
import { summarizeKubeconfig } from '../adapters/kubeconfig.js';
import { TOOL_VERSION as TOOL_VERSION_VALUE } from '../version.js';
import { Session, valuesForJournal, type SessionEvent } from '../engine/session.js';
import { UsageError } from '../runbook/errors.js';
import type { TargetInfo } from '../runbook/journal.js';
import type { OptionProblem, Settings } from '../runbook/options.js';
import { resolveValues, type Resolution } from '../runbook/values.js';
import type { SandboxHandle } from '../sandbox/handle.js';
import { parse } from 'yaml';

export interface GlobalOptions {
  sandbox?: boolean;
  namespace: string;
  context?: string;
  kubeconfig?: string;
  values?: string;
  sessionDir?: string;
  json?: boolean;
  color?: boolean;
  operator?: string;
}

export { TOOL_VERSION } from '../version.js';

/** Reads the --values YAML file. Secrets in it are refused by resolveValues. */
export async function readValuesFile(path: string | undefined): Promise<Record<string, unknown> | undefined> {
  if (!path) return undefined;
  let text: string;
  try {
    // bounded: a FIFO or /dev/zero given as --values fails at once instead of hanging
    text = readBoundedFile(path, 'the values file', MAX_VALUES_FILE_BYTES);
  } catch (error) {
    throw new UsageError(
      error instanceof FileInputError
        ? error.message
        : `cannot read the values file ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
      'Check the --values path: a YAML file of NAME: value lines.',
    );
  }
  let parsed: unknown;
  try {
    parsed = parse(text);
  } catch (error) {
    throw new UsageError(
      `the values file ${path} is not valid YAML: ${(error as Error).message.split('\n')[0]}`,
      'Fix the YAML (KEY: value per line).',
    );
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed))
    throw new UsageError(`the values file ${path} must be a mapping of NAME: value`);
  return parsed as Record<string, unknown>;
}

/** What the sandbox gives its own processes, as settings (never module state): NEO4J_HOME for its Neo4j tools. */
export function sandboxSettings(sandbox: SandboxHandle | undefined): Settings {
  if (!sandbox) return {};
  const childEnv = Object.fromEntries(
    Object.entries(sandbox.values).filter(([name]) => name === 'NEO4J_HOME'),
  );
  return {
    childEnv,
    ...(sandbox.values.NEO4J_HOME ? { neo4jHome: sandbox.values.NEO4J_HOME } : {}),
  };
}

/** The values file's own problems (unknown keys, bad settings, secrets in it), found before anything starts. */
export async function valuesFileProblems(options: GlobalOptions): Promise<OptionProblem[]> {
  try {
    const valuesFile = await readValuesFile(options.values);
    return resolveValues({ valuesFile, env: {} }).problems;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    return [{ name: '--values', message: error.message }];
  }
}

/** Every problem of the input as one usage error (exit 2): each line names one. */
export function inputProblems(problems: readonly OptionProblem[]): UsageError | undefined {
  if (problems.length === 0) return undefined;
  const lines = problems.map((problem) => `${problem.name} ${problem.message}`);
  return new UsageError(
    problems.length === 1
      ? `bad input: ${lines[0]}`
      : `${problems.length} problems in the input (nothing was done):\n  - ${lines.join('\n  - ')}`,
    'Correct them in the environment, the --values file or the command line.',
  );
}

/**
 * Values from every source, and the values file checked key by key. Every problem — a bad value, an
 * unknown key (with "did you mean"), a bad setting, and the `extra` ones the caller found (bad options) —
 * is named in one usage error before anything is done.
 */
export async function resolveAll(
  options: GlobalOptions,
  sandbox: SandboxHandle | undefined,
  extra: readonly OptionProblem[] = [],
): Promise<Resolution> {
  let valuesFile: Record<string, unknown> | undefined;
  const problems: OptionProblem[] = [];
  try {
    valuesFile = await readValuesFile(options.values);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    problems.push({ name: '--values', message: error.message });
  }
  const resolution = resolveValues({
    valuesFile,
    env: process.env,
    overrides: sandbox?.values,
    overrideSource: 'sandbox',
    settings: sandboxSettings(sandbox),
  });
  problems.push(...resolution.problems, ...extra);
  const error = inputProblems(problems);
  if (error) throw error;
  return resolution;
}

export async function describeTarget(
  options: GlobalOptions,
  resolution: Resolution,
  sandbox: SandboxHandle | undefined,
): Promise<TargetInfo> {
  const values = resolution.values;
  const common = {
    namespace: options.namespace,
    s3Endpoint:
      values.get('AWS_ENDPOINT_URL') ??
      (values.get('S3_BUCKET') ? `AWS S3 ${values.get('AWS_DEFAULT_REGION') ?? ''}`.trim() : undefined),
    bucket: values.get('S3_BUCKET'),
  };
  if (sandbox)
    return {
      context: 'SANDBOX',
      server: sandbox.kubeServer,
      sandbox: true,
      sandboxStartupMs: sandbox.startupMs,
      ...common,
    };
  const summary = await summarizeKubeconfig(options.kubeconfig, options.context);
  return {
    context: summary.context ?? '(no context)',
    server: summary.server,
    sandbox: false,
    ...common,
    ...(summary.problem && !summary.server ? { clusterProblem: summary.problem } : {}),
  };
}

export function operatorName(options: GlobalOptions): string {
  if (options.operator) return options.operator;
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

/** Opens a new session: journal file, values, adapters. */
export function openSession(
  options: GlobalOptions,
  resolution: Resolution,
  target: TargetInfo,
  sandbox: SandboxHandle | undefined,
  mode: 'tui' | 'run' | 'resume',
  sessionId = newSessionId(),
  listener?: (event: SessionEvent) => void,
): Session {
  const dir = options.sessionDir ?? defaultSessionDir();
  const journal = openJournal(dir, sessionId, resolution.values.secretValues());
  const session: Session = new Session({
    journal,
    values: resolution.values,
    settings: resolution.settings,
    target,
    adapters: (self) =>
      createAdapters({
        kubeconfig: sandbox?.kubeconfigPath ?? options.kubeconfig,
        context: sandbox ? undefined : options.context,
        namespace: options.namespace,
        values: () => self.values,
        record: (event) => self.record(event),
        currentStep: () => self.currentStep,
        sessionDir: dir,
        childEnv: resolution.settings.childEnv,
      }),
  });
  if (listener) session.subscribe(listener);
  session.record({
    type: 'session-start',
    version: 1,
    tool: 'db-runbook',
    toolVersion: TOOL_VERSION_VALUE,
    operator: operatorName(options),
    argv: journalArgv(process.argv.slice(2)),
    target,
    mode,
    ...(mode === 'resume' ? { resumedFrom: sessionId } : {}),
    pid: process.pid,
    host: hostname(),
  });
  session.record({ type: 'values', values: valuesForJournal(resolution.values) });
  return session;
}

/**
 * The command line as the journal keeps it: the text given to `--confirm` is left out (it may be a
 * mistyped or pasted secret; the gate records whether it matched, and how it differed).
 */
export function journalArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const word = argv[index] as string;
    if (word === '--confirm' && index + 1 < argv.length) {
      out.push(word, '<not recorded>');
      index++;
    } else if (word.startsWith('--confirm=')) out.push('--confirm=<not recorded>');
    else out.push(word);
  }
  return out;
}

/**
 * Starts the sandbox when asked — or joins the one `db-runbook sandbox` keeps running — and puts its
 * kubectl (built at the server's version) and the cached Neo4j distribution's bin/ first on PATH.
 */
export async function maybeStartSandbox(options: GlobalOptions): Promise<SandboxHandle | undefined> {
  if (!options.sandbox) return undefined;
  const { startSandbox, parseFaults } = await import('../sandbox/index.js');
  const { findRunningSandbox, handleOf } = await import('../sandbox/handle.js');
  const { neo4jDistribution } = await import('../sandbox/neo4j.js');
  let faults;
  try {
    faults = parseFaults(process.env.DB_RUNBOOK_SANDBOX_FAULTS);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const hasFaults =
    faults.denials.length > 0 ||
    faults.s3Down ||
    faults.neo4jBackupClosed ||
    Boolean(faults.s3Denied?.length);
  // Faults need a sandbox of their own; a joined one is shared.
  const sandbox = (!hasFaults && findRunningSandbox()) || handleOf(await startSandbox({ faults }));
  // A closed terminal (SIGHUP) must not leave the sandbox's servers running: stop them, then exit.
  if (!sandbox.joined)
    process.once('SIGHUP', () => {
      void sandbox.stop().finally(() => process.exit(129));
    });
  // kubectl at the server's version, and the sandbox's real neo4j-admin/neo4j (the drill's isolated instance).
  process.env.PATH = `${sandbox.kubectlDir}:${join(await neo4jDistribution(), 'bin')}:${process.env.PATH ?? ''}`;
  return sandbox;
}

/** What `report` needs from the environment: where sessions are, settings (targets) and secrets to mask once more. */
export async function reportContext(
  options: GlobalOptions,
): Promise<{ sessionDir: string; settings: Settings; secrets: string[] }> {
  const resolution = await resolveAll(options, undefined);
  return {
    sessionDir: options.sessionDir ?? defaultSessionDir(),
    settings: resolution.settings,
    secrets: resolution.values.secretValues(),
  };
}
