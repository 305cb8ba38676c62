# shellcheck shell=bash
# MicroPython helpers, meant to be *sourced* by build.sh (which sets ROOT).
#
#   mp_deps                          install the Debian packages needed below
#   mp_fetch                         set MICROPY_DIR (user tree, or MicroPython 1.25.0
#                                    from Debian's trixie source package)
#   mp_build_mpy_cross LOG           build mpy-cross (for frozen manifests) if missing
#   mp_build_unix USERMOD_PARENT OUT [32]
#                                    build the unix port (variant standard), copy to OUT;
#                                    USERMOD_PARENT "" = no user C modules; 32 = an i386
#                                    binary whose small ints have 31 bits, as on the module
#
# Safe under `set -euo pipefail`, idempotent, one line per step; a failing step
# prints the tail of its log and returns non-zero.
#
# Optional environment:
#   MICROPY_DIR     an existing MicroPython tree (e.g. a QuecPython checkout): used as is.
#   MP_DEB_URI      Debian archive URI to use instead of the one in the system's sources.
#   MP_FROZEN_MANIFEST  FROZEN_MANIFEST for the unix build (default: none, see below).
#   MP_LINK_DEPS    space-separated files (e.g. a Rust staticlib .a) that, when newer than
#                   the built binary, force a relink (make does not track LDFLAGS_USERMOD).
#
# Notes (checked on MicroPython 1.25.0+ds-1 from Debian trixie):
# - USER_C_MODULES must point at the PARENT of the module directories: py/py.mk does
#   `$(foreach module, $(wildcard $(USER_C_MODULES)/*/micropython.mk), ...)` and includes
#   each with USERMOD_DIR = that module's dir. It also strips the literal prefix
#   "$(USER_C_MODULES)/" from SRC_USERMOD_C to name objects ($(BUILD)/<module>/<file>.o),
#   so give the same spelling of the path (we pass `pwd -P`; use $(USERMOD_DIR) in the .mk).
# - unix link line (py/mkrules.mk `$(CC) -o $@ $^ $(LIB) $(LDFLAGS)`), as run:
#   gcc -o micropython <objs> <LDFLAGS_USERMOD> -lmbedx509 -lmbedtls -lmbedcrypto
#       -Wl,-Map=...,--cref -Wl,--gc-sections -lm -lpthread -lffi -ldl
#   i.e. LDFLAGS_USERMOD comes right AFTER the objects: a static archive there resolves
#   the module's references, and libm/libpthread come after it.
# - The +ds tarball lacks the lib/ submodules (berkeley-db, mbedtls, axtls, libffi, most of
#   micropython-lib): hence FROZEN_MANIFEST= and MICROPY_PY_BTREE=0; TLS and hashlib use the
#   system mbedTLS (Debian patch 0006 links -lmbedx509 -lmbedtls -lmbedcrypto), libffi the
#   system one. hashlib has md5/sha1/sha256 (digest() only: MicroPython has no hexdigest).
#   The C module is `tls`; `ssl` is a Python wrapper from micropython-lib that the tarball
#   does not ship, so `import ssl` fails unless a frozen manifest provides it.
# - Debian patch 0004 makes mpversion.h come from debian/changelog (no git needed).
# - ports/unix builds with -Werror: user-module warnings fail the build.

_mp_say() { printf '[micropython] %s\n' "$*"; }

_mp_root() {
    if [[ -z "${ROOT:-}" ]]; then
        _mp_say "ROOT is not set (build.sh must set it to the repo root)" >&2
        return 1
    fi
}

mp_deps() {
    _mp_say "deps: dpkg-dev build-essential gcc-multilib pkg-config libffi-dev libmbedtls-dev python3"
    need_apt dpkg-dev build-essential gcc-multilib pkg-config libffi-dev libmbedtls-dev python3
}

# Print the URI of the system's Debian entry for the main release (VERSION_CODENAME),
# read from deb822 /etc/apt/sources.list.d/*.sources, or one-line /etc/apt/sources.list.
_mp_debian_uri() {
    if [[ -n "${MP_DEB_URI:-}" ]]; then
        printf '%s\n' "$MP_DEB_URI"
        return 0
    fi
    local codename uri=""
    # shellcheck disable=SC1091
    codename=$(. /etc/os-release 2>/dev/null && printf '%s' "${VERSION_CODENAME:-}")
    if [[ -z "$codename" ]]; then
        _mp_say "cannot read VERSION_CODENAME from /etc/os-release (set MP_DEB_URI)" >&2
        return 1
    fi
    local f
    for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list.d/*.sources; do
        [[ -r "$f" ]] || continue
        uri=$(awk -v cn="$codename" '
            function flush() {
                if (!found && enabled && uris != "" && (" " suites " ") ~ (" " cn " "))
                    { split(uris, u, " "); print u[1]; found = 1 }
                uris = ""; suites = ""; enabled = 1
            }
            BEGIN { enabled = 1 }
            /^[ \t]*#/ { next }
            /^[ \t]*$/ { flush(); next }
            {
                line = $0; key = line; sub(/:.*/, "", key); val = line; sub(/^[^:]*:[ \t]*/, "", val)
                key = tolower(key)
                if (key == "uris") uris = val
                else if (key == "suites") suites = val
                else if (key == "enabled" && tolower(val) == "no") enabled = 0
            }
            END { flush() }' "$f")
        [[ -n "$uri" ]] && break
    done
    if [[ -z "$uri" && -r /etc/apt/sources.list ]]; then
        uri=$(awk -v cn="$codename" '
            /^[ \t]*deb(-src)?[ \t]/ {
                sub(/^[ \t]*deb(-src)?[ \t]+/, "")
                if ($0 ~ /^\[/) sub(/^\[[^]]*\][ \t]*/, "")
                if ($2 == cn) { print $1; exit }
            }' /etc/apt/sources.list)
    fi
    if [[ -z "$uri" ]]; then
        _mp_say "no Debian '$codename' entry found in the system's apt sources (set MP_DEB_URI)" >&2
        return 1
    fi
    printf '%s\n' "${uri%/}"
}

mp_fetch() {
    if [[ -n "${MICROPY_DIR:-}" ]]; then
        if [[ ! -f "$MICROPY_DIR/py/mpconfig.h" ]]; then
            _mp_say "MICROPY_DIR=$MICROPY_DIR is not a MicroPython tree (no py/mpconfig.h)" >&2
            return 1
        fi
        _mp_say "fetch: using MICROPY_DIR=$MICROPY_DIR"
        return 0
    fi
    _mp_root || return 1
    local src=$ROOT/build/src d
    for d in "$src"/micropython-1.25.0*/; do
        if [[ -f "$d/py/mpconfig.h" ]]; then
            MICROPY_DIR=${d%/}
            _mp_say "fetch: cached $MICROPY_DIR"
            return 0
        fi
    done

    local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    # bookworm's debian-archive-keyring carries trixie's keys from 2023.3+deb12u1 on.
    if [[ ! -f /usr/share/keyrings/debian-archive-trixie-automatic.gpg ]]; then
        _mp_say "fetch: upgrading debian-archive-keyring (needs trixie's keys)"
        local sudo=()
        [[ $(id -u) -eq 0 ]] || sudo=(sudo)
        run_logged /tmp/mp-apt-keyring.log "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -qq --only-upgrade debian-archive-keyring || return 1
    fi

    # Private apt state lives outside the repo (it names the archive host) and is removed
    # on success; on failure it is kept for its logs.
    local uri apt
    uri=$(_mp_debian_uri) || return 1
    apt=$(mktemp -d /tmp/mp-apt-trixie.XXXXXX)
    mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$src"
    printf 'deb-src [signed-by=%s] %s trixie main\n' "$keyring" "$uri" >"$apt/sources.list"
    local aptopts=(
        -o "Dir::Etc::SourceList=$apt/sources.list"
        -o "Dir::Etc::SourceParts=/dev/null"
        -o "Dir::State::Lists=$apt/lists"
        -o "Dir::Cache=$apt/cache"
        -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
        -o "Acquire::Languages=none"
        -o "APT::Sandbox::User=root"
    )
    _mp_say "fetch: apt-get update (private config, deb-src trixie)"
    run_logged "$apt/update.log" apt-get -q "${aptopts[@]}" update || return 1

    local ver
    ver=$(apt-cache "${aptopts[@]}" showsrc micropython 2>/dev/null |
        awk '/^Version:/ { print $2 }' | sort -V | tail -n 1)
    if [[ -z "$ver" ]]; then
        _mp_say "fetch: source package micropython not found in trixie" >&2
        return 1
    fi
    if [[ "$ver" != 1.25.* ]]; then
        _mp_say "fetch: trixie has micropython $ver, this project pins 1.25.x (set MICROPY_DIR)" >&2
        return 1
    fi

    _mp_say "fetch: apt-get source micropython=$ver"
    local stage
    stage=$(mktemp -d "$src/.fetch.XXXXXX")
    if ! (cd "$stage" && run_logged "$apt/source.log" \
            apt-get -q "${aptopts[@]}" source "micropython=$ver"); then
        rm -rf "$stage"
        return 1
    fi
    local got=""
    for d in "$stage"/micropython-*/; do
        [[ -f "$d/py/mpconfig.h" ]] && got=${d%/}
    done
    if [[ -z "$got" ]]; then
        _mp_say "fetch: no source tree after apt-get source (see $apt/source.log)" >&2
        rm -rf "$stage"
        return 1
    fi
    local maj min
    maj=$(awk '/#define MICROPY_VERSION_MAJOR/ { print $3 }' "$got/py/mpconfig.h")
    min=$(awk '/#define MICROPY_VERSION_MINOR/ { print $3 }' "$got/py/mpconfig.h")
    if [[ "$maj.$min" != 1.25 ]]; then
        _mp_say "fetch: fetched tree is MicroPython $maj.$min, expected 1.25.x" >&2
        rm -rf "$stage"
        return 1
    fi
    local name
    name=$(basename "$got")
    [[ "$name" == micropython-1.25.0* ]] || name=micropython-1.25.0-$name
    rm -rf "${src:?}/$name"
    mv "$got" "$src/$name"
    rm -rf "$stage" "$apt"
    MICROPY_DIR=$src/$name
    _mp_say "fetch: $MICROPY_DIR"
}

# mp_build_mpy_cross LOG: builds MICROPY_DIR's mpy-cross (for frozen manifests) unless it is
# there. On its own: a sub-make would inherit the port build's BUILD= (see mp_build_unix).
mp_build_mpy_cross() {
    [[ -x "$MICROPY_DIR/mpy-cross/build/mpy-cross" ]] && return 0
    _mp_say "build: mpy-cross"
    run_logged "$1" env -u BUILD -u MAKEFLAGS -u MFLAGS make -C "$MICROPY_DIR/mpy-cross" -j"$(nproc)"
}

# mp_build_unix USERMOD_PARENT OUT [32]
#   USERMOD_PARENT: directory whose subdirectories hold micropython.mk ("" = none).
#   OUT: where to copy the binary (e.g. $ROOT/build/unix/micropython).
#   32: MICROPY_FORCE_32BIT=1 (gcc-multilib): sys.maxsize is 2**31-1 and every int of 2**30
#       or more is a heap-allocated long int, as on the module's 32-bit ARM, so the tests see
#       its long-int allocations (and MicroPython's long-int arithmetic with 16-bit digits).
#       Without SSL and FFI (no i386 mbedTLS or libffi here), hence without hashlib.md5,
#       like the QuecPython builds that lack it.
# Each (tree, USERMOD_PARENT, 32) gets its own BUILD dir under $ROOT/build/mp-unix/,
# so the builds coexist and stay incremental.
mp_build_unix() {
    if [[ $# -lt 2 || $# -gt 3 || ( $# -eq 3 && "$3" != 32 ) ]]; then
        _mp_say "usage: mp_build_unix USERMOD_PARENT OUT [32]" >&2
        return 2
    fi
    local usermod=$1 out=$2 bits=${3:-}
    _mp_root || return 1
    if [[ -z "${MICROPY_DIR:-}" ]]; then
        mp_fetch || return 1
    fi
    local port=$MICROPY_DIR/ports/unix
    [[ -d "$port" ]] || { _mp_say "no unix port in $MICROPY_DIR" >&2; return 1; }

    local tag=nomod
    if [[ -n "$usermod" ]]; then
        [[ -d "$usermod" ]] || { _mp_say "USERMOD_PARENT $usermod is not a directory" >&2; return 1; }
        usermod=$(cd "$usermod" && pwd -P)
        if ! compgen -G "$usermod/*/micropython.mk" >/dev/null; then
            _mp_say "no $usermod/*/micropython.mk (USER_C_MODULES wants the modules' parent)" >&2
            return 1
        fi
        tag=usermod
    fi
    local key build
    key=$(printf '%s|%s|%s' "$MICROPY_DIR" "$usermod" "${MP_FROZEN_MANIFEST:-}" |
        cksum | awk '{ print $1 }')
    build=$ROOT/build/mp-unix/standard-$tag$bits-$key

    local makevars=(
        VARIANT=standard
        "BUILD=$build"
        "FROZEN_MANIFEST=${MP_FROZEN_MANIFEST:-}"
        MICROPY_PY_BTREE=0
        MICROPY_SSL_AXTLS=0
    )
    if [[ -n "$bits" ]]; then
        makevars+=(MICROPY_FORCE_32BIT=1 MICROPY_PY_FFI=0 MICROPY_PY_SSL=0 MICROPY_SSL_MBEDTLS=0)
    else
        makevars+=(MICROPY_PY_SSL=1 MICROPY_SSL_MBEDTLS=1)
    fi
    [[ -n "$usermod" ]] && makevars+=("USER_C_MODULES=$usermod")

    # make does not see LDFLAGS_USERMOD archives: relink when one of them (MP_LINK_DEPS)
    # or a file of the user modules is newer than the last binary.
    local prog=$build/micropython f
    if [[ -f "$prog" ]]; then
        for f in ${MP_LINK_DEPS:-}; do
            if [[ "$f" -nt "$prog" ]]; then rm -f "$prog"; break; fi
        done
        if [[ -f "$prog" && -n "$usermod" ]] &&
            [[ -n "$(find -L "$usermod" -type f -newer "$prog" -print -quit 2>/dev/null)" ]]; then
            rm -f "$prog"
        fi
    fi

    mkdir -p "$build"
    # A frozen manifest needs mpy-cross. Build it first, on its own: left to the port's
    # Makefile, the sub-make would inherit our command-line BUILD= and compile mpy-cross's
    # objects into the port's BUILD dir (clashing py/*.o). It lands in mpy-cross/build/.
    if [[ -n "${MP_FROZEN_MANIFEST:-}" ]]; then
        mp_build_mpy_cross "$build/mpy-cross.log" || return 1
    fi

    _mp_say "build: unix standard ($tag${bits:+, 32-bit}) -> $out"
    run_logged "$build/make.log" make -C "$port" -j"$(nproc)" "${makevars[@]}" || return 1
    if [[ ! -x "$prog" ]]; then
        _mp_say "build: no binary at $prog" >&2
        return 1
    fi
    mkdir -p "$(dirname "$out")"
    if ! cmp -s "$prog" "$out" 2>/dev/null; then
        cp -f "$prog" "$out"
    fi
}
