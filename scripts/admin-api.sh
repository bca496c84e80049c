#!/usr/bin/env bash
# Runs the standalone admin API + dashboard (apps/admin-api): on REDIS_URL, or the embedded store.
# PORT / HOST / ADMIN_TOKENS / READ_TOKEN / ADMIN_TOKEN / CACHE_PREFIX … : apps/admin-api/README.md.
# node is exec'd directly, so Ctrl-C / SIGTERM reach the server, which closes cleanly and exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
pnpm exec turbo run build --filter=@stratacache/admin-api... --output-logs=errors-only
exec node apps/admin-api/dist/start.js "$@"
