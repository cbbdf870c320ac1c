import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';

/** Debian's chromium; the project's setup installs it. */
export const CHROMIUM = '/usr/bin/chromium';

export interface ChromiumRun {
  exitCode: number;
  stdout: string;
  /** What the page said on its console (errors, uncaught exceptions, failed loads), one line each. */
  console: string[];
}

/**
 * Opens a local file in headless Chromium with a new empty profile (removed afterwards), nothing from
 * the network, and its console logged to stderr. `mode` adds --screenshot=FILE, --print-to-pdf=FILE or
 * --dump-dom (the rendered DOM on stdout).
 */
export async function chromium(
  file: string,
  mode: { screenshot: string; width?: number; height?: number } | { pdf: string } | { dumpDom: true },
): Promise<ChromiumRun> {
  const profile = mkdtempSync(join(tmpdir(), 'db-runbook-chromium-'));
  try {
    const args = [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${profile}`,
      '--enable-logging=stderr',
      '--v=0',
      '--hide-scrollbars',
      ...('screenshot' in mode
        ? [`--window-size=${mode.width ?? 1200},${mode.height ?? 2400}`, `--screenshot=${mode.screenshot}`]
        : 'pdf' in mode
          ? ['--no-pdf-header-footer', `--print-to-pdf=${mode.pdf}`]
          : ['--dump-dom']),
      pathToFileURL(file).href,
    ];
    const result = await execa(CHROMIUM, args, { reject: false, timeout: 90_000, stdin: 'ignore' });
    return {
      exitCode: result.exitCode ?? 1,
      stdout: String(result.stdout),
      console: String(result.stderr)
        .split('\n')
        .filter((line) => /:CONSOLE[:(]/.test(line)),
    };
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}
