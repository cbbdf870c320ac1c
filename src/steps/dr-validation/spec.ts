/**
 * What the dr-validation steps share: the section's step ids (restore-postgres's backup choice and
 * integrity steps reused under this section's ids) and the drill server's connection values.
 */
import type { Adapters } from '../../adapters/types.js';
import type { SectionId } from '../../runbook/sections.js';
import type { StepContext } from '../../runbook/step.js';
import type { Values } from '../../runbook/values.js';
import { POSTGRES_SPEC, type RestoreSection, type RestoreSpec, stepIds } from '../restore-kit/spec.js';
import type { ValidationEntry } from '../restore-kit/validation.js';

export type Ctx = StepContext<Adapters>;

export const SECTION = 'dr-validation' satisfies SectionId;

/**
 * restore-postgres's backup choice and integrity steps, under this section's ids (dr-validation.choose,
 * dr-validation.integrity, …). RestoreSection names only the two restore sections, hence the cast.
 */
export const DRILL_SPEC: RestoreSpec = { ...POSTGRES_SPEC, section: SECTION as SectionId as RestoreSection };

export const DRILL_IDS = {
  ...stepIds(DRILL_SPEC),
  restore: `${SECTION}.restore`,
  smoke: `${SECTION}.smoke`,
  neo4j: `${SECTION}.neo4j`,
  drop: `${SECTION}.drop-scratch`,
  report: `${SECTION}.report`,
} as const;

/**
 * The drill's PostgreSQL server: DRILL_POSTGRES_HOST (with DRILL_POSTGRES_PORT/USER/PASSWORD) when set — an
 * isolated target, whose roles come from the backup's globals — else the source's own server.
 */
export function drillValues(values: Values): Values {
  const host = values.get('DRILL_POSTGRES_HOST');
  if (!host) return values;
  let out = values.with('POSTGRES_HOST', host, values.source('DRILL_POSTGRES_HOST') ?? 'input');
  for (const [from, to] of [
    ['DRILL_POSTGRES_PORT', 'POSTGRES_PORT'],
    ['DRILL_POSTGRES_USER', 'POSTGRES_USER'],
    ['DRILL_POSTGRES_PASSWORD', 'POSTGRES_PASSWORD'],
  ] as const) {
    const value = values.get(from);
    if (value) out = out.with(to, value, values.source(from) ?? 'input');
  }
  return out;
}

/** An isolated drill server is set (DRILL_POSTGRES_HOST). */
export function isolatedDrill(values: Values): boolean {
  return values.get('DRILL_POSTGRES_HOST') !== undefined;
}

/** The step context with the drill server's connection values. */
export function onDrillServer<T extends { values: Values }>(ctx: T): T {
  return isolatedDrill(ctx.values) ? { ...ctx, values: drillValues(ctx.values) } : ctx;
}

export const DRILL_OPTIONAL = [
  'DRILL_POSTGRES_HOST',
  'DRILL_POSTGRES_PORT',
  'DRILL_POSTGRES_USER',
  'DRILL_POSTGRES_PASSWORD',
];

/** A name the values file gives (drillDatabase, neo4jDrillDatabase), trimmed; undefined when unset or blank. */
export function explicitName(settings: Record<string, unknown>, key: string): string | undefined {
  const value = settings[key];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}
/**
 * The Neo4j drill's output: whether it restored and smoke-tested, into which scratch database (Enterprise)
 * or isolated instance (Community), or why not.
 */

export interface DrillNeo4jData {
  drilled: boolean;
  /** Enterprise: the scratch database (the drop step drops it). */
  scratch?: string;
  /** Community: the isolated instance's Bolt address (deleted by the step itself). */
  instance?: string;
  /** Why the drill was not possible here. */
  why?: string | null;
  created?: boolean;
  exitCode?: number;
  backup?: { uri: string; verified: boolean };
  validation?: ValidationEntry[];
  recoveryPoint?: string | null;
  validatedAt?: string;
}
/** What the preview found: where the drill can go (a scratch database, or an isolated instance), or why not. */

export interface Neo4jPreview {
  possible: boolean;
  why?: string;
  edition?: string;
  scratch?: string;
  uri?: string;
  recoveryPoint?: string;
  home?: string;
  /** Community: a second, isolated instance from the local distribution (its bin/ and lib/). */
  instance?: boolean;
  binDir?: string;
  libDir?: string;
}
