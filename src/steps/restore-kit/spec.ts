/**
 * What every restore-like section (restore-postgres, restore-neo4j, dr-validation) shares: its ids, its
 * inputs, and the typed results of the shared steps.
 */
import type { BackupKind } from '../../runbook/backup-catalog.js';
import { RunbookError } from '../../runbook/errors.js';
import { MARK } from '../../runbook/marks.js';
import type { DumpPrivileges } from '../../runbook/privileges.js';
import type { SectionId } from '../../runbook/sections.js';
import { type Choice, outputOf, type StepContext, type StepHandle } from '../../runbook/step.js';
import type { Adapters } from '../../adapters/types.js';

/** A mark for what did not go as the runbook says (an integrity override, a skipped safety backup). */
export const DEVIATION_MARK = MARK.deviation;

/** Sections built from these steps (dr-validation reuses choose/integrity/override under its own ids). */
export type RestoreSection = Extract<SectionId, 'restore-postgres' | 'restore-neo4j' | 'dr-validation'>;

export interface RestoreSpec {
  section: RestoreSection;
  kind: BackupKind;
  database: 'postgres' | 'neo4j';
  /** The value naming the S3 prefix. */
  prefixValue: 'POSTGRES_S3_PREFIX' | 'NEO4J_S3_PREFIX';
  noun: string;
}

export const POSTGRES_SPEC: RestoreSpec = {
  section: 'restore-postgres',
  kind: 'postgres',
  database: 'postgres',
  prefixValue: 'POSTGRES_S3_PREFIX',
  noun: 'PostgreSQL',
};

export const NEO4J_SPEC: RestoreSpec = {
  section: 'restore-neo4j',
  kind: 'neo4j',
  database: 'neo4j',
  prefixValue: 'NEO4J_S3_PREFIX',
  noun: 'Neo4j',
};

export const stepIds = (spec: RestoreSpec) => ({
  incident: `${spec.section}.incident`,
  choose: `${spec.section}.choose`,
  integrity: `${spec.section}.integrity`,
  override: `${spec.section}.integrity-override`,
});

/** The backup the choose step picked (its result `data.chosen`). */
export interface ChosenBackup {
  uri: string;
  bucket: string;
  key: string;
  size: number;
  sidecarKey?: string;
  recoveryPoint?: string;
  recoveryPointSource?: string;
  lastModified?: string;
  preRestore?: boolean;
  /** "Last proven restorable" when it was chosen (PostgreSQL): what its <key>.verified.json said. */
  provenRestorable?: string;
}

/** The integrity step's result data. */
export interface IntegrityData {
  uri: string;
  verified: boolean;
  sha256: string;
  expectedSha256?: string;
  /** The ETag (and version) of the object that was hashed: the restore pins it, with sha256. */
  etag?: string;
  versionId?: string;
  size: number;
  bytes: number;
  problems: string[];
  /** Rows per table recorded in a PostgreSQL dump's COPY blocks (`schema.table` → rows). */
  rowCounts?: Record<string, number>;
  /** PostgreSQL: the roles the dump names and its owner/privilege statements. */
  privileges?: DumpPrivileges;
  /** PostgreSQL: the globals object beside the dump. */
  globals?: {
    uri: string;
    missing: boolean;
    verified: boolean;
    sha256?: string;
    /** Roles it can create. */
    roles: string[];
    /** Catalog facts it holds. */
    facts: number;
  };
  markerFound?: boolean;
  /**
   * PostgreSQL: the object was not read here. sha256 is its sidecar's, which the restore checks as the object
   * streams into a new database, before anything is swapped (rowCounts come from that pass).
   */
  inStream?: boolean;
  /** Neo4j: the archive's first entries. */
  entries?: string[];
  seconds: number;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The choose step's output. */
export interface ChooseData {
  chosen: ChosenBackup;
  incidentAt?: string;
  dataLoss?: { ms: number; text: string };
}

/** The incident step's output: when the incident was declared, and how it was given. */
export interface IncidentData {
  at: string;
  source?: string;
}

/** The integrity-override step's output. */
export interface OverrideData {
  overridden: boolean;
  uri: string;
  reason?: string;
  deviation?: boolean;
}

/** Journals written before a field existed still decode: only what a later step relies on is checked. */
function decodeChoose(data: Record<string, unknown>): ChooseData | undefined {
  const chosen = data.chosen;
  if (!isRecord(chosen) || typeof chosen.uri !== 'string' || typeof chosen.key !== 'string') return undefined;
  return data as unknown as ChooseData;
}

function decodeIntegrity(data: Record<string, unknown>): IntegrityData | undefined {
  if (typeof data.uri !== 'string' || typeof data.verified !== 'boolean') return undefined;
  return { problems: [], ...data } as unknown as IntegrityData;
}

function decodeIncident(data: Record<string, unknown>): IncidentData | undefined {
  return typeof data.at === 'string' ? (data as unknown as IncidentData) : undefined;
}

function decodeOverride(data: Record<string, unknown>): OverrideData | undefined {
  return typeof data.overridden === 'boolean' && typeof data.uri === 'string'
    ? (data as unknown as OverrideData)
    : undefined;
}

/** Typed handles on the shared steps of a restore section (they are built per section, so by id). */
export function restoreHandles(spec: RestoreSpec): {
  incident: StepHandle<IncidentData>;
  choose: StepHandle<ChooseData>;
  integrity: StepHandle<IntegrityData>;
  override: StepHandle<OverrideData>;
} {
  const ids = stepIds(spec);
  return {
    incident: outputOf(ids.incident, decodeIncident),
    choose: outputOf(ids.choose, decodeChoose),
    integrity: outputOf(ids.integrity, decodeIntegrity),
    override: outputOf(ids.override, decodeOverride),
  };
}

export function chosenBackup(from: From, spec: RestoreSpec): ChosenBackup | undefined {
  return from(restoreHandles(spec).choose)?.chosen;
}

export function integrityOf(from: From, spec: RestoreSpec): IntegrityData | undefined {
  return from(restoreHandles(spec).integrity);
}

export function incidentAt(from: From, spec: RestoreSpec): string | undefined {
  return from(restoreHandles(spec).incident)?.at;
}

export interface Restorable {
  chosen: ChosenBackup;
  integrity: IntegrityData;
  /** The integrity check failed and the operator overrode it (typed phrase, journaled as a deviation). */
  unverified: boolean;
}

/**
 * What a step that touches the database needs first: a chosen backup whose integrity was verified
 * in this session, or whose failed check was overridden. Throws what to do otherwise.
 */
export function requireRestorable(from: From, spec: RestoreSpec): Restorable {
  const ids = stepIds(spec);
  const chosen = chosenBackup(from, spec);
  if (!chosen)
    throw new RunbookError('no backup has been chosen in this session', { next: `Run ${ids.choose} first.` });
  const integrity = integrityOf(from, spec);
  if (!integrity || integrity.uri !== chosen.uri)
    throw new RunbookError(`the integrity of ${chosen.uri} has not been checked in this session`, {
      next: `Run ${ids.integrity} first: nothing touches the database before it.`,
    });
  if (integrity.verified) return { chosen, integrity, unverified: false };
  const override = from(restoreHandles(spec).override);
  if (override?.overridden === true && override.uri === chosen.uri)
    return { chosen, integrity, unverified: true };
  throw new RunbookError(
    `${chosen.uri} failed its integrity check (${integrity.problems.join('; ')}) and was not overridden`,
    {
      next: `Choose another backup (${ids.choose}), or override with the typed phrase in ${ids.override} (journaled as a deviation).`,
    },
  );
}

/**
 * ctx.choose, with the fallback (what a non-interactive run gets) tagged so it never equals an
 * option's value: the TUI list (@inkjs/ui Select) only reports a pick that differs from its
 * defaultValue, so Enter on the default option would otherwise do nothing. The list starts on
 * the first option, which the restore steps make the recommended one.
 */
export async function operatorChoice(
  ctx: Pick<Ctx, 'choose'>,
  prompt: string,
  choices: readonly Choice[],
  fallback: string | undefined,
): Promise<string | undefined> {
  const answer = await ctx.choose(
    prompt,
    choices,
    fallback === undefined ? undefined : `${fallback}${FALLBACK_TAG}`,
  );
  return answer?.endsWith(FALLBACK_TAG) ? answer.slice(0, -FALLBACK_TAG.length) : answer;
}

export type Ctx = StepContext<Adapters>;

/** `ctx.from`: an earlier step's output through its typed handle. */
export type From = StepContext<Adapters>['from'];

/** Appended to the fallback handed to the TUI list; see {@link operatorChoice}. */
export const FALLBACK_TAG = '\u2063fallback';
