#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs what the tests need, builds once, tests.
# Long fuzz runs and benchmarks stay out of it (see README: PORTAL_FUZZ_ITERATIONS, Portal.Benchmarks).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-test-deps.sh
dotnet build SchoolSafetyPortal.sln -c Release -v q -nologo
dotnet test Portal.Tests/Portal.Tests.csproj -c Release --no-build -nologo "$@"
