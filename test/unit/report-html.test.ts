// The HTML report of a real sandbox session, opened in headless Chromium: it renders without a console
// error, a screenshot is saved, and it prints to a multi-page PDF. Self-contained: no script, nothing
// loaded from anywhere.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildReport, renderHtml } from '../../src/runbook/report/index.js';
import { chromium, CHROMIUM } from '../support/chromium.js';
import { tempDir } from '../support/temp.js';
import { FIXED_NOW, SANDBOX_SETTINGS, sandboxJournal } from './report-fixture.js';

/**
 * Screenshots and PDFs: in a temp folder removed after the run, or kept for a person to look at in
 * DB_RUNBOOK_REPORT_HTML_DIR (the path is printed). A fixed folder in /tmp was left behind by every run.
 */
const keep = process.env.DB_RUNBOOK_REPORT_HTML_DIR;
const out = keep ?? tempDir('db-runbook-report-html-');
if (keep) mkdirSync(out, { recursive: true });

function htmlOf(name: Parameters<typeof sandboxJournal>[0], live = false): string {
  const { events, damaged } = sandboxJournal(name);
  return renderHtml(buildReport(events, { damaged, settings: SANDBOX_SETTINGS, now: FIXED_NOW, live }));
}

const drillHtml = join(out, 'sandbox-restore-drill.html');
writeFileSync(drillHtml, htmlOf('sandbox-restore-drill'));
const deviationsHtml = join(out, 'sandbox-deviations.html');
writeFileSync(deviationsHtml, htmlOf('sandbox-deviations', true));

afterAll(() => {
  if (keep) process.stdout.write(`HTML reports, screenshots and PDF in ${out}\n`);
});

describe('the HTML report', () => {
  const html = readFileSync(drillHtml, 'utf8');

  it('is one self-contained page: inline CSS and SVG, no script, nothing fetched', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<style>');
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(/i);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//i);
    expect(html).toContain('<svg class="timeline"');
    expect(html.match(/<svg class="metric"/g)).toHaveLength(4);
    expect(html).toContain('@media print');
    expect(html).toContain('@page { size: A4');
  });

  it('puts the result, the metrics against their targets and the deviations on its first page', () => {
    const first = html.slice(0, html.indexOf('<section class="page">'));
    expect(first).toContain('<span class="verdict">INCOMPLETE</span>');
    expect(first).toContain('<h3>DR drill · PostgreSQL app_drill_');
    expect(first).toMatch(/aria-label="RTO \S+ against target 1h: PASS"/);
    expect(first).toContain('Deviations (6)');
    expect(first).toContain('backup-newer-than-incident');
    expect(html).toContain('<h2>Sign-off</h2>');
  });

  it(`renders in headless Chromium (${CHROMIUM}) with no console error, and a screenshot is saved`, async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: the setup step installs Debian's chromium`).toBe(
      true,
    );
    for (const [file, png] of [
      [drillHtml, join(out, 'sandbox-restore-drill.png')],
      [deviationsHtml, join(out, 'sandbox-deviations.png')],
    ] as const) {
      const run = await chromium(file, { screenshot: png, height: 3000 });
      expect(run.exitCode).toBe(0);
      expect(run.console).toEqual([]);
      const bytes = readFileSync(png);
      expect(bytes.subarray(1, 4).toString()).toBe('PNG');
      expect(statSync(png).size).toBeGreaterThan(50_000);
    }
  });

  it('lays out its timeline and metric bars as SVG in the rendered page', async () => {
    const run = await chromium(drillHtml, { dumpDom: true });
    expect(run.console).toEqual([]);
    expect(run.stdout).toContain('<svg class="timeline"');
    expect(run.stdout).toMatch(/<rect class="b-done"/);
    expect(run.stdout).toMatch(/<rect class="b-refused"/);
    expect(run.stdout).toContain('<path class="milestone"');
  });

  it('prints to a PDF of several pages', async () => {
    const pdf = join(out, 'sandbox-restore-drill.pdf');
    const run = await chromium(drillHtml, { pdf });
    expect(run.exitCode).toBe(0);
    const text = readFileSync(pdf, 'latin1');
    expect(text.startsWith('%PDF-')).toBe(true);
    expect(text.match(/\/Type\s*\/Page[^s]/g)?.length ?? 0).toBeGreaterThanOrEqual(3);
  });

  it('catches a console error when there is one (the check is not blind)', async () => {
    const broken = join(out, 'broken.html');
    writeFileSync(broken, '<!doctype html><script>console.error("control error"); missing();</script>');
    const run = await chromium(broken, { dumpDom: true });
    expect(run.console.join('\n')).toContain('control error');
    expect(run.console.join('\n')).toContain('Uncaught ReferenceError');
  });
});
