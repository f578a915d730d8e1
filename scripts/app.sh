#!/usr/bin/env bash
# Start the teaching app (sim/app/teaching.py) on http://127.0.0.1:${PORT:-8765}, fully offline after set-up.
# Usage: scripts/app.sh [extra solara run options]    env: PYTHON (default: .venv/bin/python), PORT, HOST
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
export SOLARA_ASSETS_PROXY_CACHE_DIR="${SOLARA_ASSETS_PROXY_CACHE_DIR:-$PWD/.solara-cache}"
bash scripts/solara_assets.sh "$SOLARA_ASSETS_PROXY_CACHE_DIR"
export SOLARA_TELEMETRY_MIXPANEL_ENABLE=False  # no analytics calls
export SOLARA_THEME_SHOW_BANNER=False  # Solara's "runs on Solara" corner banner sat on the charts and the guide
export MPLBACKEND=Agg
echo "teaching app: http://${HOST:-127.0.0.1}:${PORT:-8765}"
# --no-check-version: otherwise solara asks the package index for a newer release at start-up;
# --production: in development mode the first page ever served embeds a "call home" iframe to solara.dev
# (and the file watcher reloads the app on edits, which a classroom does not need).
exec "$PYTHON" -m solara run sim.app.teaching --host "${HOST:-127.0.0.1}" --port "${PORT:-8765}" --no-open --production \
  --no-check-version "$@"
