#!/usr/bin/env bash
# Everything generated from the API, in order: schema.graphql from the server's resolvers,
# then the typed documents of the TypeScript SDK and the extension, then the Python client's
# models (when .venv exists: scripts/python-env.sh creates it). Tests fail when any is stale.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
node server/bin/ouro.js schema --out schema.graphql
npm run --silent -w client-sdk codegen
npm run --silent -w jupyter-extension codegen
if [ -x .venv/bin/python ]; then .venv/bin/python client-sdk/python/tools/generate.py; else echo "(no .venv: run scripts/python-env.sh, then this again, to regenerate the Python client's models)"; fi
