// Gates that train the right reflex: a destructive gate's phrase names what it destroys and differs
// from every phrase typed earlier in its section, so muscle memory from the first gate cannot pass it.
import { describe, expect, it } from 'vitest';
import { SECTIONS } from '../../src/runbook/sections.js';
import type { Gate } from '../../src/runbook/step.js';
import { resolveValues } from '../../src/runbook/values.js';
import { stepsOf } from '../../src/steps/index.js';

const { values } = resolveValues({
  env: {
    S3_BUCKET: 'acme-db-backups',
    POSTGRES_HOST: 'pg.data.svc',
    POSTGRES_DATABASE: 'app',
    POSTGRES_USER: 'backup',
    POSTGRES_PASSWORD: 'pw',
    NEO4J_HOST: 'neo4j.data.svc',
    NEO4J_PASSWORD: 'pw',
  },
});

function typedGates(section: (typeof SECTIONS)[number]['id']) {
  const out: { step: string; gate: Extract<Gate, { kind: 'typed' }> }[] = [];
  for (const step of stepsOf(section)) {
    let gate: Gate | undefined;
    try {
      gate = step.gate?.(values, {
        target: { context: 'prod', namespace: 'data', sandbox: false },
        from: () => undefined,
        options: {},
      });
    } catch {
      gate = undefined;
    }
    if (gate?.kind === 'typed') out.push({ step: step.id, gate });
  }
  return out;
}

describe('typed gates', () => {
  it('a destructive phrase names what it destroys and differs from every earlier phrase of its section', () => {
    let destructive = 0;
    for (const section of SECTIONS) {
      const seen: string[] = [];
      for (const { step, gate } of typedGates(section.id)) {
        if (/^DESTRUCTIVE/.test(gate.prompt)) {
          destructive++;
          expect(seen, `${step}: "${gate.phrase}" was typed earlier in ${section.id}`).not.toContain(
            gate.phrase,
          );
          expect(gate.phrase, step).toMatch(/^(drop|overwrite) (app|neo4j)$/);
          expect(gate.prompt, step).toContain(`"${gate.phrase}"`);
        }
        seen.push(gate.phrase);
      }
    }
    expect(destructive).toBe(2);
  });
});
