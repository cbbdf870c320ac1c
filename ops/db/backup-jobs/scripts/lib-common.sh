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
# recovery_point, started, sha, size, run_id; the signal helpers: caught_signal, signal_count, signals_deferred.

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
# The same command as an array, for background calls: `"${aws_cmd[@]}" s3 cp … &` makes $! the aws process
# itself (a function run with & is a subshell whose aws child would outlive a kill of $!).
aws_cmd=(aws)
if [[ -n "${AWS_ENDPOINT_URL:-}" ]]; then aws_cmd+=(--endpoint-url "$AWS_ENDPOINT_URL"); fi
# not_found FILE: the aws CLI's error output in FILE says the object does not exist
not_found() { grep -q -e '(404)' -e 'Not Found' "$1"; }

# ---------------------------------------------------------------------------------------------- s3 requests
# An aws CLI process costs ~0.45 CPU-s before it sends a request (Python, awscli, botocore and the S3 model); a
# bare Python with a botocore client ~0.2 CPU-s for several requests. On 2 busy cores each CPU-second is seconds
# of wall time, so s3_batch sends small requests from ONE Python process, with the botocore the aws CLI itself runs
# on (Debian's awscli: /usr/bin/python3 and python3-botocore, read from the `aws` script's #! line). Where that is
# not a Python that can import botocore (AWS CLI v2's bundled binary), or with DB_RUNBOOK_S3_BATCH=cli, each
# request is one aws CLI process, all in parallel, as before. Same environment either way (AWS_*; the endpoint).
aws_py=()
if [[ "${DB_RUNBOOK_S3_BATCH:-python}" != cli ]] && aws_path=$(command -v aws 2>/dev/null) &&
  IFS= read -r aws_shebang <"$aws_path" 2>/dev/null && [[ "$aws_shebang" =~ ^#!.*python[0-9.]*[[:space:]]*$ ]]; then
  read -r -a aws_py <<<"${aws_shebang#\#!}"
fi
# The Python side (argv: MODE OUT-DIR BUCKET …). It exits 99 when no botocore can be imported (botocore, or AWS CLI
# v2's own awscli.botocore) or no client made: the caller then uses the aws CLI.
#   fetch REQUEST…   see s3_batch
#   bucket   head-bucket
#   stream KEY   the object to stdout
#   publish FINAL TEMP METADATA-JSON HOOK PREFIX [KEY FILE CONTENT-TYPE]…   see publish_backup
#   backup N DUMP-ARGV… COMPRESS-ARGV…   the bucket check, the dump's upload and its publishing: see start_backup_session
# shellcheck disable=SC2016 # Python, not shell
s3_py='
import json, os, subprocess, sys
try:
    try:
        from botocore.session import get_session
        from botocore.exceptions import ClientError
    except ImportError:
        # AWS CLI v2 (Debian 12 and later: awscli 2.x) carries its own botocore, as awscli.botocore
        from awscli.botocore.session import get_session
        from awscli.botocore.exceptions import ClientError
    mode, out, bucket, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    client = get_session().create_client("s3", endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None)
except Exception:
    sys.exit(99)
def write(path, text):
    with open(path, "w") as f:
        f.write(text)
def message(e, key):
    code = str(getattr(e, "response", {}).get("Error", {}).get("Code", "")) if isinstance(e, ClientError) else ""
    if code in ("404", "NoSuchKey", "NotFound"):
        return "An error occurred (404) when calling the %s operation: Not Found (s3://%s/%s)" % (e.operation_name, bucket, key)
    return str(e)
if mode == "stream":
    # the object to stdout in ranged GETs of 64 MiB, each resumed where it broke off (a dropped connection costs
    # what was not yet read, not the whole object); IfMatch keeps every range to the object of the first
    key, pos, size, etag, failures, out = args[0], 0, None, None, 0, sys.stdout.buffer
    while size is None or pos < size:
        try:
            request = {"Bucket": bucket, "Key": key, "Range": "bytes=%d-%d" % (pos, pos + (64 << 20) - 1)}
            if etag:
                request["IfMatch"] = etag
            try:
                r = client.get_object(**request)
            except ClientError as e:
                if size is None and str(e.response.get("Error", {}).get("Code", "")) == "InvalidRange":
                    break
                raise
            etag = etag or r.get("ETag")
            size = int(r["ContentRange"].rsplit("/", 1)[1]) if size is None else size
            for chunk in iter(lambda: r["Body"].read(1 << 20), b""):
                out.write(chunk)
                pos += len(chunk)
                failures = 0
        except ClientError as e:
            sys.stderr.write(message(e, key) + "\n")
            sys.exit(1)
        except Exception as e:
            failures += 1
            if failures > 5:
                sys.stderr.write("download of s3://%s/%s broke off at byte %d: %s\n" % (bucket, key, pos, e))
                sys.exit(1)
    out.flush()
    sys.exit(0)
if mode == "bucket":
    try:
        client.head_bucket(Bucket=bucket)
    except Exception as e:
        print(message(e, ""))
        sys.exit(1)
    sys.exit(0)
def together(*calls):
    # the calls at once, each in its own thread; the first error (if any) raised after all have ended
    import threading
    errors = []
    def run(call):
        try:
            call()
        except Exception as e:
            errors.append(e)
    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
def publish(final, temp, metadata, hook, stamp, puts, copy_metadata=False):
    # copy_metadata: the temporary object already carries METADATA (and its content type), so the copy keeps it
    step, key = "check", final
    try:
        found = set()
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=stamp):
            found.update(o["Key"] for o in page.get("Contents", []))
        taken = [k for k in [final, final + ".sha256"] + puts[0::3] if k in found]
        if taken:
            print("taken\t" + taken[0], flush=True)
            return 0
        print("free", flush=True)
        step, key = "put", final + ".sha256"
        def put(key, path, ctype):
            with open(path, "rb") as f:
                client.put_object(Bucket=bucket, Key=key, Body=f, ContentType=ctype)
        together(*[lambda i=i: put(*puts[i:i + 3]) for i in range(0, len(puts), 3)])
        step, key = "copy", final
        if copy_metadata:
            client.copy_object(Bucket=bucket, Key=final, CopySource={"Bucket": bucket, "Key": temp}, MetadataDirective="COPY")
        else:
            client.copy_object(Bucket=bucket, Key=final, CopySource={"Bucket": bucket, "Key": temp},
                               MetadataDirective="REPLACE", Metadata=metadata, ContentType="application/gzip")
        print("published", flush=True)
        if hook:
            subprocess.run(["sh", "-c", hook])
        # at once: the read-back (both must be of this run) and the delete of the temporary object
        got, left = {}, []
        def delete():
            try:
                client.delete_object(Bucket=bucket, Key=temp)
            except Exception as e:
                left.append(message(e, temp).replace("\n", " "))
        def head():
            try:
                got["head"] = client.head_object(Bucket=bucket, Key=final)
            except Exception as e:
                got["head-error"] = e
        def sidecar():
            try:
                got["sidecar"] = client.get_object(Bucket=bucket, Key=final + ".sha256")["Body"].read().decode("utf-8", "replace")
            except Exception as e:
                got["sidecar-error"] = e
        together(delete, head, sidecar)
        if left:
            print("temporary-left\t" + left[0], flush=True)
        step, key = "read-object", final
        if "head-error" in got:
            raise got["head-error"]
        step, key = "read-sidecar", final + ".sha256"
        if "sidecar-error" in got:
            raise got["sidecar-error"]
        head, fields = got["head"], (got["sidecar"].splitlines() or [""])[0].split()
        print("read\t%s\t%s\t%s" % (head.get("Metadata", {}).get("backup-run-id", ""), head["ContentLength"], fields[0] if fields else ""), flush=True)
    except Exception as e:
        print("failed\t%s\t%s" % (step, message(e, key).replace("\n", " ")), flush=True)
        return 1
    return 0
if mode == "publish":
    sys.exit(publish(args[0], args[1], json.loads(args[2]), args[3], args[4], args[5:]))
if mode == "backup":
    # ONE process for the object storage side of a backup (postgres-backup.sh): the bucket check, then (once stdin says
    # `dump SNAPSHOT TEMP METADATA SIZE-HINT`) pg_dump | compressor run here, their output hashed (the only pass)
    # and streamed as a multipart upload to TEMP, then (once stdin says `publish …`) publish() above. args: N,
    # pg_dump argv (N words; --snapshot added), compressor argv. Memory is bounded, never the whole object: parts
    # of 8 MiB (SIZE-HINT / 9,000 above a 72 GB database), up to 4 uploading (2 of 16 MiB, 1 from 32 MiB), one
    # queued, one being read: 48 MiB with 8 MiB parts. A stream larger than its hint gets parts twice, four and
    # eight times as large from the 8,000th part on, so it still fits in the 10,000 parts S3 allows.
    import hashlib, queue, signal, threading
    try:
        client.head_bucket(Bucket=bucket)
    except Exception as e:
        print("bucket-failed\t" + message(e, "").replace("\n", " "), flush=True)
        sys.exit(1)
    print("bucket", flush=True)
    line = sys.stdin.readline().rstrip("\n").split("\t")
    if line[0] != "dump":
        sys.exit(0)
    snapshot, temp, metadata, hint = line[1], line[2], json.loads(line[3]), int(line[4] or 0)
    n = int(args[0])
    dump_argv, compress_argv = args[1:1 + n] + ["--snapshot=" + snapshot], args[1 + n:]
    part = max(8 << 20, -(-hint // 9000 // (1 << 20)) << 20)
    threads = max(1, min(4, (32 << 20) // part))
    upload, etags, failures, work = {"id": None}, {}, [], queue.Queue(maxsize=1)
    def abort():
        upload_id, upload["id"] = upload["id"], None
        if upload_id:
            try:
                client.abort_multipart_upload(Bucket=bucket, Key=temp, UploadId=upload_id)
            except Exception:
                pass
    procs = []
    def stop(signum, frame):
        for p in procs:
            try:
                p.kill()
            except Exception:
                pass
        abort()
        os._exit(128 + signum)
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, stop)
    def uploader():
        while True:
            item = work.get()
            if item is None:
                return
            if failures:
                continue
            try:
                r = client.upload_part(Bucket=bucket, Key=temp, UploadId=upload["id"], PartNumber=item[0], Body=item[1])
                etags[item[0]] = r["ETag"]
            except Exception as e:
                failures.append(message(e, temp))
    with open(os.path.join(out, "pg_dump.err"), "wb") as e1, open(os.path.join(out, "compress.err"), "wb") as e2:
        dumper = subprocess.Popen(dump_argv, stdout=subprocess.PIPE, stderr=e1)
        procs.append(dumper)
        compressor = subprocess.Popen(compress_argv, stdin=dumper.stdout, stdout=subprocess.PIPE, stderr=e2)
        procs.append(compressor)
    dumper.stdout.close()
    digest, size, count, started = hashlib.sha256(), 0, 0, []
    try:
        upload["id"] = client.create_multipart_upload(Bucket=bucket, Key=temp, Metadata=metadata,
                                                      ContentType="application/gzip")["UploadId"]
        started = [threading.Thread(target=uploader, daemon=True) for _ in range(threads)]
        for t in started:
            t.start()
        while not failures:
            data = compressor.stdout.read(part << min(3, max(0, (count - 7500) // 500)))
            if not data:
                break
            digest.update(data)
            size += len(data)
            count += 1
            work.put((count, data))
            data = None
    except Exception as e:
        failures.append(message(e, temp))
    for t in started:
        work.put(None)
    for t in started:
        t.join()
    compressor.stdout.close()
    rcs = [p.wait() for p in (dumper, compressor)]
    rcs = [128 - rc if rc < 0 else rc for rc in rcs]
    ok = not failures and rcs == [0, 0] and count > 0
    if ok:
        try:
            client.complete_multipart_upload(Bucket=bucket, Key=temp, UploadId=upload["id"], MultipartUpload={
                "Parts": [{"PartNumber": i, "ETag": etags[i]} for i in range(1, count + 1)]})
            upload["id"] = None
        except Exception as e:
            failures.append(message(e, temp))
            ok = False
    if not ok:
        abort()
    print("dumped\t%d\t%d\t%d\t%s\t%d\t%s" % (rcs[0], rcs[1], 1 if failures else 0, digest.hexdigest(), size,
                                           (failures or [""])[0].replace("\n", " ").replace("\t", " ")), flush=True)
    rc = 1
    if ok:
        line = sys.stdin.readline().rstrip("\n").split("\t")
        rc = 0 if line[0] != "publish" else publish(line[1], temp, json.loads(line[2]), line[3], line[4], line[5:],
                                                     copy_metadata=json.loads(line[2]) == metadata)
    # no interpreter teardown (tens of ms with botocore loaded): everything is written and flushed
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(rc)
while args:
    kind, name, key = args[:3]
    target = args[3] if kind == "get" else None
    args = args[4:] if kind == "get" else args[3:]
    try:
        if kind == "head":
            r = client.head_object(Bucket=bucket, Key=key)
            m = r.get("Metadata", {})
            write(os.path.join(out, name + ".out"), "\t".join([str(r["ContentLength"]), r.get("ETag", "None"),
                  m.get("recovery-point", "None"), m.get("pg-dump-version", "None")]) + "\n")
        else:
            body = client.get_object(Bucket=bucket, Key=key)["Body"]
            with open(target, "wb") as f:
                for chunk in iter(lambda: body.read(1 << 20), b""):
                    f.write(chunk)
        write(os.path.join(out, name + ".err"), "")
        rc = 0
    except Exception as e:
        write(os.path.join(out, name + ".err"), message(e, key) + "\n")
        rc = 1
    write(os.path.join(out, name + ".rc"), "%d\n" % rc)
'
# s3_batch DIR BUCKET REQUEST...: each REQUEST is `head NAME KEY` (writes DIR/NAME.out: ContentLength, ETag and the
# recovery-point and pg-dump-version metadata, tab-separated, None when absent: the CLI's text output) or
# `get NAME KEY FILE` (the object's bytes into FILE). Each writes DIR/NAME.rc (0 or 1) and DIR/NAME.err (the error;
# a missing key as "(404) … Not Found", as the CLI says it). Start it in the background; s3_ok NAME reads the result.
s3_batch() {
  local dir=$1 bucket=$2 rc=0 kind name key file
  shift 2
  if ((${#aws_py[@]} > 0)); then
    "${aws_py[@]}" -c "$s3_py" fetch "$dir" "$bucket" "$@" 2>"$dir/s3-batch.err" || rc=$?
    ((rc == 99)) || return "$rc"
  fi
  while (($# > 0)); do
    kind=$1 name=$2 key=$3
    shift 3
    if [[ "$kind" == head ]]; then
      {
        rc=0
        "${aws_cmd[@]}" s3api head-object --bucket "$bucket" --key "$key" --output text \
          --query '[ContentLength, ETag, Metadata."recovery-point", Metadata."pg-dump-version"]' >"$dir/$name.out" 2>"$dir/$name.err" || rc=$?
        echo "$rc" >"$dir/$name.rc"
      } &
    else
      file=$1
      shift
      {
        rc=0
        "${aws_cmd[@]}" s3 cp "s3://$bucket/$key" "$file" --only-show-errors 2>"$dir/$name.err" || rc=$?
        echo "$rc" >"$dir/$name.rc"
      } &
    fi
  done
  wait
}
# s3_stream BUCKET KEY: the object to stdout (s3_py in resumed 64 MiB ranges, else `aws s3 cp … -`); errors go to
# $work/download.err
s3_stream() {
  local rc=99
  if ((${#aws_py[@]} > 0)); then "${aws_py[@]}" -c "$s3_py" stream "$work" "$1" "$2" 2>"$work/download.err" && rc=0 || rc=$?; fi
  if ((rc == 99)); then "${aws_cmd[@]}" s3 cp "s3://$1/$2" - --only-show-errors 2>"$work/download.err" && rc=0 || rc=$?; fi
  return "$rc"
}
# s3_ok NAME: the request NAME of the last s3_batch succeeded
s3_ok() { [[ "$(cat "$work/$1.rc" 2>/dev/null)" == 0 ]]; }

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
# process_start PID: the process's start time in clock ticks since boot (/proc/PID/stat field 22), empty when
# it is gone; with the pid it names a process even after the pid is reused
process_start() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  stat=${stat##*) }
  # shellcheck disable=SC2086 # split the fields on purpose
  set -- $stat
  printf '%s\n' "${20:-}"
}
# make_work_dir: sets work to a new private directory under work_root, owned by this process (.owner holds its
# pid and start time). Work directories of this script whose owner is gone (a run killed with SIGKILL, which
# runs no cleanup) are removed first, and named.
make_work_dir() {
  local dir owner_pid owner_start owner_host size
  for dir in "$work_root/$SCRIPT_NAME".*; do
    [[ -d "$dir" && -f "$dir/.owner" ]] || continue
    read -r owner_pid owner_start owner_host <"$dir/.owner" 2>/dev/null || continue
    # another host's run (a work directory on a shared volume) is not judged from here
    [[ "$owner_pid" =~ ^[0-9]+$ && "${owner_host:-}" == "$(hostname_of_this)" ]] || continue
    if [[ -n "$(process_start "$owner_pid")" && "$(process_start "$owner_pid")" == "$owner_start" ]]; then continue; fi
    size=$(du -sh "$dir" 2>/dev/null | cut -f1) || size='?'
    if rm -rf "$dir" 2>/dev/null; then
      log "removed the work directory $dir ($size) left by an interrupted run (pid $owner_pid, killed without cleanup)"
    else
      log "warning: the work directory $dir ($size) was left by an interrupted run (pid $owner_pid); remove it: rm -rf '$dir'"
    fi
  done
  work=$(mktemp -d "$work_root/$SCRIPT_NAME.XXXXXX")
  printf '%s %s %s\n' "$$" "$(process_start $$)" "$(hostname_of_this)" >"$work/.owner"
}
hostname_of_this() { printf '%s\n' "${HOSTNAME:-$(cat /proc/sys/kernel/hostname 2>/dev/null || echo localhost)}"; }

# ---------------------------------------------------------------------------------------------- signals
# install_traps HANDLER: the function HANDLER on exit; INT exits 130, TERM 143, HUP 129 (so HANDLER runs then
# too, and sees the signal's name in caught_signal). Between defer_signals and allow_signals a signal is only
# recorded (the step in progress is finished first) and allow_signals acts on it.
# Long-running children are started in the background and waited for with wait_pid: bash runs a trap only
# once the foreground command it waits for has ended, but interrupts `wait` at once.
caught_signal=''
signal_count=0
signals_deferred=0
install_traps() {
  # shellcheck disable=SC2064 # the handler's name, expanded now on purpose
  trap "$1" EXIT
  trap 'on_signal INT' INT
  trap 'on_signal TERM' TERM
  trap 'on_signal HUP' HUP
}
# signal_status NAME: the exit status for a signal (128 + its number)
signal_status() {
  case $1 in
    INT) echo 130 ;;
    HUP) echo 129 ;;
    *) echo 143 ;;
  esac
}
on_signal() {
  signal_count=$((signal_count + 1))
  [[ -n "$caught_signal" ]] || caught_signal=$1
  if ((signals_deferred)); then
    log "SIG$1 received: finishing the step in progress first, then stopping"
    # test hook only: a phase paused inside the deferred step (whose children ignore SIGTERM) ends now
    if [[ -n "${DB_RUNBOOK_TEST_HOOK_PHASE:-}" ]]; then : >"$(test_hook_dir)/signalled" 2>/dev/null || true; fi
    return 0
  fi
  exit "$(signal_status "$caught_signal")"
}
defer_signals() { signals_deferred=1; }
allow_signals() {
  signals_deferred=0
  if [[ -n "$caught_signal" ]]; then exit "$(signal_status "$caught_signal")"; fi
}
# wait_pid PID: waits until the background process PID has ended, also when a deferred signal interrupts the
# wait; returns its exit status
wait_pid() {
  local status seen
  while :; do
    seen=$signal_count
    status=0
    wait "$1" || status=$?
    ((status > 128 && signal_count != seen)) || return "$status"
  done
}
# descendants PID: the pids of every process below PID, deepest first (from /proc)
descendants() {
  local children child
  children=$(cat /proc/"$1"/task/*/children 2>/dev/null) || true
  for child in $children; do
    descendants "$child"
    printf '%s\n' "$child"
  done
}
# stop_children: TERM to every process this script started (and theirs), so no aws, psql or pigz outlives it
stop_children() {
  local pids
  pids=$(descendants $$)
  # shellcheck disable=SC2086 # one pid per word
  if [[ -n "$pids" ]]; then kill $pids 2>/dev/null || true; fi
}

# ---------------------------------------------------------------------------------------------- test hook
# test_hook PHASE: for tests only (nothing happens unless DB_RUNBOOK_TEST_HOOK_PHASE names PHASE). Delivers
# DB_RUNBOOK_TEST_HOOK_SIGNAL (TERM, the default, INT, HUP or KILL) to this script, or with
# DB_RUNBOOK_TEST_HOOK_TARGET=group to its whole process group (as the CLI's Ctrl-C does); or, with
# DB_RUNBOOK_TEST_HOOK_SIGNAL=pause, creates $DB_RUNBOOK_TEST_HOOK_DIR/PHASE.reached and waits until the test
# removes it (or until the script is signalled while it holds signals back). So a test interrupts a named phase
# deterministically, never by timing.
test_hook() {
  [[ "${DB_RUNBOOK_TEST_HOOK_PHASE:-}" == "$1" ]] || return 0
  log "test hook: phase $1 (${DB_RUNBOOK_TEST_HOOK_SIGNAL:-TERM} to the ${DB_RUNBOOK_TEST_HOOK_TARGET:-script})"
  sh -c "$(test_hook_command "$1")"
}
test_hook_dir() { printf '%s\n' "${DB_RUNBOOK_TEST_HOOK_DIR:-${TMPDIR:-/tmp}}"; }
# test_hook_command PHASE: the sh command test_hook runs (also run from inside psql with \!, mid-transaction)
test_hook_command() {
  local signal=${DB_RUNBOOK_TEST_HOOK_SIGNAL:-TERM} who=$$ pgid
  if [[ "$signal" == pause ]]; then
    local flag signalled
    flag="$(test_hook_dir)/$1.reached"
    signalled="$(test_hook_dir)/signalled"
    printf "rm -f '%s'; touch '%s'; while [ -e '%s' ] && [ ! -e '%s' ]; do sleep 0.05; done" \
      "$signalled" "$flag" "$flag" "$signalled"
    return
  fi
  if [[ "${DB_RUNBOOK_TEST_HOOK_TARGET:-script}" == group ]]; then
    pgid=$(cat /proc/$$/stat)
    pgid=${pgid##*) }
    # shellcheck disable=SC2086 # split the fields on purpose
    set -- $pgid
    who="-$3"
  fi
  printf 'kill -s %s -- %s' "$signal" "$who"
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
# select_compressor: sets compress to igzip (Debian isal: plain gzip at a third of pigz's CPU; its levels are
# 1-3, so 3-9 give -3) when installed, else pigz (BACKUP_COMPRESS_THREADS threads when set), else gzip
select_compressor() {
  if command -v igzip >/dev/null 2>&1; then
    compress=(igzip -c "-$((level < 3 ? level : 3))")
  elif command -v pigz >/dev/null 2>&1; then
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
  collision=''
  globals_published=''
  sidecar_published=0
}
# backup_cleanup: the EXIT handler of the backup scripts (install_traps backup_cleanup). Stops every child
# process; after a failure deletes the final object (if this run published it) and the temporary one, so
# nothing is left at the final key. What cannot be deleted is named with the command that deletes it.
backup_cleanup() {
  local rc=$?
  trap - EXIT
  trap '' INT TERM HUP
  # the backup session first, by its pid (it stops its dump and compressor): the list of children stop_children
  # reads from /proc can miss one while others start and end (the globals' psql and pg_dumpall run meanwhile)
  if [[ -n "${session_pid:-}" ]]; then kill "$session_pid" 2>/dev/null || true; fi
  stop_children
  if ((done_ok == 0)); then
    ((rc != 0)) || rc=1
    if ((published)) && [[ -z "$collision" ]]; then
      aws_cli s3 rm "s3://$S3_BUCKET/$final_key" --only-show-errors >/dev/null 2>&1 ||
        log "warning: could not delete s3://$S3_BUCKET/$final_key after the failure; delete it: aws s3 rm s3://$S3_BUCKET/$final_key${AWS_ENDPOINT_URL:+ --endpoint-url $AWS_ENDPOINT_URL}"
    fi
    if ((sidecar_published)) && [[ -z "$collision" ]]; then
      aws_cli s3 rm "s3://$S3_BUCKET/$final_key.sha256" --only-show-errors >/dev/null 2>&1 ||
        log "warning: could not delete s3://$S3_BUCKET/$final_key.sha256 after the failure; delete it: aws s3 rm s3://$S3_BUCKET/$final_key.sha256${AWS_ENDPOINT_URL:+ --endpoint-url $AWS_ENDPOINT_URL}"
    fi
    if [[ -n "$globals_published" ]]; then
      { aws_cli s3 rm "s3://$S3_BUCKET/$globals_published" --only-show-errors >/dev/null 2>&1 &&
        aws_cli s3 rm "s3://$S3_BUCKET/$globals_published.sha256" --only-show-errors >/dev/null 2>&1; } ||
        log "warning: could not delete s3://$S3_BUCKET/$globals_published (and its .sha256) after the failure; delete them: aws s3 rm s3://$S3_BUCKET/$globals_published${AWS_ENDPOINT_URL:+ --endpoint-url $AWS_ENDPOINT_URL}"
    fi
    if ((upload_started)); then
      aws_cli s3 rm "s3://$S3_BUCKET/$temp_key" --only-show-errors >/dev/null 2>&1 ||
        log "warning: the temporary object s3://$S3_BUCKET/$temp_key is left (object storage unreachable?); delete it: aws s3 rm s3://$S3_BUCKET/$temp_key${AWS_ENDPOINT_URL:+ --endpoint-url $AWS_ENDPOINT_URL}"
    fi
    if [[ -n "$caught_signal" ]]; then
      log "backup INTERRUPTED by SIG$caught_signal (exit $rc); nothing was published"
    else
      log "backup FAILED (exit $rc); nothing was published"
    fi
  fi
  rm -rf "$work"
  exit "$rc"
}
# start_bucket_check / wait_bucket_check: head-bucket in the background (s3_py, else the aws CLI); exit 4 when it failed
start_bucket_check() {
  {
    local rc=99
    if ((${#aws_py[@]} > 0)); then "${aws_py[@]}" -c "$s3_py" bucket "$work" "$S3_BUCKET" >"$work/s3-check.out" 2>&1 && rc=0 || rc=$?; fi
    if ((rc == 99)); then "${aws_cmd[@]}" s3api head-bucket --bucket "$S3_BUCKET" >"$work/s3-check.out" 2>&1 && rc=0 || rc=$?; fi
    exit "$rc"
  } &
  s3_check=$!
  bg_pids+=("$s3_check")
}
wait_bucket_check() {
  wait_pid "$s3_check" || bucket_failed
}
# bucket_failed: exit 4 with the bucket check's error ($work/s3-check.out)
bucket_failed() {
  log "cannot use bucket $S3_BUCKET${AWS_ENDPOINT_URL:+ at $AWS_ENDPOINT_URL}:"
  tail_of "$work/s3-check.out"
  die 4 "object storage unreachable, bucket missing or access denied (check the database-backup-storage Secret)"
}
# start_backup_session N DUMP-ARGV… COMPRESS-ARGV…: ONE s3_py process (mode backup) in the background for all of a
# backup's object storage side: it checks the bucket at once (wait_session_bucket reads the result), then runs the
# dump and its compressor itself when send_dump tells it the snapshot and the key, hashes their output and streams
# it as a multipart upload (read_dump reads the outcome), then publishes (publish_backup sends it the command).
# Commands go to its stdin (FIFO $work/session.in, held open here: fd session_in), its lines come back through the
# FIFO $work/session.out (fd session_out; EOF when it ends), its errors in $work/session.err. Without a Python
# that can import botocore (aws_py empty), session_pid stays empty and the caller uses the aws CLI.
# shellcheck disable=SC2034 # sets globals for the calling script
start_backup_session() {
  session_pid=''
  ((${#aws_py[@]} > 0)) || return 0
  mkfifo "$work/session.in" "$work/session.out"
  # read-write: opening never blocks, and the process sees EOF only once this script (and its children) are gone
  exec {session_in}<>"$work/session.in"
  "${aws_py[@]}" -c "$s3_py" backup "$work" "$S3_BUCKET" "$@" <"$work/session.in" >"$work/session.out" 2>"$work/session.err" &
  session_pid=$!
  bg_pids+=("$session_pid")
  exec {session_out}<"$work/session.out"
}
# wait_session_bucket: waits for the session's bucket check; exit 4 when it failed. When the session could not
# start (s3_py exit 99: no botocore), session_pid is emptied and the aws CLI checks the bucket instead.
wait_session_bucket() {
  local line=() rc=0
  IFS=$'\t' read -r -a line <&"$session_out" || true
  [[ "${line[0]:-}" != bucket ]] || return 0
  if [[ "${line[0]:-}" == bucket-failed ]]; then
    printf '%s\n' "${line[1]:-}" >"$work/s3-check.out"
    bucket_failed
  fi
  wait_pid "$session_pid" || rc=$?
  end_backup_session
  if ((rc == 99)); then
    # no botocore to import: the aws CLI for everything (publish_backup too)
    aws_py=()
    start_bucket_check
    wait_bucket_check
    return 0
  fi
  cp "$work/session.err" "$work/s3-check.out"
  bucket_failed
}
# end_backup_session: closes the session's FIFOs (it exits once its stdin is at EOF) and forgets it
end_backup_session() {
  exec {session_in}>&- {session_out}<&-
  session_pid=''
}
# send_dump SNAPSHOT METADATA: the session starts the dump (pg_dump --snapshot=SNAPSHOT | compressor) and its
# multipart upload to temp_key with METADATA and run_id; db_size sizes the parts
send_dump() {
  upload_started=1
  started=$SECONDS
  # with this run's id (as publish_backup gives it to the final key): the copy then keeps the metadata as it is
  printf 'dump\t%s\t%s\t%s\t%s\n' "$1" "$temp_key" "${2%\}},\"backup-run-id\":\"$run_id\"}" "${db_size:-0}" >&"$session_in"
}
# read_dump: waits until the session has streamed the dump; sets statuses (pg_dump, compressor, upload: 0 or not)
# and writes $work/sha256, $work/size (for verify_upload) and $work/upload.err. A session that ended without
# saying (killed, crashed) is an upload failure, its error output in upload.err.
# shellcheck disable=SC2034 # sets statuses for the calling script
read_dump() {
  local line=()
  if IFS=$'\t' read -r -a line <&"$session_out" && [[ "${line[0]:-}" == dumped ]]; then
    statuses=("${line[1]}" "${line[2]}" "${line[3]}")
    printf '%s  -\n' "${line[4]}" >"$work/sha256"
    printf '%s\n' "${line[5]}" >"$work/size"
    printf '%s\n' "${line[6]:-}" >"$work/upload.err"
  else
    statuses=(0 0 1)
    cp "$work/session.err" "$work/upload.err"
  fi
}
# backup_names SUFFIX: sets stamp and recovery_point (now, UTC, to the microsecond: two backups started in the
# same second get different keys that still sort by time), name=<stamp>SUFFIX, final_key, temp_key and run_id
# (written into the object's metadata, so publish_backup can tell its own object from another run's)
# shellcheck disable=SC2034 # sets globals for the calling script
backup_names() {
  local now
  now=$(date -u +%s.%6N)
  stamp=$(date -u -d "@$now" +%Y-%m-%dT%H-%M-%S.%6NZ)
  recovery_point=$(date -u -d "@$now" +%Y-%m-%dT%H:%M:%S.%6NZ)
  name="$stamp$1"
  final_key="$prefix$name"
  run_id="${HOSTNAME:-job}-$$-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
  temp_key="${prefix}.partial/$name.$run_id"
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
  wait_pid "$sha_pid" || true
  wait_pid "$size_pid" || true
  bg_pids=()
}
# verify_upload: sets sha and size from the hashers; exit 6 unless both were computed. The size object storage
# holds is checked when publish_backup reads the published object back (one head-object for run-id and size).
verify_upload() {
  sha=$(cut -d' ' -f1 "$work/sha256")
  size=$(tr -d ' \n' <"$work/size")
  [[ "$sha" =~ ^[0-9a-f]{64}$ && "$size" =~ ^[0-9]+$ && "$size" -gt 0 ]] || die 6 "could not compute the SHA-256 of the stream"
}
# key_collision WHAT: exit 6 saying another backup run published at the same key (WHAT says how it was seen);
# the other run's object is not deleted (backup_cleanup skips the final key once collision is set)
key_collision() {
  collision=$1
  die 6 "key collision: $1. This run's backup is NOT published; the object there belongs to another run and was left as it is (check it before restoring it: its sidecar may be from a different run)"
}
# publish_backup METADATA [GLOBALS_KEY GLOBALS_FILE GLOBALS_SHA]: publishes the temporary object at final_key with
# its <key>.sha256 sidecar written from this run's hash, and (PostgreSQL) the globals object GLOBALS_FILE at
# GLOBALS_KEY with its own sidecar. Every key it writes starts with <prefix><stamp>, so ONE listing of that
# prefix checks that all of them are free (most S3-compatible stores, s3rver among them, and Debian's aws CLI 2.9
# have no If-None-Match for CopyObject); a taken key is a collision (exit 6), never overwritten. Then the small
# files (sidecars, globals), then the server-side copy of the temporary object (a single CopyObject up to
# copy_max, 5 GiB; above it the CLI's multipart copy, UploadPartCopy, with the metadata given again), then the
# temporary object is deleted. Read back after publishing: the object must carry this run's backup-run-id and
# hold size bytes, the sidecar this run's hash; another run id or hash is a collision (exit 6).
# ONE Python process for all of it, with the aws CLI's botocore (s3_py); without it, or above copy_max, aws CLI
# processes: the listing, one recursive upload, the copy, two read-backs and the delete (6; 11 before issue 17).
publish_backup() {
  local metadata=$1 globals_key=${2:-} globals_file=${3:-} globals_digest=${4:-}
  local stage="$work/publish" key keys file rc=0 pid hook='' line stored_run='' stored_size='' stored_sha='' temp_left=''
  metadata="${metadata%\}},\"backup-run-id\":\"$run_id\"}"
  keys=("$final_key" "$final_key.sha256")
  if [[ -n "$globals_key" ]]; then keys+=("$globals_key" "$globals_key.sha256"); fi
  mkdir "$stage"
  printf '%s  %s\n' "$sha" "$name" >"$stage/$name.sha256"
  if [[ -n "$globals_key" ]]; then
    mv -- "$globals_file" "$stage/${globals_key##*/}"
    printf '%s  %s\n' "$globals_digest" "${globals_key##*/}" >"$stage/${globals_key##*/}.sha256"
  fi
  if [[ -n "${session_pid:-}" ]] && ((size > copy_max)); then
    # the CLI's multipart copy below: the session ends without publishing
    printf 'end\n' >&"$session_in"
    wait_pid "$session_pid" || true
    end_backup_session
  fi
  if ((${#aws_py[@]} > 0 && size <= copy_max)); then
    # ONE process: the check, the small files (content types as the CLI gave them), the copy, the temporary
    # object's delete and the read-back. What it may have written is marked first (the exit handler deletes it
    # after a failure); a taken key unmarks it (nothing was written).
    globals_published=$globals_key
    sidecar_published=1
    published=1
    # the small files (content types as the CLI gave them), the copy, the temporary object's delete, the read-back
    local puts=()
    for file in "$stage"/*; do
      puts+=("$prefix${file##*/}" "$file" "$([[ "$file" == *.sha256 ]] && echo text/plain || echo application/gzip)")
    done
    if [[ "${DB_RUNBOOK_TEST_HOOK_PHASE:-}" == published ]]; then
      log "test hook: phase published (${DB_RUNBOOK_TEST_HOOK_SIGNAL:-TERM} to the ${DB_RUNBOOK_TEST_HOOK_TARGET:-script})"
      hook=$(test_hook_command published)
    fi
    if [[ -n "${session_pid:-}" ]]; then
      # the session that streamed the dump publishes it (start_backup_session): the same steps, no new process
      { printf 'publish\t%s\t%s\t%s\t%s' "$final_key" "$metadata" "$hook" "$prefix$stamp"; printf '\t%s' "${puts[@]}"; echo; } >&"$session_in"
      cat <&"$session_out" >"$work/publish.out" &
      pid=$!
      bg_pids+=("$pid")
      rc=0
      wait_pid "$session_pid" || rc=$?
      wait_pid "$pid" || true
      end_backup_session
      cp "$work/session.err" "$work/publish.err"
    else
      "${aws_py[@]}" -c "$s3_py" publish "$work" "$S3_BUCKET" "$final_key" "$temp_key" "$metadata" "$hook" "$prefix$stamp" "${puts[@]}" \
        >"$work/publish.out" 2>"$work/publish.err" &
      pid=$!
      bg_pids+=("$pid")
      rc=0
      wait_pid "$pid" || rc=$?
    fi
    while IFS=$'\t' read -r -a line; do
      case ${line[0]} in
        read) stored_run=${line[1]:-} stored_size=${line[2]:-} stored_sha=${line[3]:-} ;;
        temporary-left) temp_left=${line[1]:-} ;;
        taken)
          globals_published='' sidecar_published=0 published=0
          key_collision "s3://$S3_BUCKET/${line[1]} already exists before this run published it"
          ;;
        failed)
          [[ -z "${line[2]:-}" ]] || log "    ${line[2]}"
          case ${line[1]} in
            check) die 6 "cannot check that s3://$S3_BUCKET/$final_key (and the keys beside it) are free" ;;
            put) die 6 "writing the checksum sidecar s3://$S3_BUCKET/$final_key.sha256${globals_key:+ and the globals object s3://$S3_BUCKET/$globals_key} failed" ;;
            copy) die 6 "server-side copy to s3://$S3_BUCKET/$final_key failed" ;;
            read-object) die 6 "cannot read back s3://$S3_BUCKET/$final_key" ;;
            *) die 6 "cannot read back s3://$S3_BUCKET/$final_key.sha256" ;;
          esac
          ;;
      esac
    done <"$work/publish.out"
    if ((rc == 99)) || [[ -z "$stored_size" ]]; then
      tail_of "$work/publish.err"
      die 6 "publishing s3://$S3_BUCKET/$final_key failed"
    fi
  else
    aws_cli s3api list-objects-v2 --bucket "$S3_BUCKET" --prefix "$prefix$stamp" --query 'Contents[].Key' \
      --output text 2>"$work/list.err" | tr '\t' '\n' >"$work/taken" ||
      { tail_of "$work/list.err"; die 6 "cannot check that s3://$S3_BUCKET/$final_key (and the keys beside it) are free"; }
    for key in "${keys[@]}"; do
      if grep -Fxq -- "$key" "$work/taken"; then
        key_collision "s3://$S3_BUCKET/$key already exists before this run published it"
      fi
    done
    globals_published=$globals_key
    sidecar_published=1
    published=1
    aws_cli s3 cp "$stage/" "s3://$S3_BUCKET/$prefix" --recursive --only-show-errors 2>"$work/put.err" ||
      { tail_of "$work/put.err"; die 6 "writing the checksum sidecar s3://$S3_BUCKET/$final_key.sha256${globals_key:+ and the globals object s3://$S3_BUCKET/$globals_key} failed"; }
    if ((size <= copy_max)); then
      aws_cli s3api copy-object --bucket "$S3_BUCKET" --key "$final_key" --copy-source "$S3_BUCKET/$temp_key" \
        --metadata-directive REPLACE --metadata "$metadata" --content-type application/gzip >/dev/null 2>"$work/copy.err" ||
        { tail_of "$work/copy.err"; die 6 "server-side copy to s3://$S3_BUCKET/$final_key failed"; }
    else
      aws_cli s3 cp "s3://$S3_BUCKET/$temp_key" "s3://$S3_BUCKET/$final_key" --metadata-directive REPLACE \
        --metadata "$metadata" --content-type application/gzip --only-show-errors 2>"$work/copy.err" ||
        { tail_of "$work/copy.err"; die 6 "server-side multipart copy to s3://$S3_BUCKET/$final_key failed (does the store support UploadPartCopy?)"; }
    fi
    local rm_pid object_pid sidecar_pid
    "${aws_cmd[@]}" s3 rm "s3://$S3_BUCKET/$temp_key" --only-show-errors >"$work/rm.err" 2>&1 &
    rm_pid=$!
    bg_pids+=("$rm_pid")
    test_hook published
    # read back: both must be this run's
    "${aws_cmd[@]}" s3api head-object --bucket "$S3_BUCKET" --key "$final_key" \
      --query '[Metadata."backup-run-id", ContentLength]' --output text >"$work/run-id.out" 2>"$work/run-id.err" &
    object_pid=$!
    "${aws_cmd[@]}" s3 cp "s3://$S3_BUCKET/$final_key.sha256" "$work/sidecar.back" --only-show-errors 2>"$work/sidecar-back.err" &
    sidecar_pid=$!
    bg_pids+=("$object_pid" "$sidecar_pid")
    wait_pid "$object_pid" || { tail_of "$work/run-id.err"; die 6 "cannot read back s3://$S3_BUCKET/$final_key"; }
    wait_pid "$sidecar_pid" || { tail_of "$work/sidecar-back.err"; die 6 "cannot read back s3://$S3_BUCKET/$final_key.sha256"; }
    read -r stored_run stored_size <"$work/run-id.out" || true
    [[ "$stored_run" != None ]] || stored_run=''
    stored_sha=$(sidecar_sha "$work/sidecar.back")
    wait_pid "$rm_pid" || temp_left=$(tr '\n' ' ' <"$work/rm.err")
  fi
  [[ "$stored_run" == "$run_id" ]] ||
    key_collision "s3://$S3_BUCKET/$final_key was overwritten by another backup run (${stored_run:-unknown}) while this one ($run_id) published it"
  [[ "$stored_size" == "$size" ]] || die 6 "object storage holds ${stored_size:-no} bytes at s3://$S3_BUCKET/$final_key but $size bytes were streamed"
  [[ "$stored_sha" == "$sha" ]] ||
    key_collision "s3://$S3_BUCKET/$final_key.sha256 holds ${stored_sha:-nothing}, not this run's $sha: another run wrote it"
  [[ -z "$temp_left" ]] || log "warning: could not delete the temporary object s3://$S3_BUCKET/$temp_key ($temp_left); delete it: aws s3 rm s3://$S3_BUCKET/$temp_key"
  upload_started=0
  done_ok=1
  globals_published=''
}

# ---------------------------------------------------------------------------------------------- privileges
# database_properties_sql: SQL (for psql, variables src and dst) printing, one per row, the statements that give a
# database the owner, privileges (ACL), connection limit and settings (ALTER DATABASE … SET, ALTER ROLE … IN
# DATABASE … SET) of database :'src'. :'dst' is inserted as given: a quoted name, or the placeholder
# __DB_RUNBOOK_DATABASE__ that the restore replaces with the new database's name.
database_properties_sql() {
  cat <<'SQL'
SELECT s FROM (
  SELECT 0 AS n, format('ALTER DATABASE %s OWNER TO %I;', :'dst', pg_get_userbyid(d.datdba)) AS s
    FROM pg_database d WHERE d.datname = :'src'
  UNION ALL
  SELECT 1, format('ALTER DATABASE %s CONNECTION LIMIT %s;', :'dst', d.datconnlimit)
    FROM pg_database d WHERE d.datname = :'src' AND d.datconnlimit >= 0
  UNION ALL
  SELECT 2, format('REVOKE ALL ON DATABASE %s FROM PUBLIC;', :'dst')
    FROM pg_database d WHERE d.datname = :'src' AND d.datacl IS NOT NULL
  UNION ALL
  SELECT 3, format('REVOKE ALL ON DATABASE %s FROM %I;', :'dst', pg_get_userbyid(d.datdba))
    FROM pg_database d WHERE d.datname = :'src' AND d.datacl IS NOT NULL
  UNION ALL
  SELECT 4, format('GRANT %s ON DATABASE %s TO %s%s;', a.privilege_type, :'dst',
                   CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
                   CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)
    FROM pg_database d, aclexplode(d.datacl) a WHERE d.datname = :'src'
  UNION ALL
  SELECT 5, CASE WHEN s.setrole = 0 THEN format('ALTER DATABASE %s SET %I TO ', :'dst', split_part(c, '=', 1))
                 ELSE format('ALTER ROLE %I IN DATABASE %s SET %I TO ', pg_get_userbyid(s.setrole), :'dst', split_part(c, '=', 1)) END ||
            CASE WHEN split_part(c, '=', 1) IN ('search_path', 'temp_tablespaces', 'session_preload_libraries', 'local_preload_libraries')
                 THEN substr(c, strpos(c, '=') + 1) ELSE quote_literal(substr(c, strpos(c, '=') + 1)) END || ';'
    FROM pg_db_role_setting s, unnest(s.setconfig) c
   WHERE s.setdatabase = (SELECT oid FROM pg_database WHERE datname = :'src')
) statements ORDER BY n, s;
SQL
}
# catalog_facts_sql: SQL printing one JSON object per row about the current database: the owner of every schema,
# table, view, sequence and function (extensions' own objects left out), their privileges per role, the default
# privileges, and the database's owner, privileges, connection limit and settings. Run with search_path empty
# (PGOPTIONS='-c search_path=') so every name is schema-qualified. The backup keeps these facts in its globals
# object; the restore's validation (db-runbook) runs the same query, read from this file, and compares.
catalog_facts_sql() {
  cat <<'SQL'
-- BEGIN db-runbook catalog facts
WITH sys AS (
  SELECT n.oid FROM pg_namespace n
   WHERE n.nspname IN ('pg_catalog', 'information_schema') OR n.nspname ~ '^pg_(toast|temp_|toast_temp_)'
), ext AS (
  SELECT classid, objid FROM pg_depend WHERE deptype = 'e'
), obj AS (
  SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence'
                        WHEN 'f' THEN 'foreign table' ELSE 'table' END AS kind,
         c.oid::regclass::text AS name, c.relowner AS owner,
         coalesce(c.relacl, acldefault((CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END)::"char", c.relowner)) AS acl
    FROM pg_class c
   WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND c.relnamespace NOT IN (SELECT oid FROM sys)
     AND (c.oid NOT IN (SELECT objid FROM ext WHERE classid = 'pg_class'::regclass))
  UNION ALL
  SELECT CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END, p.oid::regprocedure::text, p.proowner,
         coalesce(p.proacl, acldefault('f', p.proowner))
    FROM pg_proc p
   WHERE p.pronamespace NOT IN (SELECT oid FROM sys)
     AND (p.oid NOT IN (SELECT objid FROM ext WHERE classid = 'pg_proc'::regclass))
  UNION ALL
  SELECT 'schema', quote_ident(n.nspname), n.nspowner, coalesce(n.nspacl, acldefault('n', n.nspowner))
    FROM pg_namespace n
   WHERE n.oid NOT IN (SELECT oid FROM sys)
     AND (n.oid NOT IN (SELECT objid FROM ext WHERE classid = 'pg_namespace'::regclass))
), db AS (
  SELECT d.oid, d.datdba, d.datconnlimit, coalesce(d.datacl, acldefault('d', d.datdba)) AS acl
    FROM pg_database d WHERE d.datname = current_database()
), facts AS (
  SELECT 1 AS o, kind || ' ' || name AS k,
         json_build_object('fact', 'owner', 'kind', kind, 'object', name, 'role', pg_get_userbyid(owner)) AS f
    FROM obj
  UNION ALL
  SELECT 2, kind || ' ' || name || ' ' || CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END,
         json_build_object('fact', 'privileges', 'kind', kind, 'object', name,
                           'role', CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END,
                           'privileges', string_agg(a.privilege_type || CASE WHEN a.is_grantable THEN '*' ELSE '' END, ','
                                                    ORDER BY a.privilege_type))
    FROM obj, aclexplode(obj.acl) a
   GROUP BY kind, name, a.grantee
  UNION ALL
  SELECT 3, pg_get_userbyid(d.defaclrole) || ' ' || coalesce(n.nspname, '') || ' ' || d.defaclobjtype::text || ' ' ||
            CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END,
         json_build_object('fact', 'default privileges', 'role', pg_get_userbyid(d.defaclrole),
                           'schema', coalesce(n.nspname, ''), 'on', d.defaclobjtype::text,
                           'grantee', CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END,
                           'privileges', string_agg(a.privilege_type || CASE WHEN a.is_grantable THEN '*' ELSE '' END, ','
                                                    ORDER BY a.privilege_type))
    FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace, aclexplode(d.defaclacl) a
   GROUP BY d.defaclrole, n.nspname, d.defaclobjtype, a.grantee
  UNION ALL
  SELECT 4, '', json_build_object('fact', 'database owner', 'role', pg_get_userbyid(db.datdba)) FROM db
  UNION ALL
  SELECT 5, CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END,
         json_build_object('fact', 'database privileges',
                           'role', CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END,
                           'privileges', string_agg(a.privilege_type || CASE WHEN a.is_grantable THEN '*' ELSE '' END, ','
                                                    ORDER BY a.privilege_type))
    FROM db, aclexplode(db.acl) a GROUP BY a.grantee
  UNION ALL
  SELECT 6, '', json_build_object('fact', 'database connection limit', 'limit', db.datconnlimit) FROM db
  UNION ALL
  SELECT 7, CASE WHEN s.setrole = 0 THEN '' ELSE pg_get_userbyid(s.setrole) END || ' ' || c,
         json_build_object('fact', 'database setting', 'role', CASE WHEN s.setrole = 0 THEN '' ELSE pg_get_userbyid(s.setrole) END,
                           'setting', c)
    FROM db, pg_db_role_setting s, unnest(s.setconfig) c WHERE s.setdatabase = db.oid
)
SELECT f::text FROM facts ORDER BY o, k;
-- END db-runbook catalog facts
SQL
}
# table_counts_sql: one JSON line per table ({"table":"<schema>.<name>","rows":N}, ordered), counted in the
# calling transaction's snapshot. postgres-backup.sh records it in the dump's snapshot, postgres-verify.sh runs it
# on the restored copy and compares. Ordinary tables and partitions; extension-owned tables are left out.
table_counts_sql() {
  cat <<'SQL'
SELECT json_build_object('table', format('%I.%I', n.nspname, c.relname),
         'rows', (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text::bigint)::text
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
   AND c.oid NOT IN (SELECT objid FROM pg_depend WHERE deptype = 'e' AND classid = 'pg_class'::regclass)
 ORDER BY n.nspname COLLATE "C", c.relname COLLATE "C";
SQL
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
