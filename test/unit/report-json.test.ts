import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import type { JournalEvent } from '../../src/runbook/journal.js';
import { buildReport, renderJson, REPORT_SCHEMA_VERSION } from '../../src/runbook/report/index.js';
import { drillFixture, drillJournal, FIXED_NOW, SANDBOX_SETTINGS, sandboxJournal } from './report-fixture.js';

// ajv-formats is CommonJS: its default import is the module object under NodeNext typings.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

const schema = JSON.parse(
  readFileSync(new URL('../../docs/report-schema.json', import.meta.url), 'utf8'),
) as {
  $schema: string;
  properties: { schemaVersion: { const: number } };
};

function validator() {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  addFormats(ajv);
  return ajv.compile(schema);
}

function drillJson(): unknown {
  const { events, damaged } = drillJournal();
  const model = buildReport(events, {
    damaged,
    settings: drillFixture.settings,
    secrets: drillFixture.secrets,
    notes: 'Facilitator notes.',
    now: FIXED_NOW,
  });
  return JSON.parse(renderJson(model));
}

describe('docs/report-schema.json', () => {
  it('is JSON Schema draft 2020-12 and versions the report', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.properties.schemaVersion.const).toBe(REPORT_SCHEMA_VERSION);
  });

  it('validates the drill report', () => {
    const validate = validator();
    const report = drillJson();
    expect(validate(report), JSON.stringify(validate.errors, null, 2)).toBe(true);
    expect(report).toMatchObject({
      schemaVersion: 2,
      kind: 'db-runbook/dr-report',
      result: { verdict: 'FAIL' },
      recoveries: [
        {
          id: 'incident-restore/postgres',
          rpo: { verdict: 'PASS', achievedSeconds: 27595 },
          rto: { verdict: 'FAIL', target: '2h' },
        },
      ],
      backups: [{ verified: true, size: 1843212288, recovery: 'incident-restore/postgres' }],
      nextDrill: { date: '2026-04-15' },
    });
  });

  it.each([
    ['the restore-then-drill TUI session', 'sandbox-restore-drill', false],
    ['the restore-then-drill TUI session, exported live', 'sandbox-restore-drill', true],
    ['the sessions with every deviation kind', 'sandbox-deviations', false],
  ] as const)('validates the report of %s', (_label, name, live) => {
    const validate = validator();
    const { events, damaged } = sandboxJournal(name);
    const report = JSON.parse(
      renderJson(buildReport(events, { damaged, settings: SANDBOX_SETTINGS, now: FIXED_NOW, live })),
    ) as { recoveries: unknown[]; deviations: { evidence: unknown[] }[]; digest: unknown[] };
    expect(validate(report), JSON.stringify(validate.errors, null, 2)).toBe(true);
    expect(report.recoveries.length).toBeGreaterThan(0);
    expect(report.digest.length).toBeGreaterThan(0);
  });

  it('validates the report of an empty journal and of a session killed before its end', () => {
    const validate = validator();
    expect(
      validate(JSON.parse(renderJson(buildReport([], { now: FIXED_NOW })))),
      JSON.stringify(validate.errors),
    ).toBe(true);
    const { events } = drillJournal();
    const cut = buildReport(events.slice(0, 40) as JournalEvent[], { now: FIXED_NOW });
    expect(validate(JSON.parse(renderJson(cut))), JSON.stringify(validate.errors)).toBe(true);
  });

  it('is the model itself, written with one timeline row per line', () => {
    const { events, damaged } = drillJournal();
    const model = buildReport(events, { damaged, now: FIXED_NOW });
    const text = renderJson(model);
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(model)));
    expect(text).toMatch(/\n {4}\{"at":"2026-01-15T10:00:00.120Z","seq":1,"step":null,/);
    expect(renderJson({ ...model, timeline: [] })).toMatch(/"timeline": \[\]\n\}\n$/);
  });

  it('rejects a report that drifts from the contract', () => {
    const validate = validator();
    const report = drillJson() as Record<string, unknown> & {
      recoveries: { rto: Record<string, unknown> }[];
    };
    report.recoveries[0]!.rto.verdict = 'maybe';
    expect(validate(report)).toBe(false);
    const extra = { ...(drillJson() as object), surprise: true };
    expect(validate(extra)).toBe(false);
    const older = { ...(drillJson() as object), schemaVersion: 1 };
    expect(validate(older)).toBe(false);
  });
});
