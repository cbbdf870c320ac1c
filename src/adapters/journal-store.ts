import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  writeSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  parseJournal,
  serializeEvent,
  type JournalEvent,
  type JournalEventBody,
  type ParsedJournal,
} from '../runbook/journal.js';

/** `$XDG_STATE_HOME/db-runbook/sessions`, else `~/.local/state/db-runbook/sessions`. */
export function defaultSessionDir(env: NodeJS.ProcessEnv = process.env): string {
  const base =
    env.XDG_STATE_HOME && env.XDG_STATE_HOME !== '' ? env.XDG_STATE_HOME : join(homedir(), '.local', 'state');
  return join(base, 'db-runbook', 'sessions');
}

export interface JournalWriter {
  readonly sessionId: string;
  readonly path: string;
  append(event: JournalEventBody): JournalEvent;
  /** Secrets learned after the session opened (typed into a form) are masked from then on. */
  addSecrets(values: readonly string[]): void;
  close(): void;
}

/** A new session id: sortable UTC time plus a random suffix. */
export function newSessionId(now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${Math.random().toString(36).slice(2, 6)}`;
}

/**
 * Opens (or continues) a session journal: JSON lines, mode 0600, one write + fsync per event, so a
 * crash loses at most the event being written.
 */
export function openJournal(dir: string, sessionId: string, secrets: readonly string[]): JournalWriter {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `${sessionId}.jsonl`);
  const fd = openSync(path, 'a', 0o600);
  // A crash can leave a torn last line without its newline: start on a fresh line so the next event stays whole.
  if (endsMidLine(path)) writeSync(fd, '\n');
  const known = new Set(secrets.filter((secret) => secret !== ''));
  let seq = existingEvents(path);
  let open = true;
  return {
    sessionId,
    path,
    append(body) {
      const event = { ...body, ts: new Date().toISOString(), seq: ++seq, session: sessionId } as JournalEvent;
      if (!open) return event;
      writeSync(fd, serializeEvent(event, [...known]));
      fsyncSync(fd);
      return event;
    },
    addSecrets(values) {
      for (const value of values) if (value !== '') known.add(value);
    },
    close() {
      if (!open) return;
      open = false;
      closeSync(fd);
    },
  };
}

function endsMidLine(path: string): boolean {
  try {
    const text = readFileSync(path, 'utf8');
    return text.length > 0 && !text.endsWith('\n');
  } catch {
    return false;
  }
}

function existingEvents(path: string): number {
  try {
    return parseJournal(readFileSync(path, 'utf8')).events.length;
  } catch {
    return 0;
  }
}

export function readJournal(dir: string, sessionId: string): ParsedJournal {
  return parseJournal(readFileSync(join(dir, `${sessionId}.jsonl`), 'utf8'));
}

/** Session ids in the directory, newest first. */
export function listSessions(dir: string): { id: string; path: string; modified: Date }[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((name) => name.endsWith('.jsonl'))
    .map((name) => {
      const path = join(dir, name);
      return { id: name.slice(0, -'.jsonl'.length), path, modified: statSync(path).mtime };
    })
    .sort((a, b) => b.id.localeCompare(a.id));
}
