import { MASK } from '../values.js';

export type Masker = (text: string) => string;

/**
 * `maskString` from the journal module for many strings: the same forms (the secret, URL-encoded,
 * base64 when 4+ characters) in the same order (longest secret first), worked out once instead of per
 * string. A report of a 100k-event journal masks every string it prints.
 */
export function createMasker(secrets: readonly string[]): Masker {
  const forms: string[] = [];
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret === '') continue;
    forms.push(secret);
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret) forms.push(encoded);
    if (secret.length >= 4) forms.push(Buffer.from(secret).toString('base64'));
  }
  if (forms.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const form of forms) if (out.includes(form)) out = out.split(form).join(MASK);
    return out;
  };
}

/** A deep copy with every string masked. */
export function maskDeep<T>(value: T, mask: Masker): T {
  if (typeof value === 'string') return mask(value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => maskDeep(item, mask)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value as Record<string, unknown>))
      out[key] = maskDeep(item, mask);
    return out as T;
  }
  return value;
}
