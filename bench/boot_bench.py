"""The nRF51 reference bootloader (docs/bootloader.md) on qemu's microbit, updated by
`qsota send --protocol native` (target/release/qsota) over qemu's UART chardev, from the
running application 1_0_0 to 2_0_0 at three sizes (tests/support/nrf51.py).

Per row: send_s (qsota send's own time: its first OPEN resets the application into the
bootloader and is lost, so about a second of it is the repeated OPEN), data_s (the sender's
data phase), install_s (DONE to the new application's banner: reset, page copy, read-back,
start) and total_s (the command started to the new application's banner). qemu's UART takes 6
bytes per turn of its main loop whatever the baud rate: these times measure the emulator's
line and the bootloader's flow, not an nRF51's; on hardware the line and the flash set them.

stack_bytes: the bootloader's deepest stack during a 100 KiB update, by what is sent (a full
image, a delta of it, the compressed full image: a patch against the empty base; RAM
painted before the bootloader starts, read at the reset after DONE); its RAM is the stack
alone (no .data or .bss), the receiver included.
"""

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from support.nrf51 import (ENTER, HANDOFF, RAM, RAM_SIZE, Board, app_image,  # noqa: E402
                           delta_package, factory_flash, missing, new_version, send)

SIZES = (None, 24 * 1024, 100 * 1024)
PAINT = 0xA5


def update_row(size, tmp):
    image = app_image("2_0_0", size)
    with Board(factory_flash(app_image("1_0_0"))) as board:
        board.wait_for("app 1_0_0")
        start = board.mark()
        began = time.monotonic()
        status, stats, err = send(board.port, image, tmp)
        sent = time.monotonic()
        if status != 0:
            raise RuntimeError("qsota send failed: %s" % err)
        board.wait_for("app 2_0_0", start, timeout=60)
        done = time.monotonic()
    return {"protocol": "native", "mcu": "qemu-microbit", "bytes": len(image),
            "send_s": round(stats["elapsed_ms"] / 1000, 3),
            "data_s": round(stats["data_ms"] / 1000, 3),
            "install_s": round(done - sent, 3), "total_s": round(done - began, 3),
            "retries": stats["retries"]}


def stack_bytes(tmp, base, image):
    """The deepest the bootloader's stack went sending `image` (a full image or a package)
    to the application `base`."""
    ram = bytearray([PAINT]) * (RAM_SIZE - 8) + ENTER
    with Board(factory_flash(base), ram=bytes(ram)) as board:
        status, _, err = send(board.port, image, tmp)
        if status != 0:
            raise RuntimeError("qsota send failed: %s" % err)
        board.wait_for("app 2_0_0", timeout=60)
        after = board.reset_rams[0]
    top = HANDOFF - RAM
    lowest = next(i for i in range(top) if after[i] != PAINT)
    return top - lowest


def run(micropython):
    why = missing()
    if why:
        print("skipped: %s" % why)
        return {}
    with tempfile.TemporaryDirectory() as tmp:
        rows = [update_row(size, tmp) for size in SIZES]
        base = app_image("1_0_0", SIZES[-1])
        target = new_version(base, "2_0_0")
        stack = {
            "full": stack_bytes(tmp, app_image("1_0_0"), app_image("2_0_0", SIZES[-1])),
            "delta": stack_bytes(tmp, base, delta_package(base, target, tmp)),
            "compressed": stack_bytes(tmp, base, delta_package(b"", target, tmp)),
        }
    print("nRF51 bootloader on qemu microbit, qsota send --protocol native over the chardev")
    print("  bytes   send s  data s  install s  total s  retries")
    for r in rows:
        print("  %6d  %6.2f  %6.2f  %9.2f  %7.2f  %7d" % (
            r["bytes"], r["send_s"], r["data_s"], r["install_s"], r["total_s"], r["retries"]))
    print("  bootloader stack, deepest (RAM budget 8192): %s" % ", ".join(
        "%s %d bytes" % kv for kv in sorted(stack.items())))
    return {"boot": {"updates": rows, "stack_bytes": stack}}
