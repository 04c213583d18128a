#!/usr/bin/env bash
# Runs the suites that need no server (core, transformers) on other Node majors than the one
# installed, default 22 and 24: the SDK supports Node >= 20.19 and these are the majors hosts run.
# Each Node comes from the npm registry as the official binary package (node-linux-<arch>@<major>),
# unpacked once into .cache/node/<major>. The packages must be built first (turbo run build).
#
# Usage: bash scripts/node-matrix.sh [major ...]     (env MCP_NODE_MAJORS="22 24" works too)
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
majors=("$@")
[[ ${#majors[@]} -gt 0 ]] || read -r -a majors <<< "${MCP_NODE_MAJORS:-22 24}"

case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "[node-matrix] no Node binary package for $(uname -m)" >&2; exit 1 ;;
esac

status=0
for major in "${majors[@]}"; do
  [[ "$major" =~ ^[0-9]+$ ]] || { echo "[node-matrix] not a Node major: $major" >&2; exit 1; }
  dir=".cache/node/$major"
  if [[ ! -x "$dir/bin/node" ]]; then
    echo "[node-matrix] fetching node-linux-$arch@$major from the npm registry"
    tmp="$(mktemp -d)"
    (cd "$tmp" && npm pack "node-linux-$arch@$major" --silent > /dev/null)
    rm -rf "$dir" && mkdir -p "$dir"
    tar xzf "$tmp"/*.tgz -C "$dir" --strip-components=1
    rm -rf "$tmp"
  fi
  echo "[node-matrix] Node $("$dir/bin/node" --version): core and transformers"
  PATH="$REPO/$dir/bin:$PATH" "$dir/bin/node" node_modules/vitest/vitest.mjs run --project core --project transformers 2>&1 | tail -n 6 || status=1
done
exit $status
