/**
 * What the destructive gate of a restore section shows about the backup (restore-postgres, restore-neo4j):
 * the restorable backup when there is one yet, and its integrity line.
 */
import { type From, type Restorable, requireRestorable, type RestoreSpec } from './spec.js';

/** The chosen, checked backup, or undefined (a gate shows '?') while it is not restorable yet. */
export function restorableOrUndefined(from: From, spec: RestoreSpec): Restorable | undefined {
  try {
    return requireRestorable(from, spec);
  } catch {
    return undefined;
  }
}

/** The gate's integrity line: verified (the hash's start), overridden, or '?'. */
export function integrityTargetLine(restorable: Restorable | undefined): string {
  if (!restorable) return '?';
  return restorable.unverified
    ? 'NOT VERIFIED (overridden)'
    : restorable.integrity.inStream
      ? `sha256 ${restorable.integrity.sha256.slice(0, 16)}… (sidecar), checked as it streams`
      : `verified sha256 ${restorable.integrity.sha256.slice(0, 16)}…`;
}
