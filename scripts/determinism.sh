#!/usr/bin/env bash
# Runs the whole suite against the bundled reference server N times (default 20) and compares every
# verdict of every requirement on every instance; prints the flake count and exits 1 if there is any.
#
#   scripts/determinism.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-20}"
command -v jq >/dev/null || { echo "error: jq is required (apt-get install -y jq)" >&2; exit 2; }
# Where cargo puts release builds (CARGO_TARGET_DIR and the build.target-dir setting included).
RELEASE="$(cargo metadata --format-version 1 --no-deps | jq -r .target_directory)/release"
cargo build --release --quiet
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
for run in $(seq 1 "$RUNS"); do
  "$RELEASE"/authconform run --format "json=$WORK/$run.json" --format "human=$WORK/$run.txt" >/dev/null || true
  jq -r '.targets[] | .name as $t | .requirements[] | "\($t)\t\(.id)\t\(.verdict)"' "$WORK/$run.json" | sort >"$WORK/$run.verdicts"
  printf 'run %2d: %s\n' "$run" "$(tail -1 "$WORK/$run.txt")"
done
flakes=0
for run in $(seq 2 "$RUNS"); do
  if ! diff -q "$WORK/1.verdicts" "$WORK/$run.verdicts" >/dev/null; then
    flakes=$((flakes + 1))
    echo "run $run differs from run 1:"
    diff "$WORK/1.verdicts" "$WORK/$run.verdicts" || true
  fi
done
echo "determinism: $RUNS runs, $(wc -l <"$WORK/1.verdicts") verdicts each, $flakes flaky run(s)"
[ "$flakes" -eq 0 ]
