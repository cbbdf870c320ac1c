/** Label and field selectors as list/watch/deletecollection take them. */

import { StatusError, badRequest } from './status.js';
import type { KubeObject } from './types.js';
import { dig } from './types.js';

export type Requirement =
  | { key: string; op: '=' | '!='; value: string }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | '!exists' };

/** Splits on commas that are not inside parentheses (`env in (a,b),tier`). */
function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      terms.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  terms.push(current);
  return terms.map((t) => t.trim()).filter((t) => t.length > 0);
}

/** Parses `a=b,c!=d,e,!f,g in (x,y),h notin (z)`; throws a 400 StatusError when malformed. */
export function parseLabelSelector(text: string): Requirement[] {
  const requirements: Requirement[] = [];
  for (const term of splitTerms(text)) {
    const setMatch = /^([^\s!=(),]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
    if (setMatch) {
      const values = (setMatch[3] ?? '')
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v.length > 0);
      requirements.push({ key: setMatch[1] ?? '', op: setMatch[2] as 'in' | 'notin', values });
      continue;
    }
    const eqMatch = /^([^\s!=]+)\s*(==|=|!=)\s*([^\s=!]*)$/.exec(term);
    if (eqMatch) {
      requirements.push({
        key: eqMatch[1] ?? '',
        op: eqMatch[2] === '!=' ? '!=' : '=',
        value: eqMatch[3] ?? '',
      });
      continue;
    }
    const existsMatch = /^(!?)([^\s!=(),]+)$/.exec(term);
    if (existsMatch) {
      requirements.push({ key: existsMatch[2] ?? '', op: existsMatch[1] ? '!exists' : 'exists' });
      continue;
    }
    throw badRequest(`unable to parse requirement: found '${term}', expected: in, notin, =, ==, !=, gt, lt`);
  }
  return requirements;
}

export function matchesLabels(
  labels: Record<string, string> | undefined,
  requirements: Requirement[],
): boolean {
  const map = labels ?? {};
  return requirements.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(map, r.key);
    const value = map[r.key];
    switch (r.op) {
      case '=':
        return has && value === r.value;
      case '!=':
        return !has || value !== r.value;
      case 'in':
        return has && r.values.includes(value ?? '');
      case 'notin':
        return !has || !r.values.includes(value ?? '');
      case 'exists':
        return has;
      case '!exists':
        return !has;
    }
  });
}

export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

const FIELD_PATHS: Record<string, string[]> = {
  'metadata.name': ['metadata', 'name'],
  'metadata.namespace': ['metadata', 'namespace'],
  'status.phase': ['status', 'phase'],
  'spec.nodeName': ['spec', 'nodeName'],
  type: ['type'],
  'involvedObject.name': ['involvedObject', 'name'],
  'involvedObject.kind': ['involvedObject', 'kind'],
  'involvedObject.uid': ['involvedObject', 'uid'],
  'involvedObject.namespace': ['involvedObject', 'namespace'],
  reason: ['reason'],
  'status.successful': ['status', 'succeeded'],
};

export function parseFieldSelector(text: string): FieldRequirement[] {
  return splitTerms(text).map((term) => {
    const m = /^([^\s!=]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) throw badRequest(`invalid selector: '${text}'; can't understand '${term}'`);
    const field = m[1] ?? '';
    if (!FIELD_PATHS[field]) {
      throw new StatusError(
        400,
        'BadRequest',
        `"${field}" is not a known field selector: only "metadata.name", "metadata.namespace"`,
      );
    }
    return { field, op: m[2] === '!=' ? '!=' : '=', value: m[3] ?? '' };
  });
}

export function matchesFields(obj: KubeObject, requirements: FieldRequirement[]): boolean {
  return requirements.every((r) => {
    const raw = dig(obj, ...(FIELD_PATHS[r.field] ?? []));
    const value = raw === undefined || raw === null ? '' : String(raw);
    return r.op === '=' ? value === r.value : value !== r.value;
  });
}
