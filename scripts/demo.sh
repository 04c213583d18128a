#!/usr/bin/env bash
# The newcomer's first command: install, build, and run the embedded demo (a sharded migration over
# in-memory shards with live progress and a per-shard status table), then run it again to show that
# nothing is left to apply.
set -euo pipefail
export TURBO_TELEMETRY_DISABLED=1
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$REPO/scripts/bootstrap.sh"
cd "$REPO"
pnpm run demo
