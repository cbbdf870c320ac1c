import { basePath, run } from './backup-jobs-run.js';

export interface PsqlServer {
  host: string;
  port: number;
  user: string;
  password: string;
}

/** A SQL script through the real psql (ON_ERROR_STOP, unaligned, tuples only); its output trimmed. */
export async function psqlScript(
  server: PsqlServer,
  database: string,
  sql: string,
  env: Record<string, string> = {},
): Promise<string> {
  const result = await run(
    'psql',
    ['-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-h', server.host, '-p', String(server.port)].concat([
      '-U',
      server.user,
      '-d',
      database,
    ]),
    { env: { PGPASSWORD: server.password, PATH: basePath(), ...env }, input: sql },
  );
  if (result.code !== 0) throw new Error(`psql failed: ${result.stderr}`);
  return result.stdout.trim();
}
