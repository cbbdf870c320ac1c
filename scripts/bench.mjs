// Runs every benchmark in bench/ (or the ones named: npm run bench -- startup report) and prints their figures.
// Flags (--quick: the ≤ 2-minute size a session runs) pass through to every bench; a bench that does not know
// a flag ignores it.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const dir = new URL('../bench/', import.meta.url);
const args = process.argv.slice(2);
const wanted = args.filter((arg) => !arg.startsWith('-'));
const flags = args.filter((arg) => arg.startsWith('-'));
const all = readdirSync(dir).filter((name) => name.endsWith('.mjs') && !name.startsWith('_'));
const unknown = wanted.filter((name) => !all.includes(`${name}.mjs`));
if (unknown.length) {
  console.error(
    `no such bench: ${unknown.join(', ')} (have: ${all.map((n) => n.replace(/\.mjs$/, '')).join(', ')})`,
  );
  process.exit(2);
}
const chosen = wanted.length ? all.filter((name) => wanted.includes(name.replace(/\.mjs$/, ''))) : all;
let failed = 0;
for (const name of chosen) {
  console.log(`\n=== ${name}${flags.length ? ` ${flags.join(' ')}` : ''} ===`);
  const result = spawnSync(process.execPath, [new URL(name, dir).pathname, ...flags], { stdio: 'inherit' });
  if (result.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
