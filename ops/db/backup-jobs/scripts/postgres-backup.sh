#!/usr/bin/env bash
# postgres-backup.sh: stream a plain-SQL pg_dump, gzip-compressed, to S3 with a SHA-256 sidecar.
#
#   pg_dump | pigz (or gzip) | tee >(sha256sum) | aws s3 cp - s3://$S3_BUCKET/<prefix>.partial/<name>
#   then, only if every stage succeeded: server-side copy to <prefix><UTC time>.sql.gz, then <key>.sha256.
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
#             6 upload or publishing failed · 130/143 interrupted
# On any non-zero exit nothing is left at the final key (the temporary object is deleted as well).
set -euo pipefail

readonly SCRIPT_NAME=postgres-backup

log() { printf '%s: %s\n' "$SCRIPT_NAME" "$*" >&2; }
die() {
  local code=$1
  shift
  printf '%s: error: %s\n' "$SCRIPT_NAME" "$*" >&2
  exit "$code"
}
# The aws CLI shipped by Debian (2.9) ignores AWS_ENDPOINT_URL: pass it explicitly when set.
aws_cli() {
  if [[ -n "${AWS_ENDPOINT_URL:-}" ]]; then
    aws --endpoint-url "$AWS_ENDPOINT_URL" "$@"
  else
    aws "$@"
  fi
}
tail_of() {
  if [[ -s "$1" ]]; then tail -n "${2:-5}" "$1" | sed 's/^/    /' >&2; fi
}

# ---------------------------------------------------------------------------------------------- config
for var in S3_BUCKET POSTGRES_HOST POSTGRES_DATABASE POSTGRES_USER; do
  [[ -n "${!var:-}" ]] || die 2 "$var is not set"
done
if [[ -z "${POSTGRES_PASSWORD:-}" && -z "${PGPASSFILE:-}" ]]; then
  die 2 "POSTGRES_PASSWORD is not set (or point PGPASSFILE at a 0600 password file)"
fi
prefix=${POSTGRES_S3_PREFIX-postgres/}
prefix=${prefix#/}
[[ -z "$prefix" || "$prefix" == */ ]] || prefix="$prefix/"
[[ "$prefix" =~ ^[A-Za-z0-9._/-]*$ ]] || die 2 "POSTGRES_S3_PREFIX may only contain letters, digits, '.', '_', '-' and '/' (got '$prefix')"
# Level 1: ~10% larger than gzip's default 6 for a third of its CPU; on 2 cores that is what lets the backup
# beat `pg_dump | gzip` by far (README, "Compression"). BACKUP_COMPRESSION_LEVEL=6 for smaller objects.
level=${BACKUP_COMPRESSION_LEVEL:-1}
[[ "$level" =~ ^[1-9]$ ]] || die 2 "BACKUP_COMPRESSION_LEVEL must be 1-9 (got '$level')"
copy_max=${S3_COPY_OBJECT_MAX_BYTES:-5368709120}
[[ "$copy_max" =~ ^[0-9]+$ ]] || die 2 "S3_COPY_OBJECT_MAX_BYTES must be a number of bytes"
for tool in pg_dump psql aws sha256sum mkfifo tee; do
  command -v "$tool" >/dev/null 2>&1 || die 2 "$tool is not installed (the Job installs awscli and pigz with apt-get when missing)"
done
if command -v pigz >/dev/null 2>&1; then
  compress=(pigz -c "-$level")
  [[ -n "${BACKUP_COMPRESS_THREADS:-}" ]] && compress+=(-p "$BACKUP_COMPRESS_THREADS")
else
  command -v gzip >/dev/null 2>&1 || die 2 "neither pigz nor gzip is installed"
  compress=(gzip -c "-$level")
fi
work_root=${BACKUP_WORK_DIR:-${TMPDIR:-/tmp}}
[[ -d "$work_root" && -w "$work_root" ]] || die 2 "work directory $work_root is not a writable directory (BACKUP_WORK_DIR)"

export PGHOST="$POSTGRES_HOST" PGPORT="${POSTGRES_PORT:-5432}" PGDATABASE="$POSTGRES_DATABASE" PGUSER="$POSTGRES_USER"
if [[ -n "${POSTGRES_PASSWORD:-}" ]]; then export PGPASSWORD="$POSTGRES_PASSWORD"; fi
export PGCONNECT_TIMEOUT="${PGCONNECT_TIMEOUT:-15}" PGAPPNAME="$SCRIPT_NAME"

# ---------------------------------------------------------------------------------------------- cleanup
work=$(mktemp -d "$work_root/$SCRIPT_NAME.XXXXXX")
bg_pids=()
temp_key=''
upload_started=0
published=0
done_ok=0
cleanup() {
  local rc=$?
  trap - EXIT
  local pid
  for pid in "${bg_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  if ((done_ok == 0)); then
    ((rc != 0)) || rc=1
    if ((published)); then
      aws_cli s3 rm "s3://$S3_BUCKET/$final_key" --only-show-errors >/dev/null 2>&1 ||
        log "warning: could not delete s3://$S3_BUCKET/$final_key after the failure; delete it by hand"
    fi
    if ((upload_started)); then
      aws_cli s3 rm "s3://$S3_BUCKET/$temp_key" --only-show-errors >/dev/null 2>&1 ||
        log "warning: could not delete the temporary object s3://$S3_BUCKET/$temp_key"
    fi
    log "backup FAILED (exit $rc); nothing was published"
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# ---------------------------------------------------------------------------------------------- preflight
# Object storage and database are checked in parallel, before anything is dumped.
aws_cli s3api head-bucket --bucket "$S3_BUCKET" >"$work/s3-check.out" 2>&1 &
s3_check=$!
bg_pids+=("$s3_check")
if ! server_info=$(psql -X -A -t -q -v ON_ERROR_STOP=1 -c "SELECT current_setting('server_version_num'), split_part(current_setting('server_version'), ' ', 1), pg_database_size(current_database())" 2>"$work/psql.err"); then
  log "cannot connect to PostgreSQL $PGHOST:$PGPORT, database $PGDATABASE, as $PGUSER:"
  tail_of "$work/psql.err"
  die 3 "PostgreSQL unreachable or login refused (check POSTGRES_HOST/PORT/USER/PASSWORD in the postgres-backup-credentials Secret)"
fi
IFS='|' read -r server_version_num server_version db_size <<<"$server_info"
if ! wait "$s3_check"; then
  log "cannot use bucket $S3_BUCKET${AWS_ENDPOINT_URL:+ at $AWS_ENDPOINT_URL}:"
  tail_of "$work/s3-check.out"
  die 4 "object storage unreachable, bucket missing or access denied (check the database-backup-storage Secret)"
fi

dump_version=$(pg_dump --version | sed -E 's/^pg_dump \(PostgreSQL\) ([0-9]+(\.[0-9]+)?).*/\1/')
dump_major=${dump_version%%.*}
# majors are 10, 11, … since PostgreSQL 10 (server_version_num 100000); any 9.x counts as 9 here
server_major=$((server_version_num >= 100000 ? server_version_num / 10000 : 9))
if [[ ! "$dump_major" =~ ^[0-9]+$ ]] || ((dump_major < server_major)); then
  die 2 "pg_dump $dump_version cannot dump a PostgreSQL $server_version server: use the postgres:$server_major image (README: 'PostgreSQL major')"
fi

# ---------------------------------------------------------------------------------------------- dump
epoch=$(date -u +%s)
stamp=$(date -u -d "@$epoch" +%Y-%m-%dT%H-%M-%SZ)
recovery_point=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
name="$stamp.sql.gz"
final_key="$prefix$name"
temp_key="${prefix}.partial/$name.${HOSTNAME:-job}-$$"
metadata=$(printf '{"recovery-point":"%s","pg-dump-version":"%s","server-version":"%s","format":"plain-sql+gzip"}' \
  "$recovery_point" "$dump_version" "$server_version")
log "dumping $PGDATABASE from $PGHOST:$PGPORT (PostgreSQL $server_version, pg_dump $dump_version, ${compress[0]} -$level)"
log "recovery point $recovery_point; streaming to s3://$S3_BUCKET/$temp_key"

mkfifo "$work/sha.fifo" "$work/size.fifo"
sha256sum <"$work/sha.fifo" >"$work/sha256" &
sha_pid=$!
wc -c <"$work/size.fifo" >"$work/size" &
size_pid=$!
bg_pids+=("$sha_pid" "$size_pid")
upload_started=1
started=$SECONDS
set +e
pg_dump --format=plain --clean --if-exists --no-owner --no-privileges --no-password 2>"$work/pg_dump.err" |
  "${compress[@]}" 2>"$work/compress.err" |
  tee "$work/sha.fifo" "$work/size.fifo" 2>"$work/tee.err" |
  aws_cli s3 cp - "s3://$S3_BUCKET/$temp_key" --expected-size "$db_size" --content-type application/gzip \
    --metadata "$metadata" --only-show-errors 2>"$work/upload.err"
statuses=("${PIPESTATUS[@]}")
set -e
wait "$sha_pid" || true
wait "$size_pid" || true
bg_pids=()

stages=(pg_dump "${compress[0]}" tee "aws s3 cp")
errors=("$work/pg_dump.err" "$work/compress.err" "$work/tee.err" "$work/upload.err")
failed=0
for i in 0 1 2 3; do
  if ((statuses[i] != 0)); then
    failed=1
    log "${stages[i]} exited with status ${statuses[i]}"
    tail_of "${errors[i]}"
  fi
done
if ((failed)); then
  if ((statuses[3] != 0)); then die 6 "upload to s3://$S3_BUCKET/$temp_key failed"; fi
  if ((statuses[0] != 0 || statuses[1] != 0)); then die 5 "the dump did not complete (server stopped, connection lost or out of resources?)"; fi
  die 6 "the stream to the upload broke"
fi
[[ -s "$work/pg_dump.err" ]] && { log "pg_dump warnings:"; tail_of "$work/pg_dump.err" 20; }

sha=$(cut -d' ' -f1 "$work/sha256")
size=$(tr -d ' \n' <"$work/size")
[[ "$sha" =~ ^[0-9a-f]{64}$ && "$size" =~ ^[0-9]+$ && "$size" -gt 0 ]] || die 6 "could not compute the SHA-256 of the stream"
stored=$(aws_cli s3api head-object --bucket "$S3_BUCKET" --key "$temp_key" --query ContentLength --output text 2>"$work/head.err") || {
  tail_of "$work/head.err"
  die 6 "the uploaded temporary object cannot be read back"
}
[[ "$stored" == "$size" ]] || die 6 "object storage holds $stored bytes but $size bytes were streamed"
log "uploaded $size bytes in $((SECONDS - started))s, sha256 $sha"

# ---------------------------------------------------------------------------------------------- publish
# Single CopyObject up to 5 GiB (works on S3 and most S3-compatible stores); larger objects use the CLI's
# multipart copy (UploadPartCopy). Metadata is given again: multipart copies do not carry it over.
published=1
if ((size <= copy_max)); then
  aws_cli s3api copy-object --bucket "$S3_BUCKET" --key "$final_key" --copy-source "$S3_BUCKET/$temp_key" \
    --metadata-directive REPLACE --metadata "$metadata" --content-type application/gzip >/dev/null 2>"$work/copy.err" ||
    { tail_of "$work/copy.err"; die 6 "server-side copy to s3://$S3_BUCKET/$final_key failed"; }
else
  aws_cli s3 cp "s3://$S3_BUCKET/$temp_key" "s3://$S3_BUCKET/$final_key" --metadata-directive REPLACE \
    --metadata "$metadata" --content-type application/gzip --only-show-errors 2>"$work/copy.err" ||
    { tail_of "$work/copy.err"; die 6 "server-side multipart copy to s3://$S3_BUCKET/$final_key failed (does the store support UploadPartCopy?)"; }
fi
aws_cli s3 rm "s3://$S3_BUCKET/$temp_key" --only-show-errors >"$work/rm.err" 2>&1 &
rm_pid=$!
bg_pids+=("$rm_pid")
printf '%s  %s\n' "$sha" "$name" |
  aws_cli s3 cp - "s3://$S3_BUCKET/$final_key.sha256" --content-type text/plain --only-show-errors 2>"$work/sidecar.err" ||
  { tail_of "$work/sidecar.err"; die 6 "writing the checksum sidecar s3://$S3_BUCKET/$final_key.sha256 failed"; }
wait "$rm_pid" || log "warning: could not delete the temporary object s3://$S3_BUCKET/$temp_key"
upload_started=0
done_ok=1

log "backup published in $((SECONDS - started))s: s3://$S3_BUCKET/$final_key"
printf 'object=s3://%s/%s\nsha256=%s\nbytes=%s\nrecovery_point=%s\npg_dump_version=%s\nserver_version=%s\n' \
  "$S3_BUCKET" "$final_key" "$sha" "$size" "$recovery_point" "$dump_version" "$server_version"
