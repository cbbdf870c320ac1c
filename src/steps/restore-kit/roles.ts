/**
 * The roles preflight's result (restore-postgres and dr-validation): its data, its typed handle, and what
 * the restore reads from it (the script's environment, or what to do when the preflight did not pass).
 * The step is roles-preflight.ts; the checks after the restore are privilege-checks.ts.
 */
import { RunbookError } from '../../runbook/errors.js';
import { roleMapEnv } from '../../runbook/privileges.js';
import { outputOf, type StepHandle } from '../../runbook/step.js';
import type { From, RestoreSpec } from './spec.js';

export const rolesStepId = (spec: RestoreSpec) => `${spec.section}.roles`;

/** The roles preflight's output in a restore section (an old journal's entry without a decision is not used). */
export const rolesHandle = (spec: RestoreSpec): StepHandle<RolesData> =>
  outputOf(rolesStepId(spec), (data) =>
    typeof data.decision === 'string' && Array.isArray(data.rows)
      ? (data as unknown as RolesData)
      : undefined,
  );

/** The typed phrase of the override. */
export const WITHOUT_PRIVILEGES_PHRASE = 'restore without owners and privileges';

export type RolesDecision = 'ok' | 'create' | 'map' | 'without' | 'stop';

export interface RoleRow {
  role: string;
  /** As named in the backup, when --role-map changed it. */
  from?: string;
  uses: ('owner' | 'grantee')[];
  exists: boolean;
  /** The restoring user is a member of it (or superuser): it may give the role objects. */
  canAct: boolean;
  inGlobals: boolean;
}

/** The preflight's result data, read by the restore step and the validation. */
export interface RolesData {
  decision: RolesDecision;
  roleMap: Record<string, string>;
  rows: RoleRow[];
  /** Roles the restore creates from the globals object (decision create). */
  create: string[];
  /** What a restore without owners and privileges leaves out (decision without). */
  lost?: string;
  /** The problems that made a choice necessary. */
  problems: string[];
}

/** The restore's environment for the preflight's decision (postgres-restore.sh). */
export function rolesEnv(data: RolesData | undefined): Record<string, string> {
  if (!data) return {};
  return {
    ...(data.decision === 'create' ? { CREATE_MISSING_ROLES: 'true' } : {}),
    ...(Object.keys(data.roleMap).length > 0 ? { ROLE_MAP: roleMapEnv(data.roleMap) } : {}),
    ...(data.decision === 'without' ? { RESTORE_WITHOUT_PRIVILEGES: 'true' } : {}),
  };
}

/** The preflight's result in this session; throws what to do when it did not pass. */
export function requireRoles(from: From, spec: RestoreSpec): RolesData {
  const data = from(rolesHandle(spec));
  if (!data)
    throw new RunbookError('the roles the backup names have not been checked in this session', {
      next: `Run ${rolesStepId(spec)} first: nothing is touched before it.`,
    });
  if (data.decision === 'stop')
    throw new RunbookError(`roles: ${data.problems.join('; ')}`, {
      next: `Run ${rolesStepId(spec)} again and choose.`,
    });
  return data;
}
