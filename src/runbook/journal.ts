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
      service: 'kubernetes' | 's3';
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

export interface ParsedJournal {
  events: JournalEvent[];
  /** Lines that could not be parsed (a torn last line after a crash), with their 1-based numbers. */
  damaged: { line: number; text: string }[];
}

/** Reads a journal's text. A torn or corrupt line is reported, never fatal. */
export function parseJournal(text: string): ParsedJournal {
  const events: JournalEvent[] = [];
  const damaged: { line: number; text: string }[] = [];
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    try {
      const parsed = JSON.parse(line) as JournalEvent;
      if (parsed && typeof parsed === 'object' && typeof parsed.type === 'string') events.push(parsed);
      else damaged.push({ line: index + 1, text: line.slice(0, 200) });
    } catch {
      damaged.push({ line: index + 1, text: line.slice(0, 200) });
    }
  });
  return { events, damaged };
}
