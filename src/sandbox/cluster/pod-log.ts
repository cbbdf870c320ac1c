/**
 * A container's log as the kubelet keeps it: stdout and stderr interleaved line by line with a
 * timestamp each, the newest CAP bytes in memory (older lines dropped) and everything in a file;
 * followers get lines as they complete and an end when the container exits.
 */

import { createWriteStream } from 'node:fs';
import type { WriteStream } from 'node:fs';

export interface LogLine {
  time: string;
  text: string;
}

export interface LogQuery {
  tailLines?: number;
  timestamps?: boolean;
  sinceSeconds?: number;
  sinceTime?: string;
  limitBytes?: number;
}

const DEFAULT_CAP = 5 * 1024 * 1024;

type Follower = { onLine: (line: LogLine) => void; onEnd: () => void };

export class PodLog {
  private lines: LogLine[] = [];
  private bytes = 0;
  private readonly partial: Record<'stdout' | 'stderr', LogLine | undefined> = {
    stdout: undefined,
    stderr: undefined,
  };
  private readonly followers = new Set<Follower>();
  private file: WriteStream | undefined;
  private done = false;

  constructor(
    filePath?: string,
    private readonly cap = DEFAULT_CAP,
  ) {
    if (filePath) {
      this.file = createWriteStream(filePath, { flags: 'a' });
      this.file.on('error', () => undefined);
    }
  }

  get closed(): boolean {
    return this.done;
  }

  write(stream: 'stdout' | 'stderr', chunk: Buffer | string): void {
    if (this.done) return;
    const text = chunk.toString();
    this.file?.write(text);
    let rest = text;
    while (rest.length > 0) {
      const newline = rest.indexOf('\n');
      const piece = newline >= 0 ? rest.slice(0, newline + 1) : rest;
      rest = newline >= 0 ? rest.slice(newline + 1) : '';
      const pending = this.partial[stream];
      const line = pending
        ? { time: pending.time, text: pending.text + piece }
        : { time: new Date().toISOString(), text: piece };
      if (newline >= 0) {
        this.partial[stream] = undefined;
        this.commit(line);
      } else {
        this.partial[stream] = line;
      }
    }
  }

  private commit(line: LogLine): void {
    this.lines.push(line);
    this.bytes += Buffer.byteLength(line.text);
    while (this.bytes > this.cap && this.lines.length > 1) {
      const dropped = this.lines.shift();
      this.bytes -= dropped ? Buffer.byteLength(dropped.text) : 0;
    }
    for (const f of this.followers) f.onLine(line);
  }

  /** Flushes unterminated lines and ends every follower. */
  close(): void {
    if (this.done) return;
    for (const stream of ['stdout', 'stderr'] as const) {
      const pending = this.partial[stream];
      if (pending) this.commit(pending);
      this.partial[stream] = undefined;
    }
    this.done = true;
    this.file?.end();
    this.file = undefined;
    for (const f of this.followers) f.onEnd();
    this.followers.clear();
  }

  /** The lines a query selects (tailLines, sinceSeconds/sinceTime). */
  select(query: LogQuery): LogLine[] {
    let lines = this.lines;
    const since = query.sinceTime
      ? Date.parse(query.sinceTime)
      : query.sinceSeconds !== undefined
        ? Date.now() - query.sinceSeconds * 1000
        : undefined;
    if (since !== undefined && !Number.isNaN(since)) lines = lines.filter((l) => Date.parse(l.time) >= since);
    if (query.tailLines !== undefined && query.tailLines >= 0)
      lines = query.tailLines === 0 ? [] : lines.slice(-query.tailLines);
    return [...lines];
  }

  follow(onLine: (line: LogLine) => void, onEnd: () => void): () => void {
    if (this.done) {
      onEnd();
      return () => undefined;
    }
    const follower = { onLine, onEnd };
    this.followers.add(follower);
    return () => this.followers.delete(follower);
  }
}

export function formatLine(line: LogLine, timestamps: boolean | undefined): string {
  return timestamps ? `${line.time} ${line.text}` : line.text;
}
