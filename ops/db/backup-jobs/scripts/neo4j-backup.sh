#!/usr/bin/env bash
# neo4j-backup.sh: online Neo4j backup (Enterprise: `neo4j-admin database backup` over the backup port, 6362 by
# default, not Bolt) uploaded to S3 as <prefix><UTC time>.backup.tar.gz plus a <key>.sha256 sidecar.
#
# Each archive holds the one backup artifact this run produced (<db>-<yyyy-mm-ddThh-mm-ss>.backup) and
# backup-manifest.txt (type, database, recovery point, and for a differential the archives of its chain).
#   NEO4J_BACKUP_MODE=full (default): --type=FULL into an empty directory, which starts a new chain.
#   NEO4J_BACKUP_MODE=incremental: the newest chain under the prefix is downloaded (every archive verified),
#     neo4j-admin runs --type=DIFF on top of it, and only the new differential is uploaded. Without a usable
#     chain (none yet, other database, unreadable, or NEO4J_MAX_CHAIN_LENGTH reached) it takes a full backup.
#
# Environment:
#   S3_BUCKET  AWS_ACCESS_KEY_ID  AWS_SECRET_ACCESS_KEY  AWS_DEFAULT_REGION  [AWS_ENDPOINT_URL]
#   NEO4J_HOST  [NEO4J_BACKUP_PORT=6362]  [NEO4J_DATABASE=neo4j]  [NEO4J_S3_PREFIX=neo4j/]
#   [NEO4J_BACKUP_MODE=full|incremental]  [NEO4J_MAX_CHAIN_LENGTH=14]  [NEO4J_BACKUP_PAGECACHE e.g. 512m]
#   [BACKUP_WORK_DIR=$TMPDIR or /tmp] (room for the chain)  [BACKUP_COMPRESSION_LEVEL=1]  [BACKUP_COMPRESS_THREADS]
# The backup protocol needs no password; the aws CLI reads its keys from the environment (never argv).
#
# Exit codes: 0 backup published · 2 configuration · 3 the backup port is unreachable · 4 object storage
#             unreachable, bucket missing or access denied · 5 neo4j-admin database backup failed
#             6 upload or publishing failed · 130/143 interrupted
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
require_env S3_BUCKET NEO4J_HOST
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

# ---------------------------------------------------------------------------------------------- cleanup
backup_work_init
chain_dir="$work/chain"
mkdir -p "$chain_dir" "$work/archives"
install_traps backup_cleanup

# ---------------------------------------------------------------------------------------------- preflight
start_bucket_check
if [[ "$mode" == incremental ]]; then
  "${aws_cmd[@]}" s3 ls "s3://$S3_BUCKET/$prefix" >"$work/ls.out" 2>"$work/ls.err" &
  ls_pid=$!
  bg_pids+=("$ls_pid")
fi
# A real TCP connect (bash's /dev/tcp), so a closed or filtered port fails here with a clear message.
# shellcheck disable=SC2016 # $1/$2 are expanded by the inner bash
if ! timeout 10 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$NEO4J_HOST" "$port" 2>"$work/tcp.err"; then
  tail_of "$work/tcp.err"
  die 3 "the Neo4j backup port $NEO4J_HOST:$port is not reachable. Online backups use server.backup.listen_address (default 127.0.0.1:6362, i.e. local only), not Bolt: set it to 0.0.0.0:6362 on the server, allow the port in NetworkPolicies/firewalls, and set NEO4J_BACKUP_PORT if it differs"
fi
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

{
  printf '# db-runbook Neo4j backup manifest, written by neo4j-backup.sh\n'
  printf 'format=db-runbook-neo4j-backup/1\n'
  printf 'database=%s\ntype=%s\nartifact=%s\nrecovery_point=%s\nneo4j_admin_version=%s\n' \
    "$database" "$type" "$artifact" "$recovery_point" "$admin_version"
  printf 'chain_length=%s\n' "$chain_length"
  [[ -z "$parent" ]] || printf 'parent=%s\n' "$parent"
  printf '# chain=<archive> <sha256> <artifact>: the earlier backups this one needs, oldest (FULL) first\n'
  [[ -z "$chain_lines" ]] || printf '%s\n' "$chain_lines"
} >"$work/backup-manifest.txt"

# ---------------------------------------------------------------------------------------------- upload
metadata=$(printf '{"recovery-point":"%s","backup-type":"%s","database":"%s","chain-length":"%s","neo4j-admin-version":"%s"}' \
  "$recovery_point" "$type" "$database" "$chain_length" "$admin_version")
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
