#!/usr/bin/env bash
# Real mode, timed: the whole suite against the reference server with the documented windows scaled by 1/60
# (signup windows 60 s, identical-invalid window 2 s, lockout window 5 s; threshold 200, signup limits 10
# and 50; sliding windows; no test clock, so every wait really passes). Each run on a fresh server: with
# --forwarded-for (the server trusts it), without it, two runs back to back on one server without it (the
# second reads the state file the first wrote: the signups still inside a window, and what each request
# cost), once on a server that declares its policies (`--ratelimit-headers`: the second run reads from its
# `RateLimit` how many of the first run's signups still count) and once on one that does not, and without
# it with --jobs 1 (one scenario at a time). Prints each run's wall time, the time and
# floor `plan` projects and how far off it was, the verdict counts, and the equivalent at the documented
# one-hour windows (× 60). Each run's HTML report, with its timeline, is kept as
# reports/bench-real-mode-RUN.html.
#
#   scripts/bench-real-mode.sh            # takes about eighteen minutes (the --jobs 1 run alone about six)
#   RUNS="forwarded-for" scripts/bench-real-mode.sh
#   # only some of: forwarded-for one-address back-to-back back-to-back-undeclared jobs-1
#
# The machine's load average is printed before and after: on a shared machine it moves the figures.
set -euo pipefail
cd "$(dirname "$0")/.."

SCALE=60
RUNS="${RUNS:-forwarded-for one-address back-to-back back-to-back-undeclared jobs-1}"
command -v jq >/dev/null || { echo "error: jq is required (apt-get install -y jq)" >&2; exit 2; }
# Where cargo puts release builds (CARGO_TARGET_DIR and the build.target-dir setting included).
RELEASE="$(cargo metadata --format-version 1 --no-deps | jq -r .target_directory)/release"
cargo build --release --quiet -p authconform
BIN="$RELEASE/authconform"
WORK="$(mktemp -d)"
mkdir -p reports
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

PASSWORD="bench-$(date +%s)-password"
SECRET="bench-$(date +%s)-jwt-secret"
SERVER_LIMITS=(
  --signup-rate-limit-email 10 --signup-rate-limit-email-window-ms 60000
  --signup-rate-limit-ip 50 --signup-rate-limit-ip-window-ms 60000
  --creditsafe-identical-invalid-limit 5 --creditsafe-identical-invalid-window-ms 2000
  --creditsafe-overall-threshold 200 --creditsafe-overall-window-ms 5000
  --window-kind sliding
)
TARGET_LIMITS=(
  --limit signup_email=10 --limit signup_email_window_ms=60000
  --limit signup_ip=50 --limit signup_ip_window_ms=60000
  --limit cs_identical_invalid=5 --limit cs_invalid_window_ms=2000
  --limit cs_overall_threshold=200 --limit cs_overall_window_ms=5000
)

# Starts a fresh reference server (arguments: extra server flags); sets URL and PID.
start_server() {
  local log="$WORK/server.log"
  "$BIN" serve --listen 127.0.0.1:0 --profile appmixer-cloud "${SERVER_LIMITS[@]}" \
    --admin-username admin@example.com --admin-password "$PASSWORD" \
    --creditsafe-username connect@example.com --creditsafe-password "$PASSWORD" \
    --appmixer-jwt-secret "$SECRET" "$@" >"$log" 2>"$log.err" &
  PID=$!
  for _ in $(seq 1 100); do
    if grep -qs "listening on" "$log"; then URL="$(sed -n 's/^listening on //p' "$log")"; return; fi
    sleep 0.1
  done
  echo "error: the reference server did not start: $(cat "$log.err")" >&2
  exit 3
}

stop_server() { kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; PID=""; }

# Timed runs on one fresh server (arguments: a label, how many runs back to back, then extra run flags, of
# which --declared only tells the server to send its RateLimit fields); prints one line of the table per
# run. Runs after the first read the state file the one before wrote, so their plan counts the signups
# still inside a window and the request costs the first measured.
bench() {
  local label="$1" times="$2"; shift 2
  local server_flags=() run_flags=()
  for flag in "$@"; do
    case "$flag" in
      --forwarded-for) server_flags+=(--trust-forwarded-for); run_flags+=("$flag") ;;
      --declared) server_flags+=(--ratelimit-headers) ;;
      *) run_flags+=("$flag") ;;
    esac
  done
  set -- "${run_flags[@]+"${run_flags[@]}"}"
  start_server "${server_flags[@]}"
  local target=(--target "$URL" --profile appmixer-cloud --profile creditsafe-connect --clock real
    --admin "admin@example.com:$PASSWORD" --creditsafe "connect@example.com:$PASSWORD" "${TARGET_LIMITS[@]}"
    --state "$WORK/$label.state.json")
  local round
  for round in $(seq 1 "$times"); do
    [ "$times" -gt 1 ] && timed "$label-$round" "$@" || timed "$label" "$@"
  done
  stop_server
}

# One timed run on the running server (arguments: a label, then extra run flags).
timed() {
  local label="$1"; shift
  local plan projected floor
  plan="$("$BIN" plan "${target[@]}" "$@" --format json)"
  projected="$(jq '.targets[0].projected_ms / 1000' <<<"$plan")"
  floor="$(jq '.targets[0].floor_ms / 1000' <<<"$plan")"
  local started ended status=0
  started="$(date +%s.%N)"
  "$BIN" run "${target[@]}" "$@" --color never --format "human=$WORK/$label.txt" \
    --format "json=$WORK/$label.json" --format "html=reports/bench-real-mode-$label.html" || status=$?
  ended="$(date +%s.%N)"
  if [ "$status" -gt 1 ]; then
    stop_server
    echo "error: authconform run ($label) exited $status: $(tail -n 3 "$WORK/$label.txt")" >&2
    exit "$status"
  fi
  local wall hours verdicts error
  wall="$(echo "$ended - $started" | bc -l)"
  hours="$(echo "$wall * $SCALE / 3600" | bc -l)"
  error="$(echo "($projected - $wall) * 100 / $wall" | bc -l)"
  verdicts="$(jq -r '.summary | "\(.passed) pass \(.failed) fail \(.warned) warn \(.inconclusive) inconcl"' "$WORK/$label.json")"
  printf '%-27s %9.1f s %9.1f s %+8.1f %% %9.1f s %9.2f h   %s\n' "$label" "$wall" "$projected" "$error" "$floor" "$hours" "$verdicts"
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
printf '%-27s %11s %11s %10s %11s %11s   %s\n' "run" "wall" "plan" "plan off" "plan floor" "at 1-h windows" "verdicts"
for run in $RUNS; do
  case "$run" in
    forwarded-for) bench forwarded-for 1 --forwarded-for ;;
    one-address) bench one-address 1 ;;
    back-to-back) bench back-to-back 2 --declared ;;
    back-to-back-undeclared) bench back-to-back-undeclared 2 ;;
    jobs-1) bench jobs-1 1 --jobs 1 ;;
    *) echo "error: unknown run '$run' (forwarded-for, one-address, back-to-back, back-to-back-undeclared, jobs-1)" >&2; exit 2 ;;
  esac
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "a window is 60 s here: forwarded-for and one address need about one each (on one address the IP check exhausts the first window and every other signup fits in the next); back to back, the second run reads from a server that declares its policies how many of the first one's last signups count, and on one that does not it waits for them to age out before its IP check"
