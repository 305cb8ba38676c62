"""The native protocol at its real-world defaults (issue 10, item 4), next to YMODEM.

Every native case runs twice in the same run: `before` is the receiver with one frame
buffer (`--rx-buffers 1`) and the sender's old fixed timeout (`rto_ms` = the receiver's
busy_ms + 1000, given explicitly), which is exactly what the protocol did before the
two-buffer receiver and the adaptive timer; `after` is today's default (two buffers,
adaptive timer, `qsota.send`'s default options).

- small_fifo: 256 KiB into `qsota-mcu --personality native` with the simulator's default
  256-byte receive FIFO (one buffer: window 1; two: window 2), on the STM32F4 flash model
  (busy_ms 1000), at 115200 and 921600, both backends. Target (after): line_efficiency
  >= 0.95 at 921600.
- bitflip_recovery: 64 KiB over a line that flips bits (module -> MCU, 3e-4 per byte,
  seed 1) at 921600, uniform 4 KiB sectors (20 ms erase, so busy_ms 20), the default
  256-byte FIFO: YMODEM into ST's IAP (`stm32-iap`) and native. Target (after): native's
  total time <= 2x YMODEM's (same backend).

Rows are transfer_bench's (seconds, data_seconds, line_efficiency, retries, window, ...)
plus `case` and `variant`.
"""

import tempfile
from pathlib import Path

from transfer_bench import BACKENDS, one

BIG = 256 << 10
SMALL = 64 << 10
FIFO = 256
BITFLIP = {"bitflip_rate": 3e-4, "seed": 1, "sector_size": "4K"}
EFFICIENCY_TARGET = 0.95
RECOVERY_FACTOR = 2.0
# The receiver's busy_ms in each case: the longest sector erase (STM32F4 128 KiB: 1 s).
BUSY_MS = {"small_fifo": 1000, "bitflip_recovery": 20}


def image(tmp, size):
    path = Path(tmp) / ("img-%d.bin" % size)
    path.write_bytes(bytes((i * 131 + (i >> 10)) & 0xFF for i in range(size)))
    return path


def native(micropython, case, variant, backend, baud, path, size, **mcu):
    """One native run of `case` as it was (`before`) or is (`after`)."""
    send = None
    if variant == "before":
        mcu["rx_buffers"] = 1
        send = {"rto_ms": BUSY_MS[case] + 1000}
    r = one(micropython, "native", backend, baud, path, size=size, send_options=send,
            fifo=FIFO, **mcu)
    return dict(r, case=case, variant=variant)


def run(micropython):
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        big, small = image(tmp, BIG), image(tmp, SMALL)
        for backend in BACKENDS:
            for baud in (115200, 921600):
                for variant in ("before", "after"):
                    rows.append(native(micropython, "small_fifo", variant, backend, baud, big,
                                       BIG))
            r = one(micropython, "ymodem", backend, 921600, small, size=SMALL, **BITFLIP)
            rows.append(dict(r, case="bitflip_recovery", variant="-"))
            for variant in ("before", "after"):
                rows.append(native(micropython, "bitflip_recovery", variant, backend, 921600,
                                   small, SMALL, **BITFLIP))
    print_table(rows)
    return {"native": rows}


def verdict(r, rows):
    if r["variant"] != "after":
        return ""
    if r["case"] == "small_fifo" and r["baud"] == 921600:
        met = r["line_efficiency"] >= EFFICIENCY_TARGET
        return "  (target >= %.2f: %s)" % (EFFICIENCY_TARGET, "met" if met else "MISSED")
    if r["case"] == "bitflip_recovery":
        ymodem = [y for y in rows if y["case"] == r["case"] and y["protocol"] == "ymodem"
                  and y["backend"] == r["backend"]][0]
        r["vs_ymodem"] = round(r["seconds"] / ymodem["seconds"], 2)
        met = r["vs_ymodem"] <= RECOVERY_FACTOR
        return "  (%.2fx YMODEM, target <= %.1fx: %s)" % (
            r["vs_ymodem"], RECOVERY_FACTOR, "met" if met else "MISSED")
    return ""


def print_table(rows):
    print("native protocol at its defaults (256 B FIFO), before/after; bit-flip recovery "
          "vs YMODEM")
    print("  case              protocol variant backend  baud    window  total s  data s"
          "  line eff.  retries  rto ms")
    for r in rows:
        print("  %-17s %-8s %-7s %-7s %7d  %6s  %7.2f  %6.2f  %9.3f  %7d  %6s%s" % (
            r["case"], r["protocol"], r["variant"], r["backend"], r["baud"],
            r.get("window", "-"), r["seconds"], r["data_seconds"], r["line_efficiency"],
            r["retries"], r.get("rto_ms", "-"), verdict(r, rows)))
