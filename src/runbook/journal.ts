import { MASK } from './values.js';

/**
 * The session journal: one JSON object per line, append-only. Every event carries `ts` (UTC ISO),
 * `seq` and `session`. Secret values never appear: adapters record names, not values, and every
 * event is masked once more on the way to disk.
 */
export const JOURNAL_FORMAT_VERSION = 1;

export type StepStatus =
  'pending' | 'ready' | 'awaiting-confirmation' | 'running' | 'verifying' | 'done' | 'failed' | 'skipped';

export interface TargetInfo {
  /** Kube context name, or "sandbox". */
  context: string;
  server?: string;
  namespace: string;
  s3Endpoint?: string;
  bucket?: string;
  sandbox: boolean;
  /** How long the sandbox took to start (shown in its header). */
  sandboxStartupMs?: number;
  /** Why there is no Kubernetes cluster to talk to (no kubeconfig, no context), when there is none. */
  clusterProblem?: string;
}

export type JournalEventBody =
  | {
      type: 'session-start';
      version: number;
      tool: string;
      toolVersion: string;
      operator: string;
      argv: string[];
      target: TargetInfo;
      mode: 'tui' | 'run' | 'resume';
      resumedFrom?: string;
      /** The recording process and its host: a report made elsewhere can tell a live session from a dead one. */
      pid?: number;
      host?: string;
    }
  | { type: 'session-end'; outcome: 'done' | 'failed' | 'interrupted' | 'refused' | 'quit'; exitCode: number }
  | { type: 'step-state'; step: string; section: string; from: StepStatus; to: StepStatus; reason?: string }
  | { type: 'values'; values: Record<string, { source: string; value?: string; secret?: boolean }> }
  | {
      type: 'api';
      step?: string;
      service: 'kubernetes' | 's3' | 'neo4j';
      method: string;
      path: string;
      object?: string;
      status?: number | string;
      ms?: number;
    }
  | { type: 'command'; step?: string; command: string; exitCode?: number; ms?: number }
  | {
      type: 'gate';
      step: string;
      kind: 'confirm' | 'typed';
      prompt: string;
      answer: 'accepted' | 'refused' | 'overridden';
      deviation?: boolean;
      /**
       * Who answered: a person at the prompt (`operator`), or command-line flags (`flag`: `--yes`,
       * `--confirm`) with nobody asked at the time. Absent in journals written before it was recorded.
       */
      via?: GateVia;
      /** The flags that answered, when `via` is `flag` (names only, never the --confirm text). */
      flags?: string[];
    }
  | {
      /**
       * A typed gate was answered with the wrong phrase (and asked again, or refused). The typed text is
       * never recorded (it could be a pasted secret): only its length and how it differed.
       */
      type: 'gate-attempt';
      step: string;
      outcome: 'wrong-phrase';
      via: GateVia;
      length: number;
      expectedLength: number;
      /** 0-based index of the first differing character (the shorter length when one is a prefix). */
      firstDifferenceAt: number;
      /** Equal but for letter case. */
      caseOnly: boolean;
      /** Equal but for leading/trailing white space. */
      whitespaceOnly: boolean;
    }
  | {
      type: 'check';
      step: string;
      id: string;
      label: string;
      status: CheckStatus;
      detail?: string;
      next?: string;
    }
  | { type: 'result'; step: string; status: StepStatus; summary: string; data?: Record<string, unknown> }
  | { type: 'log'; step: string; line: string }
  | { type: 'preview'; step: string; lines: string[] }
  | { type: 'mark'; step?: string; name: string; at: string; data?: Record<string, unknown> }
  | { type: 'note'; text: string; author?: string };

export type JournalEvent = JournalEventBody & { ts: string; seq: number; session: string };

export type CheckStatus = 'ok' | 'fail' | 'warn' | 'skip';

export type GateVia = 'operator' | 'flag';

/** How a typed answer differed from a gate's phrase, without the answer itself. */
export function phraseMismatch(
  typed: string,
  phrase: string,
): {
  length: number;
  expectedLength: number;
  firstDifferenceAt: number;
  caseOnly: boolean;
  whitespaceOnly: boolean;
} {
  let index = 0;
  while (index < typed.length && index < phrase.length && typed[index] === phrase[index]) index++;
  return {
    length: typed.length,
    expectedLength: phrase.length,
    firstDifferenceAt: index,
    caseOnly: typed !== phrase && typed.toLowerCase() === phrase.toLowerCase(),
    whitespaceOnly: typed !== phrase && typed.trim() === phrase.trim(),
  };
}

/** Replaces every occurrence of each secret in a string. Longest first, so a secret that contains another is masked whole. */
export function maskString(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret.length === 0) continue;
    out = out.split(secret).join(MASK);
    // URL-encoded and base64 forms reach logs too (connection strings, Secret manifests).
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret) out = out.split(encoded).join(MASK);
    const b64 = Buffer.from(secret).toString('base64');
    if (secret.length >= 4) out = out.split(b64).join(MASK);
  }
  return out;
}

/** Deep copy of a value with every string masked. */
export function maskValue<T>(value: T, secrets: readonly string[]): T {
  if (secrets.length === 0) return value;
  if (typeof value === 'string') return maskString(value, secrets) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => maskValue(item, secrets)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value as Record<string, unknown>))
      out[key] = maskValue(item, secrets);
    return out as T;
  }
  return value;
}

export function serializeEvent(event: JournalEvent, secrets: readonly string[]): string {
  return JSON.stringify(maskValue(event, secrets)) + '\n';
}

export interface DamagedLine {
  /** 1-based line number in the journal file. */
  line: number;
  /** The line's first 200 characters. */
  text: string;
  /** Why it was left out: not JSON (a torn write after a crash?), or not a well-formed event. */
  reason?: string;
}

export interface ParsedJournal {
  events: JournalEvent[];
  /** Lines that could not be used (a torn last line after a crash, a malformed event), with their 1-based numbers. */
  damaged: DamagedLine[];
}

const CHECK_STATUSES = new Set(['ok', 'fail', 'warn', 'skip']);
type Shape = Record<
  string,
  | 'string'
  | 'string?'
  | 'number'
  | 'number?'
  | 'boolean?'
  | 'object'
  | 'object?'
  | 'strings'
  | 'time'
  | 'status?'
>;

/** The fields each event type must have, with their JSON types (`?`: may be absent). */
const SHAPES: Record<string, Shape> = {
  'session-start': {
    operator: 'string',
    argv: 'strings',
    target: 'object',
    mode: 'string',
    resumedFrom: 'string?',
  },
  'session-end': { outcome: 'string', exitCode: 'number' },
  'step-state': { step: 'string', section: 'string', from: 'string', to: 'string', reason: 'string?' },
  values: { values: 'object' },
  api: {
    service: 'string',
    method: 'string',
    path: 'string',
    object: 'string?',
    step: 'string?',
    ms: 'number?',
    status: 'status?',
  },
  command: { command: 'string', step: 'string?', exitCode: 'number?', ms: 'number?' },
  gate: { step: 'string', kind: 'string', prompt: 'string', answer: 'string', deviation: 'boolean?' },
  check: {
    step: 'string',
    id: 'string',
    label: 'string',
    status: 'string',
    detail: 'string?',
    next: 'string?',
  },
  result: { step: 'string', status: 'string', summary: 'string', data: 'object?' },
  log: { step: 'string', line: 'string' },
  preview: { step: 'string', lines: 'strings' },
  mark: { name: 'string', at: 'time', step: 'string?', data: 'object?' },
  note: { text: 'string', author: 'string?' },
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fieldProblem(kind: Shape[string], value: unknown): boolean {
  const optional = kind.endsWith('?');
  if (value === undefined) return !optional;
  switch (kind.replace('?', '')) {
    case 'string':
      return typeof value !== 'string';
    case 'number':
      return typeof value !== 'number' || !Number.isFinite(value);
    case 'boolean':
      return typeof value !== 'boolean';
    case 'object':
      return !isPlainObject(value);
    case 'strings':
      return !Array.isArray(value) || value.some((item) => typeof item !== 'string');
    case 'time':
      return typeof value !== 'string' || !Number.isFinite(Date.parse(value));
    case 'status':
      return typeof value !== 'string' && typeof value !== 'number';
    default:
      return true;
  }
}

/**
 * Why a parsed line is not a well-formed event (every event: a type, a valid `ts`; each type its own
 * fields with their types), or undefined. Unknown types (from a newer version) pass with a valid `ts`.
 */
export function eventProblem(parsed: unknown): string | undefined {
  if (!isPlainObject(parsed)) return 'not a JSON object';
  if (typeof parsed.type !== 'string') return 'no "type"';
  if (typeof parsed.ts !== 'string' || !Number.isFinite(Date.parse(parsed.ts))) return 'no valid "ts"';
  if (parsed.seq !== undefined && typeof parsed.seq !== 'number') return '"seq" is not a number';
  if (parsed.session !== undefined && typeof parsed.session !== 'string') return '"session" is not a string';
  const shape = SHAPES[parsed.type];
  if (!shape) return undefined;
  for (const [field, kind] of Object.entries(shape))
    if (fieldProblem(kind, parsed[field]))
      return `${parsed.type}: "${field}" is missing or not ${kind.replace('?', '')}`;
  if (parsed.type === 'check' && !CHECK_STATUSES.has(parsed.status as string))
    return 'check: unknown "status"';
  if (parsed.type === 'session-start') {
    const target = parsed.target as Record<string, unknown>;
    if (typeof target.context !== 'string' || typeof target.namespace !== 'string')
      return 'session-start: "target" has no context or namespace';
  }
  if (parsed.type === 'values')
    for (const entry of Object.values(parsed.values as Record<string, unknown>))
      if (!isPlainObject(entry) || typeof entry.source !== 'string')
        return 'values: an entry has no "source"';
  return undefined;
}

/** Reads a journal's text. A torn, corrupt or malformed line is reported with its number, never fatal. */
export function parseJournal(text: string): ParsedJournal {
  const events: JournalEvent[] = [];
  const damaged: DamagedLine[] = [];
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      damaged.push({
        line: index + 1,
        text: line.slice(0, 200),
        reason: 'not JSON (a torn write after a crash?)',
      });
      return;
    }
    const problem = eventProblem(parsed);
    if (problem === undefined) events.push(parsed as JournalEvent);
    else damaged.push({ line: index + 1, text: line.slice(0, 200), reason: problem });
  });
  return { events, damaged };
}
