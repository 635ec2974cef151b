#!/usr/bin/env bash
# Creates (once) the repository's Python virtualenv at .venv and installs Ouro's Python
# packages into it: the client (editable, with its test extras), JupyterLab, and the Ouro
# extension from its built wheel, as a user would install it. Safe and quick to run again:
# pip runs only when a package definition or this script changed, and the extension is
# rebuilt only when one of its sources is newer than its wheel (or OURO_REBUILD_EXTENSION=1).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="$ROOT/.venv"
EXT="$ROOT/jupyter-extension"

# One run at a time: parallel test runs (or people) would otherwise build into the same dist/.
mkdir -p "$VENV"
exec 9>"$VENV/.lock"
flock 9

if [ ! -x "$VENV/bin/python" ]; then
  echo "== creating $VENV"
  python3 -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip install --quiet --disable-pip-version-check)

STAMP="$(cat "$0" "$ROOT/client-sdk/python/pyproject.toml" "$EXT/pyproject.toml" | sha256sum | cut -c1-64)"
if [ "$(cat "$VENV/.ouro-packages" 2>/dev/null || true)" != "$STAMP" ]; then
  echo "== installing Python packages into $VENV"
  # The Python client (importable as `ouro`) with what its tests need (pytest, graphql-core, pandas, altair).
  "${PIP[@]}" -e "$ROOT/client-sdk/python[test]"
  # JupyterLab and what packs the extension's wheel.
  "${PIP[@]}" "jupyterlab==4.6.6" "hatchling==1.33.0" "hatch-jupyter-builder==0.10.0"
  echo "$STAMP" > "$VENV/.ouro-packages"
fi

# The extension: the labextension is built with Node (typecheck, bundle, `jupyter labextension
# build`), then packed without build isolation so the wheel needs no download.
WHEEL="$(ls -t "$EXT"/dist/ouro_jupyter-*.whl 2>/dev/null | head -1 || true)"
if [ -z "$WHEEL" ] || [ "${OURO_REBUILD_EXTENSION:-0}" = 1 ] || [ -n "$(find "$EXT/src" "$EXT/style" "$EXT/schema" "$EXT/ouro_jupyter" "$EXT/package.json" "$EXT/pyproject.toml" "$EXT"/*.mjs "$ROOT/client-sdk/src" -newer "$WHEEL" -type f -not -path "*/labextension/*" -not -name "*.pyc" 2>/dev/null | head -1)" ]; then
  echo "== building the JupyterLab extension"
  rm -rf "$EXT/dist" "$EXT/ouro_jupyter/labextension"
  (cd "$ROOT" && PATH="$VENV/bin:$ROOT/node_modules/.bin:$PATH" npm run --silent -w jupyter-extension build:prod)
  "$VENV/bin/python" -m pip wheel --quiet --disable-pip-version-check --no-deps --no-build-isolation -w "$EXT/dist" "$EXT"
  WHEEL="$(ls -t "$EXT"/dist/ouro_jupyter-*.whl | head -1)"
fi
INSTALLED="$(sha256sum "$WHEEL" | cut -c1-64)"
if [ "$(cat "$VENV/.ouro-extension" 2>/dev/null || true)" != "$INSTALLED" ]; then
  "${PIP[@]}" --force-reinstall --no-deps "$WHEEL"
  echo "$INSTALLED" > "$VENV/.ouro-extension"
fi
