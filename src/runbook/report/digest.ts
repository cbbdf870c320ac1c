import type { JournalEvent } from '../journal.js';
import { sectionOfStep } from '../replay.js';
import type { Masker } from './mask.js';
import type { DigestRow } from './model.js';
import { gateResult, timelineEntry } from './timeline.js';

/**
 * The readable timeline: one row per thing a reader cares about. A step's API calls, checks and
 * commands between two of its visible rows fold into one row each, with counts ("16 permission checks,
 * all allowed"); failed or warning checks keep a row of their own; identical consecutive rows merge.
 * The JSON keeps every event in `timeline`.
 */
export function buildDigest(events: readonly JournalEvent[], mask: Masker): DigestRow[] {
  const rows: DigestRow[] = [];
  const repeats = new Map<DigestRow, number>();
  let buckets = new Map<string, Bucket>();
  let bucketStep: string | null = null;
  const started = new Set<string>();
  const attemptsOf = new Map<string, number>();

  const push = (row: DigestRow) => {
    row.action = mask(row.action);
    row.result = row.result === null ? null : mask(row.result);
    const last = rows.at(-1);
    if (last && last.step === row.step && last.action === row.action && last.result === row.result) {
      last.until = row.until;
      last.events += row.events;
      repeats.set(last, (repeats.get(last) ?? 1) + 1);
      return;
    }
    rows.push(row);
  };
  const flush = () => {
    for (const bucket of buckets.values()) for (const row of bucket.rows()) push(row);
    buckets = new Map();
    bucketStep = null;
  };
  const bucketFor = <B extends Bucket>(step: string | null, name: string, make: () => B): B => {
    if (bucketStep !== step) flush();
    bucketStep = step;
    const known = buckets.get(name) as B | undefined;
    if (known) return known;
    const bucket = make();
    buckets.set(name, bucket);
    return bucket;
  };
  const single = (
    event: JournalEvent,
    kind: DigestRow['kind'],
    action: string,
    result: string | null,
    attention = false,
  ) => {
    const step = 'step' in event && typeof event.step === 'string' ? event.step : null;
    flush();
    push({
      at: event.ts,
      until: event.ts,
      step,
      section: step ? sectionOfStep(step) : null,
      kind,
      action,
      result,
      events: 1,
      attention,
    });
  };

  for (const event of events) {
    switch (event.type) {
      case 'step-state': {
        const inFlight = event.to === 'running' || event.to === 'awaiting-confirmation';
        if (inFlight && !started.has(event.step)) {
          started.add(event.step);
          const attempt = (attemptsOf.get(event.step) ?? 0) + 1;
          attemptsOf.set(event.step, attempt);
          single(event, 'step', attempt > 1 ? `started again (attempt ${attempt})` : 'started', null);
        } else if (event.to === 'ready' && event.from === 'awaiting-confirmation') started.delete(event.step);
        else if (event.to === 'skipped') started.delete(event.step);
        break;
      }
      case 'result':
        started.delete(event.step);
        single(
          event,
          'result',
          event.summary,
          event.status === 'done' ? 'done ✓' : event.status,
          event.status === 'failed',
        );
        break;
      case 'api':
        bucketFor(event.step ?? null, `api:${event.service}`, () => new ApiBucket(event.service)).add(event);
        break;
      case 'check':
        bucketFor(event.step, 'checks', () => new CheckBucket()).add(event);
        break;
      case 'command':
        bucketFor(event.step ?? null, 'commands', () => new CommandBucket()).add(event);
        break;
      case 'values': {
        const entries = Object.values(event.values);
        const secret = entries.filter((entry) => entry.secret).length;
        single(
          event,
          'values',
          `values recorded: ${entries.length}${secret > 0 ? ` (${secret} secret, never written down)` : ''}`,
          null,
        );
        break;
      }
      case 'gate':
        single(
          event,
          'gate',
          `${event.kind} gate: ${event.prompt}`,
          gateResult(event),
          event.answer !== 'accepted',
        );
        break;
      case 'gate-attempt':
      case 'mark':
      case 'note':
      case 'session-start':
      case 'session-end': {
        const entry = timelineEntry(event);
        if (!entry) break;
        const kind: DigestRow['kind'] =
          event.type === 'gate-attempt'
            ? 'gate'
            : event.type === 'mark'
              ? 'mark'
              : event.type === 'note'
                ? 'note'
                : 'session';
        single(event, kind, entry.action, entry.result, event.type === 'gate-attempt');
        break;
      }
      case 'log':
      case 'preview':
        break;
    }
  }
  flush();
  for (const [row, count] of repeats) row.action = `${row.action} (×${count})`;
  return rows;
}

interface Bucket {
  rows(): DigestRow[];
}

abstract class Folded<E extends JournalEvent> implements Bucket {
  protected items: E[] = [];
  add(event: E): void {
    this.items.push(event);
  }
  protected row(
    kind: DigestRow['kind'],
    action: string,
    result: string | null,
    attention: boolean,
  ): DigestRow {
    const first = this.items[0] as E;
    const last = this.items.at(-1) as E;
    const step = 'step' in first && typeof first.step === 'string' ? first.step : null;
    return {
      at: first.ts,
      until: last.ts,
      step,
      section: step ? sectionOfStep(step) : null,
      kind,
      action,
      result,
      events: this.items.length,
      attention,
    };
  }
  abstract rows(): DigestRow[];
}

type ApiEvent = Extract<JournalEvent, { type: 'api' }>;

/** `selfsubjectaccessreviews`, `secrets`, `jobs` from a Kubernetes path; the operation for S3. */
function resourceOf(event: ApiEvent): string {
  if (event.service === 's3') return event.method.split(' ').at(-1) ?? event.method;
  const parts = event.path.split('?')[0]?.split('/').filter(Boolean) ?? [];
  let index = parts[0] === 'api' ? 2 : parts[0] === 'apis' ? 3 : 0;
  if (parts[index] === 'namespaces' && parts.length > index + 2) index += 2;
  const resource = parts[index] ?? event.path;
  const sub = parts[index + 2];
  return sub ? `${resource}/${sub}` : resource;
}

/** A read that found nothing (a preview looking before it creates): an answer, not a failure. */
function lookedUpMissing(event: ApiEvent): boolean {
  const method = event.method.split(' ')[0];
  return (
    (method === 'GET' || method === 'HEAD') &&
    (event.status === 404 || event.status === 'NotFound' || event.status === 'NoSuchKey')
  );
}

function ok(status: number | string | undefined): boolean {
  return status === undefined || status === 'ok' || (typeof status === 'number' && status < 400);
}

function counted(counts: Map<string, number>): string {
  return [...counts].map(([label, count]) => (count > 1 ? `${label} ×${count}` : label)).join(', ');
}

class ApiBucket extends Folded<ApiEvent> {
  constructor(private readonly service: 'kubernetes' | 's3' | 'neo4j') {
    super();
  }
  rows(): DigestRow[] {
    const calls = new Map<string, number>();
    const failures = new Map<string, number>();
    let missing = 0;
    for (const event of this.items) {
      const label =
        this.service === 's3'
          ? resourceOf(event)
          : this.service === 'neo4j'
            ? (event.object ?? event.method)
            : `${event.method} ${resourceOf(event)}`;
      calls.set(label, (calls.get(label) ?? 0) + 1);
      if (lookedUpMissing(event)) missing++;
      else if (!ok(event.status)) {
        const why = `${label}${event.object ? ` ${event.object}` : ''}: ${String(event.status)}`;
        failures.set(why, (failures.get(why) ?? 0) + 1);
      }
    }
    const n = this.items.length;
    const reviews = this.items.every((event) => /selfsubjectaccessreviews$/.test(event.path));
    const what = reviews
      ? `${n} permission ${n === 1 ? 'question' : 'questions'} to the API server (SelfSubjectAccessReview)`
      : `${n} ${this.service === 's3' ? 'S3' : this.service === 'neo4j' ? 'Cypher (Bolt)' : 'Kubernetes API'} call${n === 1 ? '' : 's'}: ${counted(calls)}`;
    const failed = [...failures.values()].reduce((sum, count) => sum + count, 0);
    const parts = [
      ...(n - failed - missing > 0 && (failed > 0 || missing > 0)
        ? [`${n - failed - missing} succeeded`]
        : []),
      ...(missing > 0 ? [`${missing} not found (does not exist yet)`] : []),
      ...(failed > 0 ? [`${failed} failed: ${counted(failures)}`] : []),
    ];
    const result = parts.length > 0 ? parts.join(', ') : n === 1 ? 'succeeded' : 'all succeeded';
    return [this.row('api', what, result, failed > 0)];
  }
}

type CheckEvent = Extract<JournalEvent, { type: 'check' }>;

class CheckBucket extends Folded<CheckEvent> {
  rows(): DigestRow[] {
    const permission = this.items.filter((check) => /^can /.test(check.label));
    const other = this.items.filter((check) => !/^can /.test(check.label));
    const out: DigestRow[] = [];
    if (permission.length > 0) {
      const denied = permission.filter((check) => check.status === 'fail' || check.status === 'warn');
      out.push(
        this.row(
          'checks',
          `${permission.length} permission check${permission.length === 1 ? '' : 's'}`,
          denied.length === 0
            ? permission.length === 1
              ? 'allowed'
              : 'all allowed'
            : `${permission.length - denied.length} allowed, ${denied.length} denied (${denied.map((check) => check.label.replace(/^can /, '')).join(', ')})`,
          denied.length > 0,
        ),
      );
    }
    if (other.length > 0) {
      const by = (status: string) => other.filter((check) => check.status === status).length;
      const parts = [
        [by('ok'), 'ok'],
        [by('warn'), by('warn') === 1 ? 'warning' : 'warnings'],
        [by('fail'), 'failed'],
        [by('skip'), 'skipped'],
      ].filter(([count]) => (count as number) > 0);
      const allOk = by('ok') === other.length;
      const labels = other.length <= 4 ? `: ${other.map((check) => check.label).join('; ')}` : '';
      out.push(
        this.row(
          'checks',
          `${other.length} check${other.length === 1 ? '' : 's'}${labels}`,
          allOk
            ? other.length === 1
              ? 'ok'
              : 'all ok'
            : parts.map(([count, word]) => `${count} ${word}`).join(', '),
          by('fail') + by('warn') > 0,
        ),
      );
    }
    // Each failure or warning keeps a row of its own (once, however often it was checked).
    const seen = new Set<string>();
    for (const check of this.items) {
      if (check.status !== 'fail' && check.status !== 'warn') continue;
      const result = `${check.status === 'fail' ? 'FAILED' : 'warning'}${check.detail ? `: ${check.detail}` : ''}`;
      if (seen.has(`${check.label}\u0000${result}`)) continue;
      seen.add(`${check.label}\u0000${result}`);
      out.push({
        ...this.row('checks', `check: ${check.label}`, result, true),
        at: check.ts,
        until: check.ts,
        events: 1,
      });
    }
    return out;
  }
}

type CommandEvent = Extract<JournalEvent, { type: 'command' }>;

class CommandBucket extends Folded<CommandEvent> {
  rows(): DigestRow[] {
    const failed = this.items.filter((event) => event.exitCode !== undefined && event.exitCode !== 0);
    const rows = this.summary();
    for (const event of failed)
      rows.push({
        ...this.row('command', `$ ${event.command}`, `exit ${event.exitCode}`, true),
        at: event.ts,
        until: event.ts,
        events: 1,
      });
    return rows;
  }
  private summary(): DigestRow[] {
    if (this.items.length === 1) {
      if ((this.items[0] as CommandEvent).exitCode) return [];
      const only = this.items[0] as CommandEvent;
      return [
        this.row(
          'command',
          `$ ${only.command}`,
          only.exitCode === undefined ? null : `exit ${only.exitCode}`,
          false,
        ),
      ];
    }
    const names = [
      ...new Set(
        this.items.map(
          (event) => event.command.split(/\s+/).find((word) => !word.includes('=')) ?? event.command,
        ),
      ),
    ];
    return [
      this.row(
        'command',
        `${this.items.length} commands: ${names.slice(0, 6).join(', ')}${names.length > 6 ? ', …' : ''}`,
        failedCount(this.items) > 0
          ? `${failedCount(this.items)} failed`
          : this.items.every((event) => event.exitCode === undefined)
            ? null
            : 'all exit 0',
        failedCount(this.items) > 0,
      ),
    ];
  }
}

function failedCount(items: readonly CommandEvent[]): number {
  return items.filter((event) => event.exitCode !== undefined && event.exitCode !== 0).length;
}
