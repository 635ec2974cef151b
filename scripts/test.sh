#!/usr/bin/env bash
# `npm test`: every test, on one command. The Python client's tests and the JupyterLab UI
# tests need .venv (made or refreshed here, quickly when nothing changed) and Debian's
# chromium (installed here when missing and apt is usable).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
if ! command -v chromium >/dev/null 2>&1 && [ -z "${OURO_CHROMIUM:-}" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "== installing Debian's chromium for the browser tests"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
bash scripts/python-env.sh
exec vitest run "$@"
