import type { JournalEvent } from '../journal.js';
import { MARK } from '../marks.js';
import { parseUtc } from '../metrics.js';
import { sectionOfStep } from '../replay.js';
import type {
  DeviationKind,
  DeviationSeverity,
  ReportAttempt,
  ReportDeviation,
  ReportRecovery,
} from './model.js';
import type { RecoveryFacts } from './recovery.js';

export interface DeviationInput {
  events: readonly JournalEvent[];
  attempts: ReadonlyMap<string, readonly ReportAttempt[]>;
  damaged: readonly { line: number; text: string; reason?: string }[];
  recoveries: readonly ReportRecovery[];
  evidence: RecoveryFacts['evidence'];
  /** The report is made while the session runs: its open end is "in progress", not a stop. */
  live: boolean;
}

type Ref = { session: string; seq: number };

const RECOVERY_SECTIONS = new Set(['restore-postgres', 'restore-neo4j', 'dr-validation']);

function ref(event: JournalEvent): Ref {
  return { session: event.session, seq: event.seq };
}

function deviation(
  kind: DeviationKind,
  severity: DeviationSeverity,
  at: string | null,
  detail: string,
  extra: { step?: string | null; recovery?: string | null; evidence?: Ref[] } = {},
): ReportDeviation {
  return {
    kind,
    severity,
    at,
    step: extra.step ?? null,
    recovery: extra.recovery ?? null,
    detail,
    evidence: extra.evidence ?? [],
  };
}

/** `09:41` (UTC) of an ISO time, for sentences. */
export function hhmm(iso: string | null | undefined): string {
  const ms = parseUtc(iso ?? undefined);
  return ms === undefined ? (iso ?? 'unknown') : new Date(ms).toISOString().slice(11, 16);
}

/**
 * What did not go as the runbook says, derived from the journal's events (never from prose): a backup
 * newer than the incident, failed/interrupted/retried/skipped steps, refused gates and wrong phrases,
 * overrides, gates answered by flags, warnings under a ✓, things left behind, stand-ins, how the
 * session ended, damaged journal lines, figures that cannot be judged. In journal order.
 */
export function collectDeviations(input: DeviationInput): ReportDeviation[] {
  const out: ReportDeviation[] = [
    ...recoveryDeviations(input.recoveries, input.evidence),
    ...attemptDeviations(input.attempts, stepEventRefs(input.events)),
    ...eventDeviations(input.events, input.live),
    ...leftBehind(input.events),
    ...input.damaged.map((damaged) =>
      deviation(
        'damaged-journal-line',
        'medium',
        null,
        `journal line ${damaged.line} could not be read (${damaged.reason ?? 'a torn write after a crash?'}) and was left out: ${truncate(damaged.text, 80)}`,
      ),
    ),
    ...metricDeviations(input.recoveries, input.live),
  ];
  return out
    .map((item, index) => ({ item, index }))
    .sort((a, b) => compareAt(a.item.at, b.item.at) || a.index - b.index)
    .map(({ item }) => item);
}

function recoveryDeviations(
  recoveries: readonly ReportRecovery[],
  evidence: RecoveryFacts['evidence'],
): ReportDeviation[] {
  return recoveries.flatMap((recovery) => {
    const incident = parseUtc(recovery.times.incidentDeclared ?? undefined);
    const point = parseUtc(recovery.times.recoveryPoint ?? undefined);
    if (incident === undefined || point === undefined || point <= incident) return [];
    const marks = evidence.get(recovery.id) ?? {};
    return [
      deviation(
        'backup-newer-than-incident',
        'high',
        recovery.times.restoreDone ?? recovery.times.recoveryPoint,
        `${recovery.label}: the restored backup${recovery.backup ? ` ${recovery.backup.uri}` : ''} was taken at ${recovery.times.recoveryPoint}, after the incident declared at ${recovery.times.incidentDeclared}: it may hold the damage the restore was meant to undo, and its RPO cannot be measured (recording error)`,
        {
          recovery: recovery.id,
          evidence: [marks.incidentDeclared, marks.recoveryPoint].filter((item): item is Ref => !!item),
        },
      ),
    ];
  });
}

/** The journal events of each step by time (`step@ts`): an attempt's evidence is its first and last event. */
function stepEventRefs(events: readonly JournalEvent[]): Map<string, Ref[]> {
  const refs = new Map<string, Ref[]>();
  for (const event of events) {
    if (event.type !== 'step-state' && event.type !== 'result') continue;
    const key = `${event.step}@${event.ts}`;
    const list = refs.get(key) ?? [];
    list.push(ref(event));
    refs.set(key, list);
  }
  return refs;
}

function attemptDeviations(
  attempts: ReadonlyMap<string, readonly ReportAttempt[]>,
  refs: ReadonlyMap<string, Ref[]>,
): ReportDeviation[] {
  const out: ReportDeviation[] = [];
  const evidence = (step: string, list: readonly ReportAttempt[]): Ref[] => {
    const found = list.flatMap((attempt) => [
      refs.get(`${step}@${attempt.startedAt}`)?.[0],
      attempt.endedAt ? refs.get(`${step}@${attempt.endedAt}`)?.at(-1) : undefined,
    ]);
    const unique = new Map(
      found.filter((item): item is Ref => !!item).map((item) => [`${item.session}#${item.seq}`, item]),
    );
    return [...unique.values()];
  };
  for (const [step, list] of attempts) {
    const runs = list.filter((attempt) => attempt.status !== 'refused' && attempt.status !== 'skipped');
    const last = list.at(-1);
    const inRecovery = RECOVERY_SECTIONS.has(sectionOfStep(step));
    if (runs.length > 1) {
      const story = runs
        .map(
          (attempt, index) =>
            `${index + 1}. ${attempt.status}${attempt.summary && attempt.status !== 'done' ? ` (${truncate(attempt.summary, 120)})` : ''}`,
        )
        .join('; ');
      out.push(
        deviation(
          'retried-step',
          last?.status === 'done' ? 'low' : 'medium',
          runs.at(-1)?.startedAt ?? null,
          `${step} ran ${runs.length} times: ${story}`,
          { step, evidence: evidence(step, runs) },
        ),
      );
    }
    for (const attempt of list) {
      const at = attempt.endedAt ?? attempt.startedAt;
      if (attempt.status === 'skipped') {
        const reason = attempt.summary ?? 'no reason given';
        out.push(
          deviation(
            'skipped-step',
            /out of scope/.test(reason) ? 'info' : 'medium',
            at,
            `${step} skipped: ${reason}`,
            { step, evidence: evidence(step, [attempt]) },
          ),
        );
      }
    }
    // A final failure or stop gets its own row, after the retried row that tells the story.
    if (last?.status === 'failed')
      out.push(
        deviation(
          'failed-step',
          inRecovery ? 'high' : 'medium',
          last.endedAt,
          `${step} failed: ${last.summary ?? ''}`,
          { step, evidence: evidence(step, [last]) },
        ),
      );
    else if (last?.status === 'interrupted')
      out.push(
        deviation(
          'interrupted-step',
          'high',
          last.endedAt,
          `${step} was interrupted before it finished (started ${last.startedAt})`,
          { step, evidence: evidence(step, [last]) },
        ),
      );
  }
  return out;
}

/** Results and checks that say a stand-in did the work (the sandbox's Neo4j tools, a simulated backup port). */
const STAND_IN = /stand-?in\b/i;
/** RTO/RPO lines the steps print: the metrics table and metric deviations speak for them. */
const FIGURE_CHECK = /^(rto|rpo)(:|$)/;

function eventDeviations(events: readonly JournalEvent[], live: boolean): ReportDeviation[] {
  const out: ReportDeviation[] = [];
  let segmentOpen = false;
  let segmentMode: string | undefined;
  let previous: JournalEvent | undefined;
  /** Wrong phrases typed at a gate still open, per step. */
  const wrong = new Map<string, Extract<JournalEvent, { type: 'gate-attempt' }>[]>();
  /** Warnings of the attempt still running, per step: a deviation only when the step ends ✓. */
  const warnings = new Map<string, Extract<JournalEvent, { type: 'check' }>[]>();
  const flagged: Extract<JournalEvent, { type: 'gate' }>[] = [];
  const standIns = new Map<string, Ref>();
  let sandbox: { at: string; ref: Ref } | undefined;

  const flushFlagged = () => {
    if (flagged.length === 0) return;
    const flags = [...new Set(flagged.flatMap((gate) => gate.flags ?? ['--yes']))].join(' ');
    out.push(
      deviation(
        'non-interactive-confirmation',
        'low',
        flagged[0]?.ts ?? null,
        `${flagged.length} gate${flagged.length === 1 ? ' was' : 's were'} passed by ${flags} (non-interactive: no person was asked at the time): ${flagged.map((gate) => `${gate.step} (${gate.kind})`).join(', ')}`,
        { evidence: flagged.map(ref) },
      ),
    );
    flagged.length = 0;
  };

  for (const event of events) {
    switch (event.type) {
      case 'session-start':
        flushFlagged();
        if (segmentOpen && previous)
          out.push(
            deviation(
              'session-interrupted',
              'high',
              previous.ts,
              `the session stopped without an end record after ${previous.ts} (killed?) and was resumed at ${event.ts}`,
              { evidence: [ref(previous), ref(event)] },
            ),
          );
        segmentOpen = true;
        segmentMode = event.mode;
        if (event.target.sandbox && !sandbox) sandbox = { at: event.ts, ref: ref(event) };
        break;
      case 'session-end':
        flushFlagged();
        segmentOpen = false;
        if (event.outcome === 'interrupted')
          out.push(
            deviation(
              'session-interrupted',
              'high',
              event.ts,
              `the session was interrupted (exit ${event.exitCode})`,
              {
                evidence: [ref(event)],
              },
            ),
          );
        break;
      case 'gate-attempt': {
        const list = wrong.get(event.step) ?? [];
        list.push(event);
        wrong.set(event.step, list);
        break;
      }
      case 'gate': {
        const attempts = wrong.get(event.step) ?? [];
        wrong.delete(event.step);
        if (attempts.length > 0)
          out.push(
            deviation(
              'wrong-phrase',
              event.answer === 'accepted' ? 'low' : 'medium',
              attempts[0]?.ts ?? event.ts,
              `${event.step}: ${attempts.length} wrong phrase${attempts.length === 1 ? '' : 's'} ${attempts[0]?.via === 'flag' ? 'given with --confirm' : 'typed'} at the typed gate (${attempts.map(describeAttempt).join('; ')}; the text is not recorded), then the gate was ${event.answer}`,
              { step: event.step, evidence: [...attempts.map(ref), ref(event)] },
            ),
          );
        const via = event.via ?? (segmentMode === 'run' || segmentMode === 'resume' ? 'flag' : 'operator');
        if (event.answer === 'refused')
          out.push(
            deviation(
              'gate-refused',
              'medium',
              event.ts,
              `${event.step}: ${event.kind} gate refused ${via === 'flag' ? '(the flags did not accept it: nothing was changed)' : 'by the operator (nothing was changed)'}: ${event.prompt}`,
              { step: event.step, evidence: [ref(event)] },
            ),
          );
        else if (event.answer === 'overridden' || event.deviation === true)
          out.push(
            deviation(
              'overridden-gate',
              'high',
              event.ts,
              `${event.step}: ${event.kind} gate ${event.answer}: ${event.prompt}`,
              {
                step: event.step,
                evidence: [ref(event)],
              },
            ),
          );
        if (event.answer !== 'refused' && via === 'flag') flagged.push(event);
        break;
      }
      case 'mark':
        if (event.name === MARK.deviation) {
          const reason =
            typeof event.data?.reason === 'string' ? event.data.reason : 'a deviation was recorded';
          const step = typeof event.data?.step === 'string' ? event.data.step : (event.step ?? null);
          out.push(
            deviation('recorded-deviation', 'high', event.ts, step ? `${step}: ${reason}` : reason, {
              step,
              evidence: [ref(event)],
            }),
          );
        }
        break;
      case 'check':
        if (event.status === 'warn' && !FIGURE_CHECK.test(event.id)) {
          const list = warnings.get(event.step) ?? [];
          list.push(event);
          warnings.set(event.step, list);
        }
        if (STAND_IN.test(`${event.label} ${event.detail ?? ''}`) && !standIns.has(event.step))
          standIns.set(event.step, ref(event));
        break;
      case 'result': {
        const list = warnings.get(event.step) ?? [];
        warnings.delete(event.step);
        if (event.status === 'done') {
          const seen = new Set<string>();
          for (const check of list) {
            const text = `${check.label}${check.detail ? `: ${check.detail}` : ''}`;
            if (seen.has(text)) continue;
            seen.add(text);
            out.push(
              deviation(
                'warning',
                'low',
                check.ts,
                `${event.step} ended ✓ with a warning: ${text}${check.next ? ` (next: ${check.next})` : ''}`,
                {
                  step: event.step,
                  evidence: [ref(check)],
                },
              ),
            );
          }
        }
        if ((event.data?.standIn === true || STAND_IN.test(event.summary)) && !standIns.has(event.step))
          standIns.set(event.step, ref(event));
        break;
      }
      default:
        break;
    }
    previous = event;
  }
  flushFlagged();
  if (sandbox || standIns.size > 0) {
    const parts = [
      ...(sandbox
        ? [
            'the session ran against the local sandbox (an S3-compatible server, PostgreSQL, a local Kubernetes control plane whose pods run as processes on this machine, and Neo4j), not the production systems: its figures show the procedure works, not production recovery times',
          ]
        : []),
      ...(standIns.size > 0 ? [`stand-ins reported by ${[...standIns.keys()].join(', ')}`] : []),
    ];
    out.push(
      deviation('stand-in', sandbox ? 'medium' : 'low', sandbox?.at ?? null, parts.join('; '), {
        evidence: [...(sandbox ? [sandbox.ref] : []), ...standIns.values()],
      }),
    );
  }
  if (segmentOpen && previous) {
    out.push(
      live
        ? deviation(
            'session-in-progress',
            'info',
            previous.ts,
            `in progress at ${hhmm(previous.ts)} UTC: the report was exported before the session ended; what happens after ${hhmm(previous.ts)} is not in it`,
            { evidence: [ref(previous)] },
          )
        : deviation(
            'session-no-end-record',
            'medium',
            previous.ts,
            `the journal ends at ${previous.ts} without an end record: the session was killed (or its machine stopped) and was not resumed`,
            { evidence: [ref(previous)] },
          ),
    );
  }
  return out;
}

function describeAttempt(attempt: Extract<JournalEvent, { type: 'gate-attempt' }>): string {
  const how = attempt.caseOnly
    ? 'differs only in letter case'
    : attempt.whitespaceOnly
      ? 'differs only in surrounding spaces'
      : `differs from character ${attempt.firstDifferenceAt + 1}`;
  return `${attempt.length} characters for ${attempt.expectedLength}, ${how}`;
}

interface Temporary {
  kind: string;
  name: string;
  where: string | null;
  step: string | null;
  at: string;
  ref: Ref;
}

const JOB_COLLECTION = /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs$/;
const JOB_OBJECT = /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs\/([^/?]+)/;

function succeeded(status: number | string | undefined): boolean {
  return (
    status === undefined || status === 'ok' || (typeof status === 'number' && status >= 200 && status < 300)
  );
}

/**
 * Scratch databases, ad-hoc Jobs and canary objects the session made and did not remove: from
 * `temporary-created`/`temporary-removed` marks, the drill's results (journals before those marks), and
 * Kubernetes/S3 calls (a Job created and never deleted, a canary object put and never deleted).
 */
function leftBehind(events: readonly JournalEvent[]): ReportDeviation[] {
  const created = new Map<string, Temporary>();
  const key = (kind: string, name: string) => `${kind}\u0000${name}`;
  const add = (item: Temporary) => {
    if (!created.has(key(item.kind, item.name))) created.set(key(item.kind, item.name), item);
  };
  const remove = (kind: string, name: string) => created.delete(key(kind, name));
  let marked = false;
  for (const event of events) {
    if (
      event.type === 'mark' &&
      (event.name === MARK.temporaryCreated || event.name === MARK.temporaryRemoved)
    ) {
      const kind = typeof event.data?.kind === 'string' ? event.data.kind : 'object';
      const name = typeof event.data?.name === 'string' ? event.data.name : '';
      if (name === '') continue;
      marked = true;
      if (event.name === MARK.temporaryCreated)
        add({
          kind,
          name,
          where: typeof event.data?.where === 'string' ? event.data.where : null,
          step: event.step ?? null,
          at: event.ts,
          ref: ref(event),
        });
      else remove(kind, name);
    } else if (event.type === 'result' && !marked) {
      const data = event.data ?? {};
      if (
        (event.step === 'dr-validation.restore' || event.step === 'dr-validation.neo4j') &&
        data.created === true &&
        typeof data.scratch === 'string'
      )
        add({
          kind: 'database',
          name: data.scratch,
          where: null,
          step: event.step,
          at: event.ts,
          ref: ref(event),
        });
      if (event.step === 'dr-validation.drop-scratch' && Array.isArray(data.dropped)) {
        for (const item of [...created.values()])
          if (
            item.kind === 'database' &&
            ((item.step === 'dr-validation.restore' && data.dropped.includes('postgres')) ||
              (item.step === 'dr-validation.neo4j' && data.dropped.includes('neo4j')))
          )
            remove('database', item.name);
      }
    } else if (event.type === 'api' && succeeded(event.status)) {
      if (event.service === 'kubernetes' && event.object) {
        const collection = JOB_COLLECTION.exec(event.path);
        if (event.method === 'POST' && collection)
          add({
            kind: 'job',
            name: event.object,
            where: `namespace ${collection[1]}`,
            step: event.step ?? null,
            at: event.ts,
            ref: ref(event),
          });
        const object = JOB_OBJECT.exec(event.path);
        if (event.method === 'DELETE' && object?.[2]) remove('job', decodeURIComponent(object[2]));
      } else if (event.service === 's3' && /canary/i.test(event.path)) {
        const name = `s3:/${event.path}`;
        if (/^PUT\b|PutObject/.test(event.method))
          add({ kind: 'object', name, where: null, step: event.step ?? null, at: event.ts, ref: ref(event) });
        if (/^DELETE\b|DeleteObject/.test(event.method)) remove('object', name);
      }
    }
  }
  const label: Record<string, string> = {
    database: 'scratch database',
    job: 'Job',
    object: 'temporary object',
  };
  return [...created.values()].map((item) =>
    deviation(
      'left-behind',
      'medium',
      item.at,
      `${label[item.kind] ?? item.kind} ${item.name}${item.where ? ` (${item.where})` : ''}, created by ${item.step ?? 'the session'}, was not removed in this session`,
      { step: item.step, evidence: [item.ref] },
    ),
  );
}

function metricDeviations(recoveries: readonly ReportRecovery[], live: boolean): ReportDeviation[] {
  const out: ReportDeviation[] = [];
  for (const recovery of recoveries) {
    const newer =
      (parseUtc(recovery.times.recoveryPoint ?? undefined) ?? -Infinity) >
      (parseUtc(recovery.times.incidentDeclared ?? undefined) ?? Infinity);
    for (const metric of [recovery.rpo, recovery.rto]) {
      if (metric.reason === null) continue;
      if (metric.name === 'RPO' && newer) continue; // said by backup-newer-than-incident
      // While the session runs, a recovery not yet validated has no RTO yet: that is no problem.
      if (live && !recovery.complete && metric.verdict === 'unknown' && /not recorded/.test(metric.reason))
        continue;
      out.push(
        deviation(
          'metric-problem',
          metric.verdict === 'recording error' ? 'high' : 'medium',
          null,
          `${recovery.label}: ${metric.name} ${metric.verdict === 'recording error' ? 'is a recording error' : 'cannot be judged'}: ${metric.reason}`,
          { recovery: recovery.id },
        ),
      );
    }
  }
  return out;
}

function compareAt(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a < b ? -1 : 1;
}

function truncate(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length)}…` : text;
}
