# Shared helpers for build.sh (sourced). ROOT is the repository root.

say() { printf '== %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# need_apt PKG...: installs the Debian packages that are missing, in one apt-get call.
need_apt() {
    local missing=() p
    for p in "$@"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    if [ -z "${QSOTA_APT_UPDATED:-}" ]; then
        $sudo apt-get update -qq >/dev/null
        QSOTA_APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# need_pip MODULE PACKAGE: installs a PyPI package for the host python3 if MODULE is missing.
need_pip() {
    python3 -c "import $1" 2>/dev/null && return 0
    say "installing $2"
    python3 -m pip install -q "$2"
}

# need_cargo_tool BIN CRATE [ARGS]: cargo install CRATE if BIN is not on PATH.
need_cargo_tool() {
    command -v "$1" >/dev/null 2>&1 && return 0
    say "installing $2"
    cargo install -q --locked "${@:2}"
}
