#!/usr/bin/env bash
# tools/bootstrap.sh — makes this machine ready to build and test PartnerSecurity. Idempotent.
#   - points cargo at ../shared's vendored crates when that folder exists (offline machines);
#     without it cargo uses crates.io as usual
#   - checks cargo and dotnet (and on Linux objcopy) are there
#   - ensures pwsh >= 7.4 (installs the PowerShell dotnet global tool when missing)
#   - restores Pester from NuGet into .tools/ and records its path in .tools/pester-path.txt
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$REPO_ROOT"

offline="$REPO_ROOT/../shared/crates/enable-offline.sh"
if [ -f "$offline" ]; then
  bash "$offline" >/dev/null || die "$offline failed"
fi

command -v cargo  >/dev/null || die "cargo not found: install Rust (https://rustup.rs) and put cargo on PATH"
command -v dotnet >/dev/null || die "dotnet not found: install the .NET SDK 8 or later"
# build.sh strips the module's copy of the native library (Linux: objcopy, from binutils, which
# the Rust linker needs anyway).
if [ "$(uname -s)" = Linux ]; then
  command -v objcopy >/dev/null || die "objcopy not found: install binutils (apt-get install binutils)"
fi

pwsh_ok() {
  command -v pwsh >/dev/null || return 1
  local v; v="$(pwsh -NoProfile -NonInteractive -Command '$PSVersionTable.PSVersion.ToString()' 2>/dev/null)" || return 1
  [ "$(printf '%s\n%s\n' "$PWSH_MIN_VERSION" "$v" | sort -V | head -n1)" = "$PWSH_MIN_VERSION" ]
}
if ! pwsh_ok; then
  log="$(mktemp)"
  if [ -x "$HOME/.dotnet/tools/pwsh" ]; then   # an older tool version: update it in place
    dotnet tool update --global PowerShell --version "$PWSH_VERSION" >"$log" 2>&1
  else
    dotnet tool install --global PowerShell --version "$PWSH_VERSION" >"$log" 2>&1
  fi || { cat "$log" >&2; die "could not install PowerShell $PWSH_VERSION as a dotnet global tool"; }
  rm -f "$log"
  hash -r
  pwsh_ok || die "pwsh >= $PWSH_MIN_VERSION still not usable (looked in PATH=$PATH)"
fi

# Pester comes from NuGet (PSGallery is not reachable everywhere), restored into .tools/nuget.
pester_psd1="$TOOLS_DIR/nuget/pester/$PESTER_VERSION/tools/Pester.psd1"
if [ ! -f "$pester_psd1" ]; then
  log="$(mktemp)"
  dotnet restore "$REPO_ROOT/tools/pester/PesterRestore.csproj" --packages "$TOOLS_DIR/nuget" \
    -p:PesterVersion="$PESTER_VERSION" -p:BaseIntermediateOutputPath="$TOOLS_DIR/obj/pester/" >"$log" 2>&1 \
    || { cat "$log" >&2; die "could not restore Pester $PESTER_VERSION from NuGet"; }
  rm -f "$log"
  [ -f "$pester_psd1" ] || die "Pester restored, but $pester_psd1 is not there (package layout changed?)"
fi
mkdir -p "$TOOLS_DIR"
printf '%s\n' "$pester_psd1" > "$PESTER_PATH_FILE"

# Chromium renders the HTML assessment report in its screenshot test (headless). Installed from
# the distribution on Debian/Ubuntu when running as root (or with password-less sudo); elsewhere
# the test is skipped (failed under CI) with a message naming what to install.
browser_found() {
  command -v chromium >/dev/null || command -v chromium-browser >/dev/null || command -v google-chrome >/dev/null || [ -n "${PARTNERSEC_BROWSER:-}" ]
}
if ! browser_found; then
  apt_get=()
  if command -v apt-get >/dev/null; then
    if [ "$(id -u)" -eq 0 ]; then apt_get=(apt-get); elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then apt_get=(sudo -n apt-get); fi
  fi
  if [ ${#apt_get[@]} -gt 0 ]; then
    log="$(mktemp)"
    { DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" update && DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y --no-install-recommends chromium; } >"$log" 2>&1 \
      || { cat "$log" >&2; die "could not install chromium with apt-get (needed by the HTML report screenshot test)"; }
    rm -f "$log"
    browser_found || die "chromium was installed but is not on PATH"
  else
    echo "bootstrap: Chromium not found, and it can only be installed automatically on Debian/Ubuntu as root (or with password-less sudo)." >&2
    echo "bootstrap: install Chromium or Chrome yourself (or set PARTNERSEC_BROWSER to its path); until then the HTML report screenshot test is skipped." >&2
  fi
fi
