// Runs every benchmark in bench/ (or the ones named: npm run bench -- startup report) and prints their figures.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const dir = new URL('../bench/', import.meta.url);
const wanted = process.argv.slice(2);
const all = readdirSync(dir).filter((name) => name.endsWith('.mjs') && !name.startsWith('_'));
const chosen = wanted.length ? all.filter((name) => wanted.includes(name.replace(/\.mjs$/, ''))) : all;
let failed = 0;
for (const name of chosen) {
  console.log(`\n=== ${name} ===`);
  const result = spawnSync(process.execPath, [new URL(name, dir).pathname], { stdio: 'inherit' });
  if (result.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
