#!/usr/bin/env bash
# postgres-backup.sh: stream a plain-SQL pg_dump, gzip-compressed, to S3 with a SHA-256 sidecar.
#
#   pg_dump | igzip (else pigz, else gzip) → SHA-256 → multipart upload to s3://$S3_BUCKET/<prefix>.partial/<name>
#   then, only if every stage succeeded: <key>.sha256 (and the globals below) uploaded, then a server-side copy to
#   <key> = <prefix><UTC time to the µs>.sql.gz; every key checked to be free before (one listing) and the object
#   and its sidecar read back after (a key collision with another run exits 6, never silent). ONE Python process
#   with the aws CLI's own botocore does all of the object storage side (start_backup_session): the bucket check,
#   then it runs pg_dump | igzip itself, hashes the stream (one pass) and uploads it in parts of 8 MiB (memory
#   bounded, 48 MiB up to a 72 GB database; s3_py), then publishes; 14 aws CLI processes before issue 17,
#   ~0.45 CPU-s each before any request. Without a botocore the aws CLI can lend (AWS CLI v2's binary) or with
#   DB_RUNBOOK_S3_BATCH=cli: pg_dump | igzip | tee >(sha256sum) | aws s3 cp - and 8 aws CLI calls.
#   The dump keeps owners, privileges and default privileges. Beside it, <time>.globals.sql.gz (+ .sha256), published
#   first: the roles and memberships (pg_dumpall --globals-only --no-role-passwords: never passwords), the
#   database's own owner, privileges and settings as statements for a restored database, and the catalog facts
#   (owners, privileges, default privileges, settings) a restore's validation compares with.
#
# Environment (the CronJob supplies it from Secrets/ConfigMaps; see ops/db/backup-jobs/README.md):
#   S3_BUCKET  AWS_ACCESS_KEY_ID  AWS_SECRET_ACCESS_KEY  AWS_DEFAULT_REGION  [AWS_ENDPOINT_URL]
#   POSTGRES_HOST  [POSTGRES_PORT=5432]  POSTGRES_DATABASE  POSTGRES_USER  POSTGRES_PASSWORD (or PGPASSFILE)
#   [POSTGRES_S3_PREFIX=postgres/]  [BACKUP_WORK_DIR=$TMPDIR or /tmp]
#   [BACKUP_COMPRESSION_LEVEL=1]  [BACKUP_COMPRESS_THREADS=all CPUs]  [S3_COPY_OBJECT_MAX_BYTES=5368709120]
# Secrets never appear on a command line: libpq reads PGPASSWORD, the aws CLI reads AWS_* from the environment.
#
# Exit codes: 0 backup published · 2 configuration · 3 PostgreSQL unreachable or login refused
#             4 object storage unreachable, bucket missing or access denied · 5 pg_dump or compression failed
#             6 upload or publishing failed (or a key collision) · 129/130/143 interrupted by SIGHUP/SIGINT/SIGTERM
# On any non-zero exit nothing of this run is left at the final key (the temporary object is deleted as well;
# when object storage cannot be reached to delete it, the message names it with the command that does).
set -euo pipefail

readonly SCRIPT_NAME=postgres-backup
# log, die, aws_cli (--endpoint-url), tail_of and the backup helpers shared by the four scripts
# shellcheck source-path=SCRIPTDIR source=lib-common.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib-common.sh" || {
  echo "${SCRIPT_NAME:-$0}: lib-common.sh must sit beside this script (publish the whole scripts/ folder)" >&2
  exit 2
}

# ---------------------------------------------------------------------------------------------- config
require_env S3_BUCKET POSTGRES_HOST POSTGRES_DATABASE POSTGRES_USER
if [[ -z "${POSTGRES_PASSWORD:-}" && -z "${PGPASSFILE:-}" ]]; then
  die 2 "POSTGRES_PASSWORD is not set (or point PGPASSFILE at a 0600 password file)"
fi
backup_prefix POSTGRES_S3_PREFIX postgres/
# Level 1: ~10% larger than gzip's default 6 for a third of its CPU; on 2 cores that is what lets the backup
# beat `pg_dump | gzip` by far (README, "Compression"). BACKUP_COMPRESSION_LEVEL=6 for smaller objects.
backup_limits
require_tools 'is not installed (the Job installs awscli and pigz with apt-get when missing)' pg_dump pg_dumpall psql aws sha256sum mkfifo tee
command -v igzip >/dev/null 2>&1 || command -v pigz >/dev/null 2>&1 || command -v gzip >/dev/null 2>&1 || die 2 "none of igzip, pigz, gzip is installed"
select_compressor
check_work_root

export PGHOST="$POSTGRES_HOST" PGPORT="${POSTGRES_PORT:-5432}" PGDATABASE="$POSTGRES_DATABASE" PGUSER="$POSTGRES_USER"
if [[ -n "${POSTGRES_PASSWORD:-}" ]]; then export PGPASSWORD="$POSTGRES_PASSWORD"; fi
export PGCONNECT_TIMEOUT="${PGCONNECT_TIMEOUT:-15}" PGAPPNAME="$SCRIPT_NAME"

# ---------------------------------------------------------------------------------------------- cleanup
backup_work_init
install_traps backup_cleanup

# ---------------------------------------------------------------------------------------------- preflight
# Object storage and database are checked in parallel, before anything is dumped. The bucket check is the first
# step of the one process that later streams the dump and publishes it (start_backup_session); with the aws
# CLI alone, a head-bucket. Its result is awaited only once the snapshot is exported and the globals are read.
dump_cmd=(pg_dump --format=plain --clean --if-exists --no-password)
start_backup_session "${#dump_cmd[@]}" "${dump_cmd[@]}" "${compress[@]}"
[[ -n "$session_pid" ]] || start_bucket_check
if ! server_info=$(psql -X -A -t -q -v ON_ERROR_STOP=1 -c "SELECT current_setting('server_version_num'), split_part(current_setting('server_version'), ' ', 1), pg_database_size(current_database())" 2>"$work/psql.err"); then
  log "cannot connect to PostgreSQL $PGHOST:$PGPORT, database $PGDATABASE, as $PGUSER:"
  tail_of "$work/psql.err"
  die 3 "PostgreSQL unreachable or login refused (check POSTGRES_HOST/PORT/USER/PASSWORD in the postgres-backup-credentials Secret)"
fi
IFS='|' read -r server_version_num server_version db_size <<<"$server_info"

dump_version=$(pg_dump --version | sed -E 's/^pg_dump \(PostgreSQL\) ([0-9]+(\.[0-9]+)?).*/\1/')
dump_major=${dump_version%%.*}
# majors are 10, 11, … since PostgreSQL 10 (server_version_num 100000); any 9.x counts as 9 here
server_major=$((server_version_num >= 100000 ? server_version_num / 10000 : 9))
if [[ ! "$dump_major" =~ ^[0-9]+$ ]] || ((dump_major < server_major)); then
  die 2 "pg_dump $dump_version cannot dump a PostgreSQL $server_version server: use the postgres:$server_major image (README: 'PostgreSQL major')"
fi

# ---------------------------------------------------------------------------------------------- globals
# What the dump cannot hold, for the restore and its validation: the roles (and memberships) the objects' owners
# and grantees are, WITHOUT passwords; the database's own owner, privileges and settings as statements for the
# restored database; and the catalog facts (owners, privileges, default privileges, settings) the restore's
# validation compares with. Read now, at the dump's time, three at once in the background while the snapshot is
# exported and the bucket check ends; the row counts (section "counts") are added while the dump runs.
{ pg_dumpall --globals-only --no-role-passwords -l "$PGDATABASE" | sed -e '/^\\restrict /d' -e '/^\\unrestrict /d'; } \
  >"$work/globals.roles" 2>"$work/globals.err.roles" &
globals_pids=("$!")
database_properties_sql | psql -X -A -t -q -v ON_ERROR_STOP=1 -v src="$PGDATABASE" -v dst=__DB_RUNBOOK_DATABASE__ -f - \
  >"$work/globals.database" 2>"$work/globals.err.database" &
globals_pids+=("$!")
{ PGOPTIONS='-c search_path=' psql -X -A -t -q -v ON_ERROR_STOP=1 -c "$(catalog_facts_sql)" | sed 's/^/-- fact /'; } \
  >"$work/globals.facts" 2>"$work/globals.err.facts" &
globals_pids+=("$!")
bg_pids+=("${globals_pids[@]}")

# ---------------------------------------------------------------------------------------------- snapshot
# Per-table row counts in the dump's own snapshot: one REPEATABLE READ transaction exports its snapshot, and stays
# open until pg_dump (--snapshot) has finished; while the dump runs, it counts every table in that snapshot, so
# the counts are exactly what the dump holds. They go into the globals object (section "counts");
# postgres-verify.sh compares a restore with them.
coproc SNAPSHOT { exec psql -X -A -t -q -v ON_ERROR_STOP=1 2>"$work/snapshot.err"; }
snapshot_in=${SNAPSHOT[1]}
snapshot_out=${SNAPSHOT[0]}
# to_snapshot LINE…: to the snapshot's psql. It may be gone by then (the server stopped under the dump): SIGPIPE is
# ignored for the write (a builtin: no child inherits it), so it fails instead of killing this script before it
# can report. Not in a subshell: bash does not pass a coprocess's descriptors to subshells.
to_snapshot() {
  local rc=0
  trap '' PIPE
  printf '%s\n' "$@" 2>/dev/null 1>&"$snapshot_in" || rc=$?
  trap - PIPE
  return "$rc"
}
# bash unsets SNAPSHOT_PID as soon as the coprocess ends (after its \q below): keep the pid
# shellcheck disable=SC2153 # SNAPSHOT_PID is set by coproc SNAPSHOT
snapshot_pid=$SNAPSHOT_PID
bg_pids+=("$snapshot_pid")
printf '%s\n' 'BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;' 'SELECT pg_export_snapshot();' >&"$snapshot_in"
if ! read -r -t 600 snapshot <&"$snapshot_out" || [[ ! "$snapshot" =~ ^[0-9A-F-]+$ ]]; then
  tail_of "$work/snapshot.err"
  die 5 "could not export a snapshot for the dump (pg_export_snapshot)"
fi

backup_names .sql.gz
globals_name="${name%.sql.gz}.globals.sql.gz"
globals_key="$prefix$globals_name"
if [[ -n "$session_pid" ]]; then wait_session_bucket; else wait_bucket_check; fi

# ---------------------------------------------------------------------------------------------- dump
metadata=$(printf '{"recovery-point":"%s","pg-dump-version":"%s","server-version":"%s","format":"plain-sql+gzip"}' \
  "$recovery_point" "$dump_version" "$server_version")
log "dumping $PGDATABASE from $PGHOST:$PGPORT (PostgreSQL $server_version, pg_dump $dump_version, ${compress[0]} -$level)"
log "recovery point $recovery_point; streaming to s3://$S3_BUCKET/$temp_key"
if [[ -n "$session_pid" ]]; then
  # pg_dump | compressor, hashed and uploaded in parts, all run by the session (start_backup_session)
  send_dump "$snapshot" "$metadata"
  stages=(pg_dump "${compress[0]}" "the multipart upload")
  errors=("$work/pg_dump.err" "$work/compress.err" "$work/upload.err")
else
  start_stream_hashers
  # in the background, so a signal is acted on at once (bash runs traps only between foreground commands)
  (
    set +e
    "${dump_cmd[@]}" --snapshot="$snapshot" 2>"$work/pg_dump.err" |
      "${compress[@]}" 2>"$work/compress.err" |
      tee "$work/sha.fifo" "$work/size.fifo" 2>"$work/tee.err" |
      aws_cli s3 cp - "s3://$S3_BUCKET/$temp_key" --expected-size "$db_size" --content-type application/gzip \
        --metadata "$metadata" --only-show-errors 2>"$work/upload.err"
    echo "${PIPESTATUS[*]}" >"$work/statuses"
  ) &
  upload_pid=$!
  stages=(pg_dump "${compress[0]}" tee "aws s3 cp")
  errors=("$work/pg_dump.err" "$work/compress.err" "$work/tee.err" "$work/upload.err")
fi
test_hook upload

# ---------------------------------------------------------------------------------------------- counts
# While the dump runs, in its snapshot (above): the rows of every table, the last section of the globals object.
# A failure here or in the globals is reported once the dump has ended: when the server went away, the dump's
# failure comes first.
to_snapshot "$(table_counts_sql)" '\echo -- end of counts' || true
: >"$work/counts"
while read -r -t 3600 line <&"$snapshot_out" && [[ "$line" != '-- end of counts' ]]; do
  printf -- '-- count %s\n' "$line" >>"$work/counts"
done
counted=0
[[ "${line:-}" != '-- end of counts' ]] || counted=1
globals_read=1
for pid in "${globals_pids[@]}"; do wait_pid "$pid" || globals_read=0; done
cat "$work"/globals.err.* >"$work/globals.err" 2>/dev/null || true
if ((counted && globals_read)); then
  {
    printf -- '-- db-runbook globals of database %s on %s:%s, recovery point %s (format 1)\n' "$PGDATABASE" "$PGHOST" "$PGPORT" "$recovery_point"
    printf -- '-- section: roles (pg_dumpall --globals-only --no-role-passwords: roles and memberships, never passwords)\n'
    cat "$work/globals.roles"
    printf -- '-- section: database (statements for the restored database; __DB_RUNBOOK_DATABASE__ is its name)\n'
    cat "$work/globals.database"
    printf -- '-- section: facts (owners, privileges, default privileges and settings, compared after a restore)\n'
    cat "$work/globals.facts"
    printf -- '-- section: counts (rows per table in the snapshot of the dump, compared by postgres-verify.sh)\n'
    cat "$work/counts"
    printf -- '-- end of db-runbook globals\n'
  } >"$work/globals.sql"
  "${compress[@]}" <"$work/globals.sql" >"$work/globals.sql.gz"
  globals_sha=$(sha256sum "$work/globals.sql.gz" | cut -d' ' -f1)
fi

# ---------------------------------------------------------------------------------------------- upload
if [[ -n "$session_pid" ]]; then
  read_dump
else
  wait_pid "$upload_pid" || true
  read -r -a statuses <"$work/statuses" || statuses=(1 1 1 1)
  wait_stream_hashers
fi
# the dump is done: end the transaction that held its snapshot
to_snapshot 'COMMIT;' '\q' || true
exec {snapshot_in}>&-
wait "$snapshot_pid" 2>/dev/null || true

failed=0
for i in "${!stages[@]}"; do
  if ((statuses[i] != 0)); then
    failed=1
    log "${stages[i]} exited with status ${statuses[i]}"
    tail_of "${errors[i]}"
  fi
done
if ((failed)); then
  if ((statuses[-1] != 0)); then die 6 "upload to s3://$S3_BUCKET/$temp_key failed"; fi
  if ((statuses[0] != 0 || statuses[1] != 0)); then die 5 "the dump did not complete (server stopped, connection lost or out of resources?)"; fi
  die 6 "the stream to the upload broke"
fi
((counted)) || { tail_of "$work/snapshot.err"; die 5 "could not count the tables' rows in the dump's snapshot"; }
((globals_read)) || {
  tail_of "$work/globals.err"
  die 5 "could not read the roles, the database's properties or its catalog facts (pg_dumpall --globals-only, psql)"
}
[[ -s "$work/pg_dump.err" ]] && { log "pg_dump warnings:"; tail_of "$work/pg_dump.err" 20; }

verify_upload
log "uploaded $size bytes in $((SECONDS - started))s, sha256 $sha"

# ---------------------------------------------------------------------------------------------- publish
# one listing checks the four keys are free; the sidecars and the globals object in one upload, first (a published
# dump always has its globals beside it); then the server-side copy to the final key (multipart above
# S3_COPY_OBJECT_MAX_BYTES); then the read-back
test_hook publish
publish_backup "$metadata" "$globals_key" "$work/globals.sql.gz" "$globals_sha"

log "backup published in $((SECONDS - started))s: s3://$S3_BUCKET/$final_key"
printf 'object=s3://%s/%s\nsha256=%s\nbytes=%s\nrecovery_point=%s\npg_dump_version=%s\nserver_version=%s\nglobals=s3://%s/%s\n' \
  "$S3_BUCKET" "$final_key" "$sha" "$size" "$recovery_point" "$dump_version" "$server_version" "$S3_BUCKET" "$globals_key"
