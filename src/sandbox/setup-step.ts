/**
 * The sandbox's side of the setup step (scripts/setup.mjs --no-apt): run once per process, it builds or
 * fetches what is missing (the control plane, Neo4j) with progress on stderr, and says where they are.
 */

import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { SandboxSetupError } from './postgres.js';

export interface SetupResult {
  controlPlaneDir?: string;
  neo4jHome?: string;
}

/** The checkout this code runs from (src/ or dist/, bundled or not). */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && /"name":\s*"db-runbook"/.test(readFileSync(manifest, 'utf8'))) return dir;
    const parent = dirname(dir);
    if (parent === dir)
      throw new SandboxSetupError('cannot find the db-runbook checkout this sandbox runs from');
    dir = parent;
  }
}

let running: Promise<SetupResult> | undefined;

/** Runs the setup step once for this process; a failure is one line saying what to do (exit 2). */
export function runSetup(): Promise<SetupResult> {
  running ??= setupOnce();
  running.catch(() => (running = undefined));
  return running;
}

async function setupOnce(): Promise<SetupResult> {
  const child = spawn(process.execPath, [join(projectRoot(), 'scripts', 'setup.mjs'), '--no-apt'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  // Progress goes to the terminal a line late, so that a failure's last line becomes the one error message.
  let pending = '';
  let held: string | undefined;
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    for (let newline = pending.indexOf('\n'); newline >= 0; newline = pending.indexOf('\n')) {
      if (held !== undefined) process.stderr.write(`${held}\n`);
      held = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
    }
  });
  const code = await new Promise<number>((resolve) => {
    child.on('error', () => resolve(1));
    child.on('close', (exit) => resolve(exit ?? 1));
  });
  let result: SetupResult | undefined;
  try {
    result = code === 0 ? (JSON.parse(stdout.trim().split('\n').pop() || '{}') as SetupResult) : undefined;
  } catch {
    result = undefined;
  }
  if (!result) {
    throw new SandboxSetupError(
      (held ?? '').replace(/^setup: /, '') ||
        'the sandbox setup failed: run `node scripts/setup.mjs` and follow what it says',
    );
  }
  if (held !== undefined) process.stderr.write(`${held}\n`);
  return result;
}
