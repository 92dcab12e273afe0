#!/usr/bin/env bash
# tools/build.sh [--debug] — builds everything into artifacts/:
#   artifacts/PartnerSecurity/   the PowerShell module (dotnet publish) with the Rust library
#                                under runtimes/<rid>/native/
#   artifacts/bin/               partnersec-emulator
# Release by default (the module ships the release library); --debug builds both sides in Debug.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$REPO_ROOT"

cargo_flag=--release; rust_dir=release; dotnet_config=Release
case "${1:-}" in
  "") ;;
  --debug) cargo_flag=; rust_dir=debug; dotnet_config=Debug ;;
  *) die "usage: tools/build.sh [--debug]" ;;
esac

cargo build -q $cargo_flag -p partnersecurity-ffi -p partnersecurity-emulator \
  || die "cargo build failed"

module_out="$ARTIFACTS/PartnerSecurity"
rm -rf "$module_out"
log="$(mktemp)"
dotnet publish module/PartnerSecurity.csproj -c "$dotnet_config" -o "$module_out" -nologo -v quiet >"$log" 2>&1 \
  || { cat "$log" >&2; rm -f "$log"; die "dotnet publish failed"; }
rm -f "$log"
# pwsh brings its own System.Management.Automation; a copy beside the module would shadow it.
rm -f "$module_out"/System.Management.Automation.dll
[ -f "$module_out/PartnerSecurity.psd1" ] || die "publish produced no PartnerSecurity.psd1 (is module/PartnerSecurity.psd1 there?)"

native_dir="$module_out/runtimes/$NATIVE_RID/native"
mkdir -p "$native_dir"
cp "target/$rust_dir/$NATIVE_LIB" "$native_dir/"
# The release module ships the library without its debug sections (the line tables the release
# profile keeps for backtraces and profilers: 49 MB -> 10 MB on Linux); the full library stays in
# target/release. Symbol names stay, so a backtrace still names functions.
if [ "$rust_dir" = release ]; then
  case "$NATIVE_LIB" in
    *.so)    objcopy --strip-debug "$native_dir/$NATIVE_LIB" || die "objcopy (binutils) could not strip $NATIVE_LIB" ;;
    *.dylib) strip -S "$native_dir/$NATIVE_LIB" || die "strip could not strip $NATIVE_LIB" ;;
    *) ;;  # Windows: debug information lives in a .pdb beside target/, not in the .dll
  esac
fi

mkdir -p "$ARTIFACTS/bin"
cp "target/$rust_dir/partnersec-emulator$EXE_SUFFIX" "$ARTIFACTS/bin/"

# Get-Help content: compiled from module/help/*.md against the built module (fails on drift).
pwsh -NoProfile -NonInteractive -File tools/New-HelpXml.ps1 \
  -ModulePath "$module_out/PartnerSecurity.psd1" \
  -HelpSource module/help \
  -OutputPath "$module_out/en-US/PartnerSecurity.dll-Help.xml" \
  || die "help generation failed: module/help/*.md and the cmdlets disagree (see errors above)"
