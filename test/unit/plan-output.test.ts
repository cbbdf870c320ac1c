// What `db-runbook plan` prints: never "undefined" for a value not set yet, and shell commands that
// paste as they are (a heredoc's lines are not prefixed with "$ ").
import { describe, expect, it } from 'vitest';
import { planSections } from '../../src/commands/plan.js';
import { renderPlanMarkdown, renderPlanText } from '../../src/runbook/plan.js';
import { resolveValues } from '../../src/runbook/values.js';

describe('plan output', () => {
  it('--format markdown and text name a value not set yet as <NAME>, never "undefined"', () => {
    const { values } = resolveValues({ env: {} });
    const planned = planSections([], values, { 'write-canary': false });
    const markdown = renderPlanMarkdown(planned, values);
    const text = renderPlanText(planned, values);
    expect(markdown).not.toMatch(/undefined/);
    expect(text).not.toMatch(/undefined/);
    expect(markdown).toContain('Application writes to <POSTGRES_DATABASE> are resumed');
    expect(text).toMatch(/on <POSTGRES_HOST>:5432/);
  });

  it('prints a heredoc command so it pastes: "$ " on its first line only, the body and EOF unindented', () => {
    const { values } = resolveValues({ env: { S3_BUCKET: 'acme-db-backups' } });
    const text = renderPlanText(planSections(['troubleshoot'], values, {}), values);
    const lines = text.split('\n');
    const start = lines.findIndex((line) => /\$ .*<<'?EOF'?$/.test(line));
    expect(start, text).toBeGreaterThan(0);
    const end = lines.indexOf('EOF', start);
    expect(end).toBeGreaterThan(start);
    for (const line of lines.slice(start + 1, end + 1)) expect(line).not.toMatch(/^\s*\$ /);
    expect(lines[end]).toBe('EOF');
  });
});
