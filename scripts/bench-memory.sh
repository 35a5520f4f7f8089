#!/usr/bin/env bash
# Memory bound: floods the reference server with distinct keys (by default 1,000,000 distinct invalid
# Creditsafe requests, then 1,000,000 distinct signup e-mails from as many client addresses), prints its RSS
# after each flood, then moves its test clock past every window and prints the RSS once the sweeper has
# dropped the expired entries. Target: RSS under 256 MiB throughout, and falling back afterwards.
#
#   scripts/bench-memory.sh            # DURATION=40 seconds per flood by default (over 1,000,000 requests
#                                      # each on this machine; the counts are printed)
#
# Requests are cheap by construction: Creditsafe requests carry no password (no hash to compute, but the
# invalid-request limiter still records each distinct body), and the signup e-mail limit is 0 (every signup
# is refused after both limiters have recorded its e-mail and address). Needs wrk, curl and jq.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in wrk curl jq; do
  command -v "$tool" >/dev/null || { echo "error: $tool is required (apt-get install -y $tool)" >&2; exit 2; }
done
# Where cargo puts release builds (CARGO_TARGET_DIR and the build.target-dir setting included).
RELEASE="$(cargo metadata --format-version 1 --no-deps | jq -r .target_directory)/release"
cargo build --release --quiet -p authconform-reference-server
WORK="$(mktemp -d)"
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

"$RELEASE"/authconform-reference-server --listen 127.0.0.1:0 --profile appmixer-cloud --test-clock \
  --trust-forwarded-for --signup-rate-limit-email 0 --signup-rate-limit-ip 100000000 \
  --creditsafe-overall-threshold 100000000 >"$WORK/server.log" 2>/dev/null &
PID=$!
for _ in $(seq 1 100); do grep -q "listening on" "$WORK/server.log" && break; sleep 0.1; done
SERVER="$(sed -n 's/^listening on //p' "$WORK/server.log")"

rss() { awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$PID/status"; }
keys() { curl -s "$SERVER/healthz" | jq -r .limiter_keys; }

# Every request carries a key never sent before (thread id and counter); wrk reports how many went out.
flood() {
  local script="$1" path="$2"
  cat >"$WORK/$script.lua" <<LUA
local counter = 0
local id = 0
setup = function(thread) id = id + 1; thread:set("tid", id) end
init = function(args) math.randomseed(os.time() + tid) end
request = function()
  counter = counter + 1
  local n = tid * 1000000000 + counter
  if "$script" == "connect" then
    return wrk.format("POST", "$path", {["Content-Type"] = "application/json"}, '{"username":"m' .. n .. '"}')
  else
    local a = n % 250 + 1
    local b = math.floor(n / 250) % 250 + 1
    local c = math.floor(n / 62500) % 250 + 1
    return wrk.format("POST", "$path", {["Content-Type"] = "application/json", ["X-Forwarded-For"] = "10." .. c .. "." .. b .. "." .. a},
      '{"username":"u' .. n .. '","email":"e' .. n .. '@example.com","password":"x"}')
  end
end
LUA
  # Long enough for KEYS requests at the machine's rate; wrk reports how many were sent.
  wrk -t2 -c64 -d"${DURATION:-40}s" -s "$WORK/$script.lua" "$SERVER$path" >"$WORK/$script.out"
  awk '/requests in/ { print $1 }' "$WORK/$script.out"
}

printf 'start: RSS %s MiB, %s limiter keys\n' "$(rss)" "$(keys)"
sent=$(flood connect /authenticate)
printf 'after %s distinct invalid Creditsafe requests: RSS %s MiB, %s limiter keys\n' "$sent" "$(rss)" "$(keys)"
peak=$(awk '/^VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$PID/status")
sent=$(flood signup /user)
printf 'after %s distinct signup e-mails and addresses: RSS %s MiB, %s limiter keys\n' "$sent" "$(rss)" "$(keys)"
curl -s -o /dev/null -H 'content-type: application/json' -d '{"advance_ms": 7200000}' "$SERVER/_authconform/clock"
sleep 7
peak=$(awk '/^VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$PID/status")
printf 'two hours later (test clock), after a sweep: RSS %s MiB, %s limiter keys; peak RSS %s MiB (target < 256)\n' "$(rss)" "$(keys)" "$peak"
