import { FileInputError, MAX_VALUES_FILE_BYTES, readBoundedFile } from '../adapters/bounded-file.js';
import { hostname, userInfo } from 'node:os';
import { createAdapters } from '../adapters/index.js';
import { defaultSessionDir, newSessionId, openJournal } from '../adapters/journal-store.js';
import { summarizeKubeconfig } from '../adapters/kubeconfig.js';
import { TOOL_VERSION as TOOL_VERSION_VALUE } from '../version.js';
import { Session, valuesForJournal, type SessionEvent } from '../engine/session.js';
import { UsageError } from '../runbook/errors.js';
import type { TargetInfo } from '../runbook/journal.js';
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

export async function resolveAll(
  options: GlobalOptions,
  sandbox: SandboxHandle | undefined,
): Promise<Resolution> {
  const valuesFile = await readValuesFile(options.values);
  const resolution = resolveValues({
    valuesFile,
    env: process.env,
    overrides: sandbox?.values,
    overrideSource: 'sandbox',
  });
  if (resolution.problems.length > 0) {
    throw new UsageError(
      `bad value${resolution.problems.length > 1 ? 's' : ''}: ${resolution.problems.map((p) => `${p.name} ${p.message}`).join('; ')}`,
      'Correct them in the environment or the --values file.',
    );
  }
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
  return { context: summary.context ?? '(no context)', server: summary.server, sandbox: false, ...common };
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
 * kubectl (built at the server's version) and the Neo4j stand-in first on PATH.
 */
export async function maybeStartSandbox(options: GlobalOptions): Promise<SandboxHandle | undefined> {
  if (!options.sandbox) return undefined;
  const { startSandbox, parseFaults } = await import('../sandbox/index.js');
  const { findRunningSandbox, handleOf } = await import('../sandbox/handle.js');
  const { NEO4J_STANDIN_BIN_DIR } = await import('../sandbox/neo4j-standin/index.js');
  const { extendBaseEnv } = await import('../adapters/proc.js');
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
  process.env.PATH = `${sandbox.kubectlDir}:${NEO4J_STANDIN_BIN_DIR}:${process.env.PATH ?? ''}`;
  const standInState = Object.fromEntries(
    Object.entries(sandbox.values).filter(
      ([name]) => name.startsWith('NEO4J_STANDIN') || name === 'NEO4J_HOME',
    ),
  );
  extendBaseEnv(standInState);
  return sandbox;
}

/** What `report` needs from the environment: where sessions are, settings (targets) and secrets to mask once more. */
export async function reportContext(
  options: GlobalOptions,
): Promise<{ sessionDir: string; settings: Record<string, unknown>; secrets: string[] }> {
  const resolution = await resolveAll(options, undefined);
  return {
    sessionDir: options.sessionDir ?? defaultSessionDir(),
    settings: resolution.settings,
    secrets: resolution.values.secretValues(),
  };
}
