#!/usr/bin/env bash
# Installs what the workspace needs from its own files: pnpm 10 (when missing) and the locked
# dependencies. Quick when everything is already there. Sourced or run by demo.sh, test.sh, .ci/run.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

node_major=$(node -p 'process.versions.node.split(".").map(Number).slice(0,2).join(".")')
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
  || { echo "[bootstrap] Node >= 20.19 is required (found $node_major)" >&2; exit 1; }

if ! command -v pnpm >/dev/null 2>&1 || [[ "$(pnpm --version 2>/dev/null)" != 10.* ]]; then
  echo "[bootstrap] installing pnpm 10 (npm i -g pnpm@10)"
  npm i -g pnpm@10 >/dev/null 2>&1 || npm i -g pnpm@10
fi

stamp="node_modules/.mcp-bootstrap"
if [[ ! -f "$stamp" || pnpm-lock.yaml -nt "$stamp" || package.json -nt "$stamp" ]]; then
  echo "[bootstrap] pnpm install --frozen-lockfile"
  pnpm install --frozen-lockfile --reporter=append-only | grep -v -E '^(Progress|\s*$)' | tail -n 5
  touch "$stamp"
fi
