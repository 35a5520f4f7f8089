#!/usr/bin/env bash
# Looks at the HTML report as a person would: renders it in headless Chromium and saves a screenshot.
#
#   scripts/html-report-screenshot.sh [REPORT.html] [SCREENSHOT.png] [WIDTH,HEIGHT]
#
# Without a report, runs the whole suite against the bundled reference server (debug build) with
# `--format html=reports/report.html` first. Chromium is Debian's `chromium` (apt-get install chromium).
set -euo pipefail
cd "$(dirname "$0")/.."

report="${1:-reports/report.html}"
screenshot="${2:-reports/report.png}"
size="${3:-1280,2000}"
chromium="${AUTHCONFORM_CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}"
if [ -z "$chromium" ]; then
    echo "chromium is not installed (apt-get install chromium)" >&2
    exit 2
fi

if [ $# -lt 1 ]; then
    mkdir -p "$(dirname "$report")"
    status=0
    cargo run --quiet -- run --format "html=$report" || status=$?
    # 1 is a verdict (a requirement failed), not a reason to stop: the report is what we want to see.
    if [ "$status" -gt 1 ]; then
        echo "authconform run failed with exit code $status" >&2
        exit "$status"
    fi
fi

profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
mkdir -p "$(dirname "$screenshot")"
# A fresh profile, no network use of Chromium's own, and a bound on the time it may take.
timeout --kill-after=5 120 "$chromium" --headless --no-sandbox --disable-gpu \
    --disable-background-networking --disable-component-update --disable-sync --disable-quic \
    --no-first-run --hide-scrollbars --user-data-dir="$profile" \
    --window-size="$size" --screenshot="$screenshot" "file://$(realpath "$report")" 2>/dev/null
echo "screenshot of $report: $screenshot"
