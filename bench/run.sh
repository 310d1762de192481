#!/usr/bin/env bash
# The benchmark in one command: builds Release, installs wrk and the peers (json-server, Prism),
# seeds realistic data, measures every scenario against the plain-Kestrel baseline and writes
# bench/results/<date>.md. Options go to the runner: --quick, --no-large, --no-postgres,
# --duration SECONDS, --pairs N, --connections N, --dealers N, --memory-requests N,
# --only TEXT[|TEXT...] (scenarios whose names contain a text), --postgres-options "K=V",
# --soak [--soak-minutes N]; --help lists them.
set -euo pipefail
cd "$(dirname "$0")"

for arg in "$@"; do
  if [[ "$arg" == "--help" || "$arg" == "-h" ]]; then
    dotnet publish -c Release Runner -o out/runner --nologo -v quiet
    exec dotnet out/runner/Runner.dll --help
  fi
done

if ! command -v wrk >/dev/null 2>&1; then
  echo "Installing wrk..."
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi

if command -v npm >/dev/null 2>&1; then
  npm install --prefix peers --no-audit --no-fund --loglevel=error >/dev/null
else
  echo "npm not found: the json-server and Prism comparisons will be skipped."
fi

dotnet publish -c Release ../src/Chekt.PartnerApi -o out/server --nologo -v quiet
dotnet publish -c Release Baseline -o out/baseline --nologo -v quiet
dotnet publish -c Release Runner -o out/runner --nologo -v quiet

dotnet out/runner/Runner.dll --server out/server/Chekt.PartnerApi.dll --baseline out/baseline/Baseline.dll \
  --results results --peers peers --openapi ../docs/openapi.json "$@"
