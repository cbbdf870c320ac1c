#!/usr/bin/env bash
# neo4j-verify.sh: prove a Neo4j backup written by neo4j-backup.sh restorable, in an ISOLATED scratch Neo4j that
# this script creates and deletes, and publish the proof beside the backup (same record as postgres-verify.sh).
#
#   1. pick the backup: VERIFY_S3_URI, else the newest <prefix><time>.backup.tar.gz under NEO4J_S3_PREFIX
#   2. make a scratch NEO4J_HOME in the work directory (its own conf/, data/, logs/, run/; Bolt on a free
#      127.0.0.1 port, nothing else listening, auth on with a random password) from the Neo4j distribution on PATH
#   3. restore the backup into it with neo4j-restore.sh (same folder: sha256 against the .sha256 sidecar, gzip read
#      to the end, the manifest's artifact present, every chain element against its pinned checksum; then
#      `neo4j-admin database load`, or `database restore` for a differential) with NEO4J_HOME = the scratch home and
#      every variable that could name the production server (NEO4J_HOST/ADDRESS/STATEFULSET/DATA_DIR…) removed
#   4. `neo4j-admin database check` (consistency check) of the restored store
#   5. start the scratch server (`neo4j console` in its own process group; a watchdog in that group stops it if
#      this script disappears, even after SIGKILL), count nodes, relationships and nodes per label, and run the
#      smoke queries (VERIFY_SMOKE_QUERIES_FILE or VERIFY_SMOKE_QUERIES, see below) in READ access mode
#   6. stop the scratch server and delete its home, on every outcome (success, failure, SIGTERM/SIGINT/SIGHUP)
#   7. publish <key>.verified.json (+ its own .sha256) beside the backup: when, by which pod/Job, the duration, the
#      checks (name, ok, detail), the counts, pass/fail (or "unverified" and why), the error and the log's end
#
# Counts at backup time: NOT recorded for Neo4j, and the record says so (counts.recorded=false, counts.reason).
# A Community dump is taken with the server stopped: nothing can query the store that is dumped, and counts taken
# before the stop or after the start would be of another state; an online backup has no transaction a count could
# share. The counts here are of the restored copy (what the backup holds), for the record and for comparisons
# between records; the consistency check is what proves the store sound.
# Enterprise online backups (type FULL/DIFF, <db>-<time>.backup artifacts) need Enterprise's neo4j-admin (load of a
# .backup artifact, restore of a chain): with Community's, the integrity and chain checks are done and the record
# says result "unverified" with the reason (exit 3); run this Job with the Enterprise image to prove them.
#
# Smoke queries (read-only Cypher, each one statement), one block per query, from a file or the variable:
#   -- name: people exist
#   -- expect: >= 1          (optional: a value, true/false, or a comparison such as '>= 1', '= 0')
#   MATCH (p:Person) RETURN count(p)
# A query's first value (first column of the first row) is compared with expect; without expect it only must run.
#
# Environment:
#   S3_BUCKET  AWS_ACCESS_KEY_ID  AWS_SECRET_ACCESS_KEY  [AWS_DEFAULT_REGION]  [AWS_ENDPOINT_URL]
#   [NEO4J_DATABASE=neo4j]  [NEO4J_S3_PREFIX=neo4j/]  [VERIFY_S3_URI=s3://bucket/<prefix><time>.backup.tar.gz]
#   [VERIFY_SMOKE_QUERIES_FILE] [VERIFY_SMOKE_QUERIES]  [VERIFY_NEO4J_BOLT_PORT: default a free port]
#   [VERIFY_NEO4J_HEAP=512m] [VERIFY_NEO4J_PAGECACHE=128m] [VERIFY_NEO4J_START_TIMEOUT=300] [HEAP_SIZE (neo4j-admin)]
#   [VERIFY_JOB_NAME] [VERIFY_POD_NAME] (recorded; the CronJob sets them from the pod, else HOSTNAME)  [BACKUP_WORK_DIR]
# Needs neo4j, neo4j-admin and cypher-shell of Neo4j 5 on PATH (the image's), Java, aws, tar, gzip, setsid.
# Reads only the bucket; never connects to the production Neo4j (it needs no credentials for it).
#
# Exit codes: 0 verified: the record says pass · 1 verification failed: the record says fail and names the check
#             2 configuration · 3 not verifiable with this Neo4j edition: the record says unverified and why
#             4 no backup, or object storage unreachable · 6 the record could not be published
#             129/130/143 interrupted (the scratch instance is stopped and deleted, no record)
set -euo pipefail

readonly SCRIPT_NAME=neo4j-verify
readonly ARCHIVE_RE='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}-[0-9]{2}-[0-9]{2}(\.[0-9]{1,9})?Z\.backup\.tar\.gz'
# shellcheck source-path=SCRIPTDIR source=lib-common.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib-common.sh" || {
  echo "${SCRIPT_NAME:-$0}: lib-common.sh must sit beside this script (publish the whole scripts/ folder)" >&2
  exit 2
}
scripts_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib-verify.sh
. "$scripts_dir/lib-verify.sh" || die 2 "lib-verify.sh must sit beside this script (publish the whole scripts/ folder)"

# ---------------------------------------------------------------------------------------------- config
require_env S3_BUCKET
backup_prefix NEO4J_S3_PREFIX neo4j/
database=${NEO4J_DATABASE:-neo4j}
[[ "$database" =~ ^[A-Za-z][A-Za-z0-9.-]{2,62}$ ]] || die 2 "NEO4J_DATABASE '$database' is not a valid Neo4j database name"
heap=${VERIFY_NEO4J_HEAP:-512m}
pagecache=${VERIFY_NEO4J_PAGECACHE:-128m}
[[ "$heap" =~ ^[1-9][0-9]*[kKmMgG]$ && "$pagecache" =~ ^[1-9][0-9]*[kKmMgG]$ ]] ||
  die 2 "VERIFY_NEO4J_HEAP and VERIFY_NEO4J_PAGECACHE must be sizes such as 512m or 2g"
start_timeout=${VERIFY_NEO4J_START_TIMEOUT:-300}
[[ "$start_timeout" =~ ^[1-9][0-9]*$ ]] || die 2 "VERIFY_NEO4J_START_TIMEOUT is seconds"
[[ -f "$scripts_dir/neo4j-restore.sh" ]] || die 2 "neo4j-restore.sh must sit beside this script"
require_tools 'is not installed' aws sha256sum gzip tar setsid neo4j neo4j-admin cypher-shell java
neo4j_bin=$(command -v neo4j)
admin_bin=$(command -v neo4j-admin)
shell_bin=$(command -v cypher-shell)
# the distribution the scratch server runs from (its jars: <dist>/lib), as the image installs it
dist=$(CDPATH='' cd -- "$(dirname -- "$(readlink -f "$neo4j_bin")")/.." && pwd)
[[ -d "$dist/lib" ]] || die 2 "no lib/ beside $neo4j_bin's bin/: cannot find the Neo4j distribution"
smoke_text=$(smoke_queries_text)
check_work_root

run_id="$(hostname_of_this)-$$-$(date -u +%s%N | sha256sum | cut -c1-12)"
started_at=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
started_ms=$(date -u +%s%3N)
make_work_dir
scratch="$work/neo4j-home"

# ---------------------------------------------------------------------------------------------- cleanup
restore_pid=''
server_pid=''
removed=false
# stop_scratch: TERM to the scratch server's process group (launcher + server JVM + watchdog); KILL after 90 s.
# (Polled, not a background `sleep` timer: an orphaned sleep would hold the Job's output open for 90 s.)
stop_scratch() {
  [[ -n "$server_pid" ]] || return 0
  local i state
  kill -TERM -- "-$server_pid" 2>/dev/null || true
  for ((i = 0; i < 180; i++)); do
    state=$(awk '{ print $3 }' "/proc/$server_pid/stat" 2>/dev/null) || state=''
    [[ -n "$state" && "$state" != Z ]] || break
    sleep 0.5
  done
  # whatever of the group is still there (nothing, normally)
  kill -KILL -- "-$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=''
}
remove_scratch() {
  stop_scratch
  if [[ -d "$scratch" ]]; then
    [[ -f "$scratch/logs/console.log" ]] && tail -n 40 "$scratch/logs/console.log" >"$work/console.tail" 2>/dev/null
    rm -rf "$scratch" 2>/dev/null || true
  fi
  [[ -e "$scratch" ]] || removed=true
}
# shellcheck disable=SC2317 # run by the EXIT trap (install_traps)
verify_cleanup() {
  local rc=$?
  trap - EXIT
  trap '' INT TERM HUP
  if [[ -n "$restore_pid" ]]; then
    stop_children
    wait "$restore_pid" 2>/dev/null || true
  fi
  remove_scratch
  if [[ -n "$caught_signal" ]]; then
    log "verification INTERRUPTED by SIG$caught_signal (exit $rc); the scratch Neo4j was $([[ "$removed" == true ]] && echo 'stopped and deleted' || echo "NOT deleted: rm -rf '$scratch'"); no record published"
  fi
  rm -rf "$work"
  exit "$rc"
}
install_traps verify_cleanup

# ---------------------------------------------------------------------------------------------- the backup
if [[ -n "${VERIFY_S3_URI:-}" ]]; then
  [[ "$VERIFY_S3_URI" =~ ^s3://([^/]+)/(.+\.backup\.tar\.gz)$ ]] ||
    die 2 "VERIFY_S3_URI must look like s3://bucket/path/<time>.backup.tar.gz (got '$VERIFY_S3_URI')"
  bucket=${BASH_REMATCH[1]}
  key=${BASH_REMATCH[2]}
else
  bucket=$S3_BUCKET
  aws_cli s3api list-objects-v2 --bucket "$bucket" --prefix "$prefix" --query 'Contents[].Key' --output text \
    >"$work/keys" 2>"$work/list.err" || { tail_of "$work/list.err"; die 4 "cannot list s3://$bucket/$prefix"; }
  key=$(tr '\t' '\n' <"$work/keys" | grep -E "^${prefix//./\\.}${ARCHIVE_RE}$" | LC_ALL=C sort | tail -n 1) || true
  [[ -n "$key" ]] || die 4 "no Neo4j backup under s3://$bucket/$prefix to verify"
fi
uri="s3://$bucket/$key"
recovery_point=''
if [[ "$key" =~ ([0-9]{4}-[0-9]{2}-[0-9]{2})T([0-9]{2})-([0-9]{2})-([0-9]{2})(\.[0-9]+)?Z\.backup\.tar\.gz$ ]]; then
  recovery_point="${BASH_REMATCH[1]}T${BASH_REMATCH[2]}:${BASH_REMATCH[3]}:${BASH_REMATCH[4]}${BASH_REMATCH[5]}Z"
fi
aws_cli s3 cp "$uri.sha256" "$work/archive.sha256" --only-show-errors 2>"$work/sidecar.err" || true
archive_sha=$(sidecar_sha "$work/archive.sha256" 2>/dev/null) || archive_sha=''
# the type neo4j-backup.sh stored in the object's metadata (DUMP, FULL or DIFF), known even if the restore fails
meta_type=$(aws_cli s3api head-object --bucket "$bucket" --key "$key" --query 'Metadata."backup-type"' --output text 2>/dev/null) || meta_type=''
[[ "$meta_type" =~ ^(DUMP|FULL|DIFF)$ ]] || meta_type=''

# ---------------------------------------------------------------------------------------------- checks
error=''
unverified_reason=''

# ---------------------------------------------------------------------------------------------- scratch home
# free_port: a port on 127.0.0.1 nothing answers on
# shellcheck disable=SC2016 # $1 is expanded by the inner bash
port_free() { ! timeout 1 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null; }
# pick_port: a free port below the kernel's ephemeral range (so no outgoing connection can hold it when the
# server binds; the range starts at 32768 by default)
pick_port() {
  local low=32768 candidate _
  read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || low=32768
  ((low > 11000)) || low=61000
  for _ in $(seq 1 50); do
    candidate=$((10000 + RANDOM % (low - 10000)))
    if port_free "$candidate"; then
      printf '%s\n' "$candidate"
      return 0
    fi
  done
  return 1
}
fixed_port=${VERIFY_NEO4J_BOLT_PORT:-}
port=$fixed_port
if [[ -z "$port" ]]; then
  port=$(pick_port) || die 2 "found no free port on 127.0.0.1 for the scratch Neo4j (set VERIFY_NEO4J_BOLT_PORT)"
fi
[[ "$port" =~ ^[0-9]+$ ]] || die 2 "VERIFY_NEO4J_BOLT_PORT must be a port number"
port_free "$port" || die 2 "127.0.0.1:$port is in use: the scratch Neo4j needs a free port (VERIFY_NEO4J_BOLT_PORT)"
mkdir -p "$scratch/conf" "$scratch/data" "$scratch/logs" "$scratch/run"
ln -s "$dist/lib" "$scratch/lib"
printf 'db-runbook neo4j-verify scratch instance (run %s); deleted when the run ends\n' "$run_id" >"$scratch/README"
{
  printf '# db-runbook neo4j-verify: scratch instance of run %s (deleted when the run ends)\n' "$run_id"
  printf 'server.directories.lib=%s\n' "$dist/lib"
  printf 'server.directories.data=%s\n' "$scratch/data"
  printf 'server.directories.logs=%s\n' "$scratch/logs"
  printf 'server.directories.run=%s\n' "$scratch/run"
  printf 'server.directories.plugins=%s\n' "$scratch/plugins"
  printf 'server.directories.import=%s\n' "$scratch/import"
  printf 'initial.dbms.default_database=%s\n' "$database"
  printf 'server.default_listen_address=127.0.0.1\n'
  printf 'server.bolt.listen_address=127.0.0.1:%s\n' "$port"
  printf 'server.bolt.advertised_address=127.0.0.1:%s\n' "$port"
  printf 'server.http.enabled=false\nserver.https.enabled=false\ndbms.routing.enabled=false\n'
  printf 'dbms.security.auth_enabled=true\ndbms.usage_report.enabled=false\n'
  printf 'server.memory.heap.initial_size=%s\nserver.memory.heap.max_size=%s\n' "$heap" "$heap"
  printf 'server.memory.pagecache.size=%s\n' "$pagecache"
  printf 'server.jvm.additional=-XX:+UseG1GC\n'
} >"$scratch/conf/neo4j.conf"
mkdir -p "$scratch/plugins" "$scratch/import"
# Every Neo4j tool below runs on the scratch home; nothing may reach the production server or its store.
scratch_env=(env -u NEO4J_ADDRESS -u NEO4J_HOST -u NEO4J_BOLT_PORT -u NEO4J_STATEFULSET -u NEO4J_NAMESPACE
  -u NEO4J_DATA_DIR -u NEO4J_USERNAME -u NEO4J_PASSWORD -u NEO4J_START_AFTER_RESTORE -u NEO4J_REPLICAS
  -u NEO4J_STANDIN_STORE "NEO4J_HOME=$scratch" "NEO4J_CONF=$scratch/conf")
log "verifying $uri: restore into a scratch Neo4j ($scratch, Bolt 127.0.0.1:$port)"

# ---------------------------------------------------------------------------------------------- restore
restore_started=$(date -u +%s%3N)
"${scratch_env[@]}" RESTORE_S3_URI="$uri" NEO4J_DATABASE="$database" BACKUP_WORK_DIR="$work" \
  bash "$scripts_dir/neo4j-restore.sh" >"$work/restore.out" 2>"$work/restore.err" &
restore_pid=$!
restore_rc=0
wait_pid "$restore_pid" || restore_rc=$?
restore_pid=''
restore_seconds=$(((($(date -u +%s%3N) - restore_started) + 500) / 1000))
sed 's/^/  /' "$work/restore.err" >&2
backup_type=$(manifest_value type "$work/restore.out")
[[ -n "$backup_type" ]] || backup_type=$meta_type
restore_error() {
  { grep -m1 '^neo4j-restore: error: ' "$work/restore.err" || grep -m1 -i 'error' "$work/restore.err"; } |
    sed 's/^neo4j-restore: error: //; s/^ *//'
}
admin_enterprise=false
if "$admin_bin" --version 2>/dev/null | grep -qi enterprise || compgen -G "$dist/lib/*enterprise*.jar" >/dev/null; then
  admin_enterprise=true
fi
restored=false
case $restore_rc in
  0)
    restored=true
    check integrity true "sha256 ${archive_sha:-?} matches the .sha256 sidecar; gzip read to the end; the manifest's artifact (and every chain element, against its pinned checksum) present"
    check restore true "${backup_type:-?} backup restored into the scratch store with neo4j-admin in ${restore_seconds}s"
    ;;
  5) check integrity false "$(restore_error)" ;;
  4) check 'backup object' false "$(restore_error)" ;;
  2) check configuration false "$(restore_error)" ;;
  129 | 130 | 143) exit "$restore_rc" ;;
  *)
    check integrity true "sha256 ${archive_sha:-?} matches the .sha256 sidecar; gzip read to the end; archive unpacked"
    error=$(grep -E -m3 '(ERROR|Exception|error:|failed)' "$work/restore.err") || error=$(tail -n 3 "$work/restore.err")
    if [[ "$admin_enterprise" != true && "$backup_type" =~ ^(FULL|DIFF)$ ]]; then
      unverified_reason="an Enterprise online backup (.backup artifact) needs Enterprise's neo4j-admin to be restored; this Job's neo4j-admin is Community's: integrity checked, restorability NOT proven (run the Job with the Enterprise image, as neo4j-daily-backup)"
      check restore false "$unverified_reason"
    else
      check restore false "neo4j-admin could not restore the backup (neo4j-restore.sh exit $restore_rc): $(restore_error)"
    fi
    ;;
esac

# ---------------------------------------------------------------------------------------------- consistency
if [[ "$restored" == true ]]; then
  mkdir -p "$work/check-report"
  # its report (inconsistencies, if any) goes to the working directory (--report-path's default); the check's JVM
  # writes a log4j file for that report into java.io.tmpdir and leaves it: the work dir, deleted with it
  (cd "$work/check-report" &&
    exec "${scratch_env[@]}" JAVA_OPTS="-Djava.io.tmpdir=$work/check-report${JAVA_OPTS:+ $JAVA_OPTS}" \
      "$admin_bin" database check "$database") \
    >"$work/check.log" 2>&1 </dev/null &
  restore_pid=$!
  check_rc=0
  wait_pid "$restore_pid" || check_rc=$?
  restore_pid=''
  if ((check_rc == 0)); then
    check 'consistency check' true "neo4j-admin database check $database: the restored store is consistent"
  elif ((check_rc > 128)) && [[ -n "$caught_signal" ]]; then
    exit "$(signal_status "$caught_signal")"
  else
    sed 's/^/  /' "$work/check.log" | tail -n 20 >&2
    error=$(grep -E -m3 -i '(inconsisten|error|exception)' "$work/check.log") || error=$(tail -n 3 "$work/check.log")
    check 'consistency check' false "neo4j-admin database check $database failed (exit $check_rc): $(tail -n 1 <<<"$error")"
  fi
fi

# ---------------------------------------------------------------------------------------------- start, count, smoke
password=$(head -c 32 /dev/urandom | sha256sum | cut -c1-32)
# cypher USER PASSWORD DATABASE [ACCESS]: cypher-shell on the scratch server; the statement comes on stdin
cypher() {
  "${scratch_env[@]}" NEO4J_USERNAME="$1" NEO4J_PASSWORD="$2" timeout 120 "$shell_bin" -a "bolt://127.0.0.1:$port" \
    -d "$3" --format plain --non-interactive --access-mode "${4:-read}"
}
# first_value FILE: the first column of the first row of cypher-shell's plain output (quotes of a string removed)
first_value() {
  sed -n '2p' "$1" | awk -F', ' '{ v = $1; if (v ~ /^".*"$/) v = substr(v, 2, length(v) - 2); print v }'
}
started_server=false
if [[ "$restored" == true ]]; then
  # start_server: `neo4j console` of the scratch home in its own process group (so it is stopped as a whole),
  # with a watchdog: when this script is gone (SIGKILL), the server is stopped too, so no JVM outlives the Job's
  # process. Sets up=true once the server itself logged its Bolt connector and the port answers.
  start_server() {
    : >"$scratch/logs/console.log"
    # shellcheck disable=SC2016 # expanded by the inner bash
    "${scratch_env[@]}" setsid bash -c '
      parent=$1
      "$2" console >>"$3" 2>&1 </dev/null &
      server=$!
      # the other processes of this group (the server JVM may outlive its launcher)
      others() {
        for stat in /proc/[0-9]*/stat; do
          read -r pid _ _ _ group _ <"$stat" 2>/dev/null || continue
          if [ "$group" = "$$" ] && [ "$pid" != "$$" ] && [ "$pid" != "$BASHPID" ]; then echo "$pid"; fi
        done
      }
      stop_all() {
        trap "" TERM INT HUP
        kill -TERM -- "-$$" 2>/dev/null
        for _ in $(seq 1 90); do [ -n "$(others)" ] || exit 0; sleep 1; done
        kill -KILL $(others) 2>/dev/null
        exit 0
      }
      trap stop_all TERM INT HUP
      while kill -0 "$server" 2>/dev/null; do
        kill -0 "$parent" 2>/dev/null || stop_all
        sleep 1
      done
      wait "$server"' neo4j-verify-scratch "$$" "$neo4j_bin" "$scratch/logs/console.log" </dev/null >>"$scratch/logs/watchdog.log" 2>&1 &
    server_pid=$!
    up=false
    for _ in $(seq 1 "$start_timeout"); do
      kill -0 "$server_pid" 2>/dev/null || break
      if grep -q "Bolt enabled on .*:$port" "$scratch/logs/console.log" && ! port_free "$port"; then
        up=true
        break
      fi
      # a server that failed to start may not exit at once
      if grep -q -E 'Failed to start Neo4j|Address already in use' "$scratch/logs/console.log"; then break; fi
      sleep 1
    done
  }
  for attempt in 1 2 3; do
    start_server
    [[ "$up" != true ]] || break
    # another process took the port between the check and the bind: another port, once more
    if [[ -n "$fixed_port" ]] || ! grep -q 'Address already in use' "$scratch/logs/console.log"; then break; fi
    stop_scratch
    port=$(pick_port) || break
    sed -i -e "s/^server\.bolt\.listen_address=.*/server.bolt.listen_address=127.0.0.1:$port/" \
      -e "s/^server\.bolt\.advertised_address=.*/server.bolt.advertised_address=127.0.0.1:$port/" "$scratch/conf/neo4j.conf"
    log "the Bolt port was taken when the scratch server started (attempt $attempt): trying 127.0.0.1:$port"
  done
  online=false
  if [[ "$up" == true ]]; then
    # a fresh system database: neo4j/neo4j must be changed first (over stdin: never in argv)
    printf "ALTER CURRENT USER SET PASSWORD FROM 'neo4j' TO '%s';\n" "$password" |
      cypher neo4j neo4j system write >"$work/password.out" 2>"$work/password.err" || true
    for _ in $(seq 1 "$start_timeout"); do
      kill -0 "$server_pid" 2>/dev/null || break
      # shellcheck disable=SC2016 # backticks quote the name in Cypher
      if printf 'SHOW DATABASE `%s` YIELD currentStatus RETURN currentStatus;\n' "$database" |
        cypher neo4j "$password" system >"$work/status.out" 2>"$work/status.err" &&
        [[ "$(first_value "$work/status.out")" == online ]]; then
        online=true
        break
      fi
      sleep 2
    done
  fi
  if [[ "$online" == true ]]; then
    started_server=true
    check 'scratch server started' true "database $database online on the scratch Neo4j (127.0.0.1:$port)"
  else
    error=$(grep -E -m3 '(ERROR|Exception)' "$scratch/logs/console.log" 2>/dev/null) || error=$(tail -n 3 "$work/status.err" 2>/dev/null || true)
    check 'scratch server started' false "database $database did not come online on the scratch Neo4j within ${start_timeout}s: ${error:-see the log}"
  fi
fi
test_hook scratch-started

count_json=''
: >"$work/labels.json"
if [[ "$started_server" == true ]]; then
  if printf 'CALL db.labels() YIELD label RETURN label ORDER BY label;\n' |
    cypher neo4j "$password" "$database" >"$work/labels.out" 2>"$work/count.err"; then
    mapfile -t labels < <(sed '1d; s/^"//; s/"$//' "$work/labels.out")
    query='RETURN COUNT { MATCH (n) } AS nodes, COUNT { MATCH ()-[r]->() } AS relationships, ['
    sep=''
    for label in "${labels[@]}"; do
      query+="${sep}COUNT { MATCH (n:\`${label//\`/\`\`}\`) }"
      sep=', '
    done
    query+='] AS perLabel;'
    if printf '%s\n' "$query" | cypher neo4j "$password" "$database" >"$work/counts.out" 2>>"$work/count.err"; then
      row=$(sed -n '2p' "$work/counts.out")
      nodes=${row%%, *}
      rest=${row#*, }
      relationships=${rest%%, *}
      per=${rest#*, }
      per=${per#[}
      per=${per%]}
      IFS=',' read -ra per_counts <<<"${per// /}"
      for i in "${!labels[@]}"; do
        printf '{"label":%s,"nodes":%s}\n' "$(json_str "${labels[i]}")" "${per_counts[i]:-null}" >>"$work/labels.json"
      done
      count_json=$(printf '"nodes":%s,"relationships":%s' "$nodes" "$relationships")
      check counts true "$nodes node(s), $relationships relationship(s), ${#labels[@]} label(s) in the restored copy; not compared: Neo4j backups record no counts at backup time (see counts.reason)"
    else
      check counts false "could not count the restored graph: $(tail -n 1 "$work/count.err")"
    fi
  else
    check counts false "could not read the labels of the restored graph: $(tail -n 1 "$work/count.err")"
  fi


  # the values file's smoke queries, each alone, in a READ transaction (cypher-shell --access-mode read)
  # run_smoke_query N NAME BODY EXPECT (each_smoke_query's callback)
  # shellcheck disable=SC2317 # called by each_smoke_query
  run_smoke_query() {
    local n=$1 name=$2 body=$3 expect=$4 has_row actual
    if grep -q '^[[:space:]]*:' <<<"$body"; then
      check "smoke query: $name" false "refused, not run: a line starts with ':' (cypher-shell would run it as a shell command such as :source or :param)"
      return
    fi
    if ! printf '%s;\n' "$body" | cypher neo4j "$password" "$database" read >"$work/smoke/$n.out" 2>"$work/smoke/$n.err"; then
      check "smoke query: $name" false "failed: $(grep -v '^[[:space:]]*$' "$work/smoke/$n.err" | head -n 2 | paste -sd' ' -)"
      return
    fi
    has_row=false
    actual=''
    if [[ "$(wc -l <"$work/smoke/$n.out")" -ge 2 ]]; then
      has_row=true
      actual=$(first_value "$work/smoke/$n.out")
    fi
    smoke_check "$name" "$has_row" "$actual" "$expect"
  }
  each_smoke_query "$smoke_text" "$work/smoke" run_smoke_query
fi

# ---------------------------------------------------------------------------------------------- stop, delete, record
defer_signals
remove_scratch
check 'scratch instance stopped and deleted' "$removed" "the scratch Neo4j (127.0.0.1:$port, its home in the Job's work directory)"
allow_signals
result=pass
if [[ -n "$unverified_reason" ]]; then
  result=unverified
elif [[ -n "$failed_check" ]]; then
  result=fail
fi
finished_at=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
duration_ms=$(($(date -u +%s%3N) - started_ms))
counts_reason="Neo4j backups record no counts at backup time: a Community dump is taken with the server stopped (nothing can count the store that is dumped; counts before the stop or after the start would be of another state), and an online backup has no transaction a count could share. These counts are of the restored copy."
log_tail=$(
  tail -n 10 "$work/restore.err"
  if [[ -s "$work/check.log" && "$(grep -c . "$work/check.log")" -gt 0 && -n "$failed_check" ]]; then tail -n 5 "$work/check.log"; fi
  if [[ -s "$work/console.tail" && -n "$failed_check" ]]; then tail -n 5 "$work/console.tail"; fi
)
{
  printf '{"format":"db-runbook-verification/1","engine":"neo4j","result":"%s","backup":%s,"sha256":%s,"recoveryPoint":%s,' \
    "$result" "$(json_str "$uri")" "$(json_str "$archive_sha")" "$(json_str "$recovery_point")"
  printf '"database":%s,"backupType":%s,"startedAt":"%s","finishedAt":"%s","durationSeconds":%s,' \
    "$(json_str "$database")" "$(json_opt "$backup_type")" "$started_at" "$finished_at" \
    "$((duration_ms / 1000)).$(printf '%03d' $((duration_ms % 1000)))"
  printf '"by":{%s,"runId":%s},' "$(verified_by)" "$(json_str "$run_id")"
  printf '"scratch":{"server":%s,"neo4jAdmin":%s,"removed":%s},' "$(json_str "127.0.0.1:$port")" \
    "$(json_str "$("$admin_bin" --version 2>/dev/null | head -n 1 | tr -d '\r')")" "$removed"
  printf '"failedCheck":%s,"reason":%s,"checks":[%s],' "$(json_opt "$failed_check")" "$(json_opt "$unverified_reason")" \
    "$(IFS=,; echo "${checks[*]}")"
  printf '"counts":{"recorded":false,"reason":%s,"atBackup":null,"restored":{%s%s"labels":[%s]}},' \
    "$(json_str "$counts_reason")" "$count_json" "${count_json:+,}" "$(json_lines "$work/labels.json")"
  printf '"error":%s,"logTail":%s}\n' "$(json_opt "$error")" "$(json_str "$log_tail")"
} >"$work/verified.json"
publish_record "$work/verified.json" "$bucket" "$key"

case $result in
  pass) log "PROVEN RESTORABLE: $uri (record s3://$bucket/$key.verified.json)" ;;
  fail) log "NOT RESTORABLE: $failed_check failed: $uri (record s3://$bucket/$key.verified.json)" ;;
  *) log "NOT VERIFIED: $unverified_reason (record s3://$bucket/$key.verified.json)" ;;
esac
print_summary "$result" "$uri" "$bucket" "$key" "$duration_ms"
case $result in
  pass) exit 0 ;;
  fail) exit 1 ;;
  *) exit 3 ;;
esac
