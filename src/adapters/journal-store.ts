import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
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
import { MAX_JOURNAL_BYTES, openBounded, readBoundedFile } from './bounded-file.js';

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
  // resume continues an existing journal: never open a FIFO or device for appending (that blocks or never ends)
  if (existsSync(path)) closeSync(openBounded(path, 'the journal', MAX_JOURNAL_BYTES).fd);
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
    const text = readBoundedFile(path, 'the journal', MAX_JOURNAL_BYTES);
    return text.length > 0 && !text.endsWith('\n');
  } catch {
    return false;
  }
}

function existingEvents(path: string): number {
  try {
    return parseJournal(readBoundedFile(path, 'the journal', MAX_JOURNAL_BYTES)).events.length;
  } catch {
    return 0;
  }
}

export function readJournal(dir: string, sessionId: string): ParsedJournal {
  return parseJournal(readBoundedFile(join(dir, `${sessionId}.jsonl`), 'the journal', MAX_JOURNAL_BYTES));
}

export interface SessionFile {
  id: string;
  path: string;
  modified: Date;
}

/** `*.jsonl` entries of the directory: the regular files, and the others with why they cannot be read. */
export function scanSessionDir(dir: string): {
  sessions: SessionFile[];
  unreadable: { id: string; path: string; problem: string }[];
} {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return { sessions: [], unreadable: [] };
  }
  const sessions: SessionFile[] = [];
  const unreadable: { id: string; path: string; problem: string }[] = [];
  for (const name of names) {
    if (!name.endsWith('.jsonl')) continue;
    const id = name.slice(0, -'.jsonl'.length);
    const path = join(dir, name);
    try {
      // stat follows a symlink: a dangling one throws ENOENT, a FIFO or device is not a file
      const stats = statSync(path);
      if (stats.isFile()) sessions.push({ id, path, modified: stats.mtime });
      else
        unreadable.push({
          id,
          path,
          problem: stats.isFIFO() ? 'a FIFO, not a regular file' : 'not a regular file',
        });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      unreadable.push({
        id,
        path,
        problem: code === 'ENOENT' ? 'a dangling symlink' : `cannot be read (${code})`,
      });
    }
  }
  sessions.sort((a, b) => b.id.localeCompare(a.id));
  unreadable.sort((a, b) => b.id.localeCompare(a.id));
  return { sessions, unreadable };
}

/** Session ids in the directory, newest first: regular files only (see scanSessionDir for the others). */
export function listSessions(dir: string): SessionFile[] {
  return scanSessionDir(dir).sessions;
}
