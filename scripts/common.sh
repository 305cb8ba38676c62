# Shared helpers for build.sh (sourced). ROOT is the repository root.

say() { printf '== %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# run_logged LOG CMD...: runs CMD quietly; on failure shows the log's tail and fails.
run_logged() {
    local log=$1 rc=0
    shift
    mkdir -p "$(dirname "$log")"
    "$@" >"$log" 2>&1 || rc=$?
    [ "$rc" -eq 0 ] && return 0
    printf 'error: %s failed (%s); last lines of %s:\n' "$*" "$rc" "$log" >&2
    tail -n 40 "$log" >&2
    return "$rc"
}

# need_apt PKG...: installs the Debian packages that are missing, in one apt-get call.
need_apt() {
    local missing=() p sudo=()
    for p in "$@"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    if [ -z "${QSOTA_APT_UPDATED:-}" ]; then
        say "apt-get update"
        run_logged /tmp/qsota-apt.log "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        QSOTA_APT_UPDATED=1
    fi
    say "apt-get install ${missing[*]}"
    run_logged /tmp/qsota-apt.log "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# need_pip MODULE PACKAGE: makes MODULE importable by the host python3. Debian's own python3
# has no pip and refuses pip installs (PEP 668): it gets the package python3-PACKAGE.
need_pip() {
    python3 -c "import $1" 2>/dev/null && return 0
    if [ "$(command -v python3)" = /usr/bin/python3 ]; then
        need_apt "python3-$2"
        return
    fi
    say "installing $2"
    python3 -m pip install -q "$2"
}

# need_pypi MODULE PACKAGE: as need_pip, for a package Debian does not carry (imgtool,
# stm32loader): from PyPI with pip, which Debian's own python3 gets from python3-pip and lets
# install with --break-system-packages (PEP 668). The tests run its module with python3.
need_pypi() {
    python3 -c "import $1" 2>/dev/null && return 0
    local extra=()
    if [ "$(command -v python3)" = /usr/bin/python3 ]; then
        need_apt python3-pip
        extra=(--break-system-packages)
    fi
    say "installing $2"
    python3 -m pip install -q "${extra[@]}" "$2"
}

# need_cargo_tool BIN CRATE [ARGS]: cargo install CRATE if BIN is not on PATH.
need_cargo_tool() {
    command -v "$1" >/dev/null 2>&1 && return 0
    say "installing $2"
    cargo install -q --locked "${@:2}"
}

# need_nightly [COMPONENT...]: the nightly Rust toolchain (minimal profile) and COMPONENTs
# (e.g. rust-src), for the fuzz targets and the ARM builds that need -Zbuild-std. grep reads
# rustup's whole output (no -q): under pipefail, an early exit would fail the pipe with SIGPIPE.
need_nightly() {
    command -v rustup >/dev/null || die "rustup is required for the nightly toolchain"
    rustup -q toolchain list | grep '^nightly' >/dev/null ||
        rustup -q toolchain install nightly --profile minimal
    local c installed
    installed=$(rustup -q component list --installed --toolchain nightly)
    for c in "$@"; do
        grep -q "^$c" <<<"$installed" || rustup -q component add "$c" --toolchain nightly
    done
}
