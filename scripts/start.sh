#!/usr/bin/env bash
# Sets up and runs the main job: the demo CRM upstream + the caching MCP gateway
# (on the embedded in-process store unless REDIS_URL is set). Ctrl-C stops it and exits 0.
#
# The long-running process is node itself (exec: no pnpm/turbo/sh wrapper in between), so
# Ctrl-C / SIGTERM reach the gateway directly, it shuts down cleanly and its exit code (0) is
# the script's — no "ELIFECYCLE Command failed". PORT / HOST / DEMO_PORT / REDIS_URL / … are
# read by the gateway (apps/mcp-gateway/README.md#configuration-environment).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
pnpm exec turbo run build --filter=@stratacache/mcp-gateway... --output-logs=errors-only
exec node apps/mcp-gateway/dist/start.js "$@"
