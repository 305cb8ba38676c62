# shellcheck shell=bash
# ARM targets, sourced by build.sh (which sets ROOT and BUILD and sources common.sh first).
#
#   cross_deps        install the ARM toolchain, newlib, qemu, the Rust targets and rust-src
#   cross_libs        build libqsota.a for every ARM artifact (build/arm/NAME/libqsota.a)
#   cross_link_check  link each library into a small newlib image: no duplicate or missing
#                     symbols (also with --whole-archive, as the Helios SDK links), no
#                     unwinding or panic formatting code, the module's ISA and float ABI
#   cross_size        print `NAME text=N data=N bss=N ...` per artifact, write build/size.json
#   cross_budgets     fail when an artifact outgrows its flash budget (scripts/cross.py)
#   cross_qemu        MicroPython's qemu port (BOARD=SABRELITE, Cortex-A9) with _qsota and the
#                     frozen qsota package: build/arm/qemu/firmware.elf
#   cross_test_qemu   run tests/arm/mp/*.py on it under qemu-system-arm
#   cross_compat113   compile the _qsota glue against MicroPython 1.13's API (tests/compat113)
#   cross_test_a5     run the C ABI test on the shipped module library (Thumb-2, hard float)
#                     bare-metal under qemu-system-arm
#
# The artifacts (build/arm/NAME/: module-cortex-a5, the one to ship; qemu-cortex-a9 for the
# test firmware; receiver-cortex-m3/-m4f, what an MCU bootloader links) are a table in
# scripts/cross.py: target, toolchain, profile, flags, which C ABI each ships (from the
# files of src/ffi), its flash budget.

CROSS_OUT="$BUILD/arm"

# _cross names | exports NAME: scripts/cross.py; _cross_get NAME FIELD: a field of NAME.
_cross() { python3 "$ROOT/scripts/cross.py" "$@"; }
_cross_get() { _cross get "$@" || die "no field $2 of an ARM artifact named $1"; }

cross_deps() {
    need_apt gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm binutils-arm-none-eabi
    command -v rustup >/dev/null || die "rustup is required for the ARM targets"
    local installed
    installed=$(rustup target list --installed)
    local t
    for t in armv7a-none-eabi thumbv7m-none-eabi thumbv7em-none-eabihf; do
        grep -qx "$t" <<<"$installed" || rustup -q target add "$t"
    done
    need_nightly rust-src
}

# cross_lib NAME: builds NAME's staticlib and ships it as build/arm/NAME/libqsota.a,
# prelinked (see _cross_prelink).
cross_lib() {
    local name=$1 target toolchain profile rustflags features
    target=$(_cross_get "$name" target)
    toolchain=$(_cross_get "$name" toolchain)
    profile=$(_cross_get "$name" profile)
    rustflags=$(_cross_get "$name" rustflags)
    # A target dir of their own per toolchain: nightly and stable would otherwise keep
    # rebuilding each other's host artifacts, and the host build's lock stays free.
    local tdir="${CARGO_TARGET_DIR:-$ROOT/target}/cross-$toolchain"
    local args=(build -q --profile "$profile" -p qsota-capi --target "$target" --target-dir "$tdir")
    features=$(_cross features "$name")
    [ -n "$features" ] && args+=(--features "$features")
    [ "$toolchain" = nightly ] && args=(+nightly "${args[@]}" -Zbuild-std=core)
    # Per-target RUSTFLAGS: build scripts and the host builds keep their own.
    local var
    var=CARGO_TARGET_$(tr 'a-z-' 'A-Z_' <<<"$target")_RUSTFLAGS
    env "$var=$rustflags" cargo "${args[@]}"
    mkdir -p "$CROSS_OUT/$name"
    _cross_prelink "$tdir/$target/$profile/libqsota.a" "$name"
}

# _cross_prelink RAW NAME: one relocatable object holding only what NAME's exports reach,
# with every symbol but those exports made local. A rustc staticlib carries all of
# compiler_builtins (libm, f128 maths: ~140 KB on ARM) and global Rust-internal symbols:
# firmware linked with --whole-archive and no gc (the Helios SDK) would carry all of it,
# and two Rust archives in one firmware would clash. The prelinked archive has neither
# problem: the module's has no undefined symbols at all, the receivers' only the C library's
# mem* functions (see below). The unwind index
# (.ARM.exidx) goes too: with panic=abort it only says "cannot unwind", and linker scripts
# written for C firmware (MicroPython's qemu port) do not place it.
_cross_prelink() {
    local raw=$1 name=$2 dir="$CROSS_OUT/$2"
    _cross exports "$name" >"$dir/exports.txt"
    rm -f "$dir/libqsota.a"
    [ -s "$dir/exports.txt" ] || die "$name: src/ffi has no exports for it"
    local roots inputs=(--whole-archive "$raw")
    mapfile -t roots <"$dir/exports.txt"
    case "$name" in
        receiver-* | delta-*)
            # A bootloader has a C library and libgcc: leave memcpy and friends
            # (__aeabi_mem*) to them rather than carry compiler_builtins' copies (~3 KB), so
            # only the crate's own (LTO) object goes in. The module keeps compiler_builtins:
            # the Helios SDK's C library is not ours to rely on, and the qemu port has none.
            rm -rf "$dir/members"
            mkdir -p "$dir/members"
            (cd "$dir/members" && arm-none-eabi-ar x "$raw")
            inputs=("$dir"/members/qsota-*.o)
            ;;
    esac
    arm-none-eabi-ld -r -z noexecstack --gc-sections "${roots[@]/#/-u}" "${inputs[@]}" -o "$dir/prelink.o"
    # Undefined symbols that no relocation uses are left over from collected sections; the
    # final link would still search libraries for them (libgcc's soft-float, for one).
    # (readelf: nm and objdump would hand the embedded LLVM bitcode to the LTO plugin.)
    comm -23 <(arm-none-eabi-readelf -sW "$dir/prelink.o" |
            awk '$7 == "UND" && $8 != "" { print $8 }' | sort -u) \
        <(arm-none-eabi-readelf -rW "$dir/prelink.o" | awk '$1 ~ /^[0-9a-f]+$/ { print $5 }' | sort -u) \
        >"$dir/unused.txt"
    local strip=()
    [ -s "$dir/unused.txt" ] && strip=(--strip-symbols="$dir/unused.txt")
    arm-none-eabi-objcopy --keep-global-symbols="$dir/exports.txt" "${strip[@]}" \
        -R .llvmbc -R .llvmcmd \
        -R '.ARM.exidx*' -R '.rel.ARM.exidx*' \
        "$dir/prelink.o" "$dir/qsota.o"
    rm -rf "$dir/prelink.o" "$dir/unused.txt" "$dir/members"
    arm-none-eabi-ar rcsD "$dir/libqsota.a" "$dir/qsota.o"
}

cross_libs() {
    local name
    for name in $(_cross names); do
        say "cross build $name ($(_cross_get "$name" target))"
        cross_lib "$name"
    done
}

# _cross_exports NAME: exports.c, a table of every function NAME ships, so that a new
# export is link-checked without editing anything.
_cross_exports() {
    echo '#include "qsota.h"'
    echo 'typedef void (*qsota_fn)(void);'
    echo 'const qsota_fn qsota_exports[] = {'
    sed 's/.*/    (qsota_fn)&,/' "$CROSS_OUT/$1/exports.txt"
    echo '};'
    echo "const unsigned qsota_exports_count = $(wc -l <"$CROSS_OUT/$1/exports.txt");"
}

# Symbols whose presence means unwinding or panic-message formatting was linked in.
CROSS_FORBIDDEN='core::fmt|_Unwind_|__aeabi_unwind|__gxx_personality|rust_eh_personality|__cxa_'

# cross_link NAME: links NAME's image twice (gc'd, and --whole-archive without gc) and runs
# the symbol checks. Leaves build/arm/NAME/image.elf and image.map for cross_size.
cross_link() {
    local name=$1 cflags dir lib
    cflags=$(_cross_get "$name" cflags)
    dir="$CROSS_OUT/$name"
    lib="$dir/libqsota.a"
    [ -f "$lib" ] || return 0
    _cross_exports "$name" >"$dir/exports.c"
    local cc=(arm-none-eabi-gcc $cflags -Os -std=c99 -Wall -Wextra -Werror -I"$ROOT/include"
        -ffunction-sections -fdata-sections --specs=nosys.specs)
    local src=("$ROOT/tests/arm/link/main.c" "$dir/exports.c")
    # What a firmware build does: gc, the archive searched for what is referenced.
    run_logged "$dir/link.log" "${cc[@]}" "${src[@]}" "$lib" -Wl,--gc-sections \
        -Wl,-Map="$dir/image.map" -o "$dir/image.elf" || die "$name: link failed"
    # What the Helios SDK does: every member in, no gc, so every reference in the archive
    # must resolve and no archive symbol may clash with newlib or libgcc.
    run_logged "$dir/whole.log" "${cc[@]}" "${src[@]}" -Wl,--whole-archive "$lib" \
        -Wl,--no-whole-archive -o "$dir/whole.elf" || die "$name: --whole-archive link failed"
    local bad
    bad=$(arm-none-eabi-nm -C "$lib" "$dir/whole.elf" | grep -E "$CROSS_FORBIDDEN" || true)
    [ -z "$bad" ] || { printf '%s\n' "$bad" >&2; die "$name: unwinding or formatting code linked in"; }
    case "$name" in module-cortex-a5) _cross_check_isa "$lib" ;; esac
}

# The module library must be Thumb-2 code with the hard-float (VFP register) calling
# convention, like the QuecPython firmware it links into.
_cross_check_isa() {
    local attrs
    attrs=$(arm-none-eabi-readelf -A "$1")
    grep -q 'Tag_THUMB_ISA_use: Thumb-2' <<<"$attrs" || die "$1: not Thumb-2"
    grep -q 'Tag_ABI_VFP_args: VFP registers' <<<"$attrs" || die "$1: not the hard-float ABI"
    grep -q 'Tag_CPU_name: "cortex-a5"' <<<"$attrs" || die "$1: not built for cortex-a5"
    # Mapping symbols mark code as ARM ($a) or Thumb ($t): there must be no ARM code.
    if arm-none-eabi-readelf -s "$1" | awk '$8 ~ /^\$a/ { found = 1 } END { exit !found }'; then
        die "$1: contains ARM-mode code"
    fi
}

cross_link_check() {
    local name
    for name in $(_cross names); do
        say "link check $name"
        cross_link "$name"
    done
}

# cross_size: one line per artifact (what its image keeps from libqsota.a after gc, every
# export referenced), the C glue as linked into the qemu firmware when that exists, and the
# RAM of each context (its storage type in include/qsota.h). Also writes build/size.json.
cross_size() {
    local lines=() name line
    for name in $(_cross names); do
        if [ -f "$CROSS_OUT/$name/image.map" ]; then
            line="$name $(python3 "$ROOT/scripts/mapsize.py" "$CROSS_OUT/$name/image.map" "$name/libqsota.a(")"
        else
            line="$name missing"
        fi
        lines+=("$line")
    done
    if [ -f "$CROSS_OUT/qemu/firmware.map" ]; then
        lines+=("glue-cortex-a9 $(python3 "$ROOT/scripts/mapsize.py" "$CROSS_OUT/qemu/firmware.map" /cmodule/)")
    fi
    [ -f "$BOOT_OUT/bootloader.elf" ] && mapfile -t -O "${#lines[@]}" lines < <(boot_size)
    local ctx words
    while read -r ctx words; do
        lines+=("context-$ctx ram=$((words * 8))")
    done < <(sed -nE 's/^#define QSOTA_([A-Z0-9_]+)_WORDS ([0-9]+).*/\1 \2/p' "$ROOT/include/qsota.h" |
        tr 'A-Z_' 'a-z-')
    printf '%s\n' "${lines[@]}"
    printf '%s\n' "${lines[@]}" | python3 -c '
import json, sys
out = {}
for line in sys.stdin:
    name, *fields = line.split()
    out[name] = {k: int(v) for k, v in (f.split("=") for f in fields if "=" in f)}
json.dump(out, open(sys.argv[1], "w"), indent=1, sort_keys=True)' "$BUILD/size.json"
}

# cross_qemu: builds the qemu firmware with _qsota (qemu-cortex-a9's libqsota.a) and the qsota
# package frozen in through manifest.py (via tests/arm/manifest.py, which adds a simulated
# clock as `time`). Needs mp_fetch (MICROPY_DIR) and cross_lib.
# The port puts LDFLAGS_USERMOD before its objects, where an archive resolves nothing, so the
# library goes in with --whole-archive: it is prelinked to exactly what the exports reach.
cross_qemu() {
    local out="$CROSS_OUT/qemu" lib="$CROSS_OUT/qemu-cortex-a9/libqsota.a"
    local build="$out/build"
    mkdir -p "$out/usermod"
    ln -sfn "$ROOT" "$out/usermod/qsota"
    mp_build_mpy_cross "$out/mpy-cross.log" || die "mpy-cross build failed"
    # make does not see the archive: relink when it changed.
    [ "$lib" -nt "$build/firmware.elf" ] && rm -f "$build/firmware.elf"
    say "build MicroPython qemu port (SABRELITE) with _qsota"
    run_logged "$out/make.log" make -C "$MICROPY_DIR/ports/qemu" -j"$(nproc)" BOARD=SABRELITE \
        BUILD="$build" USER_C_MODULES="$(cd "$out/usermod" && pwd -P)" \
        FROZEN_MANIFEST="$ROOT/tests/arm/manifest.py" \
        QSOTA_LIB="-Wl,--whole-archive,$lib,--no-whole-archive" || die "qemu firmware build failed"
    cp -p "$build/firmware.elf" "$build/firmware.map" "$out/"
}

cross_test_qemu() {
    say "MicroPython on qemu-system-arm (sabrelite, Cortex-A9)"
    python3 "$ROOT/tests/arm/run.py" "$CROSS_OUT/qemu/firmware.elf" "$ROOT"/tests/arm/mp/*.py
    say "the device bundle (./build.sh dist: build/dist/mpy-v6) on the qemu firmware"
    python3 "$ROOT/tests/arm/run.py" --load "$BUILD/dist/mpy-v6" \
        "$CROSS_OUT/qemu/firmware.elf" "$ROOT"/tests/arm/bundle/*.py
}

# C tests of the module's C ABI, run on module-cortex-a5's libqsota.a itself: the qemu
# MicroPython firmware runs the qemu-cortex-a9 (ARM mode, soft float) build of the same source, this
# runs the exact Thumb-2, VFP-register code that ships. Semihosting (newlib's rdimon) gives
# them printf and their exit status; 0x10000000 is the sabrelite's RAM.
CROSS_A5_TESTS=(tests/c/test_capi.c)

cross_test_a5() {
    local cflags dir="$CROSS_OUT/a5-tests" src elf
    cflags=$(_cross_get module-cortex-a5 cflags)
    mkdir -p "$dir"
    for src in "${CROSS_A5_TESTS[@]}"; do
        elf="$dir/$(basename "$src" .c).elf"
        say "C test on the Cortex-A5 library under qemu: $src"
        run_logged "$dir/link.log" arm-none-eabi-gcc $cflags -O2 -std=c99 -Wall -Wextra -Werror \
            -I"$ROOT/include" "$ROOT/tests/arm/semihost/start.S" "$ROOT/$src" \
            "$CROSS_OUT/module-cortex-a5/libqsota.a" --specs=rdimon.specs -Wl,-e,qsota_fpu_start \
            -Wl,-Ttext-segment=0x10000000 -Wl,-z,noexecstack -o "$elf" || die "$src: build failed"
        timeout 300 qemu-system-arm -machine sabrelite -m 128M -nographic -monitor none \
            -serial null -semihosting -kernel "$elf" || die "$src failed under qemu (status $?)"
    done
}

# The glue against 1.13's API, with the host compiler and as QuecPython's modules build it.
cross_compat113() {
    say "compat: _qsota glue against the MicroPython 1.13 API"
    python3 "$ROOT/tests/compat113/check.py" "$CROSS_OUT/compat113" cc -- \
        arm-none-eabi-gcc $(_cross_get module-cortex-a5 cflags)
}

# Fails when an artifact's text outgrows its budget (scripts/cross.py).
cross_budgets() {
    local name limit text
    for name in $(_cross names); do
        limit=$(_cross_get "$name" budget)
        [ "$limit" -gt 0 ] || continue
        text=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]]["text"])' \
            "$BUILD/size.json" "$name") || die "no size for $name (run cross_size)"
        [ "$text" -le "$limit" ] || die "$name: text=$text is over its budget of $limit bytes"
        say "budget $name: text=$text <= $limit"
    done
    boot_budgets
}

# ./build.sh test-arm: the ARM builds, link checks, the emulated runs, the footprint against
# the budgets, the 1.13 compile.
cross_test() {
    cross_deps
    cross_libs
    cross_link_check
    mp_fetch
    cross_qemu
    cross_test_qemu
    cross_test_a5
    cross_size
    cross_budgets
    cross_compat113
}

# ./build.sh size (then cross_budgets) and ./build.sh bench (the footprint is part of the
# benchmark record: bench/size_bench.py reads build/size.json).
cross_size_report() {
    boot_deps
    boot_build
    cross_deps
    cross_libs
    cross_link_check
    mp_fetch
    cross_qemu
    cross_size
}
