#!/usr/bin/env bash
# neo4j-restore.sh: restore an archive written by neo4j-backup.sh, where the store is: on the host (or in the pod)
# that owns NEO4J_HOME, or in a Kubernetes Job that mounts the StatefulSet's claim at NEO4J_DATA_DIR.
#
#   1. refuse while the database is running: Enterprise `STOP DATABASE <db> WAIT` first; Community `neo4j stop` on
#      a host, or `kubectl scale statefulset/<NEO4J_STATEFULSET> --replicas=0` on Kubernetes (checked here)
#   2. download RESTORE_S3_URI, verify it against <uri>.sha256 (ALLOW_UNVERIFIED=true to skip a missing sidecar)
#      and gzip to the end, and unpack it: a corrupt archive is refused before the store is touched
#   3. a full backup or a .dump: neo4j-admin database load --from-path=<dir> --overwrite-destination=true <db>
#      a differential: download every archive of its chain (listed, with checksums, in backup-manifest.txt), then
#      neo4j-admin database restore --from-path=<chain dir>/<differential> --overwrite-destination=true <db>
#      (load never accepts differentials; restore finds the chain ending at that artifact in its folder)
#   4. optionally start it again (NEO4J_START_AFTER_RESTORE=true): START DATABASE <db> WAIT when only the
#      database was stopped, `neo4j start` on a host, or scale the StatefulSet back (NEO4J_REPLICAS, default 1)
#
# Environment:
#   RESTORE_S3_URI=s3://bucket/prefix/<time>.backup.tar.gz  NEO4J_DATABASE  [ALLOW_UNVERIFIED=false]
#   NEO4J_HOME (a host: its bin/ and conf/) and/or NEO4J_DATA_DIR (the store's data directory, e.g. the claim at /data)
#   AWS_ACCESS_KEY_ID  AWS_SECRET_ACCESS_KEY  [AWS_DEFAULT_REGION]  [AWS_ENDPOINT_URL]  [BACKUP_WORK_DIR]
#   To check that the database is stopped (and to start it): NEO4J_ADDRESS or NEO4J_HOST [+ NEO4J_BOLT_PORT=7687],
#   NEO4J_USERNAME, NEO4J_PASSWORD (cypher-shell reads them from the environment, never from argv);
#   on Kubernetes NEO4J_STATEFULSET [NEO4J_NAMESPACE] (kubectl, as the Job's ServiceAccount).
#   [NEO4J_START_AFTER_RESTORE=false]  [NEO4J_REPLICAS=1]
#
# Exit codes: 0 restored · 2 configuration · 3 the database or server is running (or its state cannot be checked):
#             stop it first · 4 backup object missing or object storage unreachable · 5 integrity check failed:
#             checksum mismatch, missing sidecar, corrupt archive or incomplete chain (nothing was touched)
#             6 neo4j-admin load/restore failed · 7 restored, but starting it again failed · 130/143 interrupted
set -euo pipefail

readonly SCRIPT_NAME=neo4j-restore
# log, die, aws_cli (--endpoint-url), tail_of, flag, manifest_value and the restore helpers shared by the four scripts
# shellcheck source-path=SCRIPTDIR source=lib-common.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib-common.sh" || {
  echo "${SCRIPT_NAME:-$0}: lib-common.sh must sit beside this script (publish the whole scripts/ folder)" >&2
  exit 2
}

# ---------------------------------------------------------------------------------------------- config
require_env RESTORE_S3_URI NEO4J_DATABASE
[[ -n "${NEO4J_HOME:-}" || -n "${NEO4J_DATA_DIR:-}" ]] || die 2 "set NEO4J_HOME (Neo4j on this host) or NEO4J_DATA_DIR (the store's data directory, e.g. the mounted claim)"
parse_restore_uri 's3://bucket/prefix/<time>.backup.tar.gz'
base_uri=${RESTORE_S3_URI%/*}
database=$NEO4J_DATABASE
[[ "$database" =~ ^[A-Za-z][A-Za-z0-9.-]{2,62}$ ]] || die 2 "NEO4J_DATABASE '$database' is not a valid Neo4j database name"
neo4j_home=${NEO4J_HOME:-}
[[ -z "$neo4j_home" || -d "$neo4j_home" ]] || die 2 "NEO4J_HOME=$neo4j_home is not a directory"
[[ -z "${NEO4J_DATA_DIR:-}" || -d "$NEO4J_DATA_DIR" ]] || die 2 "NEO4J_DATA_DIR=$NEO4J_DATA_DIR is not a directory"
statefulset=${NEO4J_STATEFULSET:-}
replicas=${NEO4J_REPLICAS:-1}
[[ "$replicas" =~ ^[1-9][0-9]*$ ]] || die 2 "NEO4J_REPLICAS must be a positive number"
kubectl_ns=()
[[ -z "${NEO4J_NAMESPACE:-}" ]] || kubectl_ns=(--namespace "$NEO4J_NAMESPACE")
unverified=false
flag ALLOW_UNVERIFIED && unverified=true
start_after=false
flag NEO4J_START_AFTER_RESTORE && start_after=true
if [[ -n "$neo4j_home" && -x "$neo4j_home/bin/neo4j-admin" ]]; then admin="$neo4j_home/bin/neo4j-admin"; else admin=neo4j-admin; fi
shell_bin=''
if [[ -n "$neo4j_home" && -x "$neo4j_home/bin/cypher-shell" ]]; then shell_bin="$neo4j_home/bin/cypher-shell"; elif command -v cypher-shell >/dev/null 2>&1; then shell_bin=cypher-shell; fi
server_bin=''
if [[ -n "$statefulset" ]]; then
  require_tools 'is not installed (a restore on Kubernetes checks the StatefulSet with kubectl)' kubectl
elif [[ -n "$neo4j_home" && -x "$neo4j_home/bin/neo4j" ]]; then server_bin="$neo4j_home/bin/neo4j"; elif command -v neo4j >/dev/null 2>&1; then server_bin=neo4j; fi
require_tools 'is not installed' "$admin" aws tar sha256sum gzip
address=${NEO4J_ADDRESS:-}
if [[ -z "$address" && -n "${NEO4J_HOST:-}" ]]; then address="neo4j://$NEO4J_HOST:${NEO4J_BOLT_PORT:-7687}"; fi
check_work_root

make_work_dir
cleanup() {
  local rc=$?
  trap - EXIT
  trap '' INT TERM HUP
  stop_children
  rm -rf "$work"
  if [[ -n "$caught_signal" ]]; then
    log "restore INTERRUPTED by SIG$caught_signal (exit $rc)"
  elif ((rc != 0)); then
    log "restore FAILED (exit $rc)"
  fi
  exit "$rc"
}
install_traps cleanup

# ---------------------------------------------------------------------------------------------- running?
how_to_stop="stop it first: cypher-shell -a ${address:-neo4j://<host>:7687} -d system 'STOP DATABASE \`$database\` WAIT' (Enterprise; the server keeps running), or 'neo4j stop' on this host (Community); then run this script again"
[[ -z "$statefulset" ]] || how_to_stop="scale it to 0 first: kubectl scale statefulset/$statefulset --replicas=0${NEO4J_NAMESPACE:+ --namespace $NEO4J_NAMESPACE}, wait until its pods are gone, then run this again"
db_status=''
if [[ -n "$statefulset" ]]; then
  # On Kubernetes the StatefulSet says whether a server runs on this store.
  pods=$(kubectl "${kubectl_ns[@]}" get statefulset "$statefulset" -o 'jsonpath={.spec.replicas} {.status.replicas}' 2>"$work/kubectl.err") ||
    { tail_of "$work/kubectl.err"; die 3 "cannot read StatefulSet $statefulset (the Job's ServiceAccount needs get on it); $how_to_stop"; }
  read -r wanted present <<<"$pods"
  if [[ "${wanted:-0}" != 0 || "${present:-0}" != 0 ]]; then
    die 3 "Neo4j is running: StatefulSet $statefulset wants ${wanted:-0} and has ${present:-0} pod(s); $how_to_stop"
  fi
  db_status=server-stopped
elif [[ -n "$shell_bin" && -n "$address" ]]; then
  if "$shell_bin" -a "$address" -d system --format plain --non-interactive \
    "SHOW DATABASE \`$database\` YIELD currentStatus" >"$work/status.out" 2>"$work/status.err" </dev/null; then
    db_status=$(sed -n '2p' "$work/status.out" | tr -d '"')
    [[ -n "$db_status" ]] || db_status=absent
  elif ! grep -qE 'Unable to connect|Connection refused|ServiceUnavailable|Failed to connect' "$work/status.err"; then
    tail_of "$work/status.err"
    die 3 "cannot check whether database '$database' is running (set NEO4J_USERNAME/NEO4J_PASSWORD), or $how_to_stop"
  fi
fi
if [[ -z "$db_status" ]]; then
  # Bolt unreachable (or no cypher-shell): is the server process running on this host?
  if [[ -n "$server_bin" ]] && "$server_bin" status >"$work/server.out" 2>&1; then
    tail_of "$work/server.out" 1
    die 3 "Neo4j is running on this host but its databases cannot be queried over Bolt (${address:-no NEO4J_ADDRESS}); $how_to_stop"
  fi
  db_status=server-stopped
fi
case "$db_status" in
  online | starting | stopping | store\ copying | initial)
    die 3 "database '$database' is $db_status; $how_to_stop" ;;
esac
log "database '$database': $db_status; restoring from $RESTORE_S3_URI"

# ---------------------------------------------------------------------------------------------- fetch + verify
# fetch URI FILE WANT: download and verify against WANT, or the URI's sidecar when WANT is empty
fetch() {
  local uri=$1 file=$2 want=$3 got sidecar_pid=''
  if [[ -z "$want" ]]; then
    aws_cli s3 cp "$uri.sha256" "$file.sha256" --only-show-errors </dev/null 2>"$file.sha256.err" &
    sidecar_pid=$!
  fi
  if ! aws_cli s3 cp "$uri" "$file" --only-show-errors </dev/null 2>"$file.err"; then
    tail_of "$file.err"
    if not_found "$file.err"; then die 4 "no backup at $uri"; fi
    die 4 "cannot download $uri (object storage unreachable or access denied)"
  fi
  if [[ -n "$sidecar_pid" ]]; then
    if wait "$sidecar_pid"; then
      want=$(sidecar_sha "$file.sha256")
      check_sidecar_sha "$want" "$uri"
    elif not_found "$file.sha256.err"; then
      no_sidecar "$unverified" "$uri"
      log "WARNING: no checksum sidecar for $uri; continuing WITHOUT integrity verification (ALLOW_UNVERIFIED=true)"
    else
      tail_of "$file.sha256.err"
      die 4 "cannot read $uri.sha256"
    fi
  fi
  got=$(sha256sum "$file" | cut -d' ' -f1)
  if [[ -n "$want" && "$got" != "$want" ]]; then
    die 5 "checksum mismatch for $uri: expected $want, got $got; nothing was restored"
  fi
  gzip -t "$file" 2>"$work/gzip.err" || { tail_of "$work/gzip.err"; die 5 "$uri is not a valid gzip archive; nothing was restored"; }
}

started=$SECONDS
mkdir -p "$work/archive" "$work/chain" "$work/load"
fetch "$RESTORE_S3_URI" "$work/$name" ''
tar -xzf "$work/$name" -C "$work/archive" 2>"$work/tar.err" || { tail_of "$work/tar.err"; die 5 "cannot unpack $name"; }
rm -f "$work/$name"
manifest="$work/archive/backup-manifest.txt"
if [[ -f "$manifest" ]]; then
  type=$(manifest_value type "$manifest")
  artifact=$(manifest_value artifact "$manifest")
  [[ -f "$work/archive/$artifact" ]] || die 5 "$name does not contain the artifact $artifact named by its manifest"
else
  # an archive made by hand: one .dump, or one .backup (its header says whether it is FULL)
  mapfile -t found < <(find "$work/archive" -maxdepth 1 -type f \( -name '*.dump' -o -name '*.backup' \) -printf '%f\n')
  ((${#found[@]} == 1)) || die 5 "$name has no backup-manifest.txt and not exactly one .dump or .backup file"
  artifact=${found[0]}
  if [[ "$artifact" == *.dump ]]; then
    type=DUMP
  elif "$admin" database backup "--inspect-path=$work/archive/$artifact" 2>/dev/null | awk -F'|' 'NR == 2 { gsub(/ /, "", $6); exit ($6 == "true" ? 0 : 1) }'; then
    type=FULL
  else
    die 5 "$artifact is a differential backup without a manifest: its chain cannot be found"
  fi
fi

extra_config=()
if [[ -n "${NEO4J_DATA_DIR:-}" ]]; then
  printf 'server.directories.data=%s\n' "$NEO4J_DATA_DIR" >"$work/data-dir.conf"
  extra_config=("--additional-config=$work/data-dir.conf")
fi
case "$type" in
  FULL | DUMP)
    suffix=backup
    [[ "$type" == DUMP ]] && suffix=dump
    mv "$work/archive/$artifact" "$work/load/$database.$suffix"
    command=("$admin" database load "--from-path=$work/load" --overwrite-destination=true "${extra_config[@]}" "$database")
    ;;
  DIFF)
    # every earlier archive of the chain (downloaded in parallel), checked against the checksum pinned in this
    # already verified manifest, then unpacked next to the differential
    archives=() shas=() elements=() pids=()
    while read -r archive sha element; do
      [[ -n "$archive" ]] || continue
      [[ "$archive" =~ ^[A-Za-z0-9._-]+$ && "$sha" =~ ^[0-9a-f]{64}$ && -n "$element" ]] ||
        die 5 "malformed chain line in the manifest of $name"
      archives+=("$archive") shas+=("$sha") elements+=("$element")
      aws_cli s3 cp "$base_uri/$archive" "$work/$archive" --only-show-errors </dev/null 2>"$work/$archive.err" &
      pids+=("$!")
    done < <(sed -n 's/^chain=//p' "$manifest")
    count=${#archives[@]}
    ((count > 0)) || die 5 "the manifest of differential $name lists no chain"
    for i in "${!archives[@]}"; do
      archive=${archives[i]}
      if ! wait "${pids[i]}"; then
        tail_of "$work/$archive.err"
        die 5 "chain element $base_uri/$archive cannot be downloaded: the chain of $name is incomplete; nothing was restored"
      fi
      got=$(sha256sum "$work/$archive" | cut -d' ' -f1)
      [[ "$got" == "${shas[i]}" ]] ||
        die 5 "checksum mismatch for $base_uri/$archive (chain element of $name): expected ${shas[i]}, got $got; nothing was restored"
      tar -xzf "$work/$archive" -C "$work/chain" "${elements[i]}" 2>"$work/tar.err" ||
        { tail_of "$work/tar.err"; die 5 "chain element $archive does not contain ${elements[i]}"; }
      rm -f "$work/$archive"
    done
    mv "$work/archive/$artifact" "$work/chain/$artifact"
    log "chain: $count earlier backup(s) + $artifact"
    command=("$admin" database restore "--from-path=$work/chain/$artifact" --overwrite-destination=true "${extra_config[@]}" "$database")
    ;;
  *) die 5 "unknown backup type '$type' in the manifest of $name" ;;
esac
log "downloaded and verified in $((SECONDS - started))s"

# ---------------------------------------------------------------------------------------------- restore
log "${command[*]}"
if ! "${command[@]}" >"$work/admin.log" 2>&1; then
  tail_of "$work/admin.log" 20
  if grep -q 'in use' "$work/admin.log"; then die 3 "database '$database' is in use; $how_to_stop"; fi
  die 6 "neo4j-admin ${command[2]} failed"
fi
tail_of "$work/admin.log" 3
log "restored '$database' from $RESTORE_S3_URI ($type) in $((SECONDS - started))s"

start_cmd="cypher-shell -a ${address:-neo4j://<host>:7687} -d system 'START DATABASE \`$database\` WAIT'"
if [[ "$db_status" == server-stopped ]]; then
  if [[ -n "$statefulset" ]]; then
    start_cmd="kubectl scale statefulset/$statefulset --replicas=$replicas${NEO4J_NAMESPACE:+ --namespace $NEO4J_NAMESPACE}"
  else
    start_cmd="${server_bin:-neo4j} start"
  fi
fi
if [[ "$db_status" == absent ]]; then
  log "database '$database' did not exist on the server: create it now (cypher-shell -a ${address:-neo4j://<host>:7687} -d system 'CREATE DATABASE \`$database\` WAIT'); it uses the restored store"
  start_after=false
fi
if [[ "$start_after" == true ]]; then
  if [[ "$db_status" == server-stopped && -n "$statefulset" ]]; then
    kubectl "${kubectl_ns[@]}" scale statefulset "$statefulset" --replicas="$replicas" >"$work/start.out" 2>&1 ||
      { tail_of "$work/start.out"; die 7 "restored, but scaling StatefulSet $statefulset back failed: run $start_cmd"; }
  elif [[ "$db_status" == server-stopped ]]; then
    [[ -n "$server_bin" ]] || die 7 "restored; NEO4J_START_AFTER_RESTORE=true needs the neo4j command (NEO4J_HOME/bin/neo4j) to start the server"
    "$server_bin" start >"$work/start.out" 2>&1 || { tail_of "$work/start.out"; die 7 "restored, but neo4j start failed: run $start_cmd"; }
  else
    [[ -n "$shell_bin" && -n "$address" ]] || die 7 "NEO4J_START_AFTER_RESTORE=true needs cypher-shell and NEO4J_ADDRESS/NEO4J_HOST"
    "$shell_bin" -a "$address" -d system --non-interactive "START DATABASE \`$database\` WAIT" </dev/null >"$work/start.out" 2>&1 ||
      { tail_of "$work/start.out"; die 7 "restored, but START DATABASE failed: run $start_cmd"; }
  fi
  log "database '$database' started ($start_cmd)"
else
  log "next: start it ($start_cmd) and verify it, e.g. MATCH (n:BackupValidation) RETURN n.id, n.checkedAt"
fi
printf 'database=%s\nsource=%s\ntype=%s\nartifact=%s\n' "$database" "$RESTORE_S3_URI" "$type" "$artifact"
