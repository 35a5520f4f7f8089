#!/usr/bin/env bash
# Measures, in one run on 127.0.0.1, how fast goose (through `authconform load`) drives the reference
# server's lockout path next to wrk with the same connection count, and prints the ratio. Also times the
# full 10,000-request lockout profile against the bundled reference server.
#
#   scripts/bench-load.sh              # CONNECTIONS=64 REQUESTS=150000 DURATION=5 ROUNDS=3 by default
#
# wrk and goose take turns ROUNDS times and the medians are compared, so a burst of other work on a shared
# machine does not land on one side only.
# Needs wrk (apt-get install -y wrk), curl and jq.
set -euo pipefail
cd "$(dirname "$0")/.."
CONNECTIONS="${CONNECTIONS:-64}"
REQUESTS="${REQUESTS:-150000}"
DURATION="${DURATION:-5}"
ROUNDS="${ROUNDS:-3}"
for tool in wrk curl jq; do
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

# The lockout path alone: a server whose threshold of 1 is used up, so every request is a lockout 429.
target/release/authconform-reference-server --listen 127.0.0.1:0 --test-clock \
  --creditsafe-overall-threshold 1 >"$WORK/server.log" 2>/dev/null &
PIDS+=($!)
for _ in $(seq 1 100); do grep -q "listening on" "$WORK/server.log" && break; sleep 0.1; done
SERVER="$(sed -n 's/^listening on //p' "$WORK/server.log")"
cat >"$WORK/lockout.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"username":"x"}'
LUA
for _ in 1 2; do curl -s -o /dev/null -H 'content-type: application/json' -d '{"username":"x"}' "$SERVER/authenticate"; done
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
: >"$WORK/wrk.txt"; : >"$WORK/goose.txt"; : >"$WORK/p99.txt"
for round in $(seq 1 "$ROUNDS"); do
  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" -s "$WORK/lockout.lua" "$SERVER/authenticate" \
    | awk '/^Requests\/sec/ { print $2 }' >>"$WORK/wrk.txt"
  target/release/authconform load lockout --target "$SERVER" --profile creditsafe-connect --clock control \
    --limit cs_overall_threshold=1 --users "$CONNECTIONS" --requests "$REQUESTS" \
    --format "json=$WORK/goose.json" >/dev/null 2>"$WORK/goose.err" || true
  jq -r '.requests_per_second' "$WORK/goose.json" >>"$WORK/goose.txt"
  jq -r '.latency.p99_ms' "$WORK/goose.json" >>"$WORK/p99.txt"
  echo "round $round: wrk $(tail -1 "$WORK/wrk.txt") req/s, goose $(tail -1 "$WORK/goose.txt") req/s" >&2
done
wrk_rps=$(median <"$WORK/wrk.txt")
goose_rps=$(median <"$WORK/goose.txt")
goose_p99=$(median <"$WORK/p99.txt")
awk -v w="$wrk_rps" -v g="$goose_rps" -v p="$profile_s" -v c="$CONNECTIONS" -v p99="$goose_p99" -v r="$ROUNDS" 'BEGIN {
  printf "lockout profile (10,000-request threshold, 64 users, clock control): %s s end to end\n", p
  printf "lockout path, %d connections, medians of %d rounds: wrk %.0f req/s, goose %.0f req/s (p99 %.2f ms): goose/wrk %.2f (target >= 0.50)\n", c, r, w, g, p99, g / w
}'
