#!/usr/bin/env bash
# The README's test command: sets up everything the tests need on a fresh
# Debian machine (as root where packages are missing) and runs them. The Python
# extras, Debian's chromium and chromium-driver and npm for the browser page's
# test, then that page's npm packages; arguments go on to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
"$python" -m pip install -q -e ".[dev,jax,mediapipe]"  # editable: a checkout under work
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v npm >/dev/null || missing+=(npm)
if ((${#missing[@]})); then
    apt-get update -q && apt-get install -y -q "${missing[@]}" >/dev/null
fi
(cd examples/web && npm ci --no-audit --no-fund --silent)
exec "$python" -m pytest "$@"
