#!/usr/bin/env bash
# postgres-restore.sh: restore a backup written by postgres-backup.sh.
#
#   1. download RESTORE_S3_URI once into the work directory, hashing and gzip -t testing it (pigz -t when
#      installed) while it streams
#   2. verify it against <uri>.sha256 BEFORE touching the database (refuse on mismatch or a missing sidecar
#      unless ALLOW_UNVERIFIED=true); a corrupt gzip is always refused
#   3. restore with psql -X -v ON_ERROR_STOP=1 --single-transaction, then ANALYZE
#      CLEAN_TARGET=true: restore into a fresh database (CREATE DATABASE … TEMPLATE template0, from the
#      maintenance database), and only when that succeeded DROP DATABASE <target> WITH (FORCE) and rename the
#      new one into place, so a failed restore leaves the target exactly as it was.
#      CLEAN_TARGET=false: restore into the existing database in one transaction (the dump's DROP … IF EXISTS
#      statements replace the objects it contains); a failure rolls everything back.
#
# Environment:
#   RESTORE_S3_URI=s3://bucket/key.sql.gz  [CLEAN_TARGET=false]  [ALLOW_UNVERIFIED=false]
#   POSTGRES_HOST  [POSTGRES_PORT=5432]  POSTGRES_DATABASE  POSTGRES_USER  POSTGRES_PASSWORD (or PGPASSFILE)
#   [POSTGRES_MAINTENANCE_DATABASE=postgres]  [RESTORE_MAINTENANCE_WORK_MEM=256MB] (index builds)  AWS_ACCESS_KEY_ID  AWS_SECRET_ACCESS_KEY  [AWS_DEFAULT_REGION]
#   [AWS_ENDPOINT_URL]  [BACKUP_WORK_DIR=$TMPDIR or /tmp] (needs room for the compressed backup)
#
# Exit codes: 0 restored · 2 configuration (incl. psql older than the pg_dump that wrote the backup)
#             3 PostgreSQL unreachable, login refused or missing privileges · 4 backup object missing or
#             object storage unreachable · 5 integrity check failed: checksum mismatch, missing sidecar or
#             corrupt gzip (the database was not touched) · 6 the SQL restore failed (rolled back: the target
#             is as it was) · 7 restored into a new database but swapping it into place failed (see message)
#             130/143 interrupted
set -euo pipefail

readonly SCRIPT_NAME=postgres-restore
# log, die, aws_cli (--endpoint-url), tail_of, flag and the restore helpers shared by the four scripts
# shellcheck source-path=SCRIPTDIR source=lib-common.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib-common.sh" || {
  echo "${SCRIPT_NAME:-$0}: lib-common.sh must sit beside this script (publish the whole scripts/ folder)" >&2
  exit 2
}
# version_lt A B: A < B for dotted numeric versions (15.4 < 15.18)
version_lt() { [[ "$1" != "$2" && "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n1)" == "$1" ]]; }

# ---------------------------------------------------------------------------------------------- config
require_env RESTORE_S3_URI POSTGRES_HOST POSTGRES_DATABASE POSTGRES_USER
if [[ -z "${POSTGRES_PASSWORD:-}" && -z "${PGPASSFILE:-}" ]]; then
  die 2 "POSTGRES_PASSWORD is not set (or point PGPASSFILE at a 0600 password file)"
fi
parse_restore_uri 's3://bucket/path/<time>.sql.gz'
clean=false
flag CLEAN_TARGET && clean=true
unverified=false
flag ALLOW_UNVERIFIED && unverified=true
target=$POSTGRES_DATABASE
maintenance=${POSTGRES_MAINTENANCE_DATABASE:-postgres}
[[ "$target" != "$maintenance" ]] || die 2 "POSTGRES_DATABASE must not be the maintenance database '$maintenance'"
require_tools 'is not installed' psql aws sha256sum gzip mkfifo tee
# pigz tests and decompresses gzip ~1.7x faster than gzip (its reading, writing and CRC run in separate threads)
if command -v pigz >/dev/null 2>&1; then
  decompress=(pigz -dc) gzip_test=(pigz -t)
else
  decompress=(gzip -dc) gzip_test=(gzip -t)
fi
check_work_root
# the dump builds its indexes after loading the data: more memory per index build makes them much faster
maintenance_work_mem=${RESTORE_MAINTENANCE_WORK_MEM:-256MB}
[[ "$maintenance_work_mem" =~ ^[0-9]+(kB|MB|GB)?$ ]] || die 2 "RESTORE_MAINTENANCE_WORK_MEM must look like 256MB (got '$maintenance_work_mem')"

export PGHOST="$POSTGRES_HOST" PGPORT="${POSTGRES_PORT:-5432}" PGUSER="$POSTGRES_USER"
if [[ -n "${POSTGRES_PASSWORD:-}" ]]; then export PGPASSWORD="$POSTGRES_PASSWORD"; fi
export PGCONNECT_TIMEOUT="${PGCONNECT_TIMEOUT:-15}" PGAPPNAME="$SCRIPT_NAME"
unset PGDATABASE
psql_base=(psql -X -v ON_ERROR_STOP=1 -q)

make_work_dir
bg_pids=()
scratch=''
cleanup() {
  local rc=$?
  trap - EXIT
  local pid
  for pid in "${bg_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [[ -n "$scratch" ]]; then
    "${psql_base[@]}" -d "$maintenance" -v db="$scratch" >/dev/null 2>&1 <<'SQL' || log "warning: could not drop the scratch database $scratch"
DROP DATABASE IF EXISTS :"db" WITH (FORCE);
SQL
  fi
  rm -rf "$work"
  ((rc == 0)) || log "restore FAILED (exit $rc)"
  exit "$rc"
}
install_traps cleanup

# ---------------------------------------------------------------------------------------------- preflight
# The download starts right away, into the work directory only, hashed and gzip-tested as it streams; the
# object's metadata, its sidecar and the database login are checked meanwhile. Nothing touches the database
# until the download is complete and verified.
started=$SECONDS
file="$work/$name"
mkfifo "$work/download.fifo" "$work/sha.fifo" "$work/gz.fifo"
sha256sum <"$work/sha.fifo" >"$work/sha256" &
sha_pid=$!
"${gzip_test[@]}" <"$work/gz.fifo" 2>"$work/gzip.err" &
gz_pid=$!
tee "$work/sha.fifo" "$work/gz.fifo" <"$work/download.fifo" >"$file" 2>"$work/tee.err" &
tee_pid=$!
# exec: $! is then the aws process itself, so a failed preflight can stop the download
(
  if [[ -n "${AWS_ENDPOINT_URL:-}" ]]; then
    exec aws --endpoint-url "$AWS_ENDPOINT_URL" s3 cp "$RESTORE_S3_URI" - --only-show-errors
  else
    exec aws s3 cp "$RESTORE_S3_URI" - --only-show-errors
  fi
) >"$work/download.fifo" 2>"$work/download.err" &
download_pid=$!
aws_cli s3api head-object --bucket "$bucket" --key "$key" --output text \
  --query '[ContentLength, Metadata."recovery-point", Metadata."pg-dump-version"]' >"$work/head.out" 2>"$work/head.err" &
head_pid=$!
sidecar_file="$work/sidecar"
aws_cli s3 cp "$RESTORE_S3_URI.sha256" "$sidecar_file" --only-show-errors 2>"$work/sidecar.err" &
sidecar_pid=$!
bg_pids+=("$download_pid" "$tee_pid" "$sha_pid" "$gz_pid" "$head_pid" "$sidecar_pid")
if ! db_info=$("${psql_base[@]}" -A -t -d "$maintenance" -v target="$target" 2>"$work/psql.err" <<'SQL'
SELECT current_setting('server_version'),
       EXISTS (SELECT 1 FROM pg_database WHERE datname = :'target'),
       (SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user),
       COALESCE((SELECT pg_has_role(current_user, datdba, 'MEMBER') FROM pg_database WHERE datname = :'target'), true);
SQL
); then
  log "cannot connect to PostgreSQL $PGHOST:$PGPORT, database $maintenance, as $PGUSER:"
  tail_of "$work/psql.err"
  die 3 "PostgreSQL unreachable or login refused"
fi
IFS='|' read -r server_version target_exists can_create owns_target <<<"$db_info"
if [[ "$clean" == true ]]; then
  [[ "$can_create" == t ]] || die 3 "CLEAN_TARGET=true needs the CREATEDB privilege for $PGUSER"
  [[ "$owns_target" == t ]] || die 3 "CLEAN_TARGET=true needs $PGUSER to own database $target (to drop it)"
elif [[ "$target_exists" != t ]]; then
  die 2 "database $target does not exist: create it, or run with CLEAN_TARGET=true"
fi
if ! wait "$head_pid"; then
  tail_of "$work/head.err"
  if grep -q '(404)' "$work/head.err"; then die 4 "no backup at $RESTORE_S3_URI"; fi
  die 4 "cannot read $RESTORE_S3_URI (object storage unreachable or access denied)"
fi
read -r object_size recovery_point dump_version <"$work/head.out"
[[ "$recovery_point" != None ]] || recovery_point=''
[[ "$dump_version" != None ]] || dump_version=''
psql_version=$(psql --version | sed -E 's/^psql \(PostgreSQL\) ([0-9]+(\.[0-9]+)?).*/\1/')
if [[ "$dump_version" =~ ^[0-9]+(\.[0-9]+)?$ ]] && version_lt "$psql_version" "$dump_version"; then
  die 2 "psql $psql_version is older than the pg_dump $dump_version that wrote this backup; plain dumps from patched pg_dump contain \\restrict lines (CVE-2025-8714) that older psql cannot run: use psql >= $dump_version"
fi

if wait "$sidecar_pid"; then
  expected=$(sidecar_sha "$sidecar_file")
  sidecar_name=$(awk 'NR == 1 { sub(/^\*/, "", $2); print $2 }' "$sidecar_file")
  check_sidecar_sha "$expected" "$RESTORE_S3_URI"
  [[ -z "$sidecar_name" || "$sidecar_name" == "$name" ]] ||
    log "warning: the sidecar names '$sidecar_name', not '$name' (the object was renamed?)"
elif not_found "$work/sidecar.err"; then
  expected=''
  no_sidecar "$unverified" "$RESTORE_S3_URI"
  log "WARNING: no checksum sidecar; restoring WITHOUT integrity verification because ALLOW_UNVERIFIED=true"
else
  tail_of "$work/sidecar.err"
  die 4 "cannot read $RESTORE_S3_URI.sha256"
fi

# ---------------------------------------------------------------------------------------------- verify
log "downloading $RESTORE_S3_URI ($object_size bytes, recovery point ${recovery_point:-unknown})"
download_status=0 tee_status=0 gzip_status=0
wait "$download_pid" || download_status=$?
wait "$tee_pid" || tee_status=$?
wait "$sha_pid" || true
wait "$gz_pid" || gzip_status=$?
bg_pids=()
if ((download_status != 0 || tee_status != 0)); then
  tail_of "$work/download.err"
  tail_of "$work/tee.err"
  die 4 "download of $RESTORE_S3_URI failed"
fi
actual=$(cut -d' ' -f1 "$work/sha256")
downloaded=$(stat -c %s "$file")
[[ "$downloaded" == "$object_size" ]] || die 4 "downloaded $downloaded bytes but the object has $object_size"
if [[ -n "$expected" && "$actual" != "$expected" ]]; then
  die 5 "checksum mismatch for $RESTORE_S3_URI: sidecar says $expected, the object hashes to $actual; the database was not touched"
fi
if ((gzip_status != 0)); then
  tail_of "$work/gzip.err"
  die 5 "$RESTORE_S3_URI is not a valid gzip stream (truncated or corrupt); the database was not touched"
fi
log "downloaded and verified in $((SECONDS - started))s (sha256 ${expected:+matches }$actual)"

# ---------------------------------------------------------------------------------------------- restore
restore_into() {
  local database=$1
  set +e
  "${decompress[@]}" <"$file" 2>"$work/decompress.err" |
    PGOPTIONS="-c client_min_messages=warning -c maintenance_work_mem=$maintenance_work_mem" \
      "${psql_base[@]}" --single-transaction -d "$database" -f - >/dev/null 2>"$work/restore.err"
  local s=("${PIPESTATUS[@]}")
  set -e
  if ((s[0] != 0 || s[1] != 0)); then
    tail_of "$work/decompress.err"
    tail_of "$work/restore.err" 10
    return 1
  fi
}
analyze() {
  PGOPTIONS='-c client_min_messages=warning' "${psql_base[@]}" -d "$1" -c 'ANALYZE' >/dev/null 2>"$work/analyze.err" ||
    { log "warning: ANALYZE failed (the data is restored; run ANALYZE by hand):"; tail_of "$work/analyze.err"; }
}
started=$SECONDS
if [[ "$clean" == true ]]; then
  scratch="${target:0:40}_restore_$$"
  log "CLEAN_TARGET=true: restoring into new database $scratch, then replacing $target"
  "${psql_base[@]}" -d "$maintenance" -v db="$scratch" -v target="$target" >/dev/null 2>"$work/create.err" <<'SQL' ||
SELECT format('CREATE DATABASE %I TEMPLATE template0', :'db') ||
       COALESCE((SELECT format(' ENCODING %L LC_COLLATE %L LC_CTYPE %L', pg_encoding_to_char(d.encoding), d.datcollate, d.datctype) ||
                        CASE WHEN to_jsonb(d) ->> 'datlocprovider' = 'i'
                             THEN format(' LOCALE_PROVIDER icu ICU_LOCALE %L', COALESCE(to_jsonb(d) ->> 'daticulocale', to_jsonb(d) ->> 'datlocale'))
                             ELSE '' END
                 FROM pg_database d WHERE d.datname = :'target'), '') \gexec
SQL
    { tail_of "$work/create.err"; die 3 "could not create the scratch database $scratch"; }
  restore_into "$scratch" || die 6 "the SQL restore failed and was rolled back; $target was not touched"
  analyze "$scratch"
  if ! "${psql_base[@]}" -d "$maintenance" -v db="$scratch" -v target="$target" >/dev/null 2>"$work/swap.err" <<'SQL'; then
DROP DATABASE IF EXISTS :"target" WITH (FORCE);
ALTER DATABASE :"db" RENAME TO :"target";
SQL
    tail_of "$work/swap.err"
    restored_in=$scratch
    scratch=''
    die 7 "the backup is restored in database $restored_in but replacing $target failed; fix the cause, then: DROP DATABASE IF EXISTS \"$target\" WITH (FORCE); ALTER DATABASE \"$restored_in\" RENAME TO \"$target\";"
  fi
  scratch=''
else
  log "restoring into the existing database $target in one transaction"
  restore_into "$target" || die 6 "the SQL restore failed and was rolled back; $target is as it was"
  analyze "$target"
fi

log "restored $target on $PGHOST:$PGPORT (PostgreSQL $server_version) from $RESTORE_S3_URI in $((SECONDS - started))s"
printf 'database=%s\nsource=%s\nsha256=%s\nverified=%s\nrecovery_point=%s\n' \
  "$target" "$RESTORE_S3_URI" "$actual" "$([[ -n "$expected" ]] && echo true || echo false)" "${recovery_point:-unknown}"
