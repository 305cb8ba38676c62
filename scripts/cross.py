"""The ARM artifacts scripts/cross.sh builds, as one table, and the C functions each ships.

    python3 scripts/cross.py names               every artifact, one a line
    python3 scripts/cross.py get NAME FIELD      one field of an artifact (see ARTIFACTS)
    python3 scripts/cross.py features NAME       the cargo features NAME is built with
    python3 scripts/cross.py exports NAME        the functions NAME ships, one a line

An artifact ships the `#[no_mangle]` functions of the C ABI files (src/ffi/) its `abi`
names: a C bootloader links the native protocol's receiver (src/ffi/native_rx.rs), the module
for QuecPython everything else (it sends, it never receives), the qemu test firmware all of
it (its tests run a sender against an in-process receiver); delta-cortex-m3 is the delta
applier alone (src/ffi/delta.rs): what applying diff packages adds to a bootloader;
receiver-delta-cortex-m3 the native receiver that applies them as they arrive (OPEN's DELTA
flag, src/ffi/native_rxd.rs).
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FFI = ROOT / "src" / "ffi"

# MCU builds: sha2's compact SHA-256 rounds (~1 KB of code instead of ~7 KB unrolled; the
# receiver hashes at flash speed, not at line rate).
_MCU_CFG = '--cfg sha2_backend_soft="compact"'

# Each artifact (build/arm/NAME/libqsota.a):
#   target     the Rust target; toolchain: nightly (for -Zbuild-std) or the default one
#   profile    the cargo profile (mcu: size-optimised; module: size-optimised but the digests, Cargo.toml)
#   rustflags  for the target; cflags: gcc's for the C that links it
#   abi        which C ABI it ships: receiver (src/ffi/native_rx.rs), delta (src/ffi/delta.rs),
#              receiver-delta (src/ffi/native_rxd.rs: the two-buffer receiver with the applier),
#              receiver-signed (src/ffi/native_rxs.rs: that receiver checking signatures),
#              module (every other file of src/ffi, the delta applier's included: _qsota binds
#              it, issue 20), all
#   features   cargo features of qsota-capi ("" for none): signed-receiver for receiver-signed
#   budget     bytes of text (code + read-only data) its image may keep from libqsota.a
#              (issue 6): the module's was 64 KiB while it verified and spoke YMODEM and the
#              native protocol; with the ROM bootloader (~6.8 KB), MCUboot (~8.3 KB) and
#              signed-image checks (Ed25519 and the MCUboot parser, ~21 KB) it is 80 KiB,
#              after the one-table CRC-32s (issue 10) gave back 24 KB; 88 KiB with the delta
#              applier (issue 20: diff packages are applied on the module for every
#              bootloader that takes whole images, and the core applies about 200 times as
#              fast as qsota.pure's). 0: none.
# module-cortex-a5 is the one to ship, for QuecPython's Unisoc modules: Thumb-2, hard float,
# built as their firmware is; thumbv7a-none-eabihf has no prebuilt core, hence nightly.
# qemu-cortex-a9 is for the test firmware of MicroPython's qemu port (BOARD=SABRELITE), which
# is soft-float ARM mode.
ARTIFACTS = {
    "module-cortex-a5": {
        "target": "thumbv7a-none-eabihf",
        "toolchain": "nightly",
        "profile": "module",
        "rustflags": "-C target-cpu=cortex-a5",
        "cflags": "-mcpu=cortex-a5 -mthumb -mfpu=neon-vfpv4 -mfloat-abi=hard",
        "abi": "module",
        "budget": 90112,
    },
    "qemu-cortex-a9": {
        "target": "armv7a-none-eabi",
        "toolchain": "default",
        "profile": "release",
        "rustflags": "-C target-cpu=cortex-a9",
        "cflags": "-mcpu=cortex-a9 -mfloat-abi=soft",
        "abi": "all",
        "budget": 0,
    },
    "receiver-cortex-m3": {
        "target": "thumbv7m-none-eabi",
        "toolchain": "default",
        "profile": "mcu",
        "rustflags": "-C target-cpu=cortex-m3 " + _MCU_CFG,
        "cflags": "-mcpu=cortex-m3 -mthumb",
        "abi": "receiver",
        "budget": 12288,
    },
    "receiver-cortex-m4f": {
        "target": "thumbv7em-none-eabihf",
        "toolchain": "default",
        "profile": "mcu",
        "rustflags": "-C target-cpu=cortex-m4 " + _MCU_CFG,
        "cflags": "-mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard",
        "abi": "receiver",
        "budget": 12288,
    },
    "delta-cortex-m3": {
        "target": "thumbv7m-none-eabi",
        "toolchain": "default",
        "profile": "mcu",
        "rustflags": "-C target-cpu=cortex-m3 " + _MCU_CFG,
        "cflags": "-mcpu=cortex-m3 -mthumb",
        "abi": "delta",
        "budget": 8192,
    },
    # Issue 20's target for a receiver that takes deltas: 20 KB of text on Cortex-M3.
    "receiver-delta-cortex-m3": {
        "target": "thumbv7m-none-eabi",
        "toolchain": "default",
        "profile": "mcu",
        "rustflags": "-C target-cpu=cortex-m3 " + _MCU_CFG,
        "cflags": "-mcpu=cortex-m3 -mthumb",
        "abi": "receiver-delta",
        "budget": 20480,
    },
    # The delta receiver that checks a SIGNED session's image (issue 20 item 5): 38.0 KB
    # measured, the delta receiver's 17.8 KB plus Ed25519 verify (ed25519-compact opt_size at
    # opt-level z: ~15 KB of field arithmetic, point decoding, double scalar multiplication,
    # SHA-512 and its 960-byte base table) and the MCUboot parser (~2.6 KB); 40 KiB leaves
    # room for fixes, as the others do.
    "receiver-signed-cortex-m3": {
        "target": "thumbv7m-none-eabi",
        "toolchain": "default",
        "profile": "mcu",
        "rustflags": "-C target-cpu=cortex-m3 " + _MCU_CFG,
        "cflags": "-mcpu=cortex-m3 -mthumb -DQSOTA_SIGNED_RECEIVER",
        "abi": "receiver-signed",
        "features": "signed-receiver",
        "budget": 40960,
    },
}

# The C ABI files a bootloader links: the receiver, the delta applier, the receiver with it.
RECEIVER = "native_rx.rs"
DELTA = "delta.rs"
RECEIVER_DELTA = "native_rxd.rs"
RECEIVER_SIGNED = "native_rxs.rs"
_BOOTLOADER = {"receiver": RECEIVER, "delta": DELTA, "receiver-delta": RECEIVER_DELTA,
               "receiver-signed": RECEIVER_SIGNED}

_EXPORT = re.compile(r'#\[no_mangle\]\s*pub (?:unsafe )?extern "C" fn (qsota_\w+)')


def functions(path):
    """The exported C functions of one src/ffi file, in file order."""
    return _EXPORT.findall(path.read_text())


def exports(name):
    abi = ARTIFACTS[name]["abi"]
    files = sorted(FFI.glob("*.rs"))
    if abi in _BOOTLOADER:
        files = [FFI / _BOOTLOADER[abi]]
    elif abi == "module":
        files = [f for f in files if f.name not in (RECEIVER, RECEIVER_DELTA)]
    # Only the artifact built with its feature has the signed receiver.
    files = [f for f in files if f.name != RECEIVER_SIGNED or abi == "receiver-signed"]
    return [fn for f in files for fn in functions(f)]


def features(name):
    """Cargo features of NAME's build: a bootloader's library is built with only the
    bootloader's C ABI (the `bootloader` feature). Its exports are all a prelink keeps, but
    the crate's merged string section (panic locations, names) is one input section: built
    with the module's senders it would bring their strings along (~1.4 KB on a receiver).
    An artifact's own `features` come first (signed-receiver)."""
    own = ARTIFACTS[name].get("features", "")
    bootloader = "qsota/bootloader" if ARTIFACTS[name]["abi"] in _BOOTLOADER else ""
    return ",".join(f for f in (own, bootloader) if f)


def main(args):
    if args == ["names"]:
        print("\n".join(ARTIFACTS))
    elif len(args) == 3 and args[0] == "get" and args[1] in ARTIFACTS:
        print(ARTIFACTS[args[1]].get(args[2], ""))
    elif len(args) == 2 and args[0] == "features" and args[1] in ARTIFACTS:
        print(features(args[1]))
    elif len(args) == 2 and args[0] == "exports" and args[1] in ARTIFACTS:
        print("\n".join(exports(args[1])))
    else:
        sys.exit("usage: cross.py names | get NAME FIELD | features NAME | exports NAME (NAME: %s)"
                 % ", ".join(ARTIFACTS))


if __name__ == "__main__":
    main(sys.argv[1:])
