#!/usr/bin/env bash
# `npm test`: every test, on one command. The Python client's tests and the JupyterLab UI
# tests need .venv (made or refreshed here, quickly when nothing changed) and Debian's
# chromium (installed here when missing and apt is usable); the NATS JetStream tests need
# Debian's nats-server (likewise).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
if ! command -v chromium >/dev/null 2>&1 && [ -z "${OURO_CHROMIUM:-}" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "== installing Debian's chromium for the browser tests"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
# The JetStream consumer tests start their own nats-server (Debian's package) on a free port.
if ! command -v nats-server >/dev/null 2>&1 && [ ! -x /usr/sbin/nats-server ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "== installing Debian's nats-server for the JetStream tests"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server >/dev/null
fi
bash scripts/python-env.sh
exec vitest run "$@"
