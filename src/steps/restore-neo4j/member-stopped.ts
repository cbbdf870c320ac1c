/**
 * The Neo4j member is stopped before the restore: its state checked (SHOW DATABASE, the StatefulSet or
 * `neo4j status`), how to stop it shown, and stopped for the operator when they pick it; typed gate.
 */
import { RunbookError } from '../../runbook/errors.js';
import { shellCommand } from '../../runbook/plan.js';
import type { Check, Gate } from '../../runbook/step.js';
import { defineStep } from '../define.js';
import { operatorChoice, requireRestorable } from '../restore-kit/spec.js';
import { neo4jAddress, quoteNeo4jName } from '../clients/cypher.js';
import { IDS, NEO4J_INPUTS, SECTION, SPEC } from './ids.js';
import {
  cypher,
  memberState,
  neo4jServer,
  statefulSetState,
  stopHow,
  stopHowFor,
  waitFor,
} from './member.js';

/** The member-stopped step's output: whether it is stopped, how, and what to start again afterwards. */
export interface MemberStoppedData {
  stopped: boolean;
  /** SHOW DATABASE's currentStatus, or `unreachable`. */
  status: string;
  how: 'database' | 'server' | 'statefulset' | 'unknown';
  edition?: string;
  version?: string;
  /** NEO4J_STATEFULSET when it is the member: the restore runs as a Job on its claim while it is at 0. */
  statefulSet?: string;
  /** Its replicas before it was scaled to 0 (start-verify scales it back to them). */
  replicasBefore?: number;
}

export const memberStopped = defineStep<MemberStoppedData>({
  id: IDS.memberStopped,
  section: SECTION,
  title: 'The Neo4j member is stopped',
  description:
    'The runbook: "Neo4j must be stopped prior to running neo4j-admin database load." Checks SHOW DATABASE over Bolt, the StatefulSet (NEO4J_STATEFULSET) or `neo4j status`, says how to stop it (STOP DATABASE x WAIT on Enterprise; Community: scale the StatefulSet to 0, or neo4j stop on its host), and can stop it for you; typed gate: the database name.',
  inputs: NEO4J_INPUTS,
  optionalInputs: ['NEO4J_STATEFULSET'],
  database: 'neo4j',
  plan: (values) => {
    const database = values.get('NEO4J_DATABASE') ?? 'neo4j';
    const addr = `neo4j://${values.get('NEO4J_HOST') ?? '<host>'}:${values.get('NEO4J_BOLT_PORT') ?? '7687'}`;
    return {
      actions: [
        {
          summary: `check that ${database} is not running`,
          command: `NEO4J_USERNAME=${values.get('NEO4J_USERNAME') ?? 'neo4j'} NEO4J_PASSWORD=<password> ${shellCommand(['cypher-shell', '-a', addr, '-d', 'system', `SHOW DATABASE ${quoteNeo4jName(database)} YIELD currentStatus`])}\n${values.get('NEO4J_STATEFULSET') ? `kubectl get statefulset ${values.get('NEO4J_STATEFULSET')}` : 'neo4j status'}`,
        },
        {
          summary: `if it runs: ${values.get('NEO4J_STATEFULSET') ? `kubectl scale statefulset/${values.get('NEO4J_STATEFULSET')} --replicas=0 (Community), or ` : ''}${stopHow(database, addr)}`,
        },
      ],
      notes: ['Typed gate: the database name.'],
    };
  },
  async preview(ctx) {
    requireRestorable(ctx.from, SPEC);
    const state = await memberState(ctx);
    const database = ctx.values.require('NEO4J_DATABASE');
    let action = 'none';
    if (state.running) {
      action =
        (await operatorChoice(
          ctx,
          `${state.detail}. It must be stopped before the restore.`,
          [
            ...(state.statefulSet
              ? [
                  {
                    label: `Scale StatefulSet ${state.statefulSet.name} to 0 now and wait until its pod is gone`,
                    value: 'scale-down',
                    hint: 'Community: the server stops; every database on it is down until it is scaled back',
                  },
                ]
              : []),
            {
              label: 'I will stop it myself, then check again',
              value: 'self',
              hint: stopHowFor(state, database, neo4jAddress(ctx)),
            },
            ...(state.status !== undefined && state.edition !== 'community'
              ? [
                  {
                    label: `Stop it now: STOP DATABASE ${quoteNeo4jName(database)} WAIT`,
                    value: 'stop-database',
                    hint: 'Enterprise; the server keeps running',
                  },
                ]
              : []),
            ...(state.serverRunning
              ? [
                  {
                    label: 'Stop the server on this host: neo4j stop',
                    value: 'stop-server',
                    hint: 'Community',
                  },
                ]
              : []),
          ],
          state.statefulSet ? 'scale-down' : 'self',
        )) ?? 'self';
    }
    return {
      lines: [
        state.detail,
        ...(state.running ? [`to stop it: ${stopHowFor(state, database, neo4jAddress(ctx))}`] : []),
      ],
      data: { ...state, action },
    };
  },
  gate(values, ctx): Gate {
    const data = ctx.preview?.data ?? {};
    const database = values.require('NEO4J_DATABASE');
    const action = data.action;
    const prompt =
      action === 'scale-down'
        ? `Scale StatefulSet ${String((data.statefulSet as { name?: string } | undefined)?.name ?? values.get('NEO4J_STATEFULSET'))} to 0 now? Neo4j stops: every database on it is down until the restore is done and it is scaled back. Type the database name.`
        : action === 'stop-database'
          ? `Stop database ${database} now (STOP DATABASE ${quoteNeo4jName(database)} WAIT)? Clients lose it until the restore is done. Type the database name.`
          : action === 'stop-server'
            ? `Stop the Neo4j server on this host (neo4j stop)? Every database on it goes down. Type the database name.`
            : data.running === true
              ? `Database ${database} is RUNNING. Stop it first (${stopHow(database, neo4jAddress({ values, settings: {} }))}), then type the database name; it is checked again.`
              : `Confirm the member is stopped and nothing restarts it during the restore: type the database name.`;
    return {
      kind: 'typed',
      prompt,
      phrase: database,
      target: {
        'kube context': ctx.target.context,
        namespace: ctx.target.namespace,
        host: values.get('NEO4J_HOST') ?? '?',
        'bolt port': values.get('NEO4J_BOLT_PORT') ?? '7687',
        database,
        'state now': typeof data.detail === 'string' ? data.detail : '?',
      },
    };
  },
  async run(ctx) {
    const database = ctx.values.require('NEO4J_DATABASE');
    const action = ctx.preview?.data?.action;
    let how: MemberStoppedData['how'] = 'unknown';
    let replicasBefore: number | undefined;
    if (action === 'scale-down') {
      const before = await statefulSetState(ctx);
      if (before) {
        replicasBefore = before.replicas > 0 ? before.replicas : 1;
        const kube = await ctx.adapters.kube();
        const ref = {
          apiVersion: 'apps/v1',
          kind: 'StatefulSet',
          name: before.name,
          namespace: kube.target.namespace,
        };
        await kube.scale(ref, 0);
        ctx.log(`kubectl scale statefulset/${before.name} --replicas=0 (it had ${before.replicas})`);
        await waitFor(ctx, 600, `waiting for the pods of StatefulSet ${before.name} to stop`, async () => {
          const now = await statefulSetState(ctx);
          return (now?.pods ?? 0) === 0;
        });
        ctx.log(`StatefulSet ${before.name}: no pod left; the store is free`);
        how = 'statefulset';
      }
    } else if (action === 'stop-database') {
      const stopped = await cypher(ctx, `STOP DATABASE ${quoteNeo4jName(database)} WAIT`, 'system');
      if (!stopped.ok) throw new RunbookError(`STOP DATABASE ${database} failed: ${stopped.error}`);
      ctx.log(`STOP DATABASE ${database} WAIT: done`);
      how = 'database';
    } else if (action === 'stop-server') {
      const stopped = await neo4jServer(ctx, 'stop');
      if (stopped.exitCode !== 0)
        throw new RunbookError(`neo4j stop failed: ${stopped.stderr || stopped.stdout}`);
      ctx.log(stopped.stdout.trim());
      how = 'server';
    }
    const state = await memberState(ctx);
    if (how === 'unknown')
      how = state.statefulSet
        ? 'statefulset'
        : state.status !== undefined && state.status !== 'absent'
          ? 'database'
          : state.serverRunning === false
            ? 'server'
            : 'unknown';
    const check: Check = {
      id: 'stopped',
      label: `${database} stopped`,
      status: state.running ? 'fail' : 'ok',
      detail: state.detail,
      ...(state.running
        ? { next: `Stop it: ${stopHowFor(state, database, neo4jAddress(ctx))}; then run this step again.` }
        : {}),
    };
    return {
      summary: state.running ? `${database} is still running: not restoring` : state.detail,
      checks: [check],
      data: {
        stopped: !state.running,
        status: state.status ?? 'unreachable',
        how,
        ...(state.edition ? { edition: state.edition, version: state.version } : {}),
        ...(state.statefulSet
          ? {
              statefulSet: state.statefulSet.name,
              replicasBefore: replicasBefore ?? (state.statefulSet.replicas || 1),
            }
          : {}),
      },
    };
  },
});
