#!/usr/bin/env bash
# Shared setup for scripts/start.sh and scripts/test.sh: makes sure pnpm (and, when asked,
# redis-server and chromium) exist, then installs the workspace's dependencies from the lockfile.
# Sourced, not run: `source scripts/setup.sh [--redis]`.
set -euo pipefail

strata_need_pnpm() {
  if command -v pnpm >/dev/null 2>&1; then return 0; fi
  echo "[setup] pnpm not found: installing pnpm@10 with npm" >&2
  npm install -g pnpm@10.34.9 >/dev/null 2>&1 || {
    echo "[setup] could not install pnpm: run 'npm install -g pnpm@10' and retry" >&2
    return 1
  }
}

strata_need_redis() {
  if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; then return 0; fi
  echo "[setup] redis-server not found: installing Debian package redis-server" >&2
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  if command -v apt-get >/dev/null 2>&1; then
    $sudo apt-get update -qq >/dev/null && \
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends redis-server >/dev/null || true
  fi
  if ! command -v redis-server >/dev/null 2>&1; then
    echo "[setup] redis-server is required for the tests: install it with 'apt-get install -y redis-server'" >&2
    return 1
  fi
}

# Debian's chromium for the dashboard's browser test (driven by playwright-core; never a downloaded browser).
strata_need_chromium() {
  if [ -x /usr/bin/chromium ]; then return 0; fi
  echo "[setup] /usr/bin/chromium not found: installing Debian package chromium" >&2
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  if command -v apt-get >/dev/null 2>&1; then
    $sudo apt-get update -qq >/dev/null && \
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null || true
  fi
  if [ ! -x /usr/bin/chromium ]; then
    echo "[setup] chromium is required for the dashboard test: install it with 'apt-get install -y chromium'" >&2
    return 1
  fi
}

strata_install() {
  if [ -n "${CI:-}" ]; then
    pnpm install --frozen-lockfile --reporter=append-only
  else
    pnpm install --frozen-lockfile --reporter=silent || pnpm install --reporter=append-only
  fi
}

strata_need_pnpm
if [ "${1:-}" = "--redis" ]; then strata_need_redis; strata_need_chromium; fi
strata_install
