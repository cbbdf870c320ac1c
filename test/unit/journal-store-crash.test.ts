import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openJournal, readJournal } from '../../src/adapters/journal-store.js';
import { tempDir } from '../support/temp.js';
import { parseJournal } from '../../src/runbook/journal.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Compiles a source module and the relative imports it reaches into `out` as plain ESM, so a child
 * process can run the real journal writer without a build or a TypeScript loader.
 */
function transpileTree(entry: string, out: string): string {
  const pending = [resolve(root, entry)];
  const done = new Set<string>();
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (done.has(file)) continue;
    done.add(file);
    const source = readFileSync(file, 'utf8');
    const js = ts.transpileModule(source, {
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        verbatimModuleSyntax: true,
      },
    }).outputText;
    const target = join(out, relative(root, file)).replace(/\.tsx?$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, js);
    for (const match of js.matchAll(/from\s+'(\.{1,2}\/[^']+)\.js'/g))
      pending.push(resolve(dirname(file), `${match[1] as string}.ts`));
  }
  return join(out, relative(root, resolve(root, entry))).replace(/\.ts$/, '.js');
}

const WRITER = `
import { openJournal } from './STORE';
const [dir, id] = process.argv.slice(2);
const journal = openJournal(dir, id, ['hunter2-secret']);
const filler = 'x'.repeat(Number(process.env.FILLER ?? 2000));
for (let i = 0; ; i++) {
  journal.append({ type: 'log', step: 'restore-postgres.restore', line: 'row ' + i + ' hunter2-secret ' + filler });
  if (i === 20) process.stdout.write('ready\\n');
}
`;

let work: string;
let build: string;
let writerPath: string;

beforeAll(() => {
  work = tempDir('journal-crash-');
  // Inside the project, so the compiled modules resolve their packages from node_modules.
  const cache = join(root, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  build = mkdtempSync(join(cache, 'journal-crash-'));
  const store = transpileTree('src/adapters/journal-store.ts', build);
  writerPath = join(build, 'writer.mjs');
  writeFileSync(writerPath, WRITER.replace('./STORE', `./${relative(build, store)}`));
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(build, { recursive: true, force: true });
});

/** Starts the writer, waits until it is appending, lets it run `ms` more, then SIGKILLs it. */
function killWhileAppending(sessionDir: string, id: string, ms: number, filler: number): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [writerPath, sessionDir, id], {
      env: { ...process.env, FILLER: String(filler) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.once('data', () => setTimeout(() => child.kill('SIGKILL'), ms));
    child.on('exit', (code, signal) =>
      signal === 'SIGKILL' ? resolvePromise() : reject(new Error(`writer exited ${code}: ${stderr}`)),
    );
  });
}

describe('the journal survives kill -9 while appending', () => {
  it.each([
    [0, 200],
    [7, 2000],
    [23, 20_000],
    [61, 200_000],
  ])('killed %d ms after it started appending (%d-byte events)', async (ms, filler) => {
    const sessionDir = join(work, `sessions-${ms}`);
    const id = `20260101T000000Z-k${ms}`;
    await killWhileAppending(sessionDir, id, ms, filler);
    const text = readFileSync(join(sessionDir, `${id}.jsonl`), 'utf8');
    const { events, damaged } = parseJournal(text);
    expect(events.length).toBeGreaterThan(20);
    // At most the event being written is lost, and only as the last line.
    expect(damaged.length).toBeLessThanOrEqual(1);
    if (damaged.length === 1) expect(damaged[0]?.line).toBe(events.length + 1);
    expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1));
    expect(text).not.toContain('hunter2-secret');
  });
});

describe('a journal cut in the middle of a line', () => {
  it('reads every whole event and reports the torn last line, never throws', () => {
    const sessionDir = join(work, 'cut');
    const journal = openJournal(sessionDir, 'cut', []);
    for (let i = 0; i < 10; i++) journal.append({ type: 'note', text: `event ${i}` });
    journal.close();
    const path = join(sessionDir, 'cut.jsonl');
    const full = readFileSync(path, 'utf8');
    const lastLineStart = full.lastIndexOf('\n', full.length - 2) + 1;
    truncateSync(path, lastLineStart + 17);
    const { events, damaged } = readJournal(sessionDir, 'cut');
    expect(events).toHaveLength(9);
    expect(damaged).toEqual([
      {
        line: 10,
        text: full.slice(lastLineStart, lastLineStart + 17),
        reason: 'not JSON (a torn write after a crash?)',
      },
    ]);
  });
});
