#!/usr/bin/env bash
# Measures, in one run on 127.0.0.1, how fast `authconform load` drives the reference server's sign-in
# path next to wrk with the same connection count, and prints the ratio. `load lockout` runs the catalogue's
# lockout check (the same steps and judge as `run`) with its floods at --users in flight; here the server's
# threshold is REQUESTS, so each of its two floods sends about REQUESTS distinct requests, and the report's
# rate covers the floods alone (the waits between them are left out). wrk sends the same distinct requests
# (a fresh username each) to a second server whose threshold it never reaches. Also times the full
# 10,000-request lockout profile against the bundled reference server.
#
#   scripts/bench-load.sh              # CONNECTIONS=64 REQUESTS=100000 DURATION=5 ROUNDS=3 by default
#
# wrk and authconform take turns ROUNDS times and the medians are compared, so a burst of other work on a
# shared machine does not land on one side only.
# Needs wrk (apt-get install -y wrk) and jq.
set -euo pipefail
cd "$(dirname "$0")/.."
CONNECTIONS="${CONNECTIONS:-64}"
REQUESTS="${REQUESTS:-100000}"
DURATION="${DURATION:-5}"
ROUNDS="${ROUNDS:-3}"
for tool in wrk jq; do
  command -v "$tool" >/dev/null || { echo "error: $tool is required (apt-get install -y $tool)" >&2; exit 2; }
done
cargo build --release --quiet --bin authconform -p authconform
cargo build --release --quiet -p authconform-reference-server
WORK="$(mktemp -d)"
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

# The full lockout profile (threshold 10,000, 64 users, lockout verified with the test clock).
start_ns=$(date +%s%N)
target/release/authconform load --format "json=$WORK/profile.json" >/dev/null 2>"$WORK/profile.err" || {
  echo "error: the lockout profile failed: $(cat "$WORK/profile.err")" >&2; exit 1; }
profile_s=$(awk -v s="$start_ns" -v e="$(date +%s%N)" 'BEGIN { printf "%.2f", (e - s) / 1e9 }')

# Starts a reference server with this threshold; sets SERVER to its URL and SERVER_PID to its process.
start_server() { # threshold, log file
  target/release/authconform-reference-server --listen 127.0.0.1:0 --test-clock \
    --creditsafe-overall-threshold "$1" >"$2" 2>/dev/null &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  for _ in $(seq 1 100); do grep -q "listening on" "$2" && break; sleep 0.1; done
  SERVER="$(sed -n 's/^listening on //p' "$2")"
}
start_server 1000000000 "$WORK/wrk-server.log"
WRK_SERVER="$SERVER"
cat >"$WORK/distinct.lua" <<'LUA'
local n = 0
request = function()
  n = n + 1
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" },
    '{"username":"wrk-' .. n .. '"}')
end
LUA
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
: >"$WORK/wrk.txt"; : >"$WORK/load.txt"; : >"$WORK/p99.txt"
for round in $(seq 1 "$ROUNDS"); do
  # A fresh server each round: the check leaves its client locked out.
  start_server "$REQUESTS" "$WORK/loaded-$round.log"
  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" -s "$WORK/distinct.lua" "$WRK_SERVER/authenticate" \
    | awk '/^Requests\/sec/ { print $2 }' >>"$WORK/wrk.txt"
  target/release/authconform load lockout --target "$SERVER" --profile creditsafe-connect --clock control \
    --limit "cs_overall_threshold=$REQUESTS" --users "$CONNECTIONS" \
    --format "json=$WORK/load.json" >/dev/null 2>"$WORK/load.err" || {
      echo "error: the lockout profile failed at threshold $REQUESTS: $(tail -5 "$WORK/load.err")" >&2; exit 1; }
  jq -r '.targets[0].load.requests_per_second' "$WORK/load.json" >>"$WORK/load.txt"
  jq -r '.targets[0].load.latency_ms.p99' "$WORK/load.json" >>"$WORK/p99.txt"
  kill "$SERVER_PID" 2>/dev/null || true
  echo "round $round: wrk $(tail -1 "$WORK/wrk.txt") req/s, authconform $(tail -1 "$WORK/load.txt") req/s" >&2
done
wrk_rps=$(median <"$WORK/wrk.txt")
load_rps=$(median <"$WORK/load.txt")
load_p99=$(median <"$WORK/p99.txt")
awk -v w="$wrk_rps" -v g="$load_rps" -v p="$profile_s" -v c="$CONNECTIONS" -v p99="$load_p99" -v r="$ROUNDS" 'BEGIN {
  printf "lockout profile (10,000-request threshold, 64 users, clock control): %s s end to end\n", p
  printf "sign-in path, distinct requests, %d connections, medians of %d rounds: wrk %.0f req/s, authconform load %.0f req/s (p99 %.2f ms): load/wrk %.2f\n", c, r, w, g, p99, g / w
}'
