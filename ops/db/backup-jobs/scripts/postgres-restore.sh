#!/usr/bin/env bash
# postgres-restore.sh: restore a backup written by postgres-backup.sh.
#
#   1. check, in parallel, the login, the object's metadata and <uri>.sha256 (refuse a missing sidecar unless
#      ALLOW_UNVERIFIED=true; with EXPECTED_SHA256 and EXPECTED_ETAG also refuse any object but the one a caller
#      verified before: the db-runbook CLI passes what its integrity gate showed), the globals object, and the roles
#      the backup's catalog facts name (see Roles)
#   2. read RESTORE_S3_URI ONCE, nothing staged on disk: hashed (sha256sum), inflated (igzip, else pigz, else gzip),
#      scanned and restored at the same time into a NEW database with psql -X -v ON_ERROR_STOP=1
#      --single-transaction, the stream preceded by this script's own `\restrict <random key>`, so no psql
#      meta-command in a dump can run; the scanner passes nothing more on after a meta-command line
#   3. judge the stream: the hash must match the sidecar (and EXPECTED_SHA256), the gzip stream be intact, the dump
#      end with pg_dump's "-- PostgreSQL database dump complete" and hold no psql meta-command other than pg_dump's
#      own \restrict/\unrestrict pair, and psql must have committed; otherwise the new database is dropped and the
#      target is exactly as it was (a byte flipped near the end is seen only there); then ANALYZE
#      CLEAN_TARGET=true: the new database is empty (CREATE DATABASE … TEMPLATE template0).
#      CLEAN_TARGET=false: the new database is a copy of the target (CREATE DATABASE … TEMPLATE <target>), so
#      the dump's DROP … IF EXISTS statements replace the objects it contains and the others stay. A dump that
#      ends the transaction early (COMMIT;) can then only damage the copy.
#   Roles: the roles the dump names as owners and grantees must exist on the target and the restoring user must be
#      able to act for each owner (exit 3 with a table of them): checked before the stream for the roles the
#      backup's catalog facts name, and after it, for the roles the dump named, when the restore failed; unless
#      CREATE_MISSING_ROLES=true (create them from the backup's <time>.globals.sql.gz, without passwords, inside
#      the restore's transaction), ROLE_MAP=old=new[,…] (use existing roles instead) or
#      RESTORE_WITHOUT_PRIVILEGES=true (owners and privileges left out, as pg_dump --no-owner --no-privileges).
#   4. give the new database its owner, privileges and settings: from the backup's globals object with
#      CLEAN_TARGET=true, from the target with CLEAN_TARGET=false (or an older backup without globals); then swap it in
#      with ONE transaction of renames: BEGIN; ALTER DATABASE <target> RENAME TO <target>_pre_restore_<time>;
#      ALTER DATABASE <new> RENAME TO <target>; COMMIT; (signals are held back across it); then drop the
#      previous database (KEEP_PRE_RESTORE=true keeps it and says its name).
#   RESTORE_PHASE=load|swap splits 1-4 in two calls, so the operator can look at the restored copy before it replaces
#      anything: "load" does 1-3 and gives the new database its properties, then stops and prints scratch=<name> and
#      restored_oid=<oid> (and copy=<rows> <COPY line> per table of the dump); the new database is left in place.
#      "swap" (RESTORE_SCRATCH=<name>, RESTORE_SCRATCH_OID=<oid>) only swaps that database in (4), after checking it
#      is still the one "load" made; it never drops it. The default, "all", does both in one call.
#   Whatever stops it, at any instant one complete copy survives under a name it prints: a failure or a signal
#   before the commit leaves the target as it was (the new database is dropped only while the target exists);
#   after the commit the target is the restored database. The exit handler asks the server which databases
#   exist before it drops anything, and prints them with the command that finishes or undoes the swap.
#
# Environment:
#   RESTORE_S3_URI=s3://bucket/key.sql.gz  [CLEAN_TARGET=false]  [ALLOW_UNVERIFIED=false]  [KEEP_PRE_RESTORE=false]
#   [EXPECTED_SHA256=<hex>]  [EXPECTED_ETAG=<etag>]  [EXPECTED_GLOBALS_SHA256=<hex>] (refuse any other object)
#   [CREATE_MISSING_ROLES=false]  [ROLE_MAP=old=new,…]  [RESTORE_WITHOUT_PRIVILEGES=false]
#   POSTGRES_HOST  [POSTGRES_PORT=5432]  POSTGRES_DATABASE  POSTGRES_USER  POSTGRES_PASSWORD (or PGPASSFILE)
#   [POSTGRES_MAINTENANCE_DATABASE=postgres]  [RESTORE_MAINTENANCE_WORK_MEM=256MB] (index builds)  AWS_ACCESS_KEY_ID  AWS_SECRET_ACCESS_KEY  [AWS_DEFAULT_REGION]
#   [AWS_ENDPOINT_URL]  [BACKUP_WORK_DIR=$TMPDIR or /tmp] (small files only: the dump is never staged on disk)
#   [RESTORE_PROGRESS_SECONDS=0] (a "streamed <bytes> of <size> bytes" line every N seconds; 0: none)
#   [RESTORE_PHASE=all|load|swap]  [RESTORE_SCRATCH=<database load made>  RESTORE_SCRATCH_OID=<its oid>] (swap only)
# The restoring user needs CREATEDB and must own the target (to rename it); psql must support \restrict
# (13.22, 14.19, 15.14, 16.10, 17.6 or newer).
#
# Exit codes: 0 restored · 2 configuration (incl. psql older than the pg_dump that wrote the backup)
#             3 PostgreSQL unreachable, login refused or missing privileges, or roles the dump names missing on the
#             target (or the restoring user cannot act for them) · 4 backup object missing or
#             object storage unreachable · 5 integrity check failed: checksum mismatch, missing sidecar, not the
#             object expected, corrupt or non-gzip object, a dump cut short or one holding psql meta-commands
#             (the database was not touched) · 6 the SQL restore into the new database failed (the target is as it was)
#             7 restored into a new database but swapping it into place failed (see message)
#             129/130/143 interrupted by SIGHUP/SIGINT/SIGTERM (the message says what the target is now)
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
# ident NAME: NAME as a double-quoted SQL identifier (for the commands printed to the operator)
ident() { printf '"%s"' "${1//\"/\"\"}"; }

# ---------------------------------------------------------------------------------------------- config
phase=${RESTORE_PHASE:-all}
case "$phase" in
  all | load) require_env RESTORE_S3_URI ;;
  swap) require_env RESTORE_SCRATCH ;;
  *) die 2 "RESTORE_PHASE must be all, load or swap (got '$phase')" ;;
esac
require_env POSTGRES_HOST POSTGRES_DATABASE POSTGRES_USER
if [[ -z "${POSTGRES_PASSWORD:-}" && -z "${PGPASSFILE:-}" ]]; then
  die 2 "POSTGRES_PASSWORD is not set (or point PGPASSFILE at a 0600 password file)"
fi
if [[ "$phase" != swap ]]; then parse_restore_uri 's3://bucket/path/<time>.sql.gz'; fi
clean=false
flag CLEAN_TARGET && clean=true
unverified=false
flag ALLOW_UNVERIFIED && unverified=true
keep_previous=false
flag KEEP_PRE_RESTORE && keep_previous=true
create_roles=false
flag CREATE_MISSING_ROLES && create_roles=true
without_privileges=false
flag RESTORE_WITHOUT_PRIVILEGES && without_privileges=true
expected_globals_pin=${EXPECTED_GLOBALS_SHA256:-}
expected_globals_pin=${expected_globals_pin,,}
[[ -z "$expected_globals_pin" || "$expected_globals_pin" =~ ^[0-9a-f]{64}$ ]] || die 2 "EXPECTED_GLOBALS_SHA256 must be 64 hex digits"
expected_pin=${EXPECTED_SHA256:-}
expected_pin=${expected_pin,,}
[[ -z "$expected_pin" || "$expected_pin" =~ ^[0-9a-f]{64}$ ]] || die 2 "EXPECTED_SHA256 must be 64 hex digits (got '$EXPECTED_SHA256')"
expected_etag=${EXPECTED_ETAG:-}
expected_etag=${expected_etag//\"/}
target=$POSTGRES_DATABASE
maintenance=${POSTGRES_MAINTENANCE_DATABASE:-postgres}
[[ "$target" != "$maintenance" ]] || die 2 "POSTGRES_DATABASE must not be the maintenance database '$maintenance'"
if [[ "$phase" == load && "$clean" != true ]]; then
  die 2 "RESTORE_PHASE=load needs CLEAN_TARGET=true: a copy of $target made now would lose the writes made before the swap"
fi
require_tools 'is not installed' psql aws sha256sum gzip mkfifo tee awk sed od dd tr
# igzip (Debian isal) inflates 3-6x faster than pigz, pigz ~1.7x faster than gzip (reading, writing, CRC in threads)
if command -v igzip >/dev/null 2>&1; then
  decompress=(igzip -dc)
elif command -v pigz >/dev/null 2>&1; then
  decompress=(pigz -dc)
else
  decompress=(gzip -dc)
fi
check_work_root
# the dump builds its indexes after loading the data: more memory per index build makes them much faster
maintenance_work_mem=${RESTORE_MAINTENANCE_WORK_MEM:-256MB}
progress_every=${RESTORE_PROGRESS_SECONDS:-0}
[[ "$progress_every" =~ ^[0-9]+$ ]] || die 2 "RESTORE_PROGRESS_SECONDS must be a whole number of seconds (got '$progress_every')"
[[ "$maintenance_work_mem" =~ ^[0-9]+(kB|MB|GB)?$ ]] || die 2 "RESTORE_MAINTENANCE_WORK_MEM must look like 256MB (got '$maintenance_work_mem')"

export PGHOST="$POSTGRES_HOST" PGPORT="${POSTGRES_PORT:-5432}" PGUSER="$POSTGRES_USER"
if [[ -n "${POSTGRES_PASSWORD:-}" ]]; then export PGPASSWORD="$POSTGRES_PASSWORD"; fi
export PGCONNECT_TIMEOUT="${PGCONNECT_TIMEOUT:-15}" PGAPPNAME="$SCRIPT_NAME"
unset PGDATABASE
psql_base=(psql -X -v ON_ERROR_STOP=1 -q)
# The new database and the previous target's name after the swap: <first 34 characters of the target>_restore_<time>
# and …_pre_restore_<time> (63 bytes at most). db-runbook looks for leftovers by these prefixes.
base=${target:0:34}
restore_stamp=$(date -u +%Y%m%d%H%M%S)
if [[ "$phase" == swap ]]; then
  [[ "$RESTORE_SCRATCH" =~ ^(.*)_restore_([0-9]{14})$ && "${BASH_REMATCH[1]}" == "$base" ]] ||
    die 2 "RESTORE_SCRATCH must name a database RESTORE_PHASE=load made for $target (${base}_restore_<time>; got '$RESTORE_SCRATCH')"
  restore_stamp=${BASH_REMATCH[2]}
  [[ -z "${RESTORE_SCRATCH_OID:-}" || "$RESTORE_SCRATCH_OID" =~ ^[0-9]+$ ]] || die 2 "RESTORE_SCRATCH_OID must be a number"
fi
scratch="${base}_restore_$restore_stamp"
previous="${base}_pre_restore_$restore_stamp"
# a key nobody can know: psql refuses every meta-command until `\unrestrict <key>`, which is never sent
restrict_key=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')

# ---------------------------------------------------------------------------------------------- state + exit
scratch_oid=''     # set once the new database exists: the exit handler then asks the server what it holds
target_oid_at_start=''
restored=0         # the SQL restore into the new database completed
swapped=0          # the swap was committed (read from the server)
keep_scratch=0     # exit 7: the restored copy is kept for the operator to swap in by hand
creating=0         # CREATE DATABASE was sent: the new database may exist before its oid is known here
make_work_dir

# db_state: sets now_target_oid, now_scratch_oid and now_previous_oid from the server ('' = no such database);
# returns 1 when the server cannot be asked
db_state() {
  local out
  out=$("${psql_base[@]}" -A -t -d "$maintenance" -v target="$target" -v scratch="$scratch" -v previous="$previous" 2>"$work/state.err" <<'SQL'
SELECT coalesce((SELECT oid::text FROM pg_database WHERE datname = :'target'), '') || '|' ||
       coalesce((SELECT oid::text FROM pg_database WHERE datname = :'scratch'), '') || '|' ||
       coalesce((SELECT oid::text FROM pg_database WHERE datname = :'previous'), '');
SQL
  ) || return 1
  IFS='|' read -r now_target_oid now_scratch_oid now_previous_oid <<<"$out"
}
drop_database() {
  "${psql_base[@]}" -d "$maintenance" -v db="$1" >/dev/null 2>"$work/drop.err" <<'SQL'
DROP DATABASE IF EXISTS :"db" WITH (FORCE);
SQL
}
undo_hint() {
  printf 'to undo it: BEGIN; ALTER DATABASE %s RENAME TO %s; ALTER DATABASE %s RENAME TO %s; COMMIT;' \
    "$(ident "$target")" "$(ident "${base}_discarded_$restore_stamp")" "$(ident "$previous")" "$(ident "$target")"
}
# The exit handler: children stopped, then the outcome read from the server, not assumed from where it stopped.
cleanup() {
  local rc=$? how
  trap - EXIT
  trap '' INT TERM HUP
  stop_children
  if [[ -n "$caught_signal" ]]; then how="INTERRUPTED by SIG$caught_signal (exit $rc)"; else how="FAILED (exit $rc)"; fi
  if ((rc != 0)) && [[ -n "$scratch_oid" || $creating == 1 ]]; then
    if ! db_state; then
      tail_of "$work/state.err"
      log "restore $how, and the server cannot be asked what it holds now: nothing was dropped. Check which of these exist: $(ident "$target") (the target), $(ident "$scratch") (the restored copy, complete: $([[ $restored == 1 ]] && echo yes || echo no)), $(ident "$previous") (the previous target after a swap)"
    elif [[ -z "$scratch_oid" && -z "$now_scratch_oid" ]]; then
      log "restore $how; $target was not touched"
    elif [[ "$now_target_oid" == "${scratch_oid:-$now_scratch_oid}" ]]; then
      log "restore $how AFTER the swap was committed: $target IS the restored database (${RESTORE_S3_URI:+from $RESTORE_S3_URI}${RESTORE_SCRATCH:+$RESTORE_SCRATCH})"
      if [[ -n "$now_previous_oid" ]]; then
        log "the previous $target is kept as $previous: drop it when satisfied: DROP DATABASE $(ident "$previous") WITH (FORCE); — $(undo_hint)"
      else
        log "the previous $target was dropped (or its drop was interrupted: check for $previous)"
      fi
    elif [[ -n "$now_scratch_oid" ]]; then
      if [[ -n "$now_target_oid" || (-z "$target_oid_at_start" && $restored == 0) ]] && ((keep_scratch == 0)); then
        if drop_database "$scratch"; then
          log "restore $how before the swap: $target $([[ -n "$now_target_oid" ]] && echo 'is as it was' || echo 'did not exist and still does not'); the new database $scratch was dropped"
        else
          tail_of "$work/drop.err"
          log "restore $how before the swap: $target is as it was; the new database $scratch is left: DROP DATABASE $(ident "$scratch") WITH (FORCE);"
        fi
      elif ((keep_scratch)); then
        log "restore $how: $target is as it was; the restored copy is kept as $scratch: finish the swap: BEGIN; ALTER DATABASE $(ident "$target") RENAME TO $(ident "$previous"); ALTER DATABASE $(ident "$scratch") RENAME TO $(ident "$target"); COMMIT; — or drop it: DROP DATABASE $(ident "$scratch") WITH (FORCE);"
      else
        log "restore $how: $target does NOT exist any more (dropped by someone else?); the $([[ $restored == 1 ]] && echo 'complete' || echo 'INCOMPLETE') restored copy is kept as $scratch: ALTER DATABASE $(ident "$scratch") RENAME TO $(ident "$target");"
      fi
    else
      log "restore $how: the new database $scratch is gone and $target is ${now_target_oid:+there (as it was)}${now_target_oid:-MISSING}"
    fi
  elif ((rc != 0)); then
    log "restore $how; $target was not touched"
  fi
  rm -rf "$work"
  exit "$rc"
}
install_traps cleanup

# swap: ONE transaction of renames, signals held back across it (and the psql running it ignores SIGTERM, so
# a signal to the whole process group cannot cut it either). Its outcome is read back from the server.
swap() {
  local attempt hook='' state_known=1
  if [[ "${DB_RUNBOOK_TEST_HOOK_PHASE:-}" == swap-during ]]; then hook="\\! $(test_hook_command swap-during)"; fi
  log "swapping in one transaction: $target → $previous, $scratch → $target (if this is interrupted, one of them is the restored database: SELECT datname, oid FROM pg_database WHERE datname IN ('$target', '$scratch', '$previous'); the restored one has oid $scratch_oid)"
  defer_signals
  for attempt in 1 2 3 4 5; do
    (
      trap '' TERM HUP
      exec "${psql_base[@]}" -d "$maintenance" -v target="$target" -v scratch="$scratch" -v previous="$previous" \
        -v has_target="$([[ -n "$target_oid_at_start" ]] && echo 1 || echo 0)" -f - >/dev/null 2>"$work/swap.err" <<SQL
SET lock_timeout = '30s';
BEGIN;
SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname IN (:'target', :'scratch') AND pid <> pg_backend_pid() \\gset
\\if :has_target
ALTER DATABASE :"target" RENAME TO :"previous";
\\endif
$hook
ALTER DATABASE :"scratch" RENAME TO :"target";
COMMIT;
SQL
    ) &
    wait_pid $! || true
    if ! db_state && ! { sleep 1 && db_state; }; then
      state_known=0
      break
    fi
    if [[ "$now_target_oid" == "$scratch_oid" ]]; then
      swapped=1
      break
    fi
    grep -q 'is being accessed by other users' "$work/swap.err" || break
    log "the swap found sessions connected again (attempt $attempt); retrying"
  done
  allow_signals
  if ((state_known == 0)); then
    tail_of "$work/swap.err"
    tail_of "$work/state.err"
    keep_scratch=1
    die 7 "cannot ask the server whether the swap committed: the restored database has oid $scratch_oid; it is $target if the swap committed, else $scratch (and $target is as it was)"
  fi
  if ((swapped == 0)); then
    tail_of "$work/swap.err"
    keep_scratch=1
    die 7 "the backup is restored in database $scratch, but swapping it in for $target failed; $target is as it was"
  fi
  log "swap committed: $target is the restored database${target_oid_at_start:+; the previous one is $previous until it is dropped}"
  test_hook swap-after
}

# finish_swap: the previous target dropped after the swap (KEEP_PRE_RESTORE=true keeps it and says how to undo)
finish_swap() {
  if [[ -n "$target_oid_at_start" ]]; then
    if [[ "$keep_previous" == true ]]; then
      log "kept the previous database as $previous (KEEP_PRE_RESTORE=true): drop it when done: DROP DATABASE $(ident "$previous") WITH (FORCE); — $(undo_hint)"
    else
      "${psql_base[@]}" -d "$maintenance" -v db="$previous" >/dev/null 2>"$work/drop.err" <<'SQL' &
DROP DATABASE IF EXISTS :"db" WITH (FORCE);
SQL
      if wait_pid $!; then
        log "dropped the previous database $previous"
      else
        tail_of "$work/drop.err"
        log "warning: could not drop the previous database $previous (the restore is complete); drop it: DROP DATABASE $(ident "$previous") WITH (FORCE);"
      fi
    fi
  fi
}

# ---------------------------------------------------------------------------------------------- RESTORE_PHASE=swap
# Only the swap of a database RESTORE_PHASE=load made: checked to be that one (name and oid), never dropped here.
if [[ "$phase" == swap ]]; then
  scratch=$RESTORE_SCRATCH
  previous="${base}_pre_restore_$restore_stamp"
  if ! "${psql_base[@]}" -A -t -d "$maintenance" -v target="$target" -v scratch="$scratch" >"$work/swap-info.out" 2>"$work/psql.err" <<'SQL'
SELECT coalesce((SELECT oid::text FROM pg_database WHERE datname = :'target'), '') || '|' ||
       coalesce((SELECT oid::text FROM pg_database WHERE datname = :'scratch'), '') || '|' ||
       coalesce((SELECT pg_has_role(current_user, datdba, 'MEMBER')::text FROM pg_database WHERE datname = :'target'), 'true');
SQL
  then
    log "cannot connect to PostgreSQL $PGHOST:$PGPORT, database $maintenance, as $PGUSER:"
    tail_of "$work/psql.err"
    die 3 "PostgreSQL unreachable or login refused; nothing was swapped"
  fi
  IFS='|' read -r target_oid_at_start found_oid owns_target <"$work/swap-info.out"
  [[ -n "$found_oid" ]] || die 2 "the restored database $scratch does not exist (dropped since?); $target was not touched: restore again"
  if [[ -n "${RESTORE_SCRATCH_OID:-}" && "$found_oid" != "$RESTORE_SCRATCH_OID" ]]; then
    die 5 "database $scratch has oid $found_oid, not $RESTORE_SCRATCH_OID: it is not the database that was restored and checked; $target was not touched"
  fi
  [[ "$owns_target" == true ]] || die 3 "$PGUSER must own database $target (or be a member of its owner role) to swap the restored database in"
  scratch_oid=$found_oid
  restored=1
  keep_scratch=1 # a failed swap leaves the checked copy for the operator, with the command that finishes it
  started=$SECONDS
  swap
  keep_scratch=0
  finish_swap
  log "swapped $scratch into $target on $PGHOST:$PGPORT in $((SECONDS - started))s"
  printf 'database=%s\nrestored_oid=%s\nprevious=%s\nswapped=true\n' "$target" "$scratch_oid" \
    "$([[ -n "$target_oid_at_start" && "$keep_previous" == true ]] && echo "$previous" || echo '')"
  exit 0
fi

# ---------------------------------------------------------------------------------------------- preflight
# The object's metadata, its sidecar, the globals object (with its sidecar) and the database login are checked in
# parallel. The dump itself is read once, later, straight into the new database (section "restore").
started=$SECONDS
# Statements that name roles, as pg_dump writes them (one line each, outside COPY data): `ALTER … OWNER TO r;`,
# `GRANT … TO r [WITH GRANT OPTION];`, `REVOKE … FROM r;`, `ALTER DEFAULT PRIVILEGES FOR ROLE r … TO|FROM g;`, and in
# the globals' database section `ALTER ROLE r IN DATABASE …`. classify() finds them and their role tokens; the
# one-pass scanner (stream_awk) lists the roles and maps them (ROLE_MAP) or leaves the statements out (RESTORE_WITHOUT_PRIVILEGES).
# shellcheck disable=SC2016 # awk's own $0
roles_awk='
function unq(t) { if (substr(t, 1, 1) == "\"") { t = substr(t, 2, length(t) - 2); gsub(/""/, "\"", t) } return t }
function q(n) { gsub(/"/, "\"\"", n); return "\"" n "\"" }
function tok(start, len, use) { ntok++; ts[ntok] = start; tl[ntok] = len; tu[ntok] = use }
function grantee_at_end(line,    start, s) {
  if (!match(line, " (TO|FROM) " ID "( WITH GRANT OPTION)?;$")) return 0
  start = RSTART + (substr(line, RSTART + 1, 2) == "TO" ? 4 : 6)
  s = substr(line, start); sub(/( WITH GRANT OPTION)?;$/, "", s)
  tok(start, length(s), "grantee")
  return 1
}
function classify(line) {
  ntok = 0
  if (line ~ /^ALTER DEFAULT PRIVILEGES FOR ROLE /) {
    if (match(substr(line, 35), "^" ID)) tok(34 + RSTART, RLENGTH, "owner")
    grantee_at_end(line)
    return "defaults"
  }
  if (line ~ /^ALTER ROLE / && match(line, "^ALTER ROLE " ID " IN DATABASE ")) {
    match(substr(line, 12), "^" ID); tok(11 + RSTART, RLENGTH, "grantee"); return "role-setting"
  }
  if (line ~ /^ALTER / && match(line, " OWNER TO " ID ";$")) { tok(RSTART + 10, RLENGTH - 11, "owner"); return "owner" }
  if (line ~ /^GRANT / && grantee_at_end(line)) return "grant"
  if (line ~ /^REVOKE / && grantee_at_end(line)) return "grant"
  return ""
}
BEGIN { ID = "(\"([^\"]|\"\")+\"|[A-Za-z_][A-Za-z0-9_$]*)" }
'
# The dump scanner and filter, in ONE pass over the inflated stream on its way to psql. It notes pg_dump's
# completion line, the psql meta-commands (lines starting with a backslash outside COPY data) and the roles the
# dump names. pg_dump >= 15.14 writes one `\restrict <key>` before any SQL and `\unrestrict <key>` at the end: both
# are left out (the restore sends its own \restrict first). Any other meta-command is never passed on: from it on
# nothing more goes to psql (halt), and the report names it, so the restore is refused. Statements that name roles
# get the roles in the file `map` (old<TAB>new per line) replaced, or with drop=1 are left out. COPY data passes
# through untouched. It always reads to the end (the report, written to the file `report` at the end, covers the
# whole dump).
# shellcheck disable=SC2016 # awk's own $0
stream_awk=$roles_awk'
BEGIN {
  copy = 0; sql = 0; restrict = 0; unrestrict = 0; complete = 0; meta = ""; halt = 0
  if (map != "") while ((getline entry < map) > 0) { split(entry, pair, "\t"); mapped[pair[1]] = pair[2] }
}
copy { if ($0 == "\\.") { copy = 0; rows[table] += n } else n++; if (!halt) print; next }
/^COPY .* FROM stdin;$/ { copy = 1; sql = 1; table = $0; n = 0; if (!(table in rows)) rows[table] = 0; if (!halt) print; next }
/^[ \t]*\\/ {
  if (!restrict && !sql && $0 ~ /^\\restrict [A-Za-z0-9]+$/) { restrict = NR; key = substr($0, 11); next }
  if (restrict && !unrestrict && $0 == "\\unrestrict " key) { unrestrict = NR; next }
  if (meta == "") meta = NR ": " substr($0, 1, 60)
  halt = 1
  next
}
$0 == "-- PostgreSQL database dump complete" { complete = NR }
/^(ALTER|GRANT|REVOKE) / {
  kind = classify($0)
  if (kind != "") {
    sql = 1
    count[kind]++
    for (i = 1; i <= ntok; i++) { r = unq(substr($0, ts[i], tl[i])); if (r != "PUBLIC") uses[tu[i] "=" r] = 1 }
    if (halt || drop) next
    line = $0
    for (i = ntok; i >= 1; i--) {
      r = unq(substr(line, ts[i], tl[i]))
      if (r in mapped) line = substr(line, 1, ts[i] - 1) q(mapped[r]) substr(line, ts[i] + tl[i])
    }
    print line
    next
  }
}
!/^[ \t]*(--.*)?$/ { sql = 1 }
!halt { print }
END {
  printf "restrict=%d\nunrestrict=%d\ncomplete=%d\ncopy_open=%d\nmeta=%s\n", restrict, unrestrict, complete, copy, meta > report
  printf "owner_statements=%d\ngrant_statements=%d\ndefault_statements=%d\nsetting_statements=%d\n", count["owner"], count["grant"], count["defaults"], count["role-setting"] > report
  for (u in uses) print "role_" u > report
  for (t in rows) print "copy=" rows[t] " " t > report
  close(report)
}
'
# The roles the backup's catalog facts (globals object, section "facts") name, as use=role lines: the owners of
# schemas, tables, views, sequences and functions and the roles of default privileges (owner), the grantees of
# their privileges (grantee). Known before the dump is read: the restore checks and creates roles from them, and
# checks the roles the dump itself named once it has streamed.
# shellcheck disable=SC2016 # awk's own $0
facts_awk='
function field(name,    s) {
  if (!match($0, "\"" name "\" *: *\"([^\"\\\\]|\\\\.)*\"")) return ""
  s = substr($0, RSTART + length(name) + 2, RLENGTH - length(name) - 2)
  sub(/^ *: *"/, "", s); sub(/"$/, "", s)
  gsub(/\\"/, "\"", s); gsub(/\\\\/, "\\", s)
  return s
}
/^-- fact / {
  f = field("fact"); r = field("role"); g = field("grantee")
  if (f == "owner") u["owner=" r] = 1
  else if (f == "privileges") u["grantee=" r] = 1
  else if (f == "default privileges") { u["owner=" r] = 1; u["grantee=" g] = 1 }
}
END { for (k in u) if (k !~ /=(PUBLIC)?$/) print k }
'
# the object's metadata, its sidecar, and the globals object beside the dump (roles, the database's own properties,
# catalog facts) with its sidecar, when the backup has one: one process (s3_batch)
sidecar_file="$work/sidecar"
globals_key="${key%.sql.gz}.globals.sql.gz"
s3_batch "$work" "$bucket" head head "$key" get sidecar "$key.sha256" "$sidecar_file" \
  get globals "$globals_key" "$work/globals.sql.gz" get globals-sidecar "$globals_key.sha256" "$work/globals.sha256" &
fetch_pid=$!
test_hook download
# \restrict first: a psql that cannot run it cannot restore safely (and cannot restore a 15.14+ dump either)
if ! db_info=$("${psql_base[@]}" -A -t -d "$maintenance" -v target="$target" -v base="$base" 2>"$work/psql.err" <<SQL
\\restrict $restrict_key
SELECT current_setting('server_version') || '|' || current_setting('server_version_num') || '|' ||
       coalesce((SELECT oid::text FROM pg_database WHERE datname = :'target'), '') || '|' ||
       (SELECT (rolcreatedb OR rolsuper)::text FROM pg_roles WHERE rolname = current_user) || '|' ||
       coalesce((SELECT pg_has_role(current_user, datdba, 'MEMBER')::text FROM pg_database WHERE datname = :'target'), 'true') || '|' ||
       coalesce((SELECT string_agg(datname, ' ' ORDER BY datname) FROM pg_database
                 WHERE starts_with(datname, :'base' || '_restore_') OR starts_with(datname, :'base' || '_pre_restore_')), '');
SQL
); then
  if grep -q 'invalid command \\restrict' "$work/psql.err"; then
    die 2 "$(psql --version | head -n 1) cannot run \\restrict: use psql 13.22, 14.19, 15.14, 16.10, 17.6 or newer (it keeps a backup's psql meta-commands from running, CVE-2025-8714)"
  fi
  log "cannot connect to PostgreSQL $PGHOST:$PGPORT, database $maintenance, as $PGUSER:"
  tail_of "$work/psql.err"
  die 3 "PostgreSQL unreachable or login refused"
fi
IFS='|' read -r server_version _ target_oid_at_start can_create owns_target leftovers <<<"$db_info"
for leftover in $leftovers; do
  log "warning: database $leftover was left by an interrupted restore of $target; drop it when it is not needed: DROP DATABASE $(ident "$leftover") WITH (FORCE);"
done
[[ "$can_create" == true ]] || die 3 "$PGUSER needs the CREATEDB privilege: the backup is restored into a new database, then swapped in"
[[ "$owns_target" == true ]] || die 3 "$PGUSER must own database $target (or be a member of its owner role) to swap the restored database in"
if [[ "$clean" != true && -z "$target_oid_at_start" ]]; then
  die 2 "database $target does not exist: create it, or run with CLEAN_TARGET=true"
fi
wait_pid "$fetch_pid" || true
if ! s3_ok head; then
  tail_of "$work/head.err"
  if grep -q '(404)' "$work/head.err"; then die 4 "no backup at $RESTORE_S3_URI"; fi
  die 4 "cannot read $RESTORE_S3_URI (object storage unreachable or access denied)"
fi
read -r object_size etag recovery_point dump_version <"$work/head.out"
etag=${etag//\"/}
[[ "$recovery_point" != None ]] || recovery_point=''
[[ "$dump_version" != None ]] || dump_version=''
if [[ -n "$expected_etag" && "$etag" != "$expected_etag" ]]; then
  die 5 "$RESTORE_S3_URI is not the object that was verified: its ETag is $etag, expected $expected_etag (replaced since?); the database was not touched"
fi
psql_version=$(psql --version | sed -E 's/^psql \(PostgreSQL\) ([0-9]+(\.[0-9]+)?).*/\1/')
if [[ "$dump_version" =~ ^[0-9]+(\.[0-9]+)?$ ]] && version_lt "$psql_version" "$dump_version"; then
  die 2 "psql $psql_version is older than the pg_dump $dump_version that wrote this backup; plain dumps from patched pg_dump contain \\restrict lines (CVE-2025-8714) that older psql cannot run: use psql >= $dump_version"
fi

if s3_ok sidecar; then
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

# ---------------------------------------------------------------------------------------------- globals
# Verified like the dump (its own sidecar; EXPECTED_GLOBALS_SHA256 when given), then split into its sections.
globals=''
if s3_ok globals; then
  globals_actual=$(sha256sum "$work/globals.sql.gz" | cut -d' ' -f1)
  if s3_ok globals-sidecar; then
    globals_expected=$(sidecar_sha "$work/globals.sha256")
    [[ "$globals_actual" == "$globals_expected" ]] ||
      die 5 "checksum mismatch for s3://$bucket/$globals_key: sidecar says $globals_expected, the object hashes to $globals_actual; the database was not touched"
  elif [[ "$unverified" != true ]]; then
    die 5 "no checksum sidecar at s3://$bucket/$globals_key.sha256: refusing unverified globals (ALLOW_UNVERIFIED=true to override); the database was not touched"
  fi
  if [[ -n "$expected_globals_pin" && "$globals_actual" != "$expected_globals_pin" ]]; then
    die 5 "s3://$bucket/$globals_key is not the object that was verified: it hashes to $globals_actual, expected $expected_globals_pin; the database was not touched"
  fi
  "${decompress[@]}" <"$work/globals.sql.gz" >"$work/globals.sql" 2>"$work/globals-gzip.err" ||
    { tail_of "$work/globals-gzip.err"; die 5 "s3://$bucket/$globals_key is not a valid gzip stream; the database was not touched"; }
  awk -v dir="$work" '
    /^-- section: roles/ { out = dir "/globals-roles.sql"; next }
    /^-- section: database/ { out = dir "/globals-database.sql"; next }
    /^-- section: facts/ { out = dir "/globals-facts.sql"; next }
    /^-- section: / { out = ""; next }
    /^-- end of db-runbook globals/ { out = ""; next }
    out != "" { print > out }
  ' "$work/globals.sql"
  touch "$work/globals-roles.sql" "$work/globals-database.sql"
  globals="s3://$bucket/$globals_key"
  log "globals verified: $globals (sha256 $globals_actual)"
elif not_found "$work/globals.err"; then
  log "warning: the backup has no globals object ($globals_key): roles cannot be created from it$([[ "$clean" == true ]] && echo ", and the new database gets the owner, privileges and settings of the current $target (if there is one)")"
else
  tail_of "$work/globals.err"
  die 4 "cannot read s3://$bucket/$globals_key"
fi

# ---------------------------------------------------------------------------------------------- roles
# The roles the dump (and, with CLEAN_TARGET=true, the globals' database section) names must exist on the target,
# and the restoring user must be able to act for each owner (member of it, or superuser). Otherwise nothing is
# touched, unless: CREATE_MISSING_ROLES=true (create them from the globals object, without passwords),
# ROLE_MAP=old=new[,…] (use existing roles instead), or RESTORE_WITHOUT_PRIVILEGES=true (leave owners and
# privileges out: the old --no-owner --no-privileges behaviour).
map_file="$work/role-map.tsv"
: >"$map_file"
declare -A role_map=()
if [[ -n "${ROLE_MAP:-}" ]]; then
  IFS=',' read -r -a map_pairs <<<"$ROLE_MAP"
  for pair in "${map_pairs[@]}"; do
    [[ "$pair" =~ ^([^=]+)=([^=]+)$ ]] || die 2 "ROLE_MAP must look like old=new[,old2=new2] (got '$pair')"
    role_map[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
    printf '%s\t%s\n' "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" >>"$map_file"
  done
fi
database_section=''
if [[ "$clean" == true && -s "${work}/globals-database.sql" ]]; then
  database_section="$work/globals-database.sql"
  LC_ALL=C awk -v report="$work/section-scan.out" "$stream_awk" "$database_section" >/dev/null
fi
# roles_used facts|scan: writes $work/roles.used, the use=role lines (owner=…, grantee=…) check_roles reads: from the
# backup's catalog facts (before the dump is read) or from the stream's scan report (after), with CLEAN_TARGET=true
# and globals also those of the globals' database section
roles_used() {
  {
    if [[ "$1" == facts ]]; then
      if [[ -s "$work/globals-facts.sql" ]]; then LC_ALL=C awk "$facts_awk" "$work/globals-facts.sql"; fi
    else
      sed -n 's/^role_//p' "$work/scan.out"
    fi
    if [[ -n "$database_section" ]]; then sed -n 's/^role_//p' "$work/section-scan.out"; fi
  } | sort -u >"$work/roles.used"
}
roles_created=''
planned_create=' '
# check_roles before|after: the roles in $work/roles.used (after ROLE_MAP) against the server, printed as a table.
# Missing ones exit 3 (nothing touched), unless CREATE_MISSING_ROLES=true: then $work/create-roles.sql creates them
# from the globals inside the restore's transaction. "before" (the roles of the catalog facts, before the dump is
# read) checks only that they exist: whether the restoring user may act for an owner is decided by the restore
# itself, and "after" (the roles the dump named, run when the restore failed) names it (exit 3). "after" returns 0
# when the dump named roles to create that the facts did not (the restore is then run again with them), else 1.
check_roles() {
  local mode=$1 use role uses plan exists can_act am_super can_createrole role_info new=1
  local -A role_uses=()
  local -a missing=() cannot_act=() roles_to_create=()
  [[ -s "$work/roles.used" ]] || { [[ "$mode" == before ]]; return $?; }
  while IFS='=' read -r use role; do
    [[ -n "${role_map[$role]:-}" ]] && role=${role_map[$role]}
    role_uses[$role]="${role_uses[$role]:+${role_uses[$role]},}$use"
  done <"$work/roles.used"
  printf '%s\n' "${!role_uses[@]}" >"$work/roles.names"
  if ! role_info=$("${psql_base[@]}" -A -t -d "$maintenance" -v roles="$(cat "$work/roles.names")" 2>"$work/roles.err" <<'SQL'
SELECT 'me|' || rolsuper::text || '|' || rolcreaterole::text FROM pg_roles WHERE rolname = current_user;
SELECT 'role|' || r || '|' || (o IS NOT NULL)::text || '|' || coalesce(pg_has_role(current_user, o, 'MEMBER'), false)::text
  FROM unnest(string_to_array(:'roles', E'\n')) AS r LEFT JOIN LATERAL (SELECT oid AS o FROM pg_roles WHERE rolname = r) x ON true
 WHERE r <> '' ORDER BY r;
SELECT 'known|' || rolname FROM pg_roles;
SQL
  ); then
    tail_of "$work/roles.err"
    die 3 "cannot ask $PGHOST:$PGPORT which roles exist"
  fi
  IFS='|' read -r _ am_super can_createrole <<<"$(grep '^me|' <<<"$role_info")"
  grep '^known|' <<<"$role_info" | cut -d'|' -f2- >"$work/roles.known"
  if [[ "$mode" == before ]]; then
    log "roles the backup names (from its catalog facts; owner: owns objects, so $PGUSER must be able to act for it; grantee: holds privileges):"
  else
    log "roles the dump names (owner: owns objects, so $PGUSER must be able to act for it; grantee: holds privileges):"
  fi
  while IFS='|' read -r _ role exists can_act; do
    uses=${role_uses[$role]}
    plan='ok'
    if [[ "$exists" != true && "$planned_create" == *" $role "* ]]; then
      plan='created by the restore'
    elif [[ "$exists" != true ]]; then
      if [[ "$create_roles" == true ]]; then
        plan='create from the globals object (no password)'
        roles_to_create+=("$role")
      else
        plan='MISSING'
        missing+=("$role")
      fi
    elif [[ "$mode" == after && "$uses" == *owner* && "$can_act" != true && "$am_super" != true ]]; then
      plan="$PGUSER cannot act for it"
      cannot_act+=("$role")
    fi
    printf '    %-28s %-16s %-8s %s\n' "$role" "$uses" "$([[ "$exists" == true ]] && echo exists || echo missing)" "$plan" >&2
  done < <(grep '^role|' <<<"$role_info")
  if ((${#missing[@]} > 0)); then
    die 3 "role(s) missing on $PGHOST:$PGPORT: ${missing[*]}; nothing was touched. Create them from the backup's globals object without passwords (CREATE_MISSING_ROLES=true), map them to existing roles (ROLE_MAP=old=new,…), or restore without owners and privileges (RESTORE_WITHOUT_PRIVILEGES=true: everything owned by $PGUSER, no grants)"
  fi
  if ((${#cannot_act[@]} > 0)); then
    die 3 "$PGUSER cannot act for the owner role(s) ${cannot_act[*]} (ALTER … OWNER TO needs membership): GRANT them to $PGUSER, restore as a superuser, map them (ROLE_MAP) or restore without owners and privileges (RESTORE_WITHOUT_PRIVILEGES=true); nothing was touched"
  fi
  if ((${#roles_to_create[@]} > 0)); then
    new=0
    # the roles the first restore created again (its transaction was rolled back), with the new ones
    for role in $planned_create; do roles_to_create+=("$role"); done
    [[ -n "$globals" ]] || die 3 "CREATE_MISSING_ROLES=true, but the backup has no globals object to create ${roles_to_create[*]} from; nothing was touched"
    [[ "$am_super" == true || "$can_createrole" == true ]] || die 3 "CREATE_MISSING_ROLES=true needs CREATEROLE (or superuser) for $PGUSER; nothing was touched"
    printf '%s\n' "${roles_to_create[@]}" >"$work/roles.create"
    # from the globals: CREATE ROLE, its attributes (the NO… forms that need a superuser left out: they are the
    # defaults), its settings, and memberships between roles that exist or are created here (GRANTED BY left out);
    # then membership for the restoring user in each created owner role, so it may give them their objects
    LC_ALL=C awk -v want="$work/roles.create" -v known="$work/roles.known" -v me_super="$am_super" "$roles_awk"'
      BEGIN { while ((getline n < want) > 0) w[n] = 1; while ((getline n < known) > 0) k[n] = 1 }
      /^CREATE ROLE / && match($0, "^CREATE ROLE " ID ";$") { if (unq(substr($0, 13, RLENGTH - 13)) in w) print; next }
      /^ALTER ROLE / && match(substr($0, 12), "^" ID) {
        name = unq(substr($0, 12, RLENGTH)); if (!(name in w)) next
        line = $0
        if (line ~ / WITH /) { gsub(/ NOSUPERUSER| NOREPLICATION| NOBYPASSRLS/, "", line) }
        print line; next
      }
      /^GRANT / && match($0, " TO " ID) {
        a = $0; sub(/^GRANT /, "", a); sub(/ TO .*$/, "", a); a = unq(a)
        b = substr($0, RSTART + 4, RLENGTH - 4); b = unq(b)
        if ((a in w || b in w) && (a in w || a in k) && (b in w || b in k)) { line = $0; sub(/ GRANTED BY .*;$/, ";", line); print line }
      }
    ' "$work/globals-roles.sql" >"$work/create-roles.sql"
    for role in "${roles_to_create[@]}"; do
      if ! grep -Fqx "CREATE ROLE $(ident "$role");" "$work/create-roles.sql" && ! grep -Fqx "CREATE ROLE $role;" "$work/create-roles.sql"; then
        die 3 "role $role is not in the globals object $globals: create it by hand, or map it (ROLE_MAP); nothing was touched"
      fi
      if [[ "$am_super" != true && "${role_uses[$role]:-owner}" == *owner* ]]; then
        printf 'GRANT %s TO CURRENT_USER;\n' "$(ident "$role")" >>"$work/create-roles.sql"
      fi
    done
    roles_created=$(IFS=,; echo "${roles_to_create[*]}")
    planned_create=" ${roles_to_create[*]} "
    log "creating role(s) $roles_created from $globals, WITHOUT passwords (set them after the restore: ALTER ROLE … PASSWORD …), in the restore's transaction"
  fi
  if [[ "$mode" == after ]]; then return "$new"; fi
}
: >"$work/create-roles.sql"
if [[ "$without_privileges" != true ]]; then
  roles_used facts
  check_roles before
fi

# ---------------------------------------------------------------------------------------------- restore
# stream_into DATABASE: the one pass. The object is read once from object storage (s3_stream) and, at the same time, hashed
# (sha256sum, and wc -c for its size), inflated (igzip, else pigz, else gzip), scanned and filtered (stream_awk)
# and fed to psql in one transaction into DATABASE (the new database): this script's own \restrict and the roles to
# create (CREATE_MISSING_ROLES) first, the dump, then with CLEAN_TARGET=true the globals' database section for
# the new database (its owner, privileges and settings). Nothing is staged on disk. Every stage reads to the end
# even when a later one stopped (a corrupt gzip stream, a failed psql), so the hash, the size and the scan always
# cover the whole object and the failure is told apart as before. In the background, so a signal is acted on at
# once. The verdict is read by judge_stream.
stream_into() {
  local drop=0 quoted line
  [[ "$without_privileges" == true ]] && drop=1
  { printf '\\restrict %s\n' "$restrict_key"; cat "$work/create-roles.sql"; } >"$work/head.sql"
  : >"$work/tail.sql"
  if [[ -n "$database_section" ]]; then
    quoted=$(ident "$1")
    while IFS= read -r line; do printf '%s\n' "${line//__DB_RUNBOOK_DATABASE__/$quoted}"; done <"$database_section" |
      LC_ALL=C awk -v map="$map_file" -v drop="$drop" -v report=/dev/null "$stream_awk" >"$work/tail.sql"
  fi
  rm -f "$work/sha.fifo" "$work/size.fifo" "$work/stream.status" "$work/gzip.status" "$work/psql.status" "$work/scan.out"
  mkfifo "$work/sha.fifo" "$work/size.fifo"
  sha256sum <"$work/sha.fifo" >"$work/sha256" &
  sha_pid=$!
  # the size, counted by dd; with RESTORE_PROGRESS_SECONDS=N (db-runbook sets 1) a "streamed <bytes> of <size>
  # bytes" line every N seconds (dd reports each second)
  LC_ALL=C dd if="$work/size.fifo" of=/dev/null bs=1M status=progress 2>&1 | LC_ALL=C tr '\r' '\n' |
    LC_ALL=C awk -v out="$work/size" -v total="$object_size" -v every="$progress_every" -v name="$SCRIPT_NAME" '
      /^[0-9]+ bytes/ { n = $1; if (every > 0 && ++lines % every == 0) { printf "%s: streamed %d of %d bytes\n", name, n, total > "/dev/stderr"; fflush("/dev/stderr") } }
      END { print n + 0 > out }' &
  size_pid=$!
  (
    set +e
    s3_stream "$bucket" "$key" |
      tee "$work/sha.fifo" "$work/size.fifo" 2>"$work/tee.err" |
      {
        "${decompress[@]}" 2>"$work/gzip.err"
        echo $? >"$work/gzip.status"
        cat >/dev/null
      } |
      LC_ALL=C awk -v map="$map_file" -v drop="$drop" -v report="$work/scan.out" "$stream_awk" |
      {
        PGOPTIONS="-c client_min_messages=warning -c maintenance_work_mem=$maintenance_work_mem" \
          "${psql_base[@]}" --single-transaction -d "$1" -f "$work/head.sql" -f - -f "$work/tail.sql" >/dev/null 2>"$work/restore.err"
        echo $? >"$work/psql.status"
        cat >/dev/null
      }
    echo "${PIPESTATUS[*]}" >"$work/stream.status"
  ) &
  local stream_pid=$!
  test_hook restore
  wait_pid "$stream_pid" || true
  wait_pid "$sha_pid" || true
  wait_pid "$size_pid" || true
}
# judge_stream: exits (5 integrity, 4 download) unless the whole object arrived, hashed to what the sidecar (and
# EXPECTED_SHA256) says, inflated cleanly and is a complete pg_dump without meta-commands; sets actual and
# psql_status (0: psql committed the restore into the new database)
judge_stream() {
  local download_status tee_status awk_status gzip_status downloaded complete_line meta_line
  read -r download_status tee_status _ awk_status _ <"$work/stream.status" 2>/dev/null || download_status=1 tee_status=1
  if ((download_status != 0 || tee_status != 0)); then
    tail_of "$work/download.err"
    tail_of "$work/tee.err"
    die 4 "download of $RESTORE_S3_URI failed"
  fi
  actual=$(cut -d' ' -f1 "$work/sha256")
  downloaded=$(tr -d ' \n' <"$work/size")
  [[ "$downloaded" == "$object_size" ]] || die 4 "downloaded $downloaded bytes but the object has $object_size"
  if [[ -n "$expected" && "$actual" != "$expected" ]]; then
    die 5 "checksum mismatch for $RESTORE_S3_URI: sidecar says $expected, the object hashes to $actual; the database was not touched"
  fi
  if [[ -n "$expected_pin" && "$actual" != "$expected_pin" ]]; then
    die 5 "$RESTORE_S3_URI is not the object that was verified: it hashes to $actual, expected $expected_pin (EXPECTED_SHA256; replaced since?); the database was not touched"
  fi
  gzip_status=$(cat "$work/gzip.status" 2>/dev/null) || gzip_status=1
  if [[ "$gzip_status" != 0 ]]; then
    tail_of "$work/gzip.err"
    die 5 "$RESTORE_S3_URI is not a valid gzip stream (not gzip, truncated or corrupt); the database was not touched"
  fi
  [[ "${awk_status:-1}" == 0 && -s "$work/scan.out" ]] || die 5 "could not read the dump in $RESTORE_S3_URI; the database was not touched"
  complete_line=$(sed -n 's/^complete=//p' "$work/scan.out")
  meta_line=$(sed -n 's/^meta=//p' "$work/scan.out")
  if [[ -n "$meta_line" ]]; then
    die 5 "the dump holds a psql meta-command outside pg_dump's own \\restrict (line $meta_line): a backup written by pg_dump has none, so it was altered; refusing it (the meta-command and what follows it never reached psql); the database was not touched"
  fi
  if [[ "$complete_line" == 0 ]]; then
    die 5 "the dump has no '-- PostgreSQL database dump complete' line: it was cut short (or is not a pg_dump plain dump); the database was not touched"
  fi
  psql_status=$(cat "$work/psql.status" 2>/dev/null) || psql_status=1
}
analyze() {
  PGOPTIONS='-c client_min_messages=warning' "${psql_base[@]}" -d "$1" -c 'ANALYZE' >/dev/null 2>"$work/analyze.err" &
  wait_pid $! || { log "warning: ANALYZE failed (the data is restored; run ANALYZE by hand):"; tail_of "$work/analyze.err"; }
}
# create_new_database: the new database, empty (CLEAN_TARGET=true) or a copy of the target; sets scratch_oid
create_new_database() {
  local template=template0 attempt
  [[ "$clean" == true ]] || template=$target
  for attempt in 1 2 3; do
    # a copy needs the target to itself: its sessions are ended first (writes were stopped for the restore)
    "${psql_base[@]}" -A -t -d "$maintenance" -v db="$scratch" -v target="$target" -v template="$template" \
      >"$work/create.out" 2>"$work/create.err" <<'SQL' &
SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
 WHERE datname = :'template' AND :'template' <> 'template0' AND pid <> pg_backend_pid() \gset
SELECT format('CREATE DATABASE %I TEMPLATE %I', :'db', :'template') ||
       CASE WHEN :'template' <> 'template0' THEN '' ELSE
       COALESCE((SELECT format(' ENCODING %L LC_COLLATE %L LC_CTYPE %L', pg_encoding_to_char(d.encoding), d.datcollate, d.datctype) ||
                        CASE WHEN to_jsonb(d) ->> 'datlocprovider' = 'i'
                             THEN format(' LOCALE_PROVIDER icu ICU_LOCALE %L', COALESCE(to_jsonb(d) ->> 'daticulocale', to_jsonb(d) ->> 'datlocale'))
                             ELSE '' END
                 FROM pg_database d WHERE d.datname = :'target'), '') END \gexec
SELECT oid FROM pg_database WHERE datname = :'db';
SQL
    if wait_pid $!; then
      scratch_oid=$(tail -n 1 "$work/create.out")
      [[ "$scratch_oid" =~ ^[0-9]+$ ]] && return 0
    fi
    grep -q 'is being accessed by other users' "$work/create.err" || break
    sleep 1
  done
  tail_of "$work/create.err"
  die 3 "could not create the new database $scratch${template:+ (from $template)}"
}
# carry_properties FROM TO: the owner, privileges (ACL), connection limit and settings (ALTER DATABASE … SET,
# ALTER ROLE … IN DATABASE … SET) of database FROM given to TO: a copy made with TEMPLATE has none of them
carry_properties() {
  "${psql_base[@]}" -A -t -d "$maintenance" -v src="$1" -v dst="$2" >/dev/null 2>"$work/properties.err" <<'SQL' &
SELECT format('ALTER DATABASE %I OWNER TO %I', :'dst', pg_get_userbyid(d.datdba)) FROM pg_database d WHERE d.datname = :'src' \gexec
SELECT format('ALTER DATABASE %I CONNECTION LIMIT %s', :'dst', d.datconnlimit) FROM pg_database d WHERE d.datname = :'src' AND d.datconnlimit >= 0 \gexec
SELECT s FROM (
  SELECT 0 AS n, format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'dst') AS s FROM pg_database d WHERE d.datname = :'src' AND d.datacl IS NOT NULL
  UNION ALL
  SELECT 1, format('REVOKE ALL ON DATABASE %I FROM %I', :'dst', pg_get_userbyid(d.datdba)) FROM pg_database d WHERE d.datname = :'src' AND d.datacl IS NOT NULL
  UNION ALL
  SELECT 2, format('GRANT %s ON DATABASE %I TO %s%s', a.privilege_type, :'dst',
                   CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
                   CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)
    FROM pg_database d, aclexplode(d.datacl) a WHERE d.datname = :'src'
) acl ORDER BY n \gexec
SELECT CASE WHEN s.setrole = 0 THEN format('ALTER DATABASE %I SET %I TO ', :'dst', split_part(c, '=', 1))
            ELSE format('ALTER ROLE %I IN DATABASE %I SET %I TO ', pg_get_userbyid(s.setrole), :'dst', split_part(c, '=', 1)) END ||
       CASE WHEN split_part(c, '=', 1) IN ('search_path', 'temp_tablespaces', 'session_preload_libraries', 'local_preload_libraries')
            THEN substr(c, strpos(c, '=') + 1) ELSE quote_literal(substr(c, strpos(c, '=') + 1)) END
  FROM pg_db_role_setting s, unnest(s.setconfig) c
 WHERE s.setdatabase = (SELECT oid FROM pg_database WHERE datname = :'src') \gexec
SQL
  wait_pid $!
}

started=$SECONDS
log "streaming $RESTORE_S3_URI ($object_size bytes, recovery point ${recovery_point:-unknown}) once: hashed, inflated, scanned and restored at the same time, nothing staged on disk"
for attempt in 1 2; do
  creating=1
  create_new_database
  if [[ "$clean" == true ]]; then
    log "CLEAN_TARGET=true: restoring into new database $scratch (oid $scratch_oid), then swapping it in for $target once the stream is verified"
  else
    log "CLEAN_TARGET=false: copied $target into new database $scratch (oid $scratch_oid); restoring over the copy, then swapping it in for $target once the stream is verified"
  fi
  stream_into "$scratch"
  judge_stream
  ((psql_status != 0)) || break
  tail_of "$work/restore.err" 10
  # psql failed on a verified, complete dump: the roles it named (all known now) say whether that is a role problem
  if [[ "$without_privileges" != true ]] && { roles_used scan && check_roles after; } && ((attempt == 1)); then
    log "the dump names role(s) to create that its catalog facts did not: restoring again, creating them too"
    drop_database "$scratch" || { tail_of "$work/drop.err"; die 6 "could not drop the new database $scratch to restore again; $target was not touched"; }
    scratch_oid=''
    continue
  fi
  if grep -q 'backslash commands are restricted' "$work/restore.err"; then
    die 5 "the dump holds a psql meta-command (refused by \\restrict: nothing of it ran); the restore into the new database $scratch stopped there (it is dropped); $target was not touched"
  fi
  die 6 "the SQL restore into the new database $scratch failed (it is dropped); $target was not touched"
done
restored=1
log "downloaded and verified in $((SECONDS - started))s, restored into $scratch in the same pass (sha256 ${expected:+matches }$actual${expected_pin:+, the object verified before}; dump complete; psql committed)"
if [[ "$without_privileges" == true ]]; then
  log "RESTORE_WITHOUT_PRIVILEGES=true: restoring WITHOUT owners and privileges: $(sed -n 's/^owner_statements=//p' "$work/scan.out") ownership(s), $(sed -n 's/^grant_statements=//p' "$work/scan.out") GRANT/REVOKE(s) and $(sed -n 's/^default_statements=//p' "$work/scan.out") default privilege(s) of the dump are left out$([[ -n "$database_section" ]] && echo ", and the database's owner, privileges and per-role settings"); $PGUSER owns everything"
fi
analyze "$scratch"
if [[ "$clean" != true || (-z "$database_section" && -n "$target_oid_at_start" && "$without_privileges" != true) ]]; then
  # CLEAN_TARGET=false, or a backup without globals: the new database takes the current target's properties
  carry_properties "$target" "$scratch" ||
    { tail_of "$work/properties.err"; die 6 "could not give $scratch the owner, privileges and settings of $target; $target was not touched"; }
elif [[ -n "$database_section" ]]; then
  log "the new database has the owner, privileges and settings the backup's globals recorded$([[ "$without_privileges" == true ]] && echo ' (settings only: RESTORE_WITHOUT_PRIVILEGES=true)')"
fi
privileges_outcome=kept
if [[ "$without_privileges" == true ]]; then privileges_outcome=dropped; elif [[ -s "$map_file" ]]; then privileges_outcome=mapped; fi
# print_result: the key=value lines callers read, then one copy=<rows> <COPY line> per table the dump loads
print_result() {
  printf 'database=%s\nsource=%s\nsha256=%s\nverified=%s\nrecovery_point=%s\nrestored_oid=%s\nprevious=%s\nglobals=%s\nroles_created=%s\nprivileges=%s\n' \
    "$target" "$RESTORE_S3_URI" "$actual" "$([[ -n "$expected" ]] && echo true || echo false)" "${recovery_point:-unknown}" \
    "$scratch_oid" "$([[ -n "$target_oid_at_start" && "$keep_previous" == true ]] && echo "$previous" || echo '')" \
    "$globals" "$roles_created" "$privileges_outcome"
  grep '^copy=' "$work/scan.out" || true
}
if [[ "$phase" == load ]]; then
  log "restored into $scratch (oid $scratch_oid) in $((SECONDS - started))s and verified; $target was not touched. Swap it in: RESTORE_PHASE=swap RESTORE_SCRATCH=$scratch RESTORE_SCRATCH_OID=$scratch_oid (same variables) — or drop it: DROP DATABASE $(ident "$scratch") WITH (FORCE);"
  print_result
  printf 'scratch=%s\n' "$scratch"
  exit 0
fi
test_hook swap-before
swap
finish_swap

log "restored $target on $PGHOST:$PGPORT (PostgreSQL $server_version) from $RESTORE_S3_URI in $((SECONDS - started))s"
print_result
