#!/usr/bin/env bash
# Benchmarks the reference server's cheap paths with the memory store and with the Redis store in one run,
# on 127.0.0.1 only, and prints requests/s for each and the ratio Redis ÷ memory.
#
#   scripts/bench-redis.sh                                   # 3-second runs, each path three times, interleaved
#   BASELINE=/path/to/older/authconform-reference-server scripts/bench-redis.sh
#                                                            # adds that binary's memory store, for before/after
#
# Needs wrk, curl, jq and redis-server with redis-cli (apt-get install -y wrk curl jq redis-server). Redis runs without
# persistence here (the cheap paths are what is measured, not the disk); every Redis decision is one Lua
# script call, and GET /user one HGETALL.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-3}"
THREADS="${THREADS:-2}"
CONNECTIONS="${CONNECTIONS:-64}"
for tool in wrk curl jq redis-server; do
  command -v "$tool" >/dev/null || { echo "error: $tool is required (apt-get install -y $tool)" >&2; exit 2; }
done
# Where cargo puts release builds (CARGO_TARGET_DIR and the build.target-dir setting included).
RELEASE="$(cargo metadata --format-version 1 --no-deps | jq -r .target_directory)/release"

[ -n "${NO_BUILD:-}" ] || cargo build --release --quiet -p authconform-reference-server --bin authconform-reference-server
BIN="$RELEASE/authconform-reference-server"
WORK="$(mktemp -d)"
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

REDIS_PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no --dir "$WORK" \
  --daemonize no >"$WORK/redis.log" 2>&1 &
PIDS+=("$!")
for _ in $(seq 1 100); do
  if [ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null || true)" = PONG ]; then break; fi
  sleep 0.05
done

# Starts a server in the background; sets ADDRESS from its "listening on" line.
start() {
  local name="$1"; shift
  local log="$WORK/$name.log"
  "$@" >"$log" 2>"$log.err" &
  PIDS+=("$!")
  for _ in $(seq 1 100); do
    if grep -q "listening on" "$log"; then ADDRESS="$(sed -n 's/^listening on //p' "$log")"; return; fi
    sleep 0.1
  done
  echo "error: $name did not start: $(cat "$log.err")" >&2; exit 3
}

PASSWORD="bench-admin-password"
# The lockout threshold is 1, so after two requests every /authenticate is a lockout 429.
FLAGS=(--listen 127.0.0.1:0 --profile appmixer-cloud --admin-password "$PASSWORD"
       --creditsafe-password "bench-connect-password" --creditsafe-overall-threshold 1)

# Prepares one server: a token for GET /user, the lockout reached, and wrk scripts for both paths.
prepare() {
  local name="$1" address="$2"
  local token
  token="$(curl -sf -H 'content-type: application/json' \
    -d "{\"username\":\"admin@example.com\",\"password\":\"$PASSWORD\"}" "$address/user/auth" | jq -r .token)"
  for _ in 1 2; do
    curl -s -o /dev/null -H 'content-type: application/json' -d '{"username":"x","password":"y"}' "$address/authenticate"
  done
  printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = %s\n' \
    "'{\"username\":\"x\",\"password\":\"y\"}'" >"$WORK/$name-lockout.lua"
  printf 'wrk.method = "GET"\nwrk.headers["Authorization"] = "Bearer %s"\n' "$token" >"$WORK/$name-me.lua"
}

# Runs wrk and prints requests/s; keeps wrk's output for the error counts.
rps() {
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" -s "$WORK/$1.lua" "$2" >"$WORK/$1.out"
  awk '/^Requests\/sec/ { print $2 }' "$WORK/$1.out"
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
socket_errors() { awk '/Socket errors/ { print }' "$WORK/$1.out"; }

SERVERS=(memory redis)
start memory "$BIN" "${FLAGS[@]}"
MEMORY="$ADDRESS"
start redis "$BIN" "${FLAGS[@]}" --store "redis://127.0.0.1:$REDIS_PORT/0"
REDIS="$ADDRESS"
declare -A URL=([memory]="$MEMORY" [redis]="$REDIS")
if [ -n "${BASELINE:-}" ]; then
  start baseline "$BASELINE" "${FLAGS[@]}"
  URL[baseline]="$ADDRESS"
  SERVERS+=(baseline)
fi
for name in "${SERVERS[@]}"; do
  prepare "$name" "${URL[$name]}"
  : >"$WORK/$name-lockout.all"; : >"$WORK/$name-me.all"
done

# Interleave the servers and keep each path's median, so a change in the machine's speed during the run
# moves every column alike.
for _ in 1 2 3; do
  for name in "${SERVERS[@]}"; do
    rps "$name-lockout" "${URL[$name]}/authenticate" >>"$WORK/$name-lockout.all"
    rps "$name-me" "${URL[$name]}/user" >>"$WORK/$name-me.all"
  done
done
for name in "${SERVERS[@]}"; do
  for path in lockout me; do
    errors="$(socket_errors "$name-$path")"
    [ -z "$errors" ] || echo "note: $name $path: $errors" >&2
  done
done

lockout_status="$(curl -s -o /dev/null -w '%{http_code}' -H 'content-type: application/json' -d '{"username":"x","password":"y"}' "$REDIS/authenticate")"
me_status="$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: $(sed -n 's/.*"Authorization"\] = "\(.*\)"/\1/p' "$WORK/redis-me.lua")" "$REDIS/user")"

printf 'reference server, memory vs Redis store: %ss per measurement, median of 3 interleaved, %s connections, %s wrk threads, %s cores\n' \
  "$DURATION" "$CONNECTIONS" "$THREADS" "$(nproc)"
printf '%-36s %12s %12s %8s' "path" "memory" "redis" "redis/memory"
[ -n "${BASELINE:-}" ] && printf ' %12s %8s' "baseline" "memory/baseline"
printf '\n'
for path in lockout me; do
  label="(a) lockout 429, POST /authenticate"; [ "$path" = me ] && label="(b) GET /user, valid token"
  memory="$(median <"$WORK/memory-$path.all")"
  redis="$(median <"$WORK/redis-$path.all")"
  printf '%-36s %12.0f %12.0f %8.2f' "$label" "$memory" "$redis" "$(awk -v a="$redis" -v b="$memory" 'BEGIN { print a / b }')"
  if [ -n "${BASELINE:-}" ]; then
    baseline="$(median <"$WORK/baseline-$path.all")"
    printf ' %12.0f %8.2f' "$baseline" "$(awk -v a="$memory" -v b="$baseline" 'BEGIN { print a / b }')"
  fi
  printf '\n'
done
echo "redis answers after the run: lockout $lockout_status, GET /user $me_status (expected 429 and 200)"
