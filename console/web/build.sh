#!/usr/bin/env bash
# Builds the console into ../assets (committed, so `cargo build` never needs
# npm or the network): Preact and htm with our sources, bundled and minified
# by esbuild at the exact versions of package-lock.json.
# Usage: console/web/build.sh   (then commit console/assets)
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund >/dev/null
out=../assets
./node_modules/.bin/esbuild src/main.js --bundle --minify --format=esm --target=es2020 \
  --legal-comments=none --outfile="$out/console.js" --log-level=warning
./node_modules/.bin/esbuild src/console.css --minify --outfile="$out/console.css" --log-level=warning
# The licences of what the bundle contains.
{
  echo "Meshwork's console bundles the following packages (console/web/package-lock.json)."
  for pkg in preact htm graphql; do
    version=$(node -p "require('./node_modules/$pkg/package.json').version")
    echo
    echo "== $pkg $version"
    echo
    cat "node_modules/$pkg/LICENSE"*
  done
} >"$out/THIRD_PARTY_LICENSES.txt"
gzip -9 -n -f -k "$out/console.js"
rm -f "$out/console.js"
ls -l "$out"
