#!/usr/bin/env bash
# tools/check-bindings.sh — fails when the committed C# bindings (bindings/csharp/) differ from
# what the Rust FFI source generates. To update them instead:
#   cargo run -p partnersecurity-ffi --bin generate-bindings
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$REPO_ROOT"
cargo run -q -p partnersecurity-ffi --bin generate-bindings -- --check >/dev/null \
  || die "bindings check failed (see above)"
