#!/usr/bin/env bash
# Checks the Prometheus files with promtool (Debian's `prometheus` package):
# the rules parse, their unit tests pass, the example configuration loads.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here"/*.yml "$work"/
# The example reads the control key from a file beside it.
echo "example-control-key-0123456789abcdef" >"$work/meshwork-control-key"
cd "$work"
promtool check rules meshwork-alerts.yml
promtool test rules meshwork-alerts.test.yml
promtool check config prometheus.yml
