// `npm ci` runs this (prepare, after the build): node_modules/.bin/db-runbook → dist/cli.js, so
// `npx db-runbook …` in the checkout runs it at once. Without the link npx does not find the project's
// own bin and spends ~15 s or more (network, cache) installing the folder before anything is drawn.
import { lstatSync, mkdirSync, symlinkSync, unlinkSync } from 'node:fs';

const root = new URL('..', import.meta.url);
const bin = new URL('node_modules/.bin/', root);
const link = new URL('db-runbook', bin).pathname;
mkdirSync(bin, { recursive: true });
try {
  lstatSync(link);
  unlinkSync(link);
} catch {
  // not there yet
}
symlinkSync('../../dist/cli.js', link);
