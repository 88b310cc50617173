#!/usr/bin/env bash
# README's test command: set up a fresh machine, then lint and run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm run --silent lint
node scripts/run-tests.mjs "$@"
