/**
 * What a postgres-restore.sh run left on the server, read from the server and never inferred from the
 * script's exit code: the script restores into a new database and swaps it in with one transaction of
 * renames, and says which database that is (`new database <name> (oid N)`). Whatever stopped it, the
 * target either IS that database now (same oid), or it is as it was. Pure: the SQL, the parsing of the
 * script's log and of psql's answer, and the sentence the operator reads.
 */
import { quoteIdent, quoteLiteral } from './pg-queries.js';

/** The names and oid the script announced (from its log). */
export interface SwapNames {
  /** The new database the backup was restored into. */
  scratch: string;
  /** Its oid: the target is the restored database exactly when it has this oid. */
  oid: string;
  /** The target's name after the swap (`<target>_pre_restore_<time>`). */
  previous: string;
}

const NEW_DATABASE = /new database (.+?) \(oid (\d+)\)/;

/** The first `new database <name> (oid N)` in the script's log; undefined when it never created one. */
export function parseSwapNames(log: string): SwapNames | undefined {
  const match = NEW_DATABASE.exec(log);
  if (!match?.[1] || !match[2]) return undefined;
  const scratch = match[1];
  const previous = scratch.replace(/_restore_(\d+)$/, '_pre_restore_$1');
  return { scratch, oid: match[2], previous };
}

/** One JSON object: the oid of the target, the new database and the previous target (null when absent). */
export function swapStateSql(target: string, names: SwapNames): string {
  const oidOf = (name: string) => `(SELECT oid::text FROM pg_database WHERE datname = ${quoteLiteral(name)})`;
  return `SELECT json_build_object('target', ${oidOf(target)}, 'scratch', ${oidOf(names.scratch)}, 'previous', ${oidOf(names.previous)});`;
}

export interface SwapState {
  target: string | null;
  scratch: string | null;
  previous: string | null;
}

export function parseSwapState(stdout: string): SwapState {
  const line = stdout
    .split('\n')
    .map((part) => part.trim())
    .filter(Boolean)
    .at(-1);
  const parsed = (line ? JSON.parse(line) : {}) as Record<string, unknown>;
  const pick = (value: unknown) => (typeof value === 'string' ? value : null);
  return { target: pick(parsed.target), scratch: pick(parsed.scratch), previous: pick(parsed.previous) };
}

export interface RestoreOutcome {
  /** The target is the restored database now. */
  restored: boolean;
  /** What exists, in a sentence, with the command to finish or undo. */
  text: string;
  /** Databases left for the operator: name → the command that drops it. */
  left: Record<string, string>;
}

const drop = (name: string) => `DROP DATABASE ${quoteIdent(name)} WITH (FORCE);`;

/** The outcome for the operator, from what the server holds. */
export function describeOutcome(
  target: string,
  names: SwapNames | undefined,
  state: SwapState | undefined,
): RestoreOutcome {
  if (!names)
    return {
      restored: false,
      text: `${target} was not touched (the script stopped before it created a new database)`,
      left: {},
    };
  if (!state)
    return {
      restored: false,
      text: `the server could not be asked what it holds: check which of ${target}, ${names.scratch} and ${names.previous} exist; the restored database has oid ${names.oid}`,
      left: {},
    };
  const left: Record<string, string> = {};
  if (state.target !== null && state.target === names.oid) {
    if (state.previous !== null) left[names.previous] = drop(names.previous);
    return {
      restored: true,
      text:
        `${target} IS the restored database (oid ${names.oid}, read from the server)` +
        (state.previous !== null
          ? `; the previous ${target} is kept as ${names.previous}: drop it when satisfied: ${drop(names.previous)}`
          : ''),
      left,
    };
  }
  if (state.scratch !== null) left[names.scratch] = drop(names.scratch);
  const now =
    state.target !== null
      ? `${target} was NOT replaced: it is as it was (read from the server)`
      : `${target} does not exist (read from the server)`;
  return {
    restored: false,
    text:
      now +
      (state.scratch !== null
        ? `; the new database ${names.scratch} is left (${state.target === null ? `the restored data may be there: ALTER DATABASE ${quoteIdent(names.scratch)} RENAME TO ${quoteIdent(target)}; ` : ''}drop it: ${drop(names.scratch)})`
        : ''),
    left,
  };
}
