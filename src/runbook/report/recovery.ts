import type { JournalEvent } from '../journal.js';
import { MARK } from '../marks.js';
import { parseUtc } from '../metrics.js';
import type { ReportBackup, ReportTimes, ReportValidation } from './model.js';

export interface RecoveryFacts {
  times: ReportTimes;
  backups: ReportBackup[];
  validation: ReportValidation[];
}

type Choice = 'earliest' | 'latest';

/**
 * Which mark wins when a name was recorded more than once (two databases restored, a step re-run
 * after resume): the incident and the restore start count from the first record, the download,
 * restore and validation from the last — the service is restored when everything is.
 */
const TIME_MARKS: readonly {
  key: Exclude<keyof ReportTimes, 'recoveryPoint'>;
  name: string;
  pick: Choice;
}[] = [
  { key: 'incidentDeclared', name: MARK.incidentDeclared, pick: 'earliest' },
  { key: 'restoreStarted', name: MARK.restoreStarted, pick: 'earliest' },
  { key: 'downloadDone', name: MARK.downloadDone, pick: 'latest' },
  { key: 'restoreDone', name: MARK.restoreDone, pick: 'latest' },
  { key: 'validated', name: MARK.validated, pick: 'latest' },
];

function record(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function markTime(event: Extract<JournalEvent, { type: 'mark' }>): string {
  return text(event.data?.at) ?? text(event.at) ?? event.ts;
}

function choose(current: string | null, candidate: string, pick: Choice): string {
  if (current === null) return candidate;
  const a = parseUtc(current);
  const b = parseUtc(candidate);
  if (a === undefined || b === undefined) return pick === 'latest' ? candidate : current;
  return (pick === 'earliest' ? b < a : b >= a) ? candidate : current;
}

function backupFrom(
  data: Record<string, unknown>,
  step: string | null,
  recoveryPoint: string | null,
): ReportBackup | undefined {
  const uri = text(data.uri);
  if (!uri) return undefined;
  return {
    uri,
    size: typeof data.size === 'number' && Number.isInteger(data.size) && data.size >= 0 ? data.size : null,
    sha256: text(data.sha256),
    verified: typeof data.verified === 'boolean' ? data.verified : null,
    recoveryPoint,
    step,
  };
}

function mergeBackup(backups: Map<string, ReportBackup>, backup: ReportBackup): void {
  const known = backups.get(backup.uri);
  if (!known) {
    backups.set(backup.uri, backup);
    return;
  }
  known.size = backup.size ?? known.size;
  known.sha256 = backup.sha256 ?? known.sha256;
  known.verified = backup.verified ?? known.verified;
  known.recoveryPoint = backup.recoveryPoint ?? known.recoveryPoint;
  known.step = known.step ?? backup.step;
}

function validationFrom(value: unknown, step: string): ReportValidation[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item: unknown) => {
    const entry = record(item);
    const query = text(entry?.query);
    if (!entry || !query || typeof entry.ok !== 'boolean') return [];
    return [{ step, query, ok: entry.ok, detail: text(entry.detail) }];
  });
}

/** The recovery times, the backups restored and the validation queries, from marks and restore results. */
export function collectRecovery(events: readonly JournalEvent[]): RecoveryFacts {
  const times: ReportTimes = {
    recoveryPoint: null,
    incidentDeclared: null,
    restoreStarted: null,
    downloadDone: null,
    restoreDone: null,
    validated: null,
  };
  const backups = new Map<string, ReportBackup>();
  /** The last recovery point each step recorded: a re-run replaces its own earlier choice. */
  const recoveryPointByStep = new Map<string, string>();
  const validationByStep = new Map<string, ReportValidation[]>();

  for (const event of events) {
    if (event.type === 'mark') {
      if (event.name === MARK.recoveryPoint) {
        const at = text(event.data?.at);
        if (at) recoveryPointByStep.set(event.step ?? '', at);
        const backup = event.data ? backupFrom(event.data, event.step ?? null, at) : undefined;
        if (backup) mergeBackup(backups, backup);
        continue;
      }
      const spec = TIME_MARKS.find((candidate) => candidate.name === event.name);
      if (spec) times[spec.key] = choose(times[spec.key], markTime(event), spec.pick);
    } else if (event.type === 'result' && event.data) {
      const backupData = record(event.data.backup);
      const backup = backupData ? backupFrom(backupData, event.step, null) : undefined;
      if (backup) mergeBackup(backups, backup);
      const validation = validationFrom(event.data.validation, event.step);
      if (validation.length > 0) validationByStep.set(event.step, validation);
    }
  }
  // Several databases restored: the oldest recovery point is the one that bounds the data lost.
  for (const at of recoveryPointByStep.values())
    times.recoveryPoint = choose(times.recoveryPoint, at, 'earliest');
  return { times, backups: [...backups.values()], validation: [...validationByStep.values()].flat() };
}
