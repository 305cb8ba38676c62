# shellcheck shell=bash
# The nRF51 reference bootloader (boot/, docs/bootloader.md), sourced by build.sh (which sets
# ROOT and BUILD and sources common.sh first).
#
#   boot_deps    qemu-system-arm (the microbit machine), the ARM binutils, the thumbv6m target
#   boot_build   the bootloader and the test application in two versions, into build/boot/:
#                bootloader.elf/.bin (flash at 0), app-VERSION.elf/.bin (at 0x6000)
#   boot_twin    the bootloader built again in another directory must be the same bytes
#   boot_size    `boot-nrf51 text=N data=N bss=N stack=N ram=N` and `boot-app ...` lines
#   boot_budgets the bootloader against its budget: 24 KB of flash, 8 KB of RAM
#   boot_lint    rustfmt and clippy on boot/ (a workspace of its own: cargo fmt --all and
#                clippy --workspace at the root do not reach it)
#   boot_fuzz S  tests/test_boot.py's power cuts S/60 times over (./build.sh fuzz)
# tests/test_boot.py (in ./build.sh test's pytest run) updates and cuts it under qemu.

BOOT_OUT="$BUILD/boot"
BOOT_TARGET=thumbv6m-none-eabi
# The versions the tests update between.
BOOT_APP_VERSIONS=(1_0_0 2_0_0)
BOOT_FLASH_BUDGET=$((24 * 1024))
BOOT_RAM_BUDGET=$((8 * 1024))

boot_deps() {
    need_apt qemu-system-arm binutils-arm-none-eabi
    command -v rustup >/dev/null || die "rustup is required for the nRF51 bootloader"
    rustup target list --installed | grep -qx "$BOOT_TARGET" || rustup -q target add "$BOOT_TARGET"
}

# _boot_cargo VERSION ARGS...: cargo in boot/ (its own workspace and target), the
# application's version in the environment. Each version has a target dir of its own, so
# that building one does not make the other stale.
_boot_cargo() {
    local version=$1
    shift
    (cd "$ROOT/boot" && QSOTA_APP_VERSION=$version \
        cargo build -q --release --target-dir "$ROOT/boot/target/$version" "$@")
}

boot_build() {
    say "nRF51 bootloader and test application (boot/)"
    mkdir -p "$BOOT_OUT"
    local bin="$BOOT_TARGET/release" v
    _boot_cargo "${BOOT_APP_VERSIONS[0]}" -p qsota-boot-nrf51
    cp "$ROOT/boot/target/${BOOT_APP_VERSIONS[0]}/$bin/qsota-boot-nrf51" "$BOOT_OUT/bootloader.elf"
    arm-none-eabi-objcopy -O binary "$BOOT_OUT/bootloader.elf" "$BOOT_OUT/bootloader.bin"
    for v in "${BOOT_APP_VERSIONS[@]}"; do
        _boot_cargo "$v" -p qsota-boot-app
        cp "$ROOT/boot/target/$v/$bin/qsota-boot-app" "$BOOT_OUT/app-$v.elf"
        arm-none-eabi-objcopy -O binary "$BOOT_OUT/app-$v.elf" "$BOOT_OUT/app-$v.bin"
    done
}

# _boot_sections ELF: "text=N data=N bss=N stack=N" from the ELF's section headers (text:
# vectors, code and read-only data; what the flash holds is text + data).
_boot_sections() {
    arm-none-eabi-size -A "$1" | awk '
        $1 ~ /^\.(vectors|vector_table|text|rodata)$/ { text += $2 }
        $1 == ".data" { data += $2 }
        $1 ~ /^\.(bss|uninit)$/ { bss += $2 }
        $1 == ".stack" { stack += $2 }
        END { printf "text=%d data=%d bss=%d stack=%d ram=%d\n", text, data, bss, stack, data + bss + stack }'
}

# One line per artifact, as cross_size prints them (build/size.json gets them from there).
boot_size() {
    printf 'boot-nrf51 %s\n' "$(_boot_sections "$BOOT_OUT/bootloader.elf")"
    printf 'boot-app %s\n' "$(_boot_sections "$BOOT_OUT/app-${BOOT_APP_VERSIONS[0]}.elf")"
}

boot_budgets() {
    local line text data ram
    line=$(_boot_sections "$BOOT_OUT/bootloader.elf")
    text=$(sed -E 's/.*text=([0-9]+).*/\1/' <<<"$line")
    data=$(sed -E 's/.*data=([0-9]+).*/\1/' <<<"$line")
    ram=$(sed -E 's/.*ram=([0-9]+).*/\1/' <<<"$line")
    [ $((text + data)) -le "$BOOT_FLASH_BUDGET" ] ||
        die "boot-nrf51: flash $((text + data)) is over its budget of $BOOT_FLASH_BUDGET bytes"
    [ "$ram" -le "$BOOT_RAM_BUDGET" ] || die "boot-nrf51: ram=$ram is over its budget of $BOOT_RAM_BUDGET bytes"
    say "budget boot-nrf51: flash=$((text + data)) <= $BOOT_FLASH_BUDGET, ram=$ram <= $BOOT_RAM_BUDGET"
}

boot_lint() {
    say "cargo fmt --check, clippy (boot/)"
    (cd "$ROOT/boot" && cargo fmt --all -- --check)
    (cd "$ROOT/boot" && QSOTA_APP_VERSION=${BOOT_APP_VERSIONS[0]} cargo clippy -q --release \
        --target-dir "$ROOT/boot/target/${BOOT_APP_VERSIONS[0]}" -- -D warnings)
}

boot_fuzz() {
    local times=$(($1 / 60))
    [ "$times" -ge 1 ] || return 0
    say "nRF51 bootloader: power cuts x$times (build/boot/cuts-*.json)"
    cargo build -q --release -p qsota-cli # the sender the cuts interrupt
    QSOTA_BOOT_CUTS=$times python3 -m pytest -q "$ROOT/tests/test_boot.py" -k power_cuts
}

# boot_twin: the bootloader built again from a copy of its sources in another directory
# (build/boot-twin/) is bootloader.bin byte for byte: no checkout's path reaches the bytes
# (boot/Cargo.toml, `qsota`). Source mtimes are kept, so a rerun rebuilds only what changed.
boot_twin() {
    local twin="$BUILD/boot-twin"
    say "nRF51 bootloader: the same bytes from another directory ($twin)"
    rm -rf "$twin/src"
    mkdir -p "$twin/src"
    tar -C "$ROOT" --exclude=boot/target -cf - Cargo.toml Cargo.lock src boot | tar -C "$twin/src" -xf -
    (cd "$twin/src/boot" && QSOTA_APP_VERSION=${BOOT_APP_VERSIONS[0]} \
        cargo build -q --release --target-dir "$twin/target" -p qsota-boot-nrf51)
    arm-none-eabi-objcopy -O binary "$twin/target/$BOOT_TARGET/release/qsota-boot-nrf51" \
        "$twin/bootloader.bin"
    cmp -s "$BOOT_OUT/bootloader.bin" "$twin/bootloader.bin" ||
        die "bootloader.bin differs when built in $twin/src: the build depends on its directory"
}
