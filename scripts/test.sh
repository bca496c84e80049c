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
# The publish test (tooling/release-test) copies the workspace, installs, builds and publishes it to a
# local registry on its own (~2 min, mostly its own build): it runs beside the other suites, at a
# lower CPU priority so their timing bounds keep the CPU they need. Everything it uses was built above.
release_log="$report_dir/release-test.log"
( cd tooling/release-test && nice -n 10 pnpm run test >"$release_log" 2>&1 ) &
release_pid=$!
pnpm exec turbo run test --concurrency=1 --continue --filter='!@stratacache/release-test' || status=$?
release_status=0
wait "$release_pid" || release_status=$?
sed 's/^/@stratacache\/release-test:test: /' "$release_log"
[ "$release_status" -eq 0 ] || status=$release_status
node scripts/test-summary.mjs "$report_dir" || status=1
exit "$status"
