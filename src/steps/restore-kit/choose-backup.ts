/**
 * Choosing the backup: newest first, with the data-loss window and whether each one was proven restorable.
 */
import type { S3Adapter } from '../../adapters/types.js';
import {
  type Backup,
  buildCatalog,
  dataLossWindow,
  defaultBackup,
  describeBackup,
  formatBytes,
  preferredBackup,
  SIDECAR_SUFFIX,
  verificationText,
  withMetadata,
} from '../../runbook/backup-catalog.js';
import { GateRefusedError, RunbookError, UsageError } from '../../runbook/errors.js';
import { baseName, formatS3Uri, parseS3Uri } from '../../runbook/s3-uri.js';
import { defineStep, endpointFlag, type RunbookStep } from '../define.js';
import type { Check, Choice } from '../../runbook/step.js';
import {
  type ChooseData,
  type ChosenBackup,
  incidentAt,
  operatorChoice,
  POSTGRES_SPEC,
  restoreHandles,
  type RestoreSpec,
} from './spec.js';
import { readVerifications } from '../clients/verification-records.js';

export function chosenFrom(bucket: string, backup: Backup): ChosenBackup {
  return {
    uri: formatS3Uri(bucket, backup.key),
    bucket,
    key: backup.key,
    size: backup.size,
    ...(backup.sidecarKey ? { sidecarKey: backup.sidecarKey } : {}),
    ...(backup.recoveryPoint ? { recoveryPoint: backup.recoveryPoint } : {}),
    ...(backup.recoveryPointSource ? { recoveryPointSource: backup.recoveryPointSource } : {}),
    ...(backup.lastModified ? { lastModified: backup.lastModified } : {}),
    preRestore: backup.preRestore,
    ...(backup.verification ? { provenRestorable: verificationText(backup.verification, new Date()) } : {}),
  };
}

/** The object a pasted URI names, read with HEAD (and its sidecar), as a catalog entry. */
export async function backupFromHead(
  s3: S3Adapter,
  key: string,
  prefix: string,
): Promise<Backup | undefined> {
  const head = await s3.head(key);
  if (!head) return undefined;
  const sidecar = await s3.head(`${key}${SIDECAR_SUFFIX}`);
  const [entry] = buildCatalog(
    [{ key, size: head.size, ...(head.lastModified ? { lastModified: head.lastModified } : {}) }],
    { kind: key.endsWith('.sql.gz') ? 'postgres' : 'neo4j', prefix: '' },
  );
  const backup: Backup = entry ?? {
    key,
    size: head.size,
    preRestore: false,
    ...(head.lastModified ? { lastModified: head.lastModified.toISOString() } : {}),
  };
  return withMetadata(
    {
      ...backup,
      ...(sidecar ? { sidecarKey: `${key}${SIDECAR_SUFFIX}` } : {}),
      preRestore: key.startsWith(`${prefix}pre-restore/`),
    },
    head.metadata,
  );
}

export function chooseBackupStep(spec: RestoreSpec): RunbookStep<ChooseData> {
  return defineStep<ChooseData>({
    ...restoreHandles(spec).choose,
    section: spec.section,
    title: 'Choose the backup',
    description: `${spec.noun} backups under the prefix, newest first (key, size, age, recovery point, sha256 sidecar), or the s3:// URI given with --restore-uri / RESTORE_S3_URI; shows the data-loss window (incident − recovery point).`,
    inputs: ['S3_BUCKET', spec.prefixValue],
    optionalInputs: ['AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_DEFAULT_REGION'],
    database: spec.database,
    plan: (values, options) => {
      const bucket = values.get('S3_BUCKET') ?? '<bucket>';
      const prefix = values.get(spec.prefixValue) ?? '';
      const uri = options['restore-uri'];
      return {
        actions: [
          {
            summary: `list the backups under s3://${bucket}/${prefix}, newest first`,
            command: `aws s3 ls s3://${bucket}/${prefix}${endpointFlag(values.get('AWS_ENDPOINT_URL'))}`,
          },
          {
            summary:
              typeof uri === 'string'
                ? `restore ${uri} (--restore-uri / RESTORE_S3_URI)`
                : 'pick one (non-interactive: the newest regular backup)',
            command: `export RESTORE_S3_URI=${typeof uri === 'string' ? uri : `s3://${bucket}/${prefix}<timestamp>${spec.kind === 'postgres' ? '.sql.gz' : '.backup.tar.gz'}`}`,
          },
        ],
      };
    },
    async run(ctx) {
      const values = ctx.values;
      const bucket = values.require('S3_BUCKET');
      const prefix = values.get(spec.prefixValue) ?? '';
      const incident = incidentAt(ctx.from, spec) ?? incidentAt(ctx.from, POSTGRES_SPEC);
      const given = ctx.options['restore-uri'];
      let namedKey: string | undefined;
      if (typeof given === 'string' && given !== '') {
        const parsed = parseS3Uri(given);
        if (!parsed.ok)
          throw new UsageError(
            `the restore URI ${parsed.problem}`,
            'Give s3://bucket/key (--restore-uri or RESTORE_S3_URI).',
          );
        if (parsed.bucket !== bucket)
          throw new UsageError(
            `the restore URI names bucket ${parsed.bucket}, but this session uses S3_BUCKET=${bucket}`,
            `Set S3_BUCKET=${parsed.bucket} (and its credentials) to restore from it.`,
          );
        namedKey = parsed.key;
      }
      const s3 = await ctx.adapters.s3();
      const listed = await s3.list(prefix);
      const catalog = buildCatalog(listed, { kind: spec.kind, prefix });
      ctx.log(`${catalog.length} ${spec.noun} backup(s) under s3://${bucket}/${prefix}`);
      await readVerifications(s3, catalog);
      let preferredReason: string | undefined;
      if (namedKey) {
        // The named backup goes first: the list starts there, and it is the non-interactive pick.
        const index = catalog.findIndex((backup) => backup.key === namedKey);
        const named = index >= 0 ? catalog.splice(index, 1)[0] : await backupFromHead(s3, namedKey, prefix);
        if (!named)
          throw new RunbookError(`${formatS3Uri(bucket, namedKey)} does not exist`, {
            next: `Check the URI; aws s3 ls s3://${bucket}/${prefix} lists what there is.`,
          });
        catalog.unshift(named);
      } else {
        // Newest PROVEN regular backup first, else the newest regular one (a pre-restore safety backup is
        // restored only when picked); when that is not the newest, say why.
        const preferred = preferredBackup(catalog);
        preferredReason = preferred.reason;
        if (preferredReason) ctx.log(preferredReason);
        const index = preferred.backup ? catalog.indexOf(preferred.backup) : -1;
        if (index > 0) catalog.unshift(...catalog.splice(index, 1));
      }
      if (catalog.length === 0)
        throw new RunbookError(`no ${spec.noun} backups under s3://${bucket}/${prefix}`, {
          next: `Check ${spec.prefixValue}, or take a backup first (the ${spec.kind === 'postgres' ? 'test-postgres' : 'test-neo4j'} section triggers one).`,
        });
      const now = new Date();
      const shown = catalog.slice(0, 100);
      const choices: Choice[] = shown.map((backup) => ({
        label: backup.key.startsWith(prefix) ? backup.key.slice(prefix.length) : backup.key,
        value: backup.key,
        hint: describeBackup(backup, now, incident),
      }));
      const fallback =
        namedKey ??
        (preferredReason ? catalog[0]?.key : undefined) ??
        defaultBackup(catalog)?.key ??
        catalog[0]?.key;
      const picked = await operatorChoice(ctx, `Which ${spec.noun} backup to restore?`, choices, fallback);
      if (picked === undefined)
        throw new GateRefusedError('no backup was chosen', 'Choose a backup to continue.');
      let backup = catalog.find((candidate) => candidate.key === picked);
      if (!backup) throw new RunbookError(`${picked} is not one of the listed backups`);
      const head = await s3.head(backup.key);
      if (!head)
        throw new RunbookError(`${formatS3Uri(bucket, backup.key)} disappeared since it was listed`, {
          next: 'List again: a lifecycle rule or another operator may have deleted it.',
        });
      backup = withMetadata({ ...backup, size: head.size }, head.metadata);
      const chosen = chosenFrom(bucket, backup);
      const window = dataLossWindow(incident, backup);
      const checks: Check[] = [
        {
          id: 'sidecar',
          label: 'sha256 sidecar',
          status: backup.sidecarKey ? 'ok' : 'warn',
          detail: backup.sidecarKey
            ? `s3://${bucket}/${backup.sidecarKey}`
            : `no ${baseName(backup.key)}${SIDECAR_SUFFIX}`,
          ...(backup.sidecarKey
            ? {}
            : {
                next: 'The integrity check will refuse it unless overridden with a typed phrase (a deviation).',
              }),
        },
        {
          id: 'recovery-point',
          label: 'recovery point',
          status:
            backup.recoveryPointSource === 'metadata' || backup.recoveryPointSource === 'key' ? 'ok' : 'warn',
          detail: backup.recoveryPoint
            ? `${backup.recoveryPoint} (from the ${backup.recoveryPointSource === 'metadata' ? 'object metadata' : backup.recoveryPointSource === 'key' ? 'file name' : 'upload time: an upper bound'})`
            : 'unknown',
        },
        {
          id: 'data-loss',
          label: 'data-loss window',
          status: window && !window.afterIncident ? 'ok' : 'warn',
          detail: window ? window.text : 'unknown (no recovery point or incident time)',
          ...(window?.afterIncident
            ? { next: 'Choose a backup taken before the incident unless you know this one is clean.' }
            : {}),
        },
      ];
      {
        const verification = catalog.find((candidate) => candidate.key === backup?.key)?.verification;
        checks.push({
          id: 'proven-restorable',
          label: 'proven restorable',
          status: verification?.state === 'proven' ? 'ok' : 'warn',
          detail: `${verificationText(verification, now)}${verification?.state === 'failed' && verification.detail ? `: ${verification.detail}` : ''}${verification?.by ? ` (by ${verification.by})` : ''}${backup.key === catalog[0]?.key && preferredReason ? `; ${preferredReason}` : ''}`,
          ...(verification?.state === 'proven'
            ? {}
            : {
                next:
                  spec.kind === 'postgres'
                    ? `Prove it first if there is time: db-runbook verify ${formatS3Uri(bucket, backup.key)} (a scratch restore; the restore itself also checks integrity before touching anything).`
                    : `The neo4j-restore-verify CronJob proves the newest Neo4j backup daily; to prove the newest now: kubectl -n "$NAMESPACE" create job --from=cronjob/neo4j-restore-verify neo4j-verify-now (the restore itself also checks integrity before touching anything).`,
              }),
        });
      }
      ctx.log(`chosen ${chosen.uri} (${formatBytes(chosen.size)})`);
      if (window) ctx.log(`data-loss window: ${window.text}`);
      return {
        summary: `${baseName(chosen.key)} · ${formatBytes(chosen.size)} · ${window ? window.text : 'data-loss window unknown'}`,
        checks,
        data: {
          chosen,
          ...(incident ? { incidentAt: incident } : {}),
          ...(window ? { dataLoss: { ms: window.ms, text: window.text } } : {}),
        },
      };
    },
  });
}
