import type { JournalEvent } from '../journal.js';
import { MARK, type RecoveryEngine } from '../marks.js';
import { computeRecoveryMetrics, parseUtc } from '../metrics.js';
import { sectionOfStep } from '../replay.js';
import type { ReportBackup, ReportRecovery, ReportTimes, ReportValidation } from './model.js';

/**
 * Recoveries, one per database per scenario: the marks of restore-postgres make one, restore-neo4j
 * another, the drill's PostgreSQL and Neo4j restores one each. Each has its own incident, recovery
 * point, restore start/done and validation, so RPO/RTO never pair one scenario's incident with
 * another's restore. This is the one place the figures are computed: the report screen, every export
 * and the steps that print RTO/RPO all read them from here (through `buildReport`).
 */

export interface RecoveryFacts {
  recoveries: ReportRecovery[];
  backups: ReportBackup[];
  validation: ReportValidation[];
  /** The journal events each recovery's times came from (for deviations' evidence). */
  evidence: Map<string, Partial<Record<keyof ReportTimes, { session: string; seq: number }>>>;
}

type TimeKey = keyof ReportTimes;

interface Scope {
  section: string | null;
  engine: RecoveryEngine | null;
}

interface Building {
  section: string;
  engine: RecoveryEngine;
  ordinal: number;
  database: string | null;
  times: ReportTimes;
  backup: ReportBackup | null;
  evidence: Partial<Record<TimeKey, { session: string; seq: number }>>;
}

const RECOVERY_SECTIONS = new Set(['restore-postgres', 'restore-neo4j', 'dr-validation']);

const ENGINE_LABEL: Readonly<Record<RecoveryEngine, string>> = { postgres: 'PostgreSQL', neo4j: 'Neo4j' };

/** Which mark name sets which time, and which record wins when there are several in one recovery. */
const TIME_OF_MARK: Readonly<Record<string, { key: TimeKey; pick: 'earliest' | 'latest' }>> = {
  [MARK.incidentDeclared]: { key: 'incidentDeclared', pick: 'latest' },
  // A restore killed and resumed counts from its first start.
  [MARK.restoreStarted]: { key: 'restoreStarted', pick: 'earliest' },
  [MARK.downloadDone]: { key: 'downloadDone', pick: 'latest' },
  [MARK.restoreDone]: { key: 'restoreDone', pick: 'latest' },
  [MARK.validated]: { key: 'validated', pick: 'latest' },
  // A re-run that chose another backup replaces the earlier choice.
  [MARK.recoveryPoint]: { key: 'recoveryPoint', pick: 'latest' },
};

function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function engineOf(value: unknown): RecoveryEngine | null {
  return value === 'postgres' || value === 'neo4j' ? value : null;
}

/** The recovery a step's event belongs to. Incident marks of the drill's start step cover the whole drill. */
export function scopeOfStep(step: string | undefined, data?: Record<string, unknown>): Scope {
  const given = engineOf(data?.engine);
  if (!step) return { section: null, engine: given };
  const section = sectionOfStep(step);
  if (given) return { section, engine: given };
  if (section === 'restore-postgres') return { section, engine: 'postgres' };
  if (section === 'restore-neo4j') return { section, engine: 'neo4j' };
  if (section === 'dr-validation') {
    if (step === 'dr-validation.incident') return { section, engine: null };
    return { section, engine: step === 'dr-validation.neo4j' ? 'neo4j' : 'postgres' };
  }
  return { section, engine: null };
}

function scenarioOf(section: string): ReportRecovery['scenario'] {
  return section === 'dr-validation' ? 'drill' : 'incident-restore';
}

function later(a: string, b: string): boolean {
  const x = parseUtc(a);
  const y = parseUtc(b);
  return x === undefined || y === undefined ? true : y >= x;
}

function emptyTimes(): ReportTimes {
  return {
    recoveryPoint: null,
    incidentDeclared: null,
    restoreStarted: null,
    downloadDone: null,
    restoreDone: null,
    validated: null,
  };
}

function backupFrom(data: Record<string, unknown>, step: string | null): ReportBackup | undefined {
  const uri = text(data.uri);
  if (!uri) return undefined;
  return {
    uri,
    size: typeof data.size === 'number' && Number.isInteger(data.size) && data.size >= 0 ? data.size : null,
    sha256: text(data.sha256),
    verified: typeof data.verified === 'boolean' ? data.verified : null,
    recoveryPoint: null,
    step,
    recovery: null,
    ...(text(data.provenRestorable) ? { provenRestorable: text(data.provenRestorable) ?? '' } : {}),
  };
}

function mergeBackup(known: ReportBackup | null, backup: ReportBackup): ReportBackup {
  if (!known || known.uri !== backup.uri) return backup;
  return {
    ...known,
    size: backup.size ?? known.size,
    sha256: backup.sha256 ?? known.sha256,
    verified: backup.verified ?? known.verified,
    recoveryPoint: backup.recoveryPoint ?? known.recoveryPoint,
    step: known.step ?? backup.step,
    ...((backup.provenRestorable ?? known.provenRestorable)
      ? { provenRestorable: backup.provenRestorable ?? known.provenRestorable }
      : {}),
  };
}

/** The recoveries of a session with their metrics against `rpoTarget`/`rtoTarget` in `settings`. */
export function collectRecoveries(
  events: readonly JournalEvent[],
  settings: Readonly<Record<string, unknown>> = {},
): RecoveryFacts {
  const all: Building[] = [];
  const current = new Map<string, Building>();
  /** Incidents declared for a whole section (the drill's start) or, without a step, for the whole session. */
  const declared = new Map<string | null, { at: string; session: string; seq: number }>();
  const validationByStep = new Map<string, { recovery: Building; entries: ReportValidation[] }>();
  let lastTouched: Building | undefined;

  const open = (section: string, engine: RecoveryEngine): Building => {
    const key = `${section}/${engine}`;
    let building = current.get(key);
    if (!building) {
      const ordinal = all.filter((b) => b.section === section && b.engine === engine).length + 1;
      building = {
        section,
        engine,
        ordinal,
        database: null,
        times: emptyTimes(),
        backup: null,
        evidence: {},
      };
      const inherited = declared.get(section) ?? declared.get(null);
      if (inherited) {
        building.times.incidentDeclared = inherited.at;
        building.evidence.incidentDeclared = { session: inherited.session, seq: inherited.seq };
      }
      all.push(building);
      current.set(key, building);
    }
    return building;
  };
  /** A validated recovery is finished: what comes after starts the next one. */
  const close = (building: Building) => current.delete(`${building.section}/${building.engine}`);

  const resolve = (scope: Scope): Building | undefined => {
    if (scope.section !== null && RECOVERY_SECTIONS.has(scope.section))
      return scope.engine ? open(scope.section, scope.engine) : undefined;
    if (scope.section === null) {
      if (scope.engine) {
        const match = [...current.values()].filter((b) => b.engine === scope.engine).at(-1);
        return match ?? open('restore-' + scope.engine, scope.engine);
      }
      return lastTouched ?? open('restore-postgres', 'postgres');
    }
    return undefined;
  };

  for (const event of events) {
    if (event.type === 'mark') {
      const spec = TIME_OF_MARK[event.name];
      if (!spec) continue;
      const data = event.data ?? {};
      const scope = scopeOfStep(event.step, data);
      const at = spec.key === 'recoveryPoint' ? text(data.at) : (text(data.at) ?? text(event.at) ?? event.ts);
      const ref = { session: event.session, seq: event.seq };

      if (spec.key === 'incidentDeclared' && scope.engine === null && at) {
        // The drill's start (or a session-wide incident): every recovery of that scope from now on.
        declared.set(scope.section, { at, ...ref });
        for (const building of [...current.values()]) {
          if (scope.section !== null && building.section !== scope.section) continue;
          if (building.times.validated !== null) close(building);
          else {
            building.times.incidentDeclared = at;
            building.evidence.incidentDeclared = ref;
          }
        }
        continue;
      }
      let building = resolve(scope);
      if (!building) continue;
      if (
        building.times.validated !== null &&
        (spec.key === 'incidentDeclared' || spec.key === 'restoreStarted')
      ) {
        // The same recovery again (a second incident, or a restore run again after validation).
        const previous = building;
        close(previous);
        building = open(previous.section, previous.engine);
        if (spec.key === 'restoreStarted' && building.times.incidentDeclared === null) {
          building.times.incidentDeclared = previous.times.incidentDeclared;
          if (previous.evidence.incidentDeclared)
            building.evidence.incidentDeclared = previous.evidence.incidentDeclared;
        }
      }
      lastTouched = building;
      const database = text(data.database);
      if (database && spec.key !== 'recoveryPoint') building.database = database;
      if (at) {
        const known = building.times[spec.key];
        if (known === null || (spec.pick === 'latest' ? later(known, at) : !later(known, at))) {
          building.times[spec.key] = at;
          building.evidence[spec.key] = ref;
        }
      }
      if (spec.key === 'recoveryPoint') {
        const backup = backupFrom(data, event.step ?? null);
        if (backup) building.backup = mergeBackup(building.backup, { ...backup, recoveryPoint: at });
      }
    } else if (event.type === 'result' && event.data) {
      const scope = scopeOfStep(event.step, event.data);
      if (scope.section === null || !RECOVERY_SECTIONS.has(scope.section) || scope.engine === null) continue;
      const key = `${scope.section}/${scope.engine}`;
      const backupData = record(event.data.backup);
      const validation = Array.isArray(event.data.validation) ? event.data.validation : undefined;
      if (!backupData && !validation) continue;
      const building =
        current.get(key) ??
        all.filter((b) => b.section === scope.section && b.engine === scope.engine).at(-1) ??
        open(scope.section, scope.engine);
      const backup = backupData ? backupFrom(backupData, event.step) : undefined;
      if (backup) building.backup = mergeBackup(building.backup, backup);
      if (validation) {
        const entries = validation.flatMap((item: unknown): ReportValidation[] => {
          const entry = record(item);
          const query = text(entry?.query);
          if (!entry || !query || typeof entry.ok !== 'boolean') return [];
          return [{ step: event.step, recovery: null, query, ok: entry.ok, detail: text(entry.detail) }];
        });
        // A step run again replaces its earlier validation.
        validationByStep.set(event.step, { recovery: building, entries });
      }
    }
  }

  const idOf = new Map<Building, string>();
  const recoveries = all.map((building): ReportRecovery => {
    const scenario = scenarioOf(building.section);
    const id = `${scenario}/${building.engine}${building.ordinal > 1 ? `#${building.ordinal}` : ''}`;
    idOf.set(building, id);
    const metrics = computeRecoveryMetrics(
      {
        ...(building.times.incidentDeclared ? { incidentDeclared: building.times.incidentDeclared } : {}),
        ...(building.times.recoveryPoint ? { recoveryPoint: building.times.recoveryPoint } : {}),
        ...(building.times.validated ? { validated: building.times.validated } : {}),
      },
      settings,
    );
    const backup = building.backup
      ? {
          ...building.backup,
          recoveryPoint: building.backup.recoveryPoint ?? building.times.recoveryPoint,
          recovery: id,
        }
      : null;
    return {
      id,
      scenario,
      section: building.section,
      engine: building.engine,
      label: `${scenario === 'drill' ? 'DR drill' : 'Incident restore'} · ${ENGINE_LABEL[building.engine]}${building.database ? ` ${building.database}` : ''}${building.ordinal > 1 ? ` (#${building.ordinal})` : ''}`,
      database: building.database,
      times: { ...building.times },
      backup,
      rpo: metrics.rpo,
      rto: metrics.rto,
      complete: building.times.validated !== null,
    };
  });
  // A drill declared but not restored yet still shows, with its figures unknown.
  for (const [section, incident] of declared) {
    if (section === null || recoveries.some((recovery) => recovery.section === section)) continue;
    const times = { ...emptyTimes(), incidentDeclared: incident.at };
    const metrics = computeRecoveryMetrics({ incidentDeclared: incident.at }, settings);
    const scenario = scenarioOf(section);
    recoveries.push({
      id: `${scenario}/postgres`,
      scenario,
      section,
      engine: 'postgres',
      label: `${scenario === 'drill' ? 'DR drill' : 'Incident restore'} · PostgreSQL`,
      database: null,
      times,
      backup: null,
      rpo: metrics.rpo,
      rto: metrics.rto,
      complete: false,
    });
  }
  const evidence = new Map(all.map((building) => [idOf.get(building) as string, building.evidence]));
  const validation = [...validationByStep.values()].flatMap(({ recovery, entries }) =>
    entries.map((entry) => ({ ...entry, recovery: idOf.get(recovery) ?? null })),
  );
  const backups = recoveries.flatMap((recovery) => (recovery.backup ? [recovery.backup] : []));
  return { recoveries, backups, validation, evidence };
}
