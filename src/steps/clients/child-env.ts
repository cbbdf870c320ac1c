/** A child process's environment built from runbook values: the variables, and which of them are secrets to mask. */
export interface ChildEnv {
  env: Record<string, string>;
  secrets: string[];
}

/** Sets `name` only when the value is set and not empty. */
export function put(env: Record<string, string>, name: string, value: string | undefined): void {
  if (value !== undefined && value !== '') env[name] = value;
}
