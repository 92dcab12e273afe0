# tools/env.sh — shared paths and environment for the scripts in tools/. Source it; don't run it.
# Defines REPO_ROOT, ARTIFACTS, TOOLS_DIR, the Pester and pwsh versions, the native RID and file
# names, and die(); puts cargo and the pwsh dotnet tool on PATH.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ARTIFACTS="$REPO_ROOT/artifacts"
TOOLS_DIR="$REPO_ROOT/.tools"              # git-ignored: restored test tools (Pester)
PESTER_VERSION=5.9.1                         # NuGet serves 5.7.1, 5.9.1, 6.2.0; 6.x is a new major
PESTER_PATH_FILE="$TOOLS_DIR/pester-path.txt" # written by bootstrap.sh: full path of Pester.psd1
PWSH_VERSION=7.6.9                           # installed as a dotnet global tool when pwsh is missing
PWSH_MIN_VERSION=7.4

export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export POWERSHELL_TELEMETRY_OPTOUT=1 POWERSHELL_UPDATECHECK=Off

# The pwsh dotnet tool lives in ~/.dotnet/tools; rustup's cargo in ~/.cargo/bin. Prepend once,
# even before they exist: bootstrap.sh may install pwsh there after this file was sourced.
for _dir in "${CARGO_HOME:-$HOME/.cargo}/bin" "$HOME/.dotnet/tools"; do
  case ":$PATH:" in *":$_dir:"*) ;; *) PATH="$_dir:$PATH" ;; esac
done
unset _dir
export PATH
# A dotnet global tool (pwsh) finds the runtime through DOTNET_ROOT when dotnet is not in a
# standard place (e.g. installed under ~/.dotnet).
if [ -z "${DOTNET_ROOT:-}" ] && command -v dotnet >/dev/null; then
  DOTNET_ROOT="$(dirname "$(readlink -f "$(command -v dotnet)")")"
  export DOTNET_ROOT
fi

# Native library and executable names, and the .NET runtime identifier, for this machine.
case "$(uname -s)" in
  Linux)                 _os=linux; NATIVE_LIB=libpartnersecurity_native.so;    EXE_SUFFIX= ;;
  Darwin)                _os=osx;   NATIVE_LIB=libpartnersecurity_native.dylib; EXE_SUFFIX= ;;
  MINGW*|MSYS*|CYGWIN*)  _os=win;   NATIVE_LIB=partnersecurity_native.dll;      EXE_SUFFIX=.exe ;;
  *) echo "env.sh: unsupported OS $(uname -s)" >&2; return 1 ;;
esac
case "$(uname -m)" in
  x86_64|amd64)  _arch=x64 ;;
  aarch64|arm64) _arch=arm64 ;;
  *) echo "env.sh: unsupported CPU $(uname -m)" >&2; return 1 ;;
esac
NATIVE_RID="$_os-$_arch"
unset _os _arch

die() { echo "error: $*" >&2; exit 1; }
