import { describe, expect, it } from 'vitest';
import { planSections } from '../../src/commands/plan.js';
import { renderPlanMarkdown, renderPlanText, shellQuote } from '../../src/runbook/plan.js';
import { resolveValues } from '../../src/runbook/values.js';

const { values } = resolveValues({
  env: {
    S3_BUCKET: 'acme-backups',
    AWS_ENDPOINT_URL: 'https://s3.example.test',
    AWS_SECRET_ACCESS_KEY: 'topsecretkey123',
    POSTGRES_HOST: 'pg.data.svc',
    NEO4J_HOST: 'neo4j.data.svc',
  },
});

describe('plan rendering', () => {
  it('lists the prerequisites with the equivalent kubectl and aws commands', () => {
    const text = renderPlanText(planSections(['prerequisites'], values, {}), values);
    expect(text).toContain('prerequisites.cluster');
    expect(text).toContain('kubectl auth can-i create secrets');
    expect(text).toContain('kubectl auth can-i create jobs.batch');
    expect(text).toContain(
      'aws s3api head-bucket --bucket acme-backups --endpoint-url https://s3.example.test',
    );
    expect(text).toContain('neo4j.data.svc/6362');
    expect(text).not.toContain('topsecretkey123');
  });

  it('regenerates the runbook as Markdown, marking sections that are not built', () => {
    const markdown = renderPlanMarkdown(planSections([], values, {}), values);
    expect(markdown).toMatch(/^# Database Backup and Restore Runbook/);
    expect(markdown).toContain('## Prerequisites');
    expect(markdown).toContain('```bash');
  });

  it('quotes shell words that need it', () => {
    expect(shellQuote('plain-word')).toBe('plain-word');
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote('$(id)')).toBe("'$(id)'");
  });
});
