#!/usr/bin/env bash
# Benchmarks the reference server against a bare axum hello-world in one run, on 127.0.0.1 only, and prints
# requests/s for each path, the ratios the project targets, and the server's peak memory under sign-in load.
#
#   scripts/bench-server.sh            # 3-second runs, cheap paths five times each, interleaved (medians)
#   DURATION=5 scripts/bench-server.sh # longer runs
#   ROUNDS=9 scripts/bench-server.sh   # more rounds: a steadier median on a busy machine
#
# Needs wrk (apt-get install -y wrk), curl and jq. Targets: the cheap paths (the lockout 429, GET /user
# with a valid token, a 404) at least 0.9 × hello-world; valid sign-in at least 0.9 × (cores ÷ one
# verify's time) with 256 connections and a peak RSS under 256 MiB. For reference it also sets the lockout
# path against hello-world answering the very same POST (a body to skip and two more headers to parse).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-3}"
ROUNDS="${ROUNDS:-5}"
THREADS="${THREADS:-2}"
CONNECTIONS="${CONNECTIONS:-64}"
for tool in wrk curl jq; do
  command -v "$tool" >/dev/null || { echo "error: $tool is required (apt-get install -y $tool)" >&2; exit 2; }
done

# The server is built on its own: built in one command with the examples, which take the dev-dependencies,
# it would have the deliberate faults of the test builds compiled in.
cargo build --release --quiet -p authconform-reference-server --example hello --example verify_time
cargo build --release --quiet -p authconform-reference-server --bin authconform-reference-server
BIN="$(cargo metadata --format-version 1 --no-deps | jq -r .target_directory)/release"
WORK="$(mktemp -d)"
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

# Starts a server in the background; sets ADDRESS from its "listening on" line and PID.
start() {
  local log="$WORK/$1.log"; shift
  "$@" >"$log" 2>"$log.err" &
  PID=$!
  PIDS+=("$PID")
  for _ in $(seq 1 100); do
    if grep -q "listening on" "$log"; then ADDRESS="$(sed -n 's/^listening on //p' "$log")"; return; fi
    sleep 0.1
  done
  echo "error: $1 did not start: $(cat "$log.err")" >&2; exit 3
}

# Runs wrk and prints requests/s.
rps() {
  wrk -t"$THREADS" -c"$1" -d"${DURATION}s" --latency -s "$WORK/$2.lua" "$3" >"$WORK/$2.out"
  awk '/^Requests\/sec/ { print $2 }' "$WORK/$2.out"
}

non_2xx() { awk '/Non-2xx/ { print $NF }' "$WORK/$1.out"; }
total() { awk '/requests in/ { print $1 }' "$WORK/$1.out"; }

start hello "$BIN/examples/hello" 127.0.0.1:0
HELLO="$ADDRESS"
echo 'wrk.method = "GET"' >"$WORK/hello.lua"

PASSWORD="bench-admin-password"
start server "$BIN/authconform-reference-server" --listen 127.0.0.1:0 --profile appmixer-cloud \
  --admin-password "$PASSWORD" --creditsafe-password "bench-connect-password" \
  --creditsafe-overall-threshold 1
SERVER="$ADDRESS"
SERVER_PID="$PID"

TOKEN="$(curl -sf -H 'content-type: application/json' \
  -d "{\"username\":\"admin@example.com\",\"password\":\"$PASSWORD\"}" "$SERVER/user/auth" | jq -r .token)"
# Use up the overall threshold (1) so every further /authenticate is a lockout 429.
for _ in 1 2; do
  curl -s -o /dev/null -H 'content-type: application/json' -d '{"username":"x","password":"y"}' "$SERVER/authenticate"
done

cat >"$WORK/lockout.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"username":"x","password":"y"}'
LUA
cat >"$WORK/me.lua" <<LUA
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer $TOKEN"
LUA
echo 'wrk.method = "GET"' >"$WORK/missing.lua"
cat >"$WORK/signin.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"username":"admin@example.com","password":"$PASSWORD"}'
LUA

# Interleave: in each of $ROUNDS rounds every cheap path is measured right after a hello-world run, and its
# ratio is taken to that run; each path keeps the median of its ratios (and of its rates), and shows their
# range. A change in the machine's speed (the machine may be shared) then moves both sides of a ratio alike.
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
spread() { sort -n | awk '{ a[NR] = $1 } END { printf "%.2f-%.2f", a[1], a[NR] }'; }
: >"$WORK/hello.all"
for path in lockout me missing; do : >"$WORK/$path.all"; : >"$WORK/$path.ratios"; done
for _ in $(seq 1 "$ROUNDS"); do
  for path in lockout me missing; do
    case "$path" in
      lockout) url="$SERVER/authenticate" ;;
      me) url="$SERVER/user" ;;
      missing) url="$SERVER/no-such-path" ;;
    esac
    hello_now="$(rps "$CONNECTIONS" hello "$HELLO/")"
    path_now="$(rps "$CONNECTIONS" "$path" "$url")"
    echo "$hello_now" >>"$WORK/hello.all"
    echo "$path_now" >>"$WORK/$path.all"
    awk -v p="$path_now" -v h="$hello_now" 'BEGIN { print p / h }' >>"$WORK/$path.ratios"
  done
done
hello_rps="$(median <"$WORK/hello.all")"
lockout_rps="$(median <"$WORK/lockout.all")"
me_rps="$(median <"$WORK/me.all")"
missing_rps="$(median <"$WORK/missing.all")"
lockout_ratio="$(median <"$WORK/lockout.ratios")"
me_ratio="$(median <"$WORK/me.ratios")"
missing_ratio="$(median <"$WORK/missing.ratios")"
lockout_spread="$(spread <"$WORK/lockout.ratios")"
me_spread="$(spread <"$WORK/me.ratios")"
missing_spread="$(spread <"$WORK/missing.ratios")"
# The lockout path set against hello-world sent the very same POST (its body left unread): how much of the
# gap is the request (a body and two more headers to parse) rather than the server's work.
cp "$WORK/lockout.lua" "$WORK/hellopost.lua"
cp "$WORK/lockout.lua" "$WORK/lockout-again.lua"
: >"$WORK/same.ratios"
for _ in $(seq 1 "$ROUNDS"); do
  hello_post="$(rps "$CONNECTIONS" hellopost "$HELLO/")"
  lockout_now="$(rps "$CONNECTIONS" lockout-again "$SERVER/authenticate")"
  awk -v p="$lockout_now" -v h="$hello_post" 'BEGIN { print p / h }' >>"$WORK/same.ratios"
done
same_ratio="$(median <"$WORK/same.ratios")"
same_spread="$(spread <"$WORK/same.ratios")"
signin_rps="$(rps 256 signin "$SERVER/user/auth")"
peak_kib="$(awk '/^VmHWM/ { print $2 }' "/proc/$SERVER_PID/status")"
cores="$(nproc)"
"$BIN/examples/verify_time" 20 >"$WORK/verify.out"
verify_ms="$(awk '/^verify_ms/ { print $2 }' "$WORK/verify.out")"
parallel_ms="$(awk '/^parallel_verify_ms/ { print $2 }' "$WORK/verify.out")"

lockout_refused="$(non_2xx lockout)"; lockout_total="$(total lockout)"; me_wrong="$(non_2xx me)"; signin_wrong="$(non_2xx signin)"
missing_refused="$(non_2xx missing)"; missing_total="$(total missing)"
awk -v hello="$hello_rps" -v lockout="$lockout_rps" -v me="$me_rps" -v missing="$missing_rps" -v signin="$signin_rps" \
    -v lockout_ratio="$lockout_ratio" -v same_ratio="$same_ratio" -v me_ratio="$me_ratio" -v missing_ratio="$missing_ratio" \
    -v peak="$peak_kib" -v cores="$cores" -v verify="$verify_ms" -v parallel="$parallel_ms" -v dur="$DURATION" -v conns="$CONNECTIONS" \
    -v lr="${lockout_refused:-0}" -v lt="${lockout_total:-0}" -v mw="${me_wrong:-0}" -v sw="${signin_wrong:-0}" \
    -v nr="${missing_refused:-0}" -v nt="${missing_total:-0}" -v rounds="$ROUNDS" \
    -v ls="$lockout_spread" -v ss="$same_spread" -v ms="$me_spread" -v ns="$missing_spread" 'BEGIN {
  ceiling = cores / (verify / 1000)
  printf "reference server benchmark: %ss per measurement (cheap paths: %s rounds, each run right after a hello-world run; medians, and the range over the rounds), %s connections (sign-in: 256), %s cores\n", dur, rounds, conns, cores
  printf "%-34s %10.0f req/s\n", "bare axum hello-world", hello
  printf "%-34s %10.0f req/s  %.2f x hello (%s; target >= 0.90)  refused: %s of %s\n", "(a) lockout 429, POST /authenticate", lockout, lockout_ratio, ls, lr, lt
  printf "%-34s %10s        %.2f x hello-world sent the same POST (%s; for reference)\n", "    the same, like against like", "", same_ratio, ss
  printf "%-34s %10.0f req/s  %.2f x hello (%s; target >= 0.90)  non-2xx: %s\n", "(b) GET /user, valid token", me, me_ratio, ms, mw
  printf "%-34s %10.0f req/s  %.2f x hello (%s; target >= 0.90)  404s: %s of %s\n", "(d) 404, GET /no-such-path", missing, missing_ratio, ns, nr, nt
  printf "%-34s %10.0f req/s  %.2f x ceiling %.1f (target >= 0.90)  non-2xx: %s\n", "(c) POST /user/auth, valid", signin, signin / ceiling, ceiling, sw
  printf "one argon2id verify: %.2f ms alone, %.2f ms each with one per core (ceiling then %.1f/s: %.2f x)\n", verify, parallel, cores / (parallel / 1000), signin / (cores / (parallel / 1000))
  printf "server peak RSS: %.1f MiB (target < 256)\n", peak / 1024
  printf "cheap paths against hello-world (medians): lockout 429 %.2f, GET /user %.2f, 404 %.2f (target >= 0.90 each): %s\n", \
    lockout_ratio, me_ratio, missing_ratio, \
    (lockout_ratio >= 0.9 && me_ratio >= 0.9 && missing_ratio >= 0.9) ? "met" : "not met"
}'
