/**
 * The destructive step: type "overwrite <database>", then neo4j-restore.sh (--overwrite-destination=true):
 * as a Job on the StatefulSet's claim while it is at 0, else on this host with NEO4J_HOME.
 */
import { formatBytes, formatDuration } from '../../runbook/backup-catalog.js';
import { InterruptedError, RunbookError } from '../../runbook/errors.js';
import { MARK } from '../../runbook/marks.js';
import type { Gate } from '../../runbook/step.js';
import { defineStep } from '../define.js';
import { type Ctx, requireRestorable } from '../restore-kit/spec.js';
import { integrityTargetLine, restorableOrUndefined } from '../restore-kit/restore-gate.js';
import {
  runRestoreScript,
  scriptLocation,
  scriptOutput,
  STORAGE_OPTIONAL,
  storageEnv,
} from '../clients/restore-scripts.js';
import { DEFAULT_NEO4J_HOME, neo4jAddress, neo4jHome, neo4jHomeOf } from '../clients/cypher.js';
import { IDS, NEO4J_INPUTS, SECTION, SPEC } from './ids.js';
import { memberStopped } from './member-stopped.js';
import { BACKUP_CRONJOB, runRestoreJob } from './restore-job.js';

/**
 * The destructive gate's phrase: it names what is overwritten, and differs from the stopped-member
 * gate's (the database name), so the first answer typed from habit cannot pass the second.
 */
export function overwritePhrase(database: string): string {
  return `overwrite ${database}`;
}

const RESTORE_EXIT: Record<number, string> = {
  2: 'configuration',
  3: 'the database or server is running (or its state cannot be checked): stop it first',
  4: 'backup object missing or object storage unreachable',
  5: 'integrity check failed (checksum, sidecar, archive or incomplete chain): nothing was touched',
  6: 'neo4j-admin load/restore failed',
  7: 'restored, but START DATABASE failed',
};

/** The NEO4J_* values that are set, and the address, for neo4j-restore.sh on this host. */
function neo4jEnv(ctx: Ctx): Record<string, string> {
  const env: Record<string, string> = { NEO4J_ADDRESS: neo4jAddress(ctx) };
  for (const name of NEO4J_INPUTS) {
    const value = ctx.values.get(name);
    if (value) env[name] = value;
  }
  return env;
}

export const restore = defineStep({
  id: IDS.restore,
  section: SECTION,
  title: 'Restore (overwrites the database)',
  description:
    'Type "overwrite <database>" (not the name alone: that answered the stopped-member gate), then neo4j-restore.sh runs — on Kubernetes as a Job that mounts the StatefulSet\'s claim while it is at 0, else on this host with NEO4J_HOME: it verifies the sidecar again and runs neo4j-admin database load (a full backup or dump) or database restore with the chain (a differential), --overwrite-destination=true.',
  inputs: [...NEO4J_INPUTS, 'S3_BUCKET'],
  optionalInputs: STORAGE_OPTIONAL,
  database: 'neo4j',
  plan: (values, options) => {
    const uri =
      typeof options['restore-uri'] === 'string'
        ? options['restore-uri']
        : 's3://<bucket>/neo4j/<timestamp>.backup.tar.gz';
    return {
      actions: [
        {
          summary: `overwrite Neo4j database ${values.get('NEO4J_DATABASE') ?? 'neo4j'} with the chosen backup`,
          command: [
            'AWS_ACCESS_KEY_ID=<key> AWS_SECRET_ACCESS_KEY=<secret> \\',
            `RESTORE_S3_URI=${uri} \\`,
            `NEO4J_DATABASE=${values.get('NEO4J_DATABASE') ?? 'neo4j'} NEO4J_HOME=${DEFAULT_NEO4J_HOME} \\`,
            `bash ${scriptLocation({}, 'neo4j-restore.sh').display}`,
          ].join('\n'),
          destructive: true,
        },
      ],
      notes: ['Typed gate: the database name.'],
    };
  },
  async preview(ctx) {
    const { chosen, unverified } = requireRestorable(ctx.from, SPEC);
    const stopped = ctx.from(memberStopped);
    if (stopped?.stopped !== true)
      throw new RunbookError('the Neo4j member has not been confirmed stopped in this session', {
        next: `Run ${IDS.memberStopped} first.`,
      });
    const statefulSet = stopped.statefulSet;
    if (statefulSet)
      return {
        lines: [
          `restore ${chosen.uri} (${formatBytes(chosen.size)}) into ${ctx.values.get('NEO4J_DATABASE')} on the claim data-${statefulSet}-0, as a Job made from CronJob ${BACKUP_CRONJOB} (StatefulSet ${statefulSet} is at 0)`,
          unverified ? 'integrity: NOT VERIFIED (overridden)' : 'integrity: verified',
        ],
        data: { home: `claim data-${statefulSet}-0`, statefulSet },
      };
    const home = neo4jHomeOf(ctx.settings);
    return {
      lines: [
        `restore ${chosen.uri} (${formatBytes(chosen.size)}) into ${ctx.values.get('NEO4J_DATABASE')} under NEO4J_HOME=${home.path} (${home.source})`,
        unverified ? 'integrity: NOT VERIFIED (overridden)' : 'integrity: verified',
      ],
      data: { home: home.path },
    };
  },
  gate(values, ctx): Gate {
    const restorable = restorableOrUndefined(ctx.from, SPEC);
    const database = values.require('NEO4J_DATABASE');
    const home = typeof ctx.preview?.data?.home === 'string' ? ctx.preview.data.home : neo4jHome({});
    return {
      kind: 'typed',
      prompt: `DESTRUCTIVE: Neo4j database ${database} under ${home} will be OVERWRITTEN by the backup (--overwrite-destination=true). Type "${overwritePhrase(database)}" to confirm.`,
      phrase: overwritePhrase(database),
      target: {
        'kube context': ctx.target.context,
        namespace: ctx.target.namespace,
        host: values.get('NEO4J_HOST') ?? '?',
        [home.startsWith('claim ') ? 'store' : 'NEO4J_HOME']: home,
        database,
        backup: restorable?.chosen.uri ?? '?',
        'recovery point': restorable?.chosen.recoveryPoint ?? 'unknown',
        integrity: integrityTargetLine(restorable),
      },
    };
  },
  async run(ctx) {
    const { chosen, integrity, unverified } = requireRestorable(ctx.from, SPEC);
    const statefulSet = ctx.from(memberStopped)?.statefulSet;
    if (typeof statefulSet === 'string') {
      ctx.mark(MARK.restoreStarted, { uri: chosen.uri, database: ctx.values.get('NEO4J_DATABASE') });
      const job = await runRestoreJob(
        ctx,
        statefulSet,
        {
          RESTORE_S3_URI: chosen.uri,
          NEO4J_DATABASE: ctx.values.require('NEO4J_DATABASE'),
          NEO4J_STATEFULSET: statefulSet,
          NEO4J_START_AFTER_RESTORE: 'false',
          ...(unverified ? { ALLOW_UNVERIFIED: 'true' } : {}),
        },
        chosen.size,
      );
      if (job.exitCode !== 0)
        return {
          summary: `restore FAILED (exit ${job.exitCode}: ${RESTORE_EXIT[job.exitCode] ?? 'failed'})`,
          checks: [
            {
              id: 'restore',
              label: `neo4j-restore.sh (${job.where})`,
              status: 'fail',
              detail:
                job.log
                  .trim()
                  .split('\n')
                  .filter((line) => /neo4j-restore:/.test(line))
                  .slice(-4)
                  .join('\n') || `exit ${job.exitCode}`,
              next: `Fix the cause (kubectl logs job/${job.where.split(' ')[1] ?? ''}), then run this step again; StatefulSet ${statefulSet} is still at 0.`,
            },
          ],
          data: { exitCode: job.exitCode, seconds: job.seconds },
        };
      ctx.mark(MARK.downloadDone, { uri: chosen.uri });
      const out = scriptOutput(
        job.log
          .split('\n')
          .filter((line) => /^[a-z_]+=/.test(line))
          .join('\n'),
      );
      ctx.mark(MARK.restoreDone, { uri: chosen.uri, database: ctx.values.get('NEO4J_DATABASE') });
      const backup = { uri: chosen.uri, size: chosen.size, sha256: integrity.sha256, verified: !unverified };
      ctx.mark(MARK.recoveryPoint, { at: chosen.recoveryPoint, ...backup });
      return {
        summary: `restored ${ctx.values.get('NEO4J_DATABASE')} (${out.type ?? '?'} ${out.artifact ?? ''}) on the claim data-${statefulSet}-0 in ${formatDuration(job.seconds * 1000)}`,
        checks: [
          {
            id: 'restore',
            label: `neo4j-restore.sh (${job.where})`,
            status: 'ok',
            detail: `exit 0; ${out.type ?? ''} ${out.artifact ?? ''}: neo4j-admin database load --overwrite-destination=true`,
          },
        ],
        data: {
          backup,
          database: ctx.values.get('NEO4J_DATABASE'),
          type: out.type,
          artifact: out.artifact,
          seconds: job.seconds,
          job: job.where,
        },
      };
    }
    const script = scriptLocation(ctx.settings, 'neo4j-restore.sh');
    const storage = storageEnv(ctx.values);
    const home = neo4jHomeOf(ctx.settings);
    const env: Record<string, string> = {
      ...storage.env,
      ...neo4jEnv(ctx),
      RESTORE_S3_URI: chosen.uri,
      NEO4J_HOME: home.path,
      ...(unverified ? { ALLOW_UNVERIFIED: 'true' } : {}),
    };
    const { result, downloaded, seconds } = await runRestoreScript(ctx, {
      path: script.path,
      env,
      secrets: storage.secrets,
      size: chosen.size,
      restoringPhase: 'neo4j-admin is loading the store',
      startedMark: { uri: chosen.uri, database: ctx.values.get('NEO4J_DATABASE') },
      downloadedMark: { uri: chosen.uri },
    });
    if (ctx.signal.aborted && ctx.signal.reason !== 'detach') throw new InterruptedError();
    if (result.exitCode !== 0) {
      return {
        summary: `restore FAILED (exit ${result.exitCode}: ${RESTORE_EXIT[result.exitCode] ?? 'failed'})`,
        checks: [
          {
            id: 'restore',
            label: 'neo4j-restore.sh',
            status: 'fail',
            detail: result.stderr.trim().split('\n').slice(-4).join('\n') || `exit ${result.exitCode}`,
            next: 'Fix the cause (see the log) and run this step again.',
          },
        ],
        data: { exitCode: result.exitCode, seconds },
      };
    }
    if (!downloaded) ctx.mark(MARK.downloadDone, { uri: chosen.uri });
    const out = scriptOutput(result.stdout);
    ctx.mark(MARK.restoreDone, { uri: chosen.uri, database: ctx.values.get('NEO4J_DATABASE') });
    const backup = { uri: chosen.uri, size: chosen.size, sha256: integrity.sha256, verified: !unverified };
    ctx.mark(MARK.recoveryPoint, { at: chosen.recoveryPoint, ...backup });
    return {
      summary: `restored ${ctx.values.get('NEO4J_DATABASE')} (${out.type ?? '?'} ${out.artifact ?? ''}) in ${formatDuration(seconds * 1000)}`,
      checks: [
        {
          id: 'restore',
          label: 'neo4j-restore.sh',
          status: 'ok',
          detail: `exit 0; ${out.type ?? ''} ${out.artifact ?? ''}`.trim(),
        },
      ],
      data: {
        backup,
        database: ctx.values.get('NEO4J_DATABASE'),
        type: out.type,
        artifact: out.artifact,
        seconds,
      },
    };
  },
});
