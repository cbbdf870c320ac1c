// The pure pieces of a restore read once into a new database, then swapped in: the roles the backup's catalog
// facts name, the dump's rows per table as postgres-restore.sh prints them, and what the swap gate shows.
import { describe, expect, it } from 'vitest';
import { parseCopyRows } from '../../src/runbook/pg-queries.js';
import { type Fact, privilegesFromFacts } from '../../src/runbook/privileges.js';
import { rowMismatches } from '../../src/steps/restore-postgres/load.js';
import { countLines } from '../../src/steps/restore-postgres/restore.js';

describe('the roles a backup names, from its catalog facts', () => {
  const facts: Fact[] = [
    { fact: 'owner', kind: 'schema', object: 'public', role: 'pg_database_owner' },
    { fact: 'owner', kind: 'table', object: 'shop.orders', role: 'shop_owner' },
    { fact: 'privileges', kind: 'table', object: 'shop.orders', role: 'shop_owner', privileges: 'arwdDxt' },
    { fact: 'privileges', kind: 'table', object: 'shop.orders', role: 'shop_ro', privileges: 'r' },
    { fact: 'privileges', kind: 'table', object: 'shop.orders', role: 'PUBLIC', privileges: 'r' },
    {
      fact: 'default privileges',
      role: 'shop_owner',
      schema: 'shop',
      on: 'tables',
      grantee: 'shop_app',
      privileges: 'arwd',
    },
  ];

  it('lists owners and grantees, without built-in roles, PUBLIC or an owner’s own privileges', () => {
    expect(privilegesFromFacts(facts)).toEqual({
      owners: ['shop_owner'],
      grantees: ['shop_app', 'shop_ro'],
      counts: { owner: 2, grant: 2, defaults: 1 },
    });
  });

  it('is empty for a backup without facts', () => {
    expect(privilegesFromFacts([])).toEqual({
      owners: [],
      grantees: [],
      counts: { owner: 0, grant: 0, defaults: 0 },
    });
  });
});

describe('the rows per table postgres-restore.sh counted in the dump', () => {
  it('reads schema.table → rows from its copy= lines, quoted names unquoted, other lines ignored', () => {
    const stdout = [
      'database=shop',
      'copy=1000 COPY public.orders (id, customer_id, total) FROM stdin;',
      'copy=3 COPY public."Order Items" (id) FROM stdin;',
      'copy=0 COPY shop.empty (id) FROM stdin;',
      'copy=x COPY public.bad (id) FROM stdin;',
      'scratch=shop_restore_20261205120000',
    ].join('\n');
    expect(parseCopyRows(stdout)).toEqual({
      'public.orders': 1000,
      'public.Order Items': 3,
      'shop.empty': 0,
    });
  });

  it('names each table whose restored count differs from the dump’s', () => {
    expect(
      rowMismatches(
        { 'public.a': 2, 'public.b': 3, 'public.c': 1 },
        new Map([
          ['public.a', 2],
          ['public.b', 4],
        ]),
      ),
    ).toEqual(['public.b: 4 (backup 3)', 'public.c: missing (backup 1)']);
  });
});

describe('what the swap gate shows', () => {
  it('puts the tables that differ from the database now first, and says how many more there are', () => {
    const restored = { 'public.a': 5, 'public.b': 10, 'public.c': 1 };
    const now = { 'public.a': 5, 'public.b': 7, 'public.d': 2 };
    expect(countLines(restored, now, 3)).toEqual([
      '  public.b: 10 restored · ≈7 now',
      '  public.c: 1 restored · absent now',
      '  public.d: absent restored · ≈2 now',
      '  … 1 more table(s)',
    ]);
  });

  it('shows the restored counts alone when the database could not be counted', () => {
    expect(countLines({ 'public.a': 5 }, undefined)).toEqual(['  public.a: 5 restored']);
  });
});
