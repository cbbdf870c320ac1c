import { closeSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { parseJournal, type ParsedJournal } from '../runbook/journal.js';
import { MAX_JOURNAL_BYTES, openBounded } from './bounded-file.js';

/**
 * `readJournal` for big journals: the same result, read and parsed a block at a time, so a 100k-event
 * journal never sits in memory as one string next to its parsed events. Only a regular file of at most
 * `maxBytes` is read (a FIFO or a device named `*.jsonl` is refused at once: FileInputError); lines that
 * are not JSON or not well-formed events are left out and listed with their numbers.
 */
export function readJournalInBlocks(
  dir: string,
  sessionId: string,
  blockBytes = 1 << 20,
  maxBytes = MAX_JOURNAL_BYTES,
): ParsedJournal {
  const { fd } = openBounded(join(dir, `${sessionId}.jsonl`), 'the journal', maxBytes);
  const result: ParsedJournal = { events: [], damaged: [] };
  const decoder = new StringDecoder('utf8');
  const buffer = Buffer.alloc(blockBytes);
  let pending = '';
  let linesBefore = 0;
  const take = (text: string) => {
    const parsed = parseJournal(text);
    for (const event of parsed.events) result.events.push(event);
    for (const damaged of parsed.damaged)
      result.damaged.push({ ...damaged, line: damaged.line + linesBefore });
  };
  let total = 0;
  try {
    for (;;) {
      const read = readSync(fd, buffer, 0, blockBytes, null);
      if (read === 0) break;
      total += read;
      if (total > maxBytes) break; // grew past the limit while it was read: the rest is left out
      pending += decoder.write(buffer.subarray(0, read));
      const end = pending.lastIndexOf('\n');
      if (end === -1) continue;
      take(pending.slice(0, end));
      linesBefore += countNewlines(pending, end);
      pending = pending.slice(end + 1);
    }
  } finally {
    closeSync(fd);
  }
  pending += decoder.end();
  if (pending !== '') take(pending);
  return result;
}

/** Newlines in text[0..end], end included. */
function countNewlines(text: string, end: number): number {
  let count = 0;
  for (let index = text.indexOf('\n'); index !== -1 && index <= end; index = text.indexOf('\n', index + 1))
    count++;
  return count;
}
