/** JSON merge patch (RFC 7386) and JSON patch (RFC 6902), applied to plain JSON values. */

import { badRequest, StatusError } from './status.js';
import { clone, deepEqual, isPlainObject } from './types.js';

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return clone(patch);
  const result: Record<string, unknown> = isPlainObject(target) ? clone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

interface Operation {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw badRequest(`JSON pointer must start with '/': ${pointer}`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

type Container = Record<string, unknown> | unknown[];

function resolveParent(doc: unknown, tokens: string[], op: string): { parent: Container; key: string } {
  let current: unknown = doc;
  for (const token of tokens.slice(0, -1)) {
    if (Array.isArray(current)) current = current[Number(token)];
    else if (isPlainObject(current)) current = current[token];
    else current = undefined;
    if (current === undefined) throw unprocessable(op, tokens);
  }
  if (!Array.isArray(current) && !isPlainObject(current)) throw unprocessable(op, tokens);
  return { parent: current, key: tokens[tokens.length - 1] ?? '' };
}

/** errors.NewGenericServerResponse(422, …): how the API server reports a JSON patch that does not apply. */
function patchFailed(detail: string): StatusError {
  return new StatusError(422, 'Invalid', 'the server rejected our request due to an error in our request', {
    causes: [{ reason: 'UnexpectedServerResponse', message: detail }],
  });
}

function unprocessable(op: string, tokens: string[]): StatusError {
  return patchFailed(
    `${op} operation does not apply: doc is missing path: "/${tokens.join('/')}": missing value`,
  );
}

function arrayIndex(arr: unknown[], key: string, forInsert: boolean, op: string, tokens: string[]): number {
  if (forInsert && key === '-') return arr.length;
  if (!/^\d+$/.test(key)) throw unprocessable(op, tokens);
  const index = Number(key);
  if (index > arr.length || (!forInsert && index === arr.length)) throw unprocessable(op, tokens);
  return index;
}

function getAt(doc: unknown, tokens: string[], op: string): unknown {
  let current = doc;
  for (const token of tokens) {
    if (Array.isArray(current)) current = current[Number(token)];
    else if (isPlainObject(current)) current = current[token];
    else current = undefined;
    if (current === undefined) throw unprocessable(op, tokens);
  }
  return current;
}

function remove(doc: unknown, tokens: string[], op: string): unknown {
  const { parent, key } = resolveParent(doc, tokens, op);
  if (Array.isArray(parent)) {
    const i = arrayIndex(parent, key, false, op, tokens);
    return parent.splice(i, 1)[0];
  }
  if (!(key in parent)) throw unprocessable(op, tokens);
  const old = parent[key];
  delete parent[key];
  return old;
}

function add(doc: unknown, tokens: string[], value: unknown, op: string): unknown {
  if (tokens.length === 0) return clone(value);
  const { parent, key } = resolveParent(doc, tokens, op);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, true, op, tokens), 0, clone(value));
  else parent[key] = clone(value);
  return doc;
}

export function jsonPatch(target: unknown, operations: unknown): unknown {
  if (!Array.isArray(operations))
    throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  let doc = clone(target);
  for (const raw of operations) {
    if (!isPlainObject(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string') {
      throw badRequest('invalid JSON patch operation');
    }
    const operation = raw as unknown as Operation;
    const tokens = parsePointer(operation.path);
    switch (operation.op) {
      case 'add':
        doc = add(doc, tokens, operation.value, 'add');
        break;
      case 'remove':
        remove(doc, tokens, 'remove');
        break;
      case 'replace':
        if (tokens.length === 0) {
          doc = clone(operation.value);
        } else {
          getAt(doc, tokens, 'replace');
          const { parent, key } = resolveParent(doc, tokens, 'replace');
          if (Array.isArray(parent)) parent[Number(key)] = clone(operation.value);
          else parent[key] = clone(operation.value);
        }
        break;
      case 'move': {
        const from = parsePointer(operation.from ?? '');
        const value = remove(doc, from, 'move');
        doc = add(doc, tokens, value, 'move');
        break;
      }
      case 'copy': {
        const value = getAt(doc, parsePointer(operation.from ?? ''), 'copy');
        doc = add(doc, tokens, value, 'copy');
        break;
      }
      case 'test':
        if (!deepEqual(getAt(doc, tokens, 'test'), operation.value)) {
          throw patchFailed(`testing value ${operation.path} failed: test failed`);
        }
        break;
      default:
        throw badRequest(`Unexpected kind: ${operation.op}`);
    }
  }
  return doc;
}
