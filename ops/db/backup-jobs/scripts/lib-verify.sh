# shellcheck shell=bash
# lib-verify.sh: what postgres-verify.sh and neo4j-verify.sh share: the checks of a verification, the smoke
# queries of the values file, and the <key>.verified.json record with its own .sha256.
#
# Sourced after lib-common.sh (log, aws_cli). Globals: checks (array), failed_check (the first failed check).
# Published with the scripts (the database-backup-scripts ConfigMap holds every scripts/*.sh file).

checks=()
failed_check=''

# json_str TEXT: TEXT as a JSON string (control characters other than newline and tab dropped)
json_str() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\t'/\\t}
  s=${s//$'\r'/}
  printf '"%s"' "$(printf '%s' "$s" | tr -d '\000-\010\013-\037')"
}
json_opt() { if [[ -n "$1" ]]; then json_str "$1"; else echo null; fi; }
json_lines() { if [[ -s "$1" ]]; then paste -sd, "$1"; fi; }

# check NAME OK DETAIL: one check of the record (OK is true or false); the first that fails is failed_check
check() {
  checks+=("{\"name\":$(json_str "$1"),\"ok\":$2,\"detail\":$(json_str "$3")}")
  if [[ "$2" != true && -z "$failed_check" ]]; then failed_check=$1; fi
  log "$([[ "$2" == true ]] && echo '✓' || echo '✗') $1: $3"
}

# ---------------------------------------------------------------------------------------------- smoke queries
# The values file's smokeQueries as text (the ConfigMap db-runbook-smoke-queries, or VERIFY_SMOKE_QUERIES):
#   -- name: orders exist
#   -- expect: >= 1            (optional: a value, true/false, or a comparison: >=, <=, >, <, =, != and a number)
#   SELECT count(*) FROM orders
# Lines starting with '#' before the first '-- name:' are comments. Each query is ONE read-only statement.

# smoke_queries_text: the text from VERIFY_SMOKE_QUERIES_FILE (a missing file: none) or VERIFY_SMOKE_QUERIES
smoke_queries_text() {
  if [[ -n "${VERIFY_SMOKE_QUERIES_FILE:-}" ]]; then
    if [[ -f "$VERIFY_SMOKE_QUERIES_FILE" ]]; then
      cat -- "$VERIFY_SMOKE_QUERIES_FILE"
    else
      log "no smoke queries: $VERIFY_SMOKE_QUERIES_FILE does not exist (the optional ConfigMap db-runbook-smoke-queries is absent)"
    fi
  elif [[ -n "${VERIFY_SMOKE_QUERIES:-}" ]]; then
    printf '%s\n' "$VERIFY_SMOKE_QUERIES"
  fi
}

# split_smoke_queries DIR < TEXT: DIR/<n>.name, DIR/<n>.query and (when given) DIR/<n>.expect, n = 1, 2, …
split_smoke_queries() {
  mkdir -p "$1"
  awk -v dir="$1" '
    /^-- name:/ {
      n++; name = $0; sub(/^-- name:[ \t]*/, "", name); sub(/[ \t\r]+$/, "", name)
      if (name == "") name = "query " n
      print name > (dir "/" n ".name"); close(dir "/" n ".name")
      printf "" > (dir "/" n ".query"); close(dir "/" n ".query"); next
    }
    /^-- expect:/ && n { e = $0; sub(/^-- expect:[ \t]*/, "", e); sub(/[ \t\r]+$/, "", e); print e > (dir "/" n ".expect"); close(dir "/" n ".expect"); next }
    n { print >> (dir "/" n ".query"); close(dir "/" n ".query") }
  '
}

# smoke_query_body FILE: the statement without trailing blanks and its final ';'. Fails (and says why on stdout)
# for no statement or more than one (a ';' inside: refused rather than parsed).
smoke_query_body() {
  local body
  body=$(sed -e 's/[[:space:]]*$//' -e '/^$/d' "$1")
  while [[ "$body" == *';' ]]; do body=${body%;}; done
  if [[ -z "${body//[[:space:]]/}" ]]; then
    echo 'it holds no statement'
    return 1
  fi
  if [[ "$body" == *';'* ]]; then
    echo "refused, not run: it holds a ';' (more than one statement?): a smoke query is ONE read-only statement"
    return 1
  fi
  printf '%s\n' "$body"
}

# expect_verdict HAS_ROW ACTUAL EXPECT: prints the detail; fails when ACTUAL (the first value) does not meet EXPECT
# (as db-runbook's restore validation compares: a boolean matches t/true and f/false, a comparison is numeric)
expect_verdict() {
  local has_row=$1 actual=$2 expect=$3 shown op bound
  if [[ "$has_row" == true ]]; then shown=$(json_str "$actual"); else shown='(no rows)'; fi
  if [[ -z "$expect" ]]; then
    echo "ran; first value $shown"
    return 0
  fi
  if [[ "$has_row" != true ]]; then
    echo "no rows (expected $expect)"
    return 1
  fi
  case "${expect,,}" in
    true | false)
      local want=${expect,,} got=${actual,,}
      [[ "$got" == t ]] && got=true
      [[ "$got" == f ]] && got=false
      echo "$shown, expected $want"
      [[ "$got" == "$want" ]]
      return
      ;;
  esac
  if [[ "$expect" =~ ^[[:space:]]*(\>=|\<=|!=|\<\>|\>|\<|=)[[:space:]]*(-?[0-9]+(\.[0-9]+)?)[[:space:]]*$ ]]; then
    op=${BASH_REMATCH[1]}
    bound=${BASH_REMATCH[2]}
    if ! [[ "$actual" =~ ^[[:space:]]*-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?[[:space:]]*$ ]]; then
      echo "$shown is not a number (expected $op $bound)"
      return 1
    fi
    echo "$shown, expected $op $bound"
    awk -v a="$actual" -v b="$bound" -v op="$op" 'BEGIN {
      a += 0; b += 0
      ok = (op == ">=") ? a >= b : (op == "<=") ? a <= b : (op == ">") ? a > b : (op == "<") ? a < b : (op == "=") ? a == b : a != b
      exit ok ? 0 : 1 }'
    return
  fi
  echo "$shown, expected $(json_str "$expect")"
  [[ "$actual" == "$expect" ]]
}

# each_smoke_query TEXT DIR RUN: splits TEXT into DIR (split_smoke_queries) and calls `RUN N NAME BODY EXPECT` for
# each query in order (N numbers its files in DIR); a query whose body cannot be read fails its check instead
each_smoke_query() {
  local text=$1 dir=$2 run=$3 name_file n name body expect
  [[ -n "$text" ]] || return 0
  split_smoke_queries "$dir" <<<"$text"
  for name_file in $(find "$dir" -name '*.name' -printf '%f\n' | sort -n); do
    n=${name_file%.name}
    name=$(cat "$dir/$n.name")
    if ! body=$(smoke_query_body "$dir/$n.query"); then
      check "smoke query: $name" false "$body"
      continue
    fi
    expect=''
    if [[ -f "$dir/$n.expect" ]]; then expect=$(cat "$dir/$n.expect"); fi
    "$run" "$n" "$name" "$body" "$expect"
  done
}

# smoke_check NAME HAS_ROW ACTUAL EXPECT: the check "smoke query: NAME" from expect_verdict's answer
smoke_check() {
  local verdict
  if verdict=$(expect_verdict "$2" "$3" "$4"); then
    check "smoke query: $1" true "$verdict"
  else
    check "smoke query: $1" false "$verdict"
  fi
}

# ---------------------------------------------------------------------------------------------- the record
# publish_record FILE BUCKET KEY: uploads FILE as s3://BUCKET/KEY.verified.json and its .sha256 (sha256sum's
# format, named like the record); sets record_sha. Exits 6 when either upload fails.
publish_record() {
  local file=$1 bucket=$2 key=$3
  record_sha=$(sha256sum "$file" | cut -d' ' -f1)
  printf '%s  %s\n' "$record_sha" "${key##*/}.verified.json" >"$file.sha256"
  if ! aws_cli s3 cp "$file" "s3://$bucket/$key.verified.json" --content-type application/json \
    --only-show-errors 2>"$file.put.err" ||
    ! aws_cli s3 cp "$file.sha256" "s3://$bucket/$key.verified.json.sha256" --content-type text/plain \
      --only-show-errors 2>>"$file.put.err"; then
    tail_of "$file.put.err"
    die 6 "could not publish s3://$bucket/$key.verified.json"
  fi
}

# verified_by: "pod","job" of the record (VERIFY_POD_NAME / VERIFY_JOB_NAME, else this host and its Job's name)
verified_by() {
  local pod=${VERIFY_POD_NAME:-$(hostname_of_this)} job=${VERIFY_JOB_NAME:-}
  if [[ -z "$job" && -n "${KUBERNETES_SERVICE_HOST:-}" && "$pod" =~ ^(.+)-[a-z0-9]{5}$ ]]; then job=${BASH_REMATCH[1]}; fi
  printf '"pod":%s,"job":%s' "$(json_str "$pod")" "$(json_str "$job")"
}

# print_summary RESULT URI BUCKET KEY DURATION_MS: the key=value lines on stdout that db-runbook verify reads
print_summary() {
  printf 'result=%s\nbackup=%s\nrecord=s3://%s/%s.verified.json\nrecord_sha256=%s\nfailed_check=%s\nduration_seconds=%s\n' \
    "$1" "$2" "$3" "$4" "$record_sha" "$failed_check" "$(($5 / 1000))"
}
