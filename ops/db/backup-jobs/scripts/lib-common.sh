# shellcheck shell=bash
# lib-common.sh: code shared by postgres-backup.sh, postgres-restore.sh, neo4j-backup.sh and neo4j-restore.sh.
#
# Sourced, never run: each script sets `set -euo pipefail` and `readonly SCRIPT_NAME=<name>`, then
#   . "$(dirname -- "${BASH_SOURCE[0]}")/lib-common.sh"
# It only defines functions. It is published with the scripts (the database-backup-scripts ConfigMap holds
# every scripts/*.sh file), so it sits beside them under /scripts in the Job.
#
# Globals the backup helpers read or set (the calling script owns them): S3_BUCKET, prefix, level, copy_max,
# compress, work_root, work, bg_pids, upload_started, published, done_ok, final_key, temp_key, stamp,
# recovery_point, started, sha, size.

# ---------------------------------------------------------------------------------------------- messages
log() { printf '%s: %s\n' "$SCRIPT_NAME" "$*" >&2; }
die() {
  local code=$1
  shift
  printf '%s: error: %s\n' "$SCRIPT_NAME" "$*" >&2
  exit "$code"
}
# tail_of FILE [LINES=5]: the end of a command's error output, indented, on stderr
tail_of() {
  if [[ -s "$1" ]]; then tail -n "${2:-5}" "$1" | sed 's/^/    /' >&2; fi
}

# ---------------------------------------------------------------------------------------------- aws
# The aws CLI shipped by Debian (2.9) ignores AWS_ENDPOINT_URL: pass it explicitly when set.
aws_cli() {
  if [[ -n "${AWS_ENDPOINT_URL:-}" ]]; then
    aws --endpoint-url "$AWS_ENDPOINT_URL" "$@"
  else
    aws "$@"
  fi
}
# not_found FILE: the aws CLI's error output in FILE says the object does not exist
not_found() { grep -q -e '(404)' -e 'Not Found' "$1"; }

# ---------------------------------------------------------------------------------------------- config
# require_env VAR...: exit 2 naming the first one that is unset or empty
require_env() {
  local var
  for var in "$@"; do
    [[ -n "${!var:-}" ]] || die 2 "$var is not set"
  done
}
# flag VAR: true/1/yes → 0, false/0/no/unset → 1, anything else exits 2
flag() {
  local name=$1 value=${!1:-false}
  case "${value,,}" in
    true | 1 | yes) return 0 ;;
    false | 0 | no | '') return 1 ;;
    *) die 2 "$name must be true or false (got '$value')" ;;
  esac
}
# require_tools MESSAGE TOOL...: exit 2 with "<tool> MESSAGE" for the first one not installed
require_tools() {
  local message=$1 tool
  shift
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || die 2 "$tool $message"
  done
}
# check_work_root: sets work_root (BACKUP_WORK_DIR, else $TMPDIR, else /tmp); exit 2 unless it is a writable directory
check_work_root() {
  work_root=${BACKUP_WORK_DIR:-${TMPDIR:-/tmp}}
  [[ -d "$work_root" && -w "$work_root" ]] || die 2 "work directory $work_root is not a writable directory (BACKUP_WORK_DIR)"
}
# make_work_dir: sets work to a new private directory under work_root
make_work_dir() {
  work=$(mktemp -d "$work_root/$SCRIPT_NAME.XXXXXX")
}
# install_traps HANDLER: the function HANDLER on exit; TERM exits 143, INT 130 (so HANDLER runs then too)
install_traps() {
  # shellcheck disable=SC2064 # the handler's name, expanded now on purpose
  trap "$1" EXIT
  trap 'exit 143' TERM
  trap 'exit 130' INT
}
# manifest_value KEY FILE: the first KEY=value of a backup-manifest.txt
manifest_value() { sed -n "s/^$1=//p" "$2" | head -n 1; }

# ---------------------------------------------------------------------------------------------- backup
# backup_prefix VAR DEFAULT: sets prefix from VAR (DEFAULT when unset; empty is allowed), without a leading
# '/' and with a trailing one; exit 2 on other characters than letters, digits, '.', '_', '-' and '/'
backup_prefix() {
  local var=$1
  prefix=${!var-$2}
  prefix=${prefix#/}
  [[ -z "$prefix" || "$prefix" == */ ]] || prefix="$prefix/"
  [[ "$prefix" =~ ^[A-Za-z0-9._/-]*$ ]] || die 2 "$var may only contain letters, digits, '.', '_', '-' and '/' (got '$prefix')"
}
# backup_limits: sets level (BACKUP_COMPRESSION_LEVEL, default 1) and copy_max (S3_COPY_OBJECT_MAX_BYTES)
backup_limits() {
  level=${BACKUP_COMPRESSION_LEVEL:-1}
  [[ "$level" =~ ^[1-9]$ ]] || die 2 "BACKUP_COMPRESSION_LEVEL must be 1-9 (got '$level')"
  copy_max=${S3_COPY_OBJECT_MAX_BYTES:-5368709120}
  [[ "$copy_max" =~ ^[0-9]+$ ]] || die 2 "S3_COPY_OBJECT_MAX_BYTES must be a number of bytes"
}
# select_compressor: sets compress to pigz (BACKUP_COMPRESS_THREADS threads when set) when installed, else gzip
select_compressor() {
  if command -v pigz >/dev/null 2>&1; then
    compress=(pigz -c "-$level")
    if [[ -n "${BACKUP_COMPRESS_THREADS:-}" ]]; then compress+=(-p "$BACKUP_COMPRESS_THREADS"); fi
  else
    compress=(gzip -c "-$level")
  fi
}
# backup_work_init: the work directory and the state backup_cleanup reads (nothing uploaded yet)
# shellcheck disable=SC2034 # sets globals for the calling script
backup_work_init() {
  make_work_dir
  bg_pids=()
  final_key=''
  temp_key=''
  upload_started=0
  published=0
  done_ok=0
}
# backup_cleanup: the EXIT handler of the backup scripts (install_traps backup_cleanup). Stops background jobs;
# after a failure deletes the final object (if the publish step started) and the temporary one, so nothing is
# left at the final key.
backup_cleanup() {
  local rc=$? pid
  trap - EXIT
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
# start_bucket_check / wait_bucket_check: head-bucket in the background; exit 4 when it failed
start_bucket_check() {
  aws_cli s3api head-bucket --bucket "$S3_BUCKET" >"$work/s3-check.out" 2>&1 &
  s3_check=$!
  bg_pids+=("$s3_check")
}
wait_bucket_check() {
  if ! wait "$s3_check"; then
    log "cannot use bucket $S3_BUCKET${AWS_ENDPOINT_URL:+ at $AWS_ENDPOINT_URL}:"
    tail_of "$work/s3-check.out"
    die 4 "object storage unreachable, bucket missing or access denied (check the database-backup-storage Secret)"
  fi
}
# backup_names SUFFIX: sets stamp and recovery_point (now, UTC), name=<stamp>SUFFIX, final_key and temp_key
# shellcheck disable=SC2034 # sets globals for the calling script
backup_names() {
  local epoch
  epoch=$(date -u +%s)
  stamp=$(date -u -d "@$epoch" +%Y-%m-%dT%H-%M-%SZ)
  recovery_point=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
  name="$stamp$1"
  final_key="$prefix$name"
  temp_key="${prefix}.partial/$name.${HOSTNAME:-job}-$$"
}
# start_stream_hashers: FIFOs $work/sha.fifo and $work/size.fifo, read by sha256sum and wc -c in the
# background (for `tee` in the upload pipeline); marks the upload as started
# shellcheck disable=SC2034 # sets globals for the calling script
start_stream_hashers() {
  mkfifo "$work/sha.fifo" "$work/size.fifo"
  sha256sum <"$work/sha.fifo" >"$work/sha256" &
  sha_pid=$!
  wc -c <"$work/size.fifo" >"$work/size" &
  size_pid=$!
  bg_pids+=("$sha_pid" "$size_pid")
  upload_started=1
  started=$SECONDS
}
wait_stream_hashers() {
  wait "$sha_pid" || true
  wait "$size_pid" || true
  bg_pids=()
}
# verify_upload: sets sha and size from the hashers; exit 6 unless the temporary object holds size bytes
verify_upload() {
  local stored
  sha=$(cut -d' ' -f1 "$work/sha256")
  size=$(tr -d ' \n' <"$work/size")
  [[ "$sha" =~ ^[0-9a-f]{64}$ && "$size" =~ ^[0-9]+$ && "$size" -gt 0 ]] || die 6 "could not compute the SHA-256 of the stream"
  stored=$(aws_cli s3api head-object --bucket "$S3_BUCKET" --key "$temp_key" --query ContentLength --output text 2>"$work/head.err") ||
    { tail_of "$work/head.err"; die 6 "the uploaded temporary object cannot be read back"; }
  [[ "$stored" == "$size" ]] || die 6 "object storage holds $stored bytes but $size bytes were streamed"
}
# publish_backup METADATA: server-side copy of the temporary object to final_key, then the <key>.sha256 sidecar.
# Single CopyObject up to copy_max (5 GiB: works on S3 and most S3-compatible stores); larger objects use the
# CLI's multipart copy (UploadPartCopy). Metadata is given again: multipart copies do not carry it over.
publish_backup() {
  local metadata=$1 rm_pid
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
}

# ---------------------------------------------------------------------------------------------- restore
# parse_restore_uri EXAMPLE: sets bucket, key and name (the file name) from RESTORE_S3_URI; exit 2 unless it
# looks like s3://bucket/key (EXAMPLE is the shape shown in the message)
# shellcheck disable=SC2034 # sets globals for the calling script
parse_restore_uri() {
  [[ "$RESTORE_S3_URI" =~ ^s3://([^/]+)/(.+)$ ]] || die 2 "RESTORE_S3_URI must look like $1 (got '$RESTORE_S3_URI')"
  bucket=${BASH_REMATCH[1]}
  key=${BASH_REMATCH[2]}
  name=${key##*/}
}
# sidecar_sha FILE: the checksum on the first line of a <key>.sha256 sidecar (`<sha256>  <file name>`)
sidecar_sha() { awk 'NR == 1 { print $1 }' "$1"; }
# check_sidecar_sha SHA URI: exit 5 unless SHA (read from URI.sha256) is a SHA-256
check_sidecar_sha() {
  [[ "$1" =~ ^[0-9a-f]{64}$ ]] || die 5 "the sidecar $2.sha256 is not '<sha256>  <file name>'"
}
# no_sidecar UNVERIFIED URI: URI has no sidecar; exit 5 unless UNVERIFIED is true (ALLOW_UNVERIFIED)
no_sidecar() {
  [[ "$1" == true ]] ||
    die 5 "no checksum sidecar at $2.sha256: refusing to restore an unverified backup (ALLOW_UNVERIFIED=true to override)"
}
