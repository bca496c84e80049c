#!/usr/bin/env bash
# Sets up and runs the main job: the demo CRM upstream + the caching MCP gateway
# (on the embedded in-process store unless REDIS_URL is set). Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
exec pnpm start
