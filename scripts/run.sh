#!/usr/bin/env bash
# Runs the portal on its embedded default (SQLite in ./data, Hangfire in memory) with the demo city.
# Usage: scripts/run.sh [extra portal arguments, e.g. --urls http://127.0.0.1:8080]
set -euo pipefail
cd "$(dirname "$0")/.."
urls="http://127.0.0.1:5080"
for arg in "$@"; do [[ "$arg" == --urls* ]] && urls=""; done
exec dotnet run --project Portal -c Release -- \
  --Portal:DemoMode=true --Portal:DataFolder="$PWD/data" ${urls:+--urls "$urls"} "$@"
