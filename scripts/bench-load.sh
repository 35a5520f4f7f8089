#!/usr/bin/env bash
# Measures, in one run on 127.0.0.1, how fast `authconform load` drives the reference server's sign-in
# path next to wrk with the same connection count, and prints the ratio. `load lockout` runs the catalogue's
# lockout check (the same steps and judge as `run`) with its floods at --users in flight; here the server's
# threshold is REQUESTS, so each of its two floods sends about REQUESTS distinct requests, and the report's
# rate covers the floods alone (the waits between them are left out). wrk sends the same distinct requests
# (a fresh username each) to a second server whose threshold it never reaches. Also times the full
# 10,000-request lockout profile against the bundled reference server, and the open model's accuracy next
# to oha (below capacity: achieved rate against the target; above: corrected p99s). Each side's own CPU per
# request (user + system, from the shell's `time`, and each apart) is printed too: on a machine the generator
# shares with the target, a generator's CPU is the target's loss, and this is where the two differ. Both make
# the same system calls per request, so the kernel's share is about equal; the difference is in user space.
#
#   scripts/bench-load.sh              # CONNECTIONS=64 REQUESTS=100000 DURATION=5 ROUNDS=3 THREADS="1 2"
#   OHA=0 scripts/bench-load.sh        # without the oha comparison (LOW_RATE=2000 HIGH_RATE=60000)
#
# For each thread count in THREADS, both tools run on that many threads (wrk -t, load --threads) with the
# same connections: like against like. wrk and authconform take turns ROUNDS times, each against a fresh
# server of its own, going first in turn; the medians are compared, and each round's ratio is printed with
# their spread, so a burst of other work on a shared machine does not land on one side only and shows when
# it lands. The last line sets each tool at its best thread count against the other's.
# Needs wrk (apt-get install -y wrk), jq and curl; oha is installed with cargo when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
CONNECTIONS="${CONNECTIONS:-64}"
REQUESTS="${REQUESTS:-100000}"
DURATION="${DURATION:-5}"
ROUNDS="${ROUNDS:-3}"
THREADS="${THREADS:-1 2}"
for tool in wrk jq; do
  command -v "$tool" >/dev/null || { echo "error: $tool is required (apt-get install -y $tool)" >&2; exit 2; }
done
# Where cargo puts release builds (CARGO_TARGET_DIR and the build.target-dir setting included).
RELEASE="$(cargo metadata --format-version 1 --no-deps | jq -r .target_directory)/release"
cargo build --release --quiet --bin authconform -p authconform
cargo build --release --quiet -p authconform-reference-server
WORK="$(mktemp -d)"
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

# The full lockout profile (threshold 10,000, 64 users, lockout verified with the test clock).
start_ns=$(date +%s%N)
"$RELEASE"/authconform load --format "json=$WORK/profile.json" >/dev/null 2>"$WORK/profile.err" || {
  echo "error: the lockout profile failed: $(cat "$WORK/profile.err")" >&2; exit 1; }
profile_s=$(awk -v s="$start_ns" -v e="$(date +%s%N)" 'BEGIN { printf "%.2f", (e - s) / 1e9 }')

# Starts a reference server with this threshold; sets SERVER to its URL and SERVER_PID to its process.
start_server() { # threshold, log file
  "$RELEASE"/authconform-reference-server --listen 127.0.0.1:0 --test-clock \
    --creditsafe-overall-threshold "$1" >"$2" 2>/dev/null &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  for _ in $(seq 1 100); do grep -q "listening on" "$2" && break; sleep 0.1; done
  SERVER="$(sed -n 's/^listening on //p' "$2")"
}
cat >"$WORK/distinct.lua" <<'LUA'
local n = 0
request = function()
  n = n + 1
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" },
    '{"username":"wrk-' .. n .. '"}')
end
LUA
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
: >"$WORK/wrk-cpu.txt"; : >"$WORK/load-cpu.txt"
# CPU seconds a command spent, appended to $1 as "user system"; the command's own output is kept on stdout.
cpu_of() {
  local out="$1"; shift
  local TIMEFORMAT='%U %S'
  local status=0
  { time "$@" 2>&3 || status=$?; } 3>&2 2>"$WORK/time.txt"
  cat "$WORK/time.txt" >>"$out"
  return "$status"
}
# Microseconds of CPU per request from the last line of a cpu_of file and a request count: "total user
# system", each on its own line of $3, $4 and $5.
per_request() { # cpu file, requests, total file, user file, system file
  tail -1 "$1" | awk -v n="$2" -v t="$3" -v u="$4" -v s="$5" '{
    printf "%.2f\n", ($1 + $2) * 1e6 / n >>t; printf "%.2f\n", $1 * 1e6 / n >>u; printf "%.2f\n", $2 * 1e6 / n >>s }'
}
# One side of a round: wrk against a fresh server whose threshold it never reaches, or the lockout check
# against a fresh server at threshold REQUESTS (the check leaves its client locked out). Each side gets a
# server of its own, started the same way, so neither meets state the other left.
wrk_side() {
  start_server 1000000000 "$WORK/wrk-server-$round.log"
  cpu_of "$WORK/wrk-cpu.txt" wrk -t"$threads" -c"$CONNECTIONS" -d"${DURATION}s" -s "$WORK/distinct.lua" \
    "$SERVER/authenticate" >"$WORK/wrk-out.txt"
  awk '/^Requests\/sec/ { print $2 }' "$WORK/wrk-out.txt" >>"$WORK/wrk.txt"
  local requests
  requests=$(awk '/requests in/ { print $1 }' "$WORK/wrk-out.txt")
  # Microseconds of the generator's own CPU per request: where a generator's cost shows on a machine it
  # shares with the target.
  per_request "$WORK/wrk-cpu.txt" "$requests" "$WORK/wrk-us.txt" "$WORK/wrk-user.txt" "$WORK/wrk-sys.txt"
  kill "$SERVER_PID" 2>/dev/null || true
}
load_side() {
  start_server "$REQUESTS" "$WORK/loaded-$round.log"
  cpu_of "$WORK/load-cpu.txt" "$RELEASE"/authconform load lockout --target "$SERVER" --profile creditsafe-connect --clock control \
    --limit "cs_overall_threshold=$REQUESTS" --users "$CONNECTIONS" \
    --threads "$threads" --format "json=$WORK/load.json" >/dev/null 2>"$WORK/load.err" || {
      echo "error: the lockout profile failed at threshold $REQUESTS: $(tail -5 "$WORK/load.err")" >&2; exit 1; }
  jq -r '.targets[0].load.requests_per_second' "$WORK/load.json" >>"$WORK/load.txt"
  jq -r '.targets[0].load.latency_ms.p99' "$WORK/load.json" >>"$WORK/p99.txt"
  per_request "$WORK/load-cpu.txt" "$(jq -r '.targets[0].load.requests' "$WORK/load.json")" \
    "$WORK/load-us.txt" "$WORK/load-user.txt" "$WORK/load-sys.txt"
  # The report's own figure: CPU while the floods ran, without the process's start and its reports.
  jq -r '.targets[0].load | .generator.cpu_percent / 100 * .duration_ms * 1000 / .requests' "$WORK/load.json" \
    >>"$WORK/load-flood-us.txt"
  kill "$SERVER_PID" 2>/dev/null || true
}
printf "lockout profile (10,000-request threshold, 64 users, clock control): %s s end to end\n" "$profile_s"
: >"$WORK/best.txt"
for threads in $THREADS; do
  : >"$WORK/wrk.txt"; : >"$WORK/load.txt"; : >"$WORK/p99.txt"; : >"$WORK/wrk-us.txt"; : >"$WORK/load-us.txt"
  : >"$WORK/wrk-user.txt"; : >"$WORK/wrk-sys.txt"; : >"$WORK/load-user.txt"; : >"$WORK/load-sys.txt"
  : >"$WORK/load-flood-us.txt"
  : >"$WORK/ratios.txt"
  for round in $(seq 1 "$ROUNDS"); do
    # The sides take turns going first, so whatever drifts on a shared machine during a round falls on both.
    if [ $((round % 2)) -eq 1 ]; then wrk_side; load_side; else load_side; wrk_side; fi
    ratio=$(awk -v g="$(tail -1 "$WORK/load.txt")" -v w="$(tail -1 "$WORK/wrk.txt")" 'BEGIN { printf "%.3f", g / w }')
    echo "$ratio" >>"$WORK/ratios.txt"
    echo "$threads thread(s), round $round: wrk $(tail -1 "$WORK/wrk.txt") req/s, authconform $(tail -1 "$WORK/load.txt") req/s, load/wrk $ratio" >&2
  done
  wrk_rps=$(median <"$WORK/wrk.txt")
  load_rps=$(median <"$WORK/load.txt")
  echo "$threads $wrk_rps $load_rps" >>"$WORK/best.txt"
  awk -v w="$wrk_rps" -v g="$load_rps" -v c="$CONNECTIONS" -v p99="$(median <"$WORK/p99.txt")" -v r="$ROUNDS" \
      -v t="$threads" -v wu="$(median <"$WORK/wrk-us.txt")" -v gu="$(median <"$WORK/load-us.txt")" \
      -v rm="$(median <"$WORK/ratios.txt")" -v wus="$(median <"$WORK/wrk-user.txt")" \
      -v wsy="$(median <"$WORK/wrk-sys.txt")" -v gus="$(median <"$WORK/load-user.txt")" \
      -v gsy="$(median <"$WORK/load-sys.txt")" -v gf="$(median <"$WORK/load-flood-us.txt")" \
      -v rr="$(sort -g "$WORK/ratios.txt" | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.2f to %.2f", lo, hi }')" 'BEGIN {
    printf "sign-in path, distinct requests, %d connections, %d thread(s) each (wrk -t%d, load --threads %d), medians of %d rounds: wrk %.0f req/s, authconform load %.0f req/s (p99 %.2f ms): load/wrk %.2f (per round: median %.2f, %s)\n", c, t, t, t, r, w, g, p99, g / w, rm, rr
    printf "  generator CPU per request (user + system, it shares the cores with the target): wrk %.1f us, authconform load %.1f us (judging every answer): %.2fx\n", wu, gu, gu / wu
    printf "    in user space wrk %.1f us, authconform %.1f us; in the kernel (the system calls that send and read) wrk %.1f us, authconform %.1f us\n", wus, gus, wsy, gsy
    printf "    authconform while its floods ran (as the report measures it, leaving out the start and the reports): %.1f us\n", gf
  }'
done
# Each tool at the thread count it did best at.
sort -k2 -g "$WORK/best.txt" | tail -1 | {
  read -r wt wr _
  sort -k3 -g "$WORK/best.txt" | tail -1 | {
    read -r lt _ lr
    awk -v wt="$wt" -v wr="$wr" -v lt="$lt" -v lr="$lr" 'BEGIN {
      printf "each at its best: wrk %.0f req/s (-t%d), authconform load %.0f req/s (--threads %d): load/wrk %.2f\n", wr, wt, lr, lt, lr / wr }'
  }
}

# Open-model accuracy side by side with oha on the same sign-in request (oha sends one fixed body, so the
# user it signs in is made first). Below capacity: each tool's achieved rate against the target rate, which
# should be within 1 %. Above capacity: both queue due requests for a free connection (authconform with
# --max-queued large, as oha does) and report latency from the scheduled start (oha --latency-correction),
# so their corrected p99s should be comparable. Skipped with OHA=0; oha is installed when missing.
if [ "${OHA:-1}" != "0" ]; then
  if ! command -v oha >/dev/null; then
    echo "installing oha (cargo install oha --locked)..." >&2
    cargo install oha --locked --quiet >&2
  fi
  LOW_RATE="${LOW_RATE:-2000}"
  HIGH_RATE="${HIGH_RATE:-60000}"
  OPEN_SECONDS="${OPEN_SECONDS:-5}"
  "$RELEASE"/authconform-reference-server --listen 127.0.0.1:0 --test-clock --password-cost light \
    >"$WORK/open-server.log" 2>/dev/null &
  PIDS+=("$!")
  for _ in $(seq 1 100); do grep -q "listening on" "$WORK/open-server.log" && break; sleep 0.1; done
  OPEN_SERVER="$(sed -n 's/^listening on //p' "$WORK/open-server.log")"
  body='{"username":"oha-user","email":"oha-user@example.com","password":"oha-password-1"}'
  curl -s -o /dev/null -X POST -H 'Content-Type: application/json' -d "$body" "$OPEN_SERVER/user"
  signin='{"username":"oha-user","password":"oha-password-1"}'
  open_round() { # rate, seconds, queued → "authconform_rps authconform_p99 oha_rps oha_p99"
    "$RELEASE"/authconform load signin --target "$OPEN_SERVER" --profile appmixer-6 --clock control \
      --arrival-rate "$1/s" --duration "$2s" --max-in-flight "$CONNECTIONS" --max-queued "$3" \
      --format "json=$WORK/open.json" >/dev/null 2>"$WORK/open.err" || true
    local ours_rps ours_p99
    ours_rps=$(jq -r '.targets[0].load.requests_per_second' "$WORK/open.json")
    ours_p99=$(jq -r '.targets[0].load.latency_ms.p99' "$WORK/open.json")
    oha -q "$1" -z "$2s" -c "$CONNECTIONS" --latency-correction --no-tui --output-format json -m POST \
      -T application/json -d "$signin" "$OPEN_SERVER/user/auth" >"$WORK/oha.json" 2>/dev/null
    echo "$ours_rps $ours_p99 $(jq -r '.summary.requestsPerSec' "$WORK/oha.json") $(jq -r '.latencyPercentiles.p99 * 1000' "$WORK/oha.json")"
  }
  read -r low_ours low_ours_p99 low_oha low_oha_p99 <<<"$(open_round "$LOW_RATE" "$OPEN_SECONDS" "$CONNECTIONS")"
  read -r high_ours high_ours_p99 high_oha high_oha_p99 <<<"$(open_round "$HIGH_RATE" 3 10000000)"
  awk -v r="$LOW_RATE" -v a="$low_ours" -v o="$low_oha" -v ap="$low_ours_p99" -v op="$low_oha_p99" \
      -v R="$HIGH_RATE" -v A="$high_ours" -v O="$high_oha" -v AP="$high_ours_p99" -v OP="$high_oha_p99" 'BEGIN {
    printf "open model below capacity (%d/s for the sign-in): authconform %.1f req/s (%+.2f%%, p99 %.2f ms), oha %.1f req/s (%+.2f%%, p99 %.2f ms)\n", r, a, (a - r) * 100 / r, ap, o, (o - r) * 100 / r, op
    printf "open model above capacity (%d/s, 3 s, both queueing): corrected p99 authconform %.1f ms, oha %.1f ms (ratio %.2f); achieved authconform %.0f req/s, oha %.0f req/s\n", R, AP, OP, AP / OP, A, O
  }'
fi
