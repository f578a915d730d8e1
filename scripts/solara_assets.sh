#!/usr/bin/env bash
# Fill Solara's front-end asset cache from the npm registry, so the app works with no internet.
#
# Solara (pinned ==1.64.1 in pyproject.toml) loads its front-end through a server-side proxy to a CDN;
# with SOLARA_ASSETS_PROXY_CACHE_DIR pointing at a filled folder it serves the files locally instead.
# The cache layout is CACHE/<npm spec>/<file>, e.g. .solara-cache/requirejs@2.3.6/require.js.
#
# Usage: scripts/solara_assets.sh [CACHE_DIR]   (default: $SOLARA_ASSETS_PROXY_CACHE_DIR or ./.solara-cache)
# Idempotent: a package already unpacked (its package.json present) is skipped. Needs npm only on first run.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${1:-${SOLARA_ASSETS_PROXY_CACHE_DIR:-$PWD/.solara-cache}}"

# The versions solara 1.64.1's page template and widgets ask for (change together with the solara pin).
SPECS=(
  "@widgetti/solara-vuetify-app@10.1.1"
  "@widgetti/solara-vuetify3-app@5.2.0"
  "requirejs@2.3.6"
  "font-awesome@4.5.0"
  "@widgetti/vue-grid-layout@2.3.13-alpha.2"
)

missing=()
for spec in "${SPECS[@]}"; do
  [ -f "$CACHE/$spec/package.json" ] || missing+=("$spec")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "solara asset cache complete: $CACHE"
  exit 0
fi
command -v npm >/dev/null || { echo "error: npm is needed once to fill $CACHE (apt-get install -y npm)" >&2; exit 1; }

mkdir -p "$CACHE"
work=$(mktemp -d "$CACHE/.tmp.XXXXXX")
trap 'rm -rf "$work"' EXIT
for spec in "${missing[@]}"; do
  echo "fetching $spec"
  tarball=$(cd "$work" && npm pack --silent "$spec" | tail -n 1)
  stage="$work/unpacked"
  rm -rf "$stage" && mkdir -p "$stage"
  tar -xzf "$work/$tarball" -C "$stage" --strip-components=1
  mkdir -p "$(dirname "$CACHE/$spec")"
  rm -rf "${CACHE:?}/$spec"
  mv "$stage" "$CACHE/$spec"  # unpack aside, then move: an interrupted run never leaves half a package
  rm -f "$work/$tarball"
done
echo "solara asset cache filled: $CACHE"
