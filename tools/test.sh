#!/usr/bin/env bash
# tools/test.sh — the project's one test command (CI runs it through .ci/run). In order, stopping at
# the first failure: bootstrap → bindings drift check → clippy (a warning fails it) → rustdoc (a
# warning fails it: broken or private links) → cargo test --workspace → release build → Pester
# end-to-end tests through pwsh. Ends with a per-step summary
# and one line counting all tests:
#   total: N passed, N failed[, N skipped]
# Logs: tests/out/cargo-test.log, tests/out/pester.log, tests/out/pester.xml (NUnit).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$REPO_ROOT"
out="$REPO_ROOT/tests/out"
rm -rf "$out" && mkdir -p "$out"

summary=()
print_summary() {
  echo
  echo "== summary =="
  printf '%s\n' "${summary[@]}"
}
# step NAME COMMAND... — runs one step, records its time; on failure prints the summary and exits.
step() {
  local name=$1 start=$SECONDS rc=0
  shift
  echo "==> $name"
  "$@" || rc=$?
  if [ "$rc" -eq 0 ]; then
    summary+=("$(printf '  %-15s ok      %5ss' "$name" $((SECONDS - start)))")
  else
    summary+=("$(printf '  %-15s FAILED  %5ss  (exit %s)' "$name" $((SECONDS - start)) "$rc")")
    print_summary
    echo "error: step '$name' failed; later steps did not run" >&2
    exit 1
  fi
}

# A hung test must not eat CI's whole time budget.
cargo_tests() { timeout --kill-after=30s 40m cargo test -q --workspace --no-fail-fast 2>&1 | tee "$out/cargo-test.log"; }
pester_tests() {
  timeout --kill-after=30s 20m pwsh -NoProfile -NonInteractive -File tests/Invoke-Tests.ps1 </dev/null 2>&1 \
    | tee "$out/pester.log"
}

step bootstrap      bash tools/bootstrap.sh
step check-bindings bash tools/check-bindings.sh
step clippy         cargo clippy -q --workspace --all-targets -- -D warnings
step rustdoc        env RUSTDOCFLAGS="-D warnings" cargo doc -q --workspace --no-deps
step cargo-test     cargo_tests
step build          bash tools/build.sh
step pester         pester_tests

# Add up the Rust harness lines ("test result: ok. 12 passed; 0 failed; 1 ignored; ...")
# and Pester's closing line ("N passed, N failed[, N skipped]").
read -r rp rf ri < <(sed -nE 's/^test result: [A-Za-z]+\. ([0-9]+) passed; ([0-9]+) failed; ([0-9]+) ignored.*/\1 \2 \3/p' \
  "$out/cargo-test.log" | awk '{p+=$1; f+=$2; i+=$3} END {print p+0, f+0, i+0}')
read -r pp pf ps < <(sed -nE 's/^([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?\r?$/\1 \2 \4/p' \
  "$out/pester.log" | tail -n1 | awk '{print $1+0, $2+0, $3+0}')
summary+=("$(printf '  rust:   %s passed, %s failed, %s ignored' "$rp" "$rf" "$ri")")
summary+=("$(printf '  pester: %s passed, %s failed, %s skipped' "$pp" "$pf" "$ps")")
print_summary
skipped=$((ri + ps))
line="total: $((rp + pp)) passed, $((rf + pf)) failed"
[ "$skipped" -gt 0 ] && line+=", $skipped skipped"
echo "$line"
