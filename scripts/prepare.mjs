// npm's `prepare`: build dist/ unless it is newer than every source file, then link
// node_modules/.bin/db-runbook → dist/cli.js.
//
// Why the check: `npx db-runbook` inside this checkout finds that the project itself provides the bin,
// installs the folder into npx's cache and runs `prepare` on it — the first time in each directory.
// With an unconditional build that is tsc + esbuild again (about 40 s on a loaded machine) before the
// first frame; when `npm ci` has just built, it is now a no-op.
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, statSync, symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

function newest(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = stat.mtimeMs;
  for (const name of readdirSync(path)) latest = Math.max(latest, newest(join(path, name)));
  return latest;
}

const cli = join(root, 'dist', 'cli.js');
const sources = ['src', 'scripts/postbuild.mjs', 'package.json', 'tsconfig.json', 'tsconfig.build.json']
  .map((name) => join(root, name))
  .filter((path) => existsSync(path));
const upToDate = existsSync(cli) && statSync(cli).mtimeMs >= Math.max(...sources.map(newest));
if (!upToDate) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });

const bin = join(root, 'node_modules', '.bin');
const link = join(bin, 'db-runbook');
mkdirSync(bin, { recursive: true });
try {
  lstatSync(link);
  unlinkSync(link);
} catch {
  // not there yet
}
symlinkSync('../../dist/cli.js', link);
