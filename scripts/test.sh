#!/usr/bin/env bash
# Sets up and runs every test of the workspace on a fresh machine (Node 20):
# installs pnpm and redis-server when missing, installs dependencies, builds,
# typechecks, runs every package's tests (against real redis-server processes
# that the test harness starts on free ports), and prints one summary line.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh --redis

report_dir="$(mktemp -d "${TMPDIR:-/tmp}/stratacache-reports-XXXXXX")"
trap 'rm -rf "$report_dir"' EXIT
export STRATA_REPORT_DIR="$report_dir"

pnpm exec turbo run build typecheck lint --output-logs=errors-only
status=0
pnpm exec turbo run test --concurrency=1 --continue || status=$?
node scripts/test-summary.mjs "$report_dir" || status=1
exit "$status"
