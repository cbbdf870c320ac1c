#!/usr/bin/env bash
# neo4j-backup.sh: a Neo4j backup uploaded to S3 as <prefix><UTC time>.backup.tar.gz plus a <key>.sha256 sidecar.
#
# Two methods (NEO4J_BACKUP_METHOD):
#   online (default, Enterprise): `neo4j-admin database backup` over the backup port (6362 by default, not Bolt)
#     while the database keeps serving. Each archive holds the one artifact this run produced
#     (<db>-<yyyy-mm-ddThh-mm-ss>.backup) and backup-manifest.txt (type, database, recovery point, and for a
#     differential the archives of its chain).
#     NEO4J_BACKUP_MODE=full (default): --type=FULL into an empty directory, which starts a new chain.
#     NEO4J_BACKUP_MODE=incremental: the newest chain under the prefix is downloaded (every archive verified),
#       neo4j-admin runs --type=DIFF on top of it, and only the new differential is uploaded. Without a usable
#       chain (none yet, other database, unreadable, or NEO4J_MAX_CHAIN_LENGTH reached) it takes a full backup.
#   dump (Community, which has no online backup): the server is STOPPED for the dump, then started again:
#     on Kubernetes (NEO4J_STATEFULSET set) `kubectl scale statefulset/<name> --replicas=0`, wait until its pod is
#     gone, `neo4j-admin database dump` of the store on the claim mounted at NEO4J_DATA_DIR, scale back to the
#     replicas it had and wait until they are ready; on a host (no NEO4J_STATEFULSET) `neo4j stop`, dump,
#     `neo4j start` with NEO4J_HOME. The server is started again on every exit, also after a failure or a signal.
#     The archive holds <db>.dump and backup-manifest.txt (type=DUMP); the downtime is measured and printed
#     (downtime_seconds=) and stored in the object's metadata (downtime-seconds).
#
# Environment:
#   S3_BUCKET  AWS_ACCESS_KEY_ID  AWS_SECRET_ACCESS_KEY  AWS_DEFAULT_REGION  [AWS_ENDPOINT_URL]
#   [NEO4J_DATABASE=neo4j]  [NEO4J_S3_PREFIX=neo4j/]  [NEO4J_BACKUP_METHOD=online|dump]
#   online: NEO4J_HOST  [NEO4J_BACKUP_PORT=6362]  [NEO4J_BACKUP_MODE=full|incremental]  [NEO4J_MAX_CHAIN_LENGTH=14]
#           [NEO4J_BACKUP_PAGECACHE e.g. 512m]
#   dump:   NEO4J_STATEFULSET (Kubernetes; kubectl acts as the Job's ServiceAccount, which may get and scale that one
#           StatefulSet)  [NEO4J_NAMESPACE: default the ServiceAccount's]  [NEO4J_DATA_DIR: the store's data
#           directory, e.g. the mounted claim /data]  [NEO4J_STOP_TIMEOUT=600]  [NEO4J_START_TIMEOUT=600]
#           [NEO4J_HOST + NEO4J_BOLT_PORT: the downtime ends when Bolt answers, not when the pod is ready]
#           or, on a host: NEO4J_HOME (its bin/neo4j stops and starts the server)  [NEO4J_HOST + NEO4J_BOLT_PORT:
#           the downtime ends when Bolt answers]
#   [BACKUP_WORK_DIR=$TMPDIR or /tmp] (room for the chain or dump)  [BACKUP_COMPRESSION_LEVEL=1]  [BACKUP_COMPRESS_THREADS]
# The backup protocol needs no password; the aws CLI reads its keys from the environment (never argv).
#
# Exit codes: 0 backup published · 2 configuration · 3 the backup port is unreachable (online), or the server
#             cannot be stopped or started (dump) · 4 object storage unreachable, bucket missing or access denied
#             5 neo4j-admin database backup/dump failed · 6 upload or publishing failed · 130/143 interrupted
# On any non-zero exit nothing is left at the final key (the temporary object is deleted as well).
set -euo pipefail

readonly SCRIPT_NAME=neo4j-backup
readonly ARCHIVE_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}-[0-9]{2}-[0-9]{2}(\.[0-9]{1,9})?Z\.backup\.tar\.gz$'

# log, die, aws_cli (--endpoint-url), tail_of, manifest_value and the backup helpers shared by the four scripts
# shellcheck source-path=SCRIPTDIR source=lib-common.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib-common.sh" || {
  echo "${SCRIPT_NAME:-$0}: lib-common.sh must sit beside this script (publish the whole scripts/ folder)" >&2
  exit 2
}

# ---------------------------------------------------------------------------------------------- config
method=${NEO4J_BACKUP_METHOD:-online}
case "${method,,}" in
  online | backup) method=online ;;
  dump | offline) method=dump ;;
  *) die 2 "NEO4J_BACKUP_METHOD must be 'online' (Enterprise) or 'dump' (Community: the server is stopped) (got '$method')" ;;
esac
if [[ "$method" == online ]]; then require_env S3_BUCKET NEO4J_HOST; else require_env S3_BUCKET; fi
port=${NEO4J_BACKUP_PORT:-6362}
[[ "$port" =~ ^[0-9]+$ ]] || die 2 "NEO4J_BACKUP_PORT must be a port number (got '$port')"
database=${NEO4J_DATABASE:-neo4j}
[[ "$database" =~ ^[A-Za-z][A-Za-z0-9.-]{2,62}$ ]] || die 2 "NEO4J_DATABASE '$database' is not a valid Neo4j database name"
mode=${NEO4J_BACKUP_MODE:-full}
case "${mode,,}" in
  full) mode=full ;;
  incremental | diff | differential) mode=incremental ;;
  *) die 2 "NEO4J_BACKUP_MODE must be 'full' or 'incremental' (got '$mode')" ;;
esac
max_chain=${NEO4J_MAX_CHAIN_LENGTH:-14}
[[ "$max_chain" =~ ^[1-9][0-9]*$ ]] || die 2 "NEO4J_MAX_CHAIN_LENGTH must be a positive number"
backup_prefix NEO4J_S3_PREFIX neo4j/
# Level 1: neo4j-admin already compresses its artifacts (--compress=true); gzip only wraps the tar.
backup_limits
require_tools 'is not installed (the Job installs awscli and pigz with apt-get when missing)' neo4j-admin aws tar sha256sum mkfifo tee timeout
select_compressor
check_work_root
statefulset=${NEO4J_STATEFULSET:-}
stop_timeout=${NEO4J_STOP_TIMEOUT:-600}
start_timeout=${NEO4J_START_TIMEOUT:-600}
if [[ "$method" == dump ]]; then
  [[ "$mode" == full ]] || die 2 "NEO4J_BACKUP_MODE=incremental needs online backups (Enterprise); a dump is always whole"
  [[ "$stop_timeout" =~ ^[1-9][0-9]*$ && "$start_timeout" =~ ^[1-9][0-9]*$ ]] ||
    die 2 "NEO4J_STOP_TIMEOUT and NEO4J_START_TIMEOUT are seconds"
  if [[ -n "$statefulset" ]]; then
    [[ "$statefulset" =~ ^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$ ]] || die 2 "NEO4J_STATEFULSET '$statefulset' is not a Kubernetes name"
    require_tools 'is not installed (the dump method scales the StatefulSet with kubectl)' kubectl
    kubectl_ns=()
    [[ -z "${NEO4J_NAMESPACE:-}" ]] || kubectl_ns=(--namespace "$NEO4J_NAMESPACE")
  else
    require_env NEO4J_HOME
    server_bin=neo4j
    # shellcheck disable=SC2153 # required just above
    [[ -x "$NEO4J_HOME/bin/neo4j" ]] && server_bin="$NEO4J_HOME/bin/neo4j"
    require_tools 'is not installed (the dump method stops and starts the server on this host)' "$server_bin"
  fi
fi

# ---------------------------------------------------------------------------------------------- cleanup
backup_work_init
chain_dir="$work/chain"
mkdir -p "$chain_dir" "$work/archives"
# dump: whether this run stopped the server (then every exit starts it again), and the replicas it had
stopped_by_us=0
replicas_before=''
downtime=''
neo4j_cleanup() {
  local rc=$?
  if ((stopped_by_us)); then
    trap '' INT TERM HUP
    log "starting Neo4j again after the failure (exit $rc)"
    start_server || log "warning: Neo4j could NOT be started again: $(start_command)"
  fi
  (exit "$rc")
  backup_cleanup
}
install_traps neo4j_cleanup

# ---------------------------------------------------------------------------------------------- stop / start (dump)
kube() { kubectl "${kubectl_ns[@]}" "$@"; }
sts_field() { kube get statefulset "$statefulset" -o "jsonpath={$1}" 2>"$work/kubectl.err"; }
start_command() {
  if [[ -n "$statefulset" ]]; then
    printf 'kubectl scale statefulset/%s --replicas=%s%s' "$statefulset" "${replicas_before:-1}" "${NEO4J_NAMESPACE:+ --namespace $NEO4J_NAMESPACE}"
  else
    printf 'NEO4J_HOME=%s %s start' "$NEO4J_HOME" "$server_bin"
  fi
}
# wait_until SECONDS WHAT COMMAND…: polls COMMAND once a second until it succeeds; 1 after SECONDS
wait_until() {
  local limit=$1 what=$2 waited=0
  shift 2
  until "$@"; do
    ((waited < limit)) || { log "$what: not after ${limit}s"; return 1; }
    sleep 1
    waited=$((waited + 1))
  done
}
sts_has_no_pods() { local n; n=$(sts_field .status.replicas) && [[ -z "$n" || "$n" == 0 ]]; }
sts_ready() { local n; n=$(sts_field .status.readyReplicas) && [[ "${n:-0}" -ge "$replicas_before" ]]; }
# shellcheck disable=SC2016 # $1/$2 are expanded by the inner bash
bolt_answers() { timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$NEO4J_HOST" "$NEO4J_BOLT_PORT" 2>/dev/null; }
stop_server() {
  if [[ -n "$statefulset" ]]; then
    replicas_before=$(sts_field .spec.replicas) || { tail_of "$work/kubectl.err"; die 3 "cannot read StatefulSet $statefulset (the Job's ServiceAccount needs get on it)"; }
    [[ "$replicas_before" =~ ^[0-9]+$ ]] || replicas_before=1
    if ((replicas_before == 0)); then
      log "StatefulSet $statefulset is already scaled to 0: dumping without stopping anything, and it stays at 0"
      return 0
    fi
    log "stopping Neo4j: kubectl scale statefulset/$statefulset --replicas=0 (it had $replicas_before)"
    kube scale statefulset "$statefulset" --replicas=0 >"$work/kubectl.out" 2>"$work/kubectl.err" ||
      { tail_of "$work/kubectl.err"; die 3 "cannot scale StatefulSet $statefulset (the Job's ServiceAccount needs patch on statefulsets/scale for it)"; }
    stopped_by_us=1
    downtime_from=$(date +%s.%N)
    wait_until "$stop_timeout" "the pods of StatefulSet $statefulset are still there" sts_has_no_pods ||
      die 3 "StatefulSet $statefulset did not stop within ${stop_timeout}s (NEO4J_STOP_TIMEOUT)"
  else
    if ! "$server_bin" status >/dev/null 2>&1; then
      log "Neo4j is not running on this host: dumping without stopping anything, and it stays stopped"
      return 0
    fi
    log "stopping Neo4j: $server_bin stop (NEO4J_HOME=$NEO4J_HOME)"
    stopped_by_us=1
    downtime_from=$(date +%s.%N)
    "$server_bin" stop >"$work/stop.out" 2>&1 || { tail_of "$work/stop.out"; die 3 "neo4j stop failed"; }
  fi
}
start_server() {
  ((stopped_by_us)) || return 0
  if [[ -n "$statefulset" ]]; then
    kube scale statefulset "$statefulset" --replicas="$replicas_before" >"$work/kubectl.out" 2>"$work/kubectl.err" ||
      { tail_of "$work/kubectl.err"; return 1; }
    stopped_by_us=0
    wait_until "$start_timeout" "StatefulSet $statefulset is not ready" sts_ready || return 1
    if [[ -n "${NEO4J_HOST:-}" && -n "${NEO4J_BOLT_PORT:-}" ]]; then
      wait_until "$start_timeout" "Bolt $NEO4J_HOST:$NEO4J_BOLT_PORT does not answer" bolt_answers || return 1
    fi
  else
    "$server_bin" start >"$work/start.out" 2>&1 || { tail_of "$work/start.out"; return 1; }
    stopped_by_us=0
    if [[ -n "${NEO4J_HOST:-}" && -n "${NEO4J_BOLT_PORT:-}" ]]; then
      wait_until "$start_timeout" "Bolt $NEO4J_HOST:$NEO4J_BOLT_PORT does not answer" bolt_answers || return 1
    fi
  fi
  downtime=$(awk -v a="$downtime_from" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
}

# ---------------------------------------------------------------------------------------------- preflight
start_bucket_check
if [[ "$mode" == incremental ]]; then
  "${aws_cmd[@]}" s3 ls "s3://$S3_BUCKET/$prefix" >"$work/ls.out" 2>"$work/ls.err" &
  ls_pid=$!
  bg_pids+=("$ls_pid")
fi
# A real TCP connect (bash's /dev/tcp), so a closed or filtered port fails here with a clear message.
# shellcheck disable=SC2016 # $1/$2 are expanded by the inner bash
if [[ "$method" == online ]] && ! timeout 10 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$NEO4J_HOST" "$port" 2>"$work/tcp.err"; then
  tail_of "$work/tcp.err"
  die 3 "the Neo4j backup port $NEO4J_HOST:$port is not reachable. Online backups use server.backup.listen_address (default 127.0.0.1:6362, i.e. local only), not Bolt: set it to 0.0.0.0:6362 on the server, allow the port in NetworkPolicies/firewalls, and set NEO4J_BACKUP_PORT if it differs (Community has no online backup: NEO4J_BACKUP_METHOD=dump)"
fi
# Before anything is stopped: the bucket must be usable.
wait_bucket_check
admin_version=$(neo4j-admin --version 2>/dev/null | head -n 1 | tr -d '\r') || admin_version=unknown

# ---------------------------------------------------------------------------------------------- chain
# fetch_archive NAME SHA: download <prefix>NAME, check it against SHA (or its sidecar, fetched alongside, when
# SHA is empty); prints the SHA-256.
fetch_archive() {
  local archive=$1 want=$2 file="$work/archives/$1" got sidecar_pid=''
  if [[ -z "$want" ]]; then
    aws_cli s3 cp "s3://$S3_BUCKET/$prefix$archive.sha256" "$file.sha256" --only-show-errors </dev/null 2>/dev/null &
    sidecar_pid=$!
  fi
  aws_cli s3 cp "s3://$S3_BUCKET/$prefix$archive" "$file" --only-show-errors </dev/null 2>"$file.err" ||
    { tail_of "$file.err"; return 1; }
  if [[ -n "$sidecar_pid" ]]; then
    wait "$sidecar_pid" || { log "$archive has no checksum sidecar"; return 1; }
    want=$(sidecar_sha "$file.sha256")
  fi
  got=$(sha256sum "$file" | cut -d' ' -f1)
  [[ -n "$want" && "$got" == "$want" ]] || { log "checksum of $archive does not match"; return 1; }
  printf '%s\n' "$got"
}

type=FULL
chain_lines=''
chain_length=1
parent=''
if [[ "$mode" == incremental ]]; then
  # `aws s3 ls` exits 1 with no output when the prefix is empty
  if ! wait "$ls_pid" && [[ -s "$work/ls.err" ]]; then
    tail_of "$work/ls.err"
    die 4 "cannot list s3://$S3_BUCKET/$prefix"
  fi
  head_archive=$(awk '{ print $NF }' "$work/ls.out" | grep -E "$ARCHIVE_RE" | sort | tail -n 1 || true)
  reason=''
  if [[ -z "$head_archive" ]]; then
    reason="no previous backup under s3://$S3_BUCKET/$prefix"
  elif ! head_sha=$(fetch_archive "$head_archive" ''); then
    reason="the newest archive $head_archive cannot be downloaded or verified"
  elif ! tar -xzf "$work/archives/$head_archive" -C "$work/archives" backup-manifest.txt 2>/dev/null; then
    reason="$head_archive has no backup-manifest.txt"
  else
    head_manifest="$work/archives/backup-manifest.txt"
    head_database=$(manifest_value database "$head_manifest")
    head_artifact=$(manifest_value artifact "$head_manifest")
    head_length=$(manifest_value chain_length "$head_manifest")
    if [[ "$head_database" != "$database" ]]; then
      reason="the newest archive $head_archive is a backup of '$head_database', not '$database'"
    elif ((head_length >= max_chain)); then
      reason="the chain ending at $head_archive already has $head_length backups (NEO4J_MAX_CHAIN_LENGTH=$max_chain)"
    else
      chain_lines=$(grep '^chain=' "$head_manifest" || true)
      # earlier elements (oldest, the full backup, first) are downloaded in parallel, each checked against the
      # checksum pinned in the manifest, then unpacked into the chain directory
      fetches=()
      while read -r archive sha artifact; do
        [[ -n "$archive" ]] || continue
        fetch_archive "$archive" "$sha" >/dev/null &
        fetches+=("$!:$archive:$artifact")
      done < <(sed -n 's/^chain=//p' "$head_manifest")
      for entry in "${fetches[@]}"; do
        IFS=: read -r pid archive artifact <<<"$entry"
        if ! wait "$pid" || ! tar -xzf "$work/archives/$archive" -C "$chain_dir" "$artifact"; then
          reason="chain element $archive is missing or corrupt"
        fi
        rm -f "$work/archives/$archive"
      done
      if [[ -z "$reason" ]]; then
        tar -xzf "$work/archives/$head_archive" -C "$chain_dir" "$head_artifact" ||
          reason="$head_archive does not contain $head_artifact"
      fi
      rm -f "$work/archives/$head_archive"
    fi
  fi
  if [[ -n "$reason" ]]; then
    log "NEO4J_BACKUP_MODE=incremental, but $reason: taking a FULL backup (a new chain)"
    find "$chain_dir" -mindepth 1 -delete
    chain_lines=''
  else
    type=DIFF
    parent=$head_archive
    chain_lines=$(printf '%s\n%s' "$chain_lines" "chain=$head_archive $head_sha $head_artifact" | sed '/^$/d')
    chain_length=$((head_length + 1))
    log "continuing the chain ending at $head_archive ($head_length backups so far)"
  fi
fi

# ---------------------------------------------------------------------------------------------- backup
backup_names .backup.tar.gz

if [[ "$method" == dump ]]; then
  dump_args=(database dump "--to-path=$chain_dir")
  if [[ -n "${NEO4J_DATA_DIR:-}" ]]; then
    printf 'server.directories.data=%s\n' "$NEO4J_DATA_DIR" >"$work/data-dir.conf"
    dump_args+=("--additional-config=$work/data-dir.conf")
  fi
  dump_args+=("$database")
  stop_server
  log "neo4j-admin ${dump_args[*]} (recovery point $recovery_point: the server was stopped after it)"
  # The store lock may outlive the pod by a moment: "in use" is tried again for up to 60 s.
  for attempt in $(seq 1 30); do
    if neo4j-admin "${dump_args[@]}" >"$work/admin.log" 2>&1; then break; fi
    if grep -qi 'in use' "$work/admin.log" && ((attempt < 30)); then sleep 2; continue; fi
    tail_of "$work/admin.log" 20
    die 5 "neo4j-admin database dump failed (the store of '$database' must not be in use: is another server running on it?)"
  done
  tail_of "$work/admin.log" 2
  if ((stopped_by_us)); then
    log "starting Neo4j again: $(start_command)"
    start_server || die 3 "the dump is done but Neo4j did not start again: $(start_command); then check its log"
    log "Neo4j was down for ${downtime}s (stop, dump, start)"
  fi
  artifact="$database.dump"
  [[ -s "$chain_dir/$artifact" ]] || die 5 "neo4j-admin wrote no $artifact"
  type=DUMP
else
admin_args=(database backup "--from=$NEO4J_HOST:$port" "--to-path=$chain_dir" "--type=$type")
[[ -n "${NEO4J_BACKUP_PAGECACHE:-}" ]] && admin_args+=("--pagecache=$NEO4J_BACKUP_PAGECACHE")
admin_args+=("$database")
log "neo4j-admin ${admin_args[*]} (recovery point $recovery_point)"
before=$(find "$chain_dir" -maxdepth 1 -name '*.backup' -printf '%f\n' | sort)
if ! neo4j-admin "${admin_args[@]}" >"$work/admin.log" 2>&1; then
  tail_of "$work/admin.log" 20
  die 5 "neo4j-admin database backup failed (is database '$database' online? a differential also needs the server to still have the transactions since the last backup: run once with NEO4J_BACKUP_MODE=full)"
fi
tail_of "$work/admin.log" 3
artifact=$(comm -13 <(printf '%s\n' "$before") <(find "$chain_dir" -maxdepth 1 -name '*.backup' -printf '%f\n' | sort) | sed '/^$/d')
[[ -n "$artifact" && "$(wc -l <<<"$artifact")" -eq 1 ]] || die 5 "expected exactly one new backup artifact in $chain_dir, found: ${artifact:-none}"
fi

{
  printf '# db-runbook Neo4j backup manifest, written by neo4j-backup.sh\n'
  printf 'format=db-runbook-neo4j-backup/1\n'
  printf 'database=%s\ntype=%s\nartifact=%s\nrecovery_point=%s\nneo4j_admin_version=%s\n' \
    "$database" "$type" "$artifact" "$recovery_point" "$admin_version"
  printf 'chain_length=%s\n' "$chain_length"
  [[ -z "$downtime" ]] || printf 'downtime_seconds=%s\n' "$downtime"
  [[ "$method" == online ]] || printf 'stopped=%s\n' "${statefulset:+statefulset/$statefulset}${statefulset:-${NEO4J_HOME:-}}"
  [[ -z "$parent" ]] || printf 'parent=%s\n' "$parent"
  printf '# chain=<archive> <sha256> <artifact>: the earlier backups this one needs, oldest (FULL) first\n'
  [[ -z "$chain_lines" ]] || printf '%s\n' "$chain_lines"
} >"$work/backup-manifest.txt"

# ---------------------------------------------------------------------------------------------- upload
metadata=$(printf '{"recovery-point":"%s","backup-type":"%s","database":"%s","chain-length":"%s","neo4j-admin-version":"%s"%s}' \
  "$recovery_point" "$type" "$database" "$chain_length" "$admin_version" "${downtime:+,\"downtime-seconds\":\"$downtime\"}")
start_stream_hashers
set +e
tar -cf - -C "$chain_dir" "$artifact" -C "$work" backup-manifest.txt 2>"$work/tar.err" |
  "${compress[@]}" 2>"$work/compress.err" |
  tee "$work/sha.fifo" "$work/size.fifo" 2>"$work/tee.err" |
  aws_cli s3 cp - "s3://$S3_BUCKET/$temp_key" --content-type application/gzip --metadata "$metadata" \
    --expected-size "$(du -sb "$chain_dir/$artifact" | cut -f1)" --only-show-errors 2>"$work/upload.err"
statuses=("${PIPESTATUS[@]}")
set -e
wait_stream_hashers
stages=(tar "${compress[0]}" tee "aws s3 cp")
errors=("$work/tar.err" "$work/compress.err" "$work/tee.err" "$work/upload.err")
for i in 0 1 2 3; do
  if ((statuses[i] != 0)); then
    log "${stages[i]} exited with status ${statuses[i]}"
    tail_of "${errors[i]}"
  fi
done
((statuses[3] == 0)) || die 6 "upload to s3://$S3_BUCKET/$temp_key failed"
((statuses[0] == 0 && statuses[1] == 0 && statuses[2] == 0)) || die 6 "packing the backup failed"
verify_upload

publish_backup "$metadata"

log "$type backup of '$database' published in $((SECONDS - started))s: s3://$S3_BUCKET/$final_key (chain length $chain_length)"
printf 'object=s3://%s/%s\nsha256=%s\nbytes=%s\nrecovery_point=%s\ntype=%s\nartifact=%s\nchain_length=%s\n' \
  "$S3_BUCKET" "$final_key" "$sha" "$size" "$recovery_point" "$type" "$artifact" "$chain_length"
[[ -z "$downtime" ]] || printf 'downtime_seconds=%s\n' "$downtime"
