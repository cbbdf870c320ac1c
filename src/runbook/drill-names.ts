/**
 * Names of a DR drill's scratch databases (pure): `<db>_drill_<yyyymmdd>` for PostgreSQL,
 * `<db>-drill-<yyyymmdd>` for Neo4j, and why a name must not be used as the drill's target.
 */

/** PostgreSQL's identifier limit, in bytes (the Neo4j names keep to it as well). */
export const PG_NAME_MAX = 63;

/** PostgreSQL's own databases: never a drill's target. */
export const RESERVED_PG: ReadonlySet<string> = new Set(['postgres', 'template0', 'template1']);

function stamp(now: Date): string {
  return now.toISOString().slice(0, 10).replaceAll('-', '');
}

/** `<db>_drill_<yyyymmdd>` within PostgreSQL's 63-byte identifier limit. */
export function drillDatabaseName(source: string, now: Date): string {
  const suffix = `_drill_${stamp(now)}`;
  return `${source.slice(0, PG_NAME_MAX - suffix.length)}${suffix}`;
}

/** Neo4j names: a letter first, then letters, digits, dots and dashes (no underscores), 3–63 characters. */
export function neo4jDrillName(source: string, now: Date): string {
  const suffix = `-drill-${stamp(now)}`;
  const base = source.replace(/[^A-Za-z0-9.-]/g, '-').replace(/^[^A-Za-z]+/, '') || 'neo4j';
  return `${base.slice(0, PG_NAME_MAX - suffix.length)}${suffix}`.toLowerCase();
}

/** Why `scratch` must not be used as the drill's target, or undefined. */
export function scratchProblem(
  scratch: string,
  source: string,
  reserved: ReadonlySet<string>,
): string | undefined {
  if (scratch.trim() === '') return 'the scratch database name is empty';
  if (scratch === source || scratch.toLowerCase() === source.toLowerCase())
    return `the drill's target ${scratch} is the source database: a drill restores into a separate database and never over the source`;
  if (reserved.has(scratch.toLowerCase())) return `${scratch} is a system database`;
  if (Buffer.byteLength(scratch) > PG_NAME_MAX) return `${scratch} is longer than ${PG_NAME_MAX} bytes`;
  return undefined;
}
