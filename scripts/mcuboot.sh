# shellcheck shell=bash
# MCUboot interop pieces, sourced by build.sh (which sets ROOT and BUILD and sources
# common.sh first).
#
#   mcuboot_fixtures  fetch the smpclient 7.3.0 sdist with pip download, check its pinned
#                     SHA-256, extract tests/fixtures/smp-server/ (prebuilt Zephyr + MCUboot
#                     serial-recovery images for qemu mps2-an385) into build/mcuboot-fixtures and
#                     check them against their SHA256SUMS
#   mcuboot_venv      build/mcuboot-venv: smpclient 7.3.0 (the peer the tests and the benchmark
#                     compare with) and imgtool (images MCUboot must refuse)
#   mcuboot_deps      both, and qemu-system-arm

MCUBOOT_SDIST=smpclient-7.3.0.tar.gz
MCUBOOT_SDIST_SHA256=86aa4bc1c621805d97f449793a4077f049aa88a98a1e916bf59423d072bd2a3b
MCUBOOT_FIXTURES="$BUILD/mcuboot-fixtures"
MCUBOOT_VENV="$BUILD/mcuboot-venv"

mcuboot_fixtures() {
    local dl="$BUILD/mcuboot-sdist" sdist
    sdist="$dl/$MCUBOOT_SDIST"
    if [ ! -f "$MCUBOOT_FIXTURES/.checked" ]; then
        if [ ! -f "$sdist" ]; then
            say "pip download $MCUBOOT_SDIST (MCUboot serial-recovery fixtures)"
            mkdir -p "$dl"
            run_logged "$dl/pip.log" python3 -m pip download -q --no-binary :all: --no-deps \
                -d "$dl" smpclient==7.3.0
        fi
        echo "$MCUBOOT_SDIST_SHA256  $sdist" | sha256sum -c --quiet - ||
            die "$sdist: SHA-256 differs from the pinned one (scripts/mcuboot.sh)"
        rm -rf "$MCUBOOT_FIXTURES"
        mkdir -p "$MCUBOOT_FIXTURES"
        local at=smpclient-7.3.0/tests/fixtures/smp-server
        tar -xzf "$sdist" -C "$MCUBOOT_FIXTURES" --strip-components=4 --wildcards \
            "$at/SHA256SUMS" "$at/manifest.json" "$at/VERSION" "$at/*_mps2_an385_serial_recovery*"
        # manifest.json is a local merge of two releases (see VERSION): its line in
        # SHA256SUMS is the upstream one, so only the images are checked.
        (cd "$MCUBOOT_FIXTURES" && grep -v ' manifest.json$' SHA256SUMS |
            sha256sum -c --quiet --ignore-missing -) ||
            die "$MCUBOOT_FIXTURES: a fixture differs from its SHA256SUMS"
        touch "$MCUBOOT_FIXTURES/.checked"
    fi
}

mcuboot_venv() {
    if [ ! -x "$MCUBOOT_VENV/bin/python" ] ||
        ! "$MCUBOOT_VENV/bin/python" -c 'import smpclient.transport.serial, imgtool' 2>/dev/null; then
        say "venv $MCUBOOT_VENV: smpclient 7.3.0, imgtool"
        if [ "$(command -v python3)" = /usr/bin/python3 ]; then need_apt python3-venv; fi
        rm -rf "$MCUBOOT_VENV"
        run_logged "$BUILD/mcuboot-venv.log" python3 -m venv "$MCUBOOT_VENV"
        run_logged "$BUILD/mcuboot-venv.log" "$MCUBOOT_VENV/bin/python" -m pip install -q \
            "smpclient[serial]==7.3.0" imgtool
    fi
}

mcuboot_deps() {
    need_apt qemu-system-arm
    mcuboot_fixtures
    mcuboot_venv
}
