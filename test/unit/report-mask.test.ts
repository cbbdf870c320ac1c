import { describe, expect, it } from 'vitest';
import { maskString, maskValue } from '../../src/runbook/journal.js';
import { createMasker, maskDeep } from '../../src/runbook/report/mask.js';

const secrets = ['pa55', 'pa55word/with+url=chars', 'AKIAEXAMPLE', 'abc', ''];
const samples = [
  'no secret here',
  'PGPASSWORD=pa55word/with+url=chars psql',
  'postgresql://u:pa55word%2Fwith%2Burl%3Dchars@h/db',
  `data: ${Buffer.from('AKIAEXAMPLE').toString('base64')}`,
  `short abc and ${Buffer.from('abc').toString('base64')} (too short for base64 masking)`,
  'pa55 and pa55word/with+url=chars and AKIAEXAMPLE twice AKIAEXAMPLE',
  '',
];

describe('the report masker', () => {
  it.each(samples)('masks %j exactly as the journal does', (text) => {
    expect(createMasker(secrets)(text)).toBe(maskString(text, secrets));
  });

  it('masks every string of a nested value, like maskValue', () => {
    const value = { a: ['x pa55', { b: 'AKIAEXAMPLE', n: 3, t: true, z: null }], c: 'clean' };
    expect(maskDeep(value, createMasker(secrets))).toEqual(maskValue(value, secrets));
  });

  it('without secrets it changes nothing', () => {
    expect(createMasker([])('pa55')).toBe('pa55');
  });
});
