#!/usr/bin/env bash
# `npm run bench`: set up, then run every benchmark scenario in a clean environment
# (NODE_EXTRA_CA_CERTS unset: Node parses that bundle at every start, which would skew CNI latency).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec env -u NODE_EXTRA_CA_CERTS node dist/bench/run.js "$@"
