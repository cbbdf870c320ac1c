/** What each exit code of postgres-restore.sh means, for the restore and swap steps' summaries. */
export const RESTORE_EXIT: Readonly<Record<number, string>> = {
  2: 'configuration (e.g. psql older than the pg_dump that wrote the backup, or without \\restrict)',
  3: 'PostgreSQL unreachable, login refused or missing privileges (CREATEDB, owner of the database, a role the dump names)',
  4: 'backup object missing or object storage unreachable',
  5: 'integrity check failed (checksum mismatch, not the object verified, missing sidecar, not gzip, a dump cut short or holding psql meta-commands): the database was not touched',
  6: 'the SQL restore into the new database failed: the database is as it was',
  7: 'restored into a new database but swapping it into place failed (see the log for the exact commands)',
  129: 'interrupted (SIGHUP)',
  130: 'interrupted (SIGINT)',
  143: 'interrupted (SIGTERM)',
};
