#!/usr/bin/env bash
# Quick start: set up, migrate, load demo data (first run only), print the login, serve.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/tocsin db upgrade
.venv/bin/tocsin demo seed --if-empty
exec .venv/bin/tocsin serve --host "${TOCSIN_HOST:-127.0.0.1}" --port "${TOCSIN_PORT:-8080}"
