/**
 * Stop application writes: the sessions connected to the database now (pg_stat_activity), shown before
 * a typed gate (the database name) that the operator passes once writes are stopped.
 */
import { RunbookError } from '../../runbook/errors.js';
import { describeSession, parseSessions, type PgSession, sessionsSql } from '../../runbook/pg-queries.js';
import { shellCommand } from '../../runbook/plan.js';
import type { Gate, Preview } from '../../runbook/step.js';
import { defineStep } from '../define.js';
import { type Ctx, requireRestorable } from '../restore-kit/spec.js';
import { MAINTENANCE_DATABASE, PG_INPUTS, PLAN_PLACEHOLDERS, psqlTarget } from '../clients/psql.js';
import { psqlOrThrow } from '../clients/psql-run.js';
import { IDS, SECTION, SPEC, target } from './ids.js';

/** The stop-writes step's output: how many sessions were still connected when the operator confirmed. */
export interface StopWritesData {
  sessions: number;
  confirmedAt: string;
}

const MAX_SESSIONS_SHOWN = 8;

/** Sessions connected to the target now, asked from the maintenance database (the target may be gone). */
async function connectedSessions(ctx: Ctx): Promise<PgSession[]> {
  const database = ctx.values.require('POSTGRES_DATABASE');
  try {
    return parseSessions(await psqlOrThrow(ctx, sessionsSql(database), MAINTENANCE_DATABASE));
  } catch (error) {
    // No access to the maintenance database: ask the target itself (this session excluded by the query).
    if (error instanceof RunbookError && /does not exist|permission denied/.test(error.message))
      return parseSessions(await psqlOrThrow(ctx, sessionsSql(database), database));
    throw error;
  }
}

function sessionLines(sessions: readonly PgSession[]): Record<string, string> {
  const out: Record<string, string> = { 'sessions now': String(sessions.length) };
  sessions.slice(0, MAX_SESSIONS_SHOWN).forEach((session, index) => {
    out[`session ${index + 1}`] = describeSession(session);
  });
  if (sessions.length > MAX_SESSIONS_SHOWN)
    out[`session ${MAX_SESSIONS_SHOWN + 1}…`] = `and ${sessions.length - MAX_SESSIONS_SHOWN} more`;
  return out;
}

function sessionsFromPreview(preview: Preview | undefined): PgSession[] {
  const sessions = preview?.data?.sessions;
  return Array.isArray(sessions) ? (sessions as PgSession[]) : [];
}

export const stopWrites = defineStep<StopWritesData>({
  id: IDS.stopWrites,
  section: SECTION,
  title: 'Stop application writes',
  description:
    'The runbook: "Stop application writes or enable maintenance mode." Shows the sessions connected to the database now (pg_stat_activity) and asks you to type the database name once writes are stopped.',
  inputs: PG_INPUTS,
  database: 'postgres',
  plan: (values) => ({
    actions: [
      {
        summary:
          'stop application writes: scale the writers to 0 or enable maintenance mode (your procedure)',
      },
      {
        summary: `list the sessions connected to ${values.get('POSTGRES_DATABASE') ?? '<database>'}`,
        command: `PGPASSWORD=<password> ${shellCommand([
          'psql',
          ...psqlTarget(values, MAINTENANCE_DATABASE, PLAN_PLACEHOLDERS),
          '-c',
          `SELECT usename, application_name, client_addr, state FROM pg_stat_activity WHERE datname = '${values.get('POSTGRES_DATABASE') ?? '<database>'}'`,
        ])}`,
      },
    ],
    notes: ['Typed gate: the database name, once writes are stopped.'],
  }),
  async preview(ctx) {
    requireRestorable(ctx.from, SPEC);
    const sessions = await connectedSessions(ctx);
    return {
      lines: [
        `${sessions.length} session(s) connected to ${ctx.values.get('POSTGRES_DATABASE')} now`,
        ...sessions.slice(0, MAX_SESSIONS_SHOWN).map(describeSession),
      ],
      data: { sessions },
    };
  },
  gate(values, ctx): Gate {
    const sessions = sessionsFromPreview(ctx.preview);
    return {
      kind: 'typed',
      prompt: `Stop application writes to ${values.get('POSTGRES_DATABASE')} (maintenance mode), then type the database name. ${ctx.preview ? `${sessions.length} session(s) are connected now.` : 'The sessions connected are listed first.'}`,
      phrase: values.require('POSTGRES_DATABASE'),
      target: { ...target(values, ctx), ...(ctx.preview ? sessionLines(sessions) : {}) },
    };
  },
  async run(ctx) {
    const sessions = await connectedSessions(ctx);
    for (const session of sessions) ctx.log(`still connected: ${describeSession(session)}`);
    const active = sessions.filter((session) => session.state !== 'idle');
    return {
      summary:
        sessions.length === 0
          ? 'writes stopped: no sessions connected'
          : `writes stopped by the operator; ${sessions.length} session(s) still connected (${active.length} not idle)`,
      checks: [
        {
          id: 'sessions',
          label: 'sessions connected',
          status: sessions.length === 0 ? 'ok' : 'warn',
          detail: sessions.length === 0 ? 'none' : sessions.slice(0, 3).map(describeSession).join('; '),
          ...(sessions.length
            ? {
                next: 'The restore disconnects them (DROP DATABASE … WITH (FORCE)); make sure they are not writers that will reconnect.',
              }
            : {}),
        },
      ],
      data: { sessions: sessions.length, confirmedAt: new Date().toISOString() },
    };
  },
});
