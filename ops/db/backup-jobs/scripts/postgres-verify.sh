#!/usr/bin/env bash
# postgres-verify.sh: prove a backup written by postgres-backup.sh restorable, and publish the proof beside it.
#
#   1. pick the backup: VERIFY_S3_URI, else the newest <prefix><time>.sql.gz under POSTGRES_S3_PREFIX
#   2. restore it with postgres-restore.sh (same folder: checksum against its .sha256, gzip read to the end, dump
#      complete and free of psql meta-commands, the roles it names, psql -v ON_ERROR_STOP=1 --single-transaction)
#      into a SCRATCH database, VERIFY_DATABASE (default <POSTGRES_DATABASE>_verify), on the server POSTGRES_* name.
#      The scratch database is created by this script and marked with a comment; a database of that name that this
#      script did not create is never touched (exit 2). One left by a run killed with SIGKILL is dropped first.
#   3. compare the restored copy with the backup's globals object: the row count of every table against the counts
#      postgres-backup.sh recorded in the dump's own snapshot, and the owners, privileges, default privileges and
#      settings (catalog facts) against those recorded at backup time
#   4. drop the scratch database (on every outcome: success, failure, SIGTERM/SIGINT/SIGHUP)
#   5. publish <key>.verified.json (+ its own .sha256) beside the backup: when, by which pod/Job, the duration, the
#      checks (name, ok, detail), the counts at backup time and restored, pass/fail and, on failure, the error of
#      psql or of the restore and the end of its log. A later verification of the same backup replaces it.
#   Writes nothing to POSTGRES_DATABASE: it reads only the bucket, and writes only the scratch database and the record.
#
# Environment:
#   S3_BUCKET  AWS_ACCESS_KEY_ID  AWS_SECRET_ACCESS_KEY  [AWS_DEFAULT_REGION]  [AWS_ENDPOINT_URL]
#   POSTGRES_HOST  [POSTGRES_PORT=5432]  POSTGRES_DATABASE (names the default scratch database)  POSTGRES_USER
#   POSTGRES_PASSWORD (or PGPASSFILE)  [POSTGRES_S3_PREFIX=postgres/]  [POSTGRES_MAINTENANCE_DATABASE=postgres]
#   [VERIFY_S3_URI=s3://bucket/<time>.sql.gz]  [VERIFY_DATABASE=<POSTGRES_DATABASE>_verify]  [BACKUP_WORK_DIR]
#   [VERIFY_JOB_NAME] [VERIFY_POD_NAME] (recorded; the CronJob sets them from the pod, else HOSTNAME)
#   CREATE_MISSING_ROLES / ROLE_MAP are passed on to postgres-restore.sh (for a server that lacks the roles).
# The user needs CREATEDB (the scratch database), and must be able to act for the dump's owners, as for a restore.
#
# Exit codes: 0 verified: the record says pass · 1 verification failed: the record says fail and names the check
#             2 configuration (or the scratch database exists and was not created by this script)
#             3 PostgreSQL unreachable or login refused (no record) · 4 no backup, or object storage unreachable
#             6 the record could not be published · 129/130/143 interrupted (the scratch database is dropped, no record)
set -euo pipefail

readonly SCRIPT_NAME=postgres-verify
# shellcheck source-path=SCRIPTDIR source=lib-common.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib-common.sh" || {
  echo "${SCRIPT_NAME:-$0}: lib-common.sh must sit beside this script (publish the whole scripts/ folder)" >&2
  exit 2
}
scripts_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# check, json_str, the smoke queries and the record: shared with neo4j-verify.sh
# shellcheck source-path=SCRIPTDIR source=lib-verify.sh
. "$scripts_dir/lib-verify.sh" || die 2 "lib-verify.sh must sit beside this script (publish the whole scripts/ folder)"

# ---------------------------------------------------------------------------------------------- config
require_env S3_BUCKET POSTGRES_HOST POSTGRES_DATABASE POSTGRES_USER
if [[ -z "${POSTGRES_PASSWORD:-}" && -z "${PGPASSFILE:-}" ]]; then
  die 2 "POSTGRES_PASSWORD is not set (or point PGPASSFILE at a 0600 password file)"
fi
backup_prefix POSTGRES_S3_PREFIX postgres/
scratch=${VERIFY_DATABASE:-${POSTGRES_DATABASE}_verify}
[[ "$scratch" =~ ^[A-Za-z_][A-Za-z0-9_]{0,62}$ ]] ||
  die 2 "VERIFY_DATABASE must be a plain identifier of at most 63 characters (got '$scratch')"
[[ "$scratch" != "$POSTGRES_DATABASE" ]] || die 2 "VERIFY_DATABASE must not be POSTGRES_DATABASE ($POSTGRES_DATABASE)"
[[ -f "$scripts_dir/postgres-restore.sh" ]] || die 2 "postgres-restore.sh must sit beside this script"
require_tools 'is not installed' psql aws sha256sum gzip
smoke_timeout=${VERIFY_SMOKE_TIMEOUT:-110}
[[ "$smoke_timeout" =~ ^[1-9][0-9]*$ ]] || die 2 "VERIFY_SMOKE_TIMEOUT is seconds"
check_work_root

export PGHOST="$POSTGRES_HOST" PGPORT="${POSTGRES_PORT:-5432}" PGUSER="$POSTGRES_USER"
export PGDATABASE="${POSTGRES_MAINTENANCE_DATABASE:-postgres}"
if [[ -n "${POSTGRES_PASSWORD:-}" ]]; then export PGPASSWORD="$POSTGRES_PASSWORD"; fi
export PGCONNECT_TIMEOUT="${PGCONNECT_TIMEOUT:-15}" PGAPPNAME="$SCRIPT_NAME"

run_id="$(hostname_of_this)-$$-$(date -u +%s%N | sha256sum | cut -c1-12)"
marker="db-runbook postgres-verify scratch database (run $run_id)"
started_at=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
started_ms=$(date -u +%s%3N)
make_work_dir

# sql DATABASE: psql on DATABASE reading SQL from stdin, with :'scratch' and :'base' set
base=${scratch:0:34}
sql() { psql -X -A -t -q -v ON_ERROR_STOP=1 -v scratch="$scratch" -v base="$base" -v marker="$marker" -d "$1"; }

# ---------------------------------------------------------------------------------------------- cleanup
created=0
restore_pid=''
# drop_scratch: drops the scratch database and what an interrupted postgres-restore.sh left of it; sets dropped
dropped=false
drop_scratch() {
  sql "$PGDATABASE" >/dev/null 2>"$work/drop.err" <<'SQL' && dropped=true
SELECT format('DROP DATABASE IF EXISTS %I WITH (FORCE)', datname) FROM pg_database
 WHERE datname = :'scratch' OR starts_with(datname, :'base' || '_restore_') OR starts_with(datname, :'base' || '_pre_restore_')
\gexec
SQL
  if [[ "$dropped" != true ]]; then
    tail_of "$work/drop.err"
    log "warning: could not drop the scratch database $scratch; drop it: DROP DATABASE \"$scratch\" WITH (FORCE);"
  fi
}
verify_cleanup() {
  local rc=$?
  trap - EXIT
  trap '' INT TERM HUP
  if [[ -n "$restore_pid" ]]; then
    stop_children
    wait "$restore_pid" 2>/dev/null || true
  fi
  if ((created)) && [[ "$dropped" != true ]]; then drop_scratch; fi
  if [[ -n "$caught_signal" ]]; then
    log "verification INTERRUPTED by SIG$caught_signal (exit $rc); the scratch database $scratch was $([[ "$dropped" == true ]] && echo dropped || echo 'NOT dropped'); no record published"
  fi
  rm -rf "$work"
  exit "$rc"
}
install_traps verify_cleanup

# ---------------------------------------------------------------------------------------------- the backup
if [[ -n "${VERIFY_S3_URI:-}" ]]; then
  [[ "$VERIFY_S3_URI" =~ ^s3://([^/]+)/(.+\.sql\.gz)$ ]] || die 2 "VERIFY_S3_URI must look like s3://bucket/path/<time>.sql.gz (got '$VERIFY_S3_URI')"
  bucket=${BASH_REMATCH[1]}
  key=${BASH_REMATCH[2]}
else
  bucket=$S3_BUCKET
  aws_cli s3api list-objects-v2 --bucket "$bucket" --prefix "$prefix" --query 'Contents[].Key' --output text \
    >"$work/keys" 2>"$work/list.err" || { tail_of "$work/list.err"; die 4 "cannot list s3://$bucket/$prefix"; }
  key=$(tr '\t' '\n' <"$work/keys" |
    grep -E "^${prefix//./\\.}[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}-[0-9]{2}-[0-9]{2}(\.[0-9]{1,6})?Z\.sql\.gz$" |
    LC_ALL=C sort | tail -n 1) || true
  [[ -n "$key" ]] || die 4 "no backup under s3://$bucket/$prefix to verify"
fi
uri="s3://$bucket/$key"
globals_key="${key%.sql.gz}.globals.sql.gz"
recovery_point=''
if [[ "$key" =~ ([0-9]{4}-[0-9]{2}-[0-9]{2})T([0-9]{2})-([0-9]{2})-([0-9]{2})(\.[0-9]+)?Z\.sql\.gz$ ]]; then
  recovery_point="${BASH_REMATCH[1]}T${BASH_REMATCH[2]}:${BASH_REMATCH[3]}:${BASH_REMATCH[4]}${BASH_REMATCH[5]}Z"
fi
log "verifying $uri: restore into the scratch database $scratch on $PGHOST:$PGPORT"

# The dump's sidecar (recorded, and pinned for the restore) and the globals object with the counts and facts
aws_cli s3 cp "$uri.sha256" "$work/dump.sha256" --only-show-errors 2>"$work/sidecar.err" || true
dump_sha=$(sidecar_sha "$work/dump.sha256" 2>/dev/null) || dump_sha=''
globals_sha=''
globals_state=missing
if aws_cli s3 cp "s3://$bucket/$globals_key" "$work/globals.sql.gz" --only-show-errors 2>"$work/globals.err" &&
  aws_cli s3 cp "s3://$bucket/$globals_key.sha256" "$work/globals.sha256" --only-show-errors 2>>"$work/globals.err"; then
  globals_sha=$(sha256sum "$work/globals.sql.gz" | cut -d' ' -f1)
  if [[ "$globals_sha" != "$(sidecar_sha "$work/globals.sha256")" ]]; then
    globals_state=mismatch
  elif gzip -dc <"$work/globals.sql.gz" >"$work/globals.sql" 2>>"$work/globals.err"; then
    globals_state=ok
  else
    globals_state=corrupt
  fi
elif ! not_found "$work/globals.err"; then
  tail_of "$work/globals.err"
  die 4 "cannot read s3://$bucket/$globals_key"
fi
: >"$work/counts.backup"
: >"$work/facts.backup"
has_counts=false
if [[ "$globals_state" == ok ]]; then
  grep -q '^-- section: counts' "$work/globals.sql" && has_counts=true
  sed -n 's/^-- count //p' "$work/globals.sql" >"$work/counts.backup"
  sed -n 's/^-- fact //p' "$work/globals.sql" >"$work/facts.backup"
fi

# ---------------------------------------------------------------------------------------------- scratch database
if ! existing=$(sql "$PGDATABASE" 2>"$work/psql.err" <<'SQL'
SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database WHERE datname = :'scratch';
SQL
); then
  tail_of "$work/psql.err"
  die 3 "PostgreSQL $PGHOST:$PGPORT unreachable or login refused (database $PGDATABASE, user $PGUSER)"
fi
if [[ -n "$(sql "$PGDATABASE" <<<"SELECT 1 FROM pg_database WHERE datname = :'scratch';")" ]]; then
  [[ "$existing" == "db-runbook postgres-verify scratch database"* ]] ||
    die 2 "database $scratch exists on $PGHOST:$PGPORT and was not created by postgres-verify: it is left alone; name another scratch database (VERIFY_DATABASE)"
  log "dropping the scratch database $scratch left by an earlier run ($existing)"
fi
created=1
drop_scratch
[[ "$dropped" == true ]] || die 3 "cannot drop the scratch database left by an earlier run"
dropped=false
sql "$PGDATABASE" >/dev/null 2>"$work/psql.err" <<'SQL' || { created=0; tail_of "$work/psql.err"; die 3 "cannot create the scratch database $scratch (the user needs CREATEDB)"; }
CREATE DATABASE :"scratch" TEMPLATE template0;
COMMENT ON DATABASE :"scratch" IS :'marker';
SQL

# ---------------------------------------------------------------------------------------------- restore
error=''
case $globals_state in
  mismatch) check 'globals checksum' false "s3://$bucket/$globals_key does not match its .sha256: the roles, counts and facts recorded at backup time cannot be trusted" ;;
  corrupt) check 'globals checksum' false "s3://$bucket/$globals_key is not a valid gzip stream" ;;
  *) ;;
esac

restore_started=$(date -u +%s%3N)
restore_env=(RESTORE_S3_URI="$uri" POSTGRES_DATABASE="$scratch" CLEAN_TARGET=true KEEP_PRE_RESTORE=false)
if [[ -n "$dump_sha" ]]; then restore_env+=(EXPECTED_SHA256="$dump_sha"); fi
if [[ "$globals_state" == ok ]]; then restore_env+=(EXPECTED_GLOBALS_SHA256="$globals_sha"); fi
env "${restore_env[@]}" bash "$scripts_dir/postgres-restore.sh" >"$work/restore.out" 2>"$work/restore.err" &
restore_pid=$!
restore_rc=0
wait_pid "$restore_pid" || restore_rc=$?
restore_pid=''
restore_seconds=$(((($(date -u +%s%3N) - restore_started) + 500) / 1000))
sed 's/^/  /' "$work/restore.err" >&2
if ((restore_rc == 0)); then
  # the swap gave the scratch name to the restored database: mark it as this script's again
  sql "$PGDATABASE" >/dev/null 2>>"$work/psql.err" <<<"COMMENT ON DATABASE :\"scratch\" IS :'marker';" || true
  check integrity true "sha256 ${dump_sha:-?} matches the .sha256 sidecar; gzip read to the end; the dump is complete and holds no psql meta-command"
  check restore true "restored into $scratch with psql -v ON_ERROR_STOP=1 --single-transaction in ${restore_seconds}s"
else
  error=$(grep -E '(ERROR|FATAL|error):' "$work/restore.err" | head -n 3) || true
  [[ -n "$error" ]] || error=$(tail -n 3 "$work/restore.err")
  # restore_error: the restore's own message (why it stopped), else the first error line in its log
  restore_error() {
    { grep -m1 '^postgres-restore: error: ' "$work/restore.err" || grep -m1 'error:' "$work/restore.err"; } |
      sed 's/^postgres-restore: error: //; s/^ *//'
  }
  case $restore_rc in
    5) check integrity false "$(restore_error)" ;;
    3) check 'roles and access' false "$(restore_error)" ;;
    4) check 'backup object' false "$(restore_error)" ;;
    2) check configuration false "$(restore_error)" ;;
    129 | 130 | 143) exit "$restore_rc" ;;
    *) check restore false "psql could not restore the dump (postgres-restore.sh exit $restore_rc): $(grep -m1 -E 'ERROR:' "$work/restore.err" || echo 'see the log')" ;;
  esac
fi

# ---------------------------------------------------------------------------------------------- compare
: >"$work/counts.restored"
if ((restore_rc == 0)); then
  if ! table_counts_sql | sql "$scratch" >"$work/counts.restored" 2>"$work/psql.err"; then
    check 'row counts' false "could not count the restored tables: $(tail -n 1 "$work/psql.err")"
  elif [[ "$has_counts" != true ]]; then
    check 'row counts' true "$(wc -l <"$work/counts.restored") table(s) counted; the backup recorded no counts (made before counts were recorded, or without a globals object): nothing to compare"
  elif cmp -s "$work/counts.backup" "$work/counts.restored"; then
    check 'row counts' true "$(wc -l <"$work/counts.backup") table(s): every count equals the one recorded in the dump's snapshot"
  else
    check 'row counts' false "differ from the counts recorded at backup time: at backup $(LC_ALL=C comm -23 <(LC_ALL=C sort "$work/counts.backup") <(LC_ALL=C sort "$work/counts.restored") | head -n 3 | paste -sd' ' -); restored $(LC_ALL=C comm -13 <(LC_ALL=C sort "$work/counts.backup") <(LC_ALL=C sort "$work/counts.restored") | head -n 3 | paste -sd' ' -)"
  fi
  if [[ -s "$work/facts.backup" ]]; then
    if ! catalog_facts_sql | PGOPTIONS='-c search_path=' sql "$scratch" >"$work/facts.restored" 2>"$work/psql.err"; then
      check 'owners and privileges' false "could not read the restored catalog: $(tail -n 1 "$work/psql.err")"
    elif cmp -s <(LC_ALL=C sort "$work/facts.backup") <(LC_ALL=C sort "$work/facts.restored"); then
      check 'owners and privileges' true "$(wc -l <"$work/facts.backup") owner/privilege/setting fact(s) equal those recorded at backup time"
    else
      check 'owners and privileges' false "differ from the backup: missing $(LC_ALL=C comm -23 <(LC_ALL=C sort "$work/facts.backup") <(LC_ALL=C sort "$work/facts.restored") | head -n 2 | paste -sd' ' -); unexpected $(LC_ALL=C comm -13 <(LC_ALL=C sort "$work/facts.backup") <(LC_ALL=C sort "$work/facts.restored") | head -n 2 | paste -sd' ' -)"
    fi
  fi
fi

# ---------------------------------------------------------------------------------------------- smoke queries
# The values file's smokeQueries (VERIFY_SMOKE_QUERIES_FILE, the ConfigMap db-runbook-smoke-queries, or
# VERIFY_SMOKE_QUERIES; format in lib-verify.sh), each ONE statement, run as restore-postgres runs its validation
# queries: in a REPEATABLE READ READ ONLY transaction whose snapshot is taken first (so nothing can switch it to
# read-write), rolled back, with default_transaction_read_only for the session and a statement timeout. On the
# scratch database only. Each is a check of the record: "smoke query: <name>".
if ((restore_rc == 0)); then
  smoke_text=$(smoke_queries_text)
  # run_smoke_query N NAME BODY EXPECT (each_smoke_query's callback)
  # shellcheck disable=SC2317 # called by each_smoke_query
  run_smoke_query() {
    local n=$1 name=$2 body=$3 expect=$4 has_row actual first detail
    if [[ "$body" == *\\* ]]; then
      check "smoke query: $name" false "refused, not run: it holds a backslash (psql would run a meta-command): a smoke query is one SQL statement"
      return
    fi
    if ! printf 'BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY;\nSELECT 1 AS db_runbook_snapshot \\gset\n%s;\nROLLBACK;\n' "$body" |
      PGOPTIONS="-c default_transaction_read_only=on -c statement_timeout=${smoke_timeout}s" \
        psql -X -A -t -q -v ON_ERROR_STOP=1 -d "$scratch" >"$work/smoke/$n.out" 2>"$work/smoke/$n.err"; then
      detail=$(grep -m1 -E '(ERROR|FATAL):' "$work/smoke/$n.err") || detail=$(tail -n 1 "$work/smoke/$n.err")
      check "smoke query: $name" false "failed: ${detail#psql:<stdin>:* }"
      return
    fi
    has_row=false
    actual=''
    if first=$(grep -m1 -v '^$' "$work/smoke/$n.out"); then
      has_row=true
      actual=${first%%|*}
    fi
    smoke_check "$name" "$has_row" "$actual" "$expect"
  }
  each_smoke_query "$smoke_text" "$work/smoke" run_smoke_query
fi

# ---------------------------------------------------------------------------------------------- drop, then record
defer_signals
drop_scratch
check 'scratch database dropped' "$dropped" "$scratch on $PGHOST:$PGPORT"
allow_signals
result=pass
[[ -z "$failed_check" ]] || result=fail
finished_at=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
duration_ms=$(($(date -u +%s%3N) - started_ms))
{
  printf '{"format":"db-runbook-verification/1","result":"%s","backup":%s,"sha256":%s,"recoveryPoint":%s,' \
    "$result" "$(json_str "$uri")" "$(json_str "$dump_sha")" "$(json_str "$recovery_point")"
  printf '"globals":%s,"startedAt":"%s","finishedAt":"%s","durationSeconds":%s,' \
    "$(json_opt "${globals_sha:+s3://$bucket/$globals_key}")" "$started_at" "$finished_at" \
    "$((duration_ms / 1000)).$(printf '%03d' $((duration_ms % 1000)))"
  printf '"by":{%s,"runId":%s},' "$(verified_by)" "$(json_str "$run_id")"
  printf '"scratch":{"server":%s,"database":%s,"dropped":%s},' "$(json_str "$PGHOST:$PGPORT")" "$(json_str "$scratch")" "$dropped"
  printf '"failedCheck":%s,"checks":[%s],' "$(json_opt "$failed_check")" \
    "$(IFS=,; echo "${checks[*]}")"
  printf '"counts":{"recorded":%s,"atBackup":[%s],"restored":[%s]},' "$has_counts" "$(json_lines "$work/counts.backup")" \
    "$(json_lines "$work/counts.restored")"
  printf '"error":%s,"logTail":%s}\n' "$(json_opt "$error")" \
    "$(json_str "$(tail -n 15 "$work/restore.err")")"
} >"$work/verified.json"
publish_record "$work/verified.json" "$bucket" "$key"

log "$([[ $result == pass ]] && echo "PROVEN RESTORABLE" || echo "NOT RESTORABLE: $failed_check failed"): $uri (record s3://$bucket/$key.verified.json)"
print_summary "$result" "$uri" "$bucket" "$key" "$duration_ms"
[[ "$result" == pass ]] || exit 1
