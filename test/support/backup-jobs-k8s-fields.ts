// Strict field validation (what `kubectl apply --validate=strict` adds to the OpenAPI type checks): every field
// of a manifest must exist in the Kubernetes API types. The known fields come from kubernetes-models' generated
// declarations (one interface per API type, generated from the Kubernetes OpenAPI schema).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from './backup-jobs-run.js';

interface Field {
  type: string;
  file: string;
}

const cache = new Map<string, Map<string, Field> | null>();

/** The fields of the first exported interface in a .d.ts file, or null for a type alias (a scalar). */
function fieldsOf(file: string): Map<string, Field> | null {
  const cached = cache.get(file);
  if (cached !== undefined) return cached;
  const text = readFileSync(file, 'utf8');
  const start = /^export interface \w+(?: extends ([\w, ]+))? \{$/m.exec(text);
  if (!start) {
    cache.set(file, null);
    return null;
  }
  const fields = new Map<string, Field>();
  if (start[1]?.includes('TypeMeta')) {
    fields.set('apiVersion', { type: 'string', file });
    fields.set('kind', { type: 'string', file });
  }
  const body = text
    .slice(start.index + start[0].length, text.indexOf('\n}', start.index))
    // map types are declared over three lines: "labels"?: {\n [key: string]: string;\n };
    .replace(/\{\s*\[key: string\]: ([^;]+);\s*\}/g, '{ [key: string]: $1 }');
  for (const m of body.matchAll(/^\s{4}"([^"]+)"\??: (.+);$/gm)) fields.set(m[1]!, { type: m[2]!, file });
  cache.set(file, fields);
  return fields;
}

/** Resolves an imported interface name used in `file` to the .d.ts that declares it. */
function importedFile(file: string, name: string): string | undefined {
  const text = readFileSync(file, 'utf8');
  const m = new RegExp(`import \\{ ${name} \\} from "([^"]+)";`).exec(text);
  if (!m) return undefined;
  const spec = m[1]!;
  if (spec.startsWith('.')) return join(dirname(file), `${spec}.d.ts`);
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', `${spec}.d.ts`);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

function check(value: unknown, type: string, file: string, path: string, errors: string[]): void {
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (Array.isArray(value))
      value.forEach((item, i) => check(item, array[1]!, file, `${path}[${i}]`, errors));
    return;
  }
  const map = /^\{ \[key: string\]: (.+) \}$/.exec(type);
  if (map) {
    if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) check(v, map[1]!, file, `${path}.${k}`, errors);
    }
    return;
  }
  if (!/^I\w+$/.test(type)) return;
  const target = importedFile(file, type);
  if (!target) return;
  checkObject(value, target, path, errors);
}

function checkObject(value: unknown, file: string, path: string, errors: string[]): void {
  const fields = fieldsOf(file);
  if (!fields || !value || typeof value !== 'object' || Array.isArray(value)) return;
  for (const [key, child] of Object.entries(value)) {
    const field = fields.get(key);
    if (!field) errors.push(`${path}.${key}: unknown field`);
    else check(child, field.type, field.file, `${path}.${key}`, errors);
  }
}

/** Unknown fields of a batch/v1 CronJob, as paths like `spec.jobTemplate.spec.backofLimit`. */
export function unknownCronJobFields(manifest: unknown): string[] {
  const errors: string[] = [];
  checkObject(
    manifest,
    join(REPO_ROOT, 'node_modules', 'kubernetes-models', 'batch', 'v1', 'CronJob.d.ts'),
    '',
    errors,
  );
  return errors.map((e) => e.replace(/^\./, ''));
}
