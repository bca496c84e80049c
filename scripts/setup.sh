#!/usr/bin/env bash
# Shared setup for scripts/start.sh and scripts/test.sh: makes sure pnpm (and, when asked,
# redis-server) exist, then installs the workspace's dependencies from the lockfile.
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

# Best effort: Debian's chromium for the browser checks (apps/loadtester opens its HTML report in
# it with playwright-core); a test that needs it says so and skips when it could not be installed.
strata_want_chromium() {
  if [ -x /usr/bin/chromium ]; then return 0; fi
  echo "[setup] chromium not found: installing Debian package chromium (browser checks)" >&2
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  if command -v apt-get >/dev/null 2>&1; then
    $sudo apt-get update -qq >/dev/null && \
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null || true
  fi
  [ -x /usr/bin/chromium ] || echo "[setup] chromium could not be installed: browser checks will be skipped" >&2
  return 0
}

strata_install() {
  if [ -n "${CI:-}" ]; then
    pnpm install --frozen-lockfile --reporter=append-only
  else
    pnpm install --frozen-lockfile --reporter=silent || pnpm install --reporter=append-only
  fi
}

strata_need_pnpm
if [ "${1:-}" = "--redis" ]; then strata_need_redis; strata_want_chromium; fi
strata_install
