#!/usr/bin/env bash
# tools/demo.sh — the README's demo: builds the module and the emulator, starts the emulator with
# the demo scenario over TLS on a free loopback port, then runs tools/demo.ps1, which connects
# the module to it through the Secure Application Model and shows the resulting context.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$REPO_ROOT"

bash tools/bootstrap.sh
bash tools/build.sh

tmp="$(mktemp -d)"
emulator_pid=
cleanup() {
  if [ -n "$emulator_pid" ]; then kill "$emulator_pid" 2>/dev/null || true; wait "$emulator_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

"$ARTIFACTS/bin/partnersec-emulator$EXE_SUFFIX" --scenario native/emulator/scenarios/demo.json \
  --tls --port 0 --ready-file "$tmp/ready.json" >"$tmp/emulator.log" 2>&1 &
emulator_pid=$!

for _ in $(seq 300); do          # up to 30 s
  [ -s "$tmp/ready.json" ] && break
  kill -0 "$emulator_pid" 2>/dev/null || { cat "$tmp/emulator.log" >&2; die "the emulator exited before it was ready"; }
  sleep 0.1
done
[ -s "$tmp/ready.json" ] || { cat "$tmp/emulator.log" >&2; die "the emulator was not ready within 30 s"; }

pwsh -NoProfile -File tools/demo.ps1 -ReadyFile "$tmp/ready.json"
