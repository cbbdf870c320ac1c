/**
 * The integrity check of a PostgreSQL backup, without reading the dump: its sidecar, its size and ETag, and its
 * globals object (verified against its own sidecar; the roles and catalog facts the roles preflight needs).
 * The dump itself is read once, by the restore: hashed, inflated and checked as it streams into a new
 * database, and nothing is swapped in unless its SHA-256 equals the sidecar's.
 */
import { formatBytes } from '../../runbook/backup-catalog.js';
import { parseGlobals, privilegesFromFacts } from '../../runbook/privileges.js';
import { baseName } from '../../runbook/s3-uri.js';
import type { Check, StepResult } from '../../runbook/step.js';
import { fetchGlobals, readSidecar } from './globals.js';
import { type ChosenBackup, type Ctx, type IntegrityData, type RestoreSpec, stepIds } from './spec.js';

export async function postgresIntegrity(
  ctx: Ctx,
  spec: RestoreSpec,
  chosen: ChosenBackup,
): Promise<StepResult<IntegrityData>> {
  const started = Date.now();
  const ids = stepIds(spec);
  const s3 = await ctx.adapters.s3();
  const [sidecar, head, globals] = await Promise.all([
    readSidecar(s3, chosen),
    s3.head(chosen.key),
    fetchGlobals(s3, chosen.bucket, chosen.key, ctx.signal),
  ]);
  const problems: string[] = [];
  const checks: Check[] = [];
  if (!head) problems.push(`${chosen.uri} does not exist any more`);
  else if (head.size !== chosen.size)
    problems.push(
      `${chosen.uri} is ${head.size} bytes now, not ${chosen.size} (replaced since it was listed?)`,
    );
  if (sidecar.problem) problems.push(sidecar.problem);
  checks.push({
    id: 'sha256',
    label: 'SHA-256 sidecar',
    status: sidecar.sha256 ? 'ok' : 'fail',
    detail: sidecar.sha256
      ? `${sidecar.sha256}: the restore checks the object against it as it streams into a new database; nothing is swapped in unless it matches`
      : (sidecar.problem ?? 'missing'),
    ...(sidecar.sha256
      ? {}
      : {
          next: `Choose another backup (${ids.choose}), or override with a typed phrase in ${ids.override} (journaled as a deviation).`,
        }),
  });
  checks.push({
    id: 'object',
    label: 'the object',
    status: head && head.size === chosen.size ? 'ok' : 'fail',
    detail: head
      ? `${formatBytes(head.size)}${head.etag ? `, ETag ${head.etag}` : ''}: the restore refuses any other object`
      : 'missing',
  });
  const parsed = globals.text !== undefined ? parseGlobals(globals.text) : undefined;
  if (globals.problem) problems.push(globals.problem);
  checks.push({
    id: 'globals',
    label: 'globals (roles, database settings, privileges to compare)',
    status: globals.missing ? 'warn' : globals.verified ? 'ok' : 'fail',
    detail: globals.missing
      ? `no ${baseName(globals.key)}: roles cannot be created from the backup, owners and privileges cannot be compared after the restore, and the roles the dump names are checked only as it streams`
      : globals.verified
        ? `${globals.uri}: ${parsed?.roles.length ?? 0} role(s), ${parsed?.facts.length ?? 0} fact(s), sha256 ${globals.sha256?.slice(0, 12)}… matches its sidecar`
        : (globals.problem ?? 'not verified'),
    ...(globals.missing ? { next: 'Backups written by this version of postgres-backup.sh have one.' } : {}),
  });
  const privileges = parsed ? privilegesFromFacts(parsed.facts) : undefined;
  if (privileges) {
    const names = [...new Set([...privileges.owners, ...privileges.grantees])];
    checks.push({
      id: 'privileges',
      label: 'owners and privileges in the backup',
      status: privileges.counts.owner > 0 ? 'ok' : 'warn',
      detail:
        privileges.counts.owner > 0
          ? `${privileges.counts.owner} ownership(s), ${privileges.counts.grant} privilege(s), ${privileges.counts.defaults} default privilege(s); role(s): ${names.join(', ') || 'none'}`
          : 'none recorded: the backup has no owned objects',
    });
  }
  const verified = problems.length === 0;
  const sha256 = sidecar.sha256 ?? '';
  const data: IntegrityData = {
    uri: chosen.uri,
    verified,
    sha256,
    ...(sidecar.sha256 ? { expectedSha256: sidecar.sha256 } : {}),
    ...(head?.etag ? { etag: head.etag } : {}),
    ...(head?.versionId ? { versionId: head.versionId } : {}),
    size: head?.size ?? chosen.size,
    bytes: 0,
    problems,
    inStream: true,
    ...(privileges ? { privileges } : {}),
    globals: {
      uri: globals.uri,
      missing: globals.missing,
      verified: globals.verified,
      ...(globals.sha256 ? { sha256: globals.sha256 } : {}),
      roles: parsed?.roles ?? [],
      facts: parsed?.facts.length ?? 0,
    },
    seconds: Math.round((Date.now() - started) / 100) / 10,
  };
  return {
    summary: verified
      ? `ready: sidecar sha256 ${sha256.slice(0, 12)}…, checked as the backup streams into a new database (it is read once)`
      : `REFUSED: ${problems.join('; ')}`,
    checks,
    data,
  };
}
