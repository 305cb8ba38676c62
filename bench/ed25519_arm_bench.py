"""qsota.pure's Ed25519 on the emulated ARM: instructions per signature check.

    python3 bench/ed25519_arm_bench.py [build/arm/qemu/firmware.elf]

Runs the qemu test firmware (MicroPython on a Cortex-A9, `./build.sh test-arm` builds it,
qsota frozen in as on a module) under `qemu-system-arm -icount shift=0`, where every guest
instruction advances virtual time by 1 ns. The script on the board counts with the
sabrelite's MPCore global timer, which then ticks once per 10 instructions (facts.md, qemu),
reset and started around each measured call. Counts are deterministic: one run each.
Measured: one `verify` of a valid signature (what `Verifier.check()` adds for keys=, the
message being the image's SHA-256) and its parts, the self-test the first
`Verifier(keys=...)` of a process runs, and `verify` again with 1,000 small objects kept on
the heap: long-int arithmetic allocates tens of thousands of blocks per verification, and
MicroPython's allocator searches past the one-block holes such a heap has, so the count
depends on the heap's state (11 times the first on this firmware's 140 KB heap, 4.5 times
on a module's 512 KB when measured).
"""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "arm"))

from run import Board  # noqa: E402

FIRMWARE = ROOT / "build" / "arm" / "qemu" / "firmware.elf"
ORDER = ("verify", "self_test", "combination", "decode", "sha512_block", "mul",
         "verify_1000_small_objects_kept")

BOARD_SIDE = b"""
import gc, json
from machine import mem32
from qsota.pure import ed25519 as e

TIMER = 0x00A00200  # counter low and high words, control at +8 (1: enabled, prescaler 0)

def instructions(fn, *args):
    gc.collect()
    mem32[TIMER + 8] = 0
    mem32[TIMER] = 0
    mem32[TIMER + 4] = 0
    mem32[TIMER + 8] = 1
    fn(*args)
    ticks = mem32[TIMER]
    assert mem32[TIMER + 4] == 0
    return ticks * 10

key = e._KAT_KEY.to_bytes(32, "big")
sig = e._KAT_R.to_bytes(32, "big") + e._KAT_S.to_bytes(32, "big")
s = int.from_bytes(sig[32:], "little")
a = e._decode(key)
k = e._mod_l(int.from_bytes(e.sha512(sig[:32] + key), "little"))
assert e.verify(key, b"", sig)
out = {
    "verify": instructions(e.verify, key, b"", sig),
    "sha512_block": instructions(e.sha512, sig[:32] + key + bytes(32)),
    "decode": instructions(e._decode, key),
    "combination": instructions(e._combination, s, k, e._neg(a)),
    "mul": instructions(e._mul, e._D, e._SQRT_M1),
    "self_test": instructions(e.self_test),
}
# An application's heap: small objects that stay, between others that went, leave one-block
# holes that every allocation of two blocks or more (each long int here) searches past.
kept = [str(i) + "x" for i in range(1000)]
out["verify_1000_small_objects_kept"] = instructions(e.verify, key, b"", sig)
print(json.dumps(out))
"""


def run(micropython=None, firmware=FIRMWARE):
    """Measures; returns {"ed25519_arm": {...}} (instructions) and prints a table."""
    if not Path(firmware).exists():
        print("ed25519_arm: no %s (./build.sh test-arm builds it): skipped" % firmware)
        return {}
    board = Board(str(firmware), icount=True)
    try:
        out, err = board.run(BOARD_SIDE)
    finally:
        board.close()
    if err:
        raise RuntimeError("the board failed:\n" + err)
    result = json.loads(out.strip().splitlines()[-1])
    print("ed25519_arm: qsota.pure Ed25519 on qemu sabrelite (Cortex-A9), instructions")
    for name in ORDER:
        print("  %-32s %12d" % (name, result[name]))
    return {"ed25519_arm": result}


if __name__ == "__main__":
    run(firmware=sys.argv[1] if len(sys.argv) > 1 else FIRMWARE)
