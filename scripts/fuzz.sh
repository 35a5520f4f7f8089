#!/usr/bin/env bash
# A longer fuzzing campaign for the scenario parser (templates, scenario files, the catalogue, diagnostics
# rendering) and the target-file loader: every proptest property runs CASES generated inputs (default
# 20,000) and must not panic. Prints the properties, the inputs run and the failures.
#
#   scripts/fuzz.sh            # CASES=20000
set -euo pipefail
cd "$(dirname "$0")/.."
CASES="${CASES:-20000}"
FILTER='test(/never_panic/)'
properties=$(cargo nextest list --workspace -E "$FILTER" --message-format oneline 2>/dev/null | grep -c .)
start=$(date +%s)
if PROPTEST_CASES="$CASES" cargo nextest run --workspace -E "$FILTER" --no-fail-fast; then result=passed; else result=FAILED; fi
elapsed=$(( $(date +%s) - start ))
echo "fuzz: $properties properties x $CASES cases = $(( properties * CASES )) inputs in ${elapsed} s: $result"
[ "$result" = passed ]
