"""STM32 ROM bootloader (AN3155) throughput: `qsota.send(protocol='stm32')` of a 256 KiB
image into `qsota-mcu --personality stm32-rom` (an STM32F405/407: PID 0x413, the whole
1 MiB flash from 0x08000000, sectors 16/16/16/16/64/128 KiB... with the datasheet's typical
erase times, 16 us per word programming, a 1-byte receive buffer as the ROM polls its
USART) at 115200 8E1, beside Debian's stm32flash on the same simulator and image in the
same run, the host command `qsota send --protocol stm32` through a pty as stm32flash is, and
YMODEM (stm32-iap) and the native protocol on the same line at 8E1.

Per row: seconds (whole transfer); erase_seconds, data_seconds (the write phase),
verify_seconds (read-back) as the sender measured them; line_efficiency = payload /
(data_seconds * baud / 11), what an 8E1 line carries; line_efficiency_overall uses seconds;
cpu_s_per_mb and cpu_ms_per_mb: user + system CPU of the MicroPython process per 10**6
payload bytes; alloc_bytes_per_block over the write phase (GC off); vs_stm32flash: seconds
over stm32flash's. stm32flash's row has no phase split (it writes and verifies each block
in turn) and its CPU is the host tool's, as the CLI row's is. Targets: data phase >= 0.85 of the line, total
within 1.1x of stm32flash (reported, never asserted).
"""

import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))
from support.mcu import Mcu, binary, pty_bridge  # noqa: E402
from support.stm32_peers import stm32flash  # noqa: E402
from measure import measured  # noqa: E402

SIZE = 256 << 10
BAUD = 115200
LINE = BAUD / 11
MCU = "stm32-rom: STM32F407 (PID 0x413), 1 MiB from 0x08000000, typical erase/program times, 8E1"

MICROPYTHON_SIDE = """
import gc, json, sys, time
import qsota
port_no, path, backend, SIZE = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
if backend == "pure":
    import qsota.pure
    qsota._use(qsota.pure)
assert qsota.NATIVE == (backend == "native")
marks = [0, 0]  # the write pass's heap use at FIRST and LATER (a list: storing allocates nothing)
FIRST, LATER = 16 * 1024, SIZE - 16 * 1024

def progress(offset, size):
    i = 0 if offset == FIRST else 1 if offset == LATER else -1
    if i >= 0 and not marks[i]:
        marks[i] = gc.mem_alloc()

port = qsota.tcp_port("127.0.0.1", port_no)
gc.collect()
gc.disable()
stats = qsota.send(port, path, protocol="stm32", progress=progress, baud=%d)
stats["alloc_per_block"] = (marks[1] - marks[0]) / ((LATER - FIRST) // 256)
print(json.dumps(stats))
""" % BAUD


def phase_row(backend, stats, cpu_s):
    """A row from the sender's own phase timings (qsota.send's stats, or the CLI's)."""
    data_s = stats["write_ms"] / 1000
    return {
        "protocol": "stm32",
        "backend": backend,
        "baud": BAUD,
        "line": "8E1",
        "bytes": SIZE,
        "seconds": round(stats["elapsed_ms"] / 1000, 3),
        "erase_seconds": round(stats["erase_ms"] / 1000, 3),
        "data_seconds": round(data_s, 3),
        "verify_seconds": round(stats["verify_ms"] / 1000, 3),
        "line_efficiency": round(SIZE / (data_s * LINE), 3),
        "line_efficiency_overall": round(SIZE / (stats["elapsed_ms"] / 1000 * LINE), 3),
        "cpu_s_per_mb": round(cpu_s / (SIZE / 1e6), 3),
        "cpu_ms_per_mb": round(cpu_s * 1000 / (SIZE / 1e6), 1),
        "retries": stats["retries"],
        "line_bytes": stats["line_bytes"],
        "pages_erased": stats["pages"],
        "mcu": MCU,
    }


def qsota_row(micropython, backend, path):
    with Mcu(personality="stm32-rom", baud=BAUD) as mcu:
        env = dict(os.environ, MICROPYPATH=str(ROOT / "python"))
        status, out, err, cpu_s = measured(
            [micropython, "-c", MICROPYTHON_SIDE, str(mcu.port), str(path), backend, str(SIZE)],
            env,
        )
        if status != 0:
            raise RuntimeError("MicroPython transfer failed:\n" + err)
        summary = mcu.summary()
    if summary["result"] != "ok":
        raise RuntimeError("the MCU did not get the image: %s" % summary)
    stats = json.loads(out.strip().splitlines()[-1])
    row = phase_row(backend, stats, cpu_s)
    row["alloc_bytes_per_block"] = stats["alloc_per_block"]
    return row


def stm32flash_row(path):
    mcu = Mcu(personality="stm32-rom", baud=BAUD)
    try:
        rc, out, seconds, cpu_s = stm32flash(mcu.port, path, BAUD)
        summary = mcu.summary()
    finally:
        mcu.close()
    if rc != 0 or summary["result"] != "ok":
        raise RuntimeError("stm32flash failed (%d):\n%s\n%s" % (rc, out[-2000:], summary))
    return {
        "protocol": "stm32flash",
        "backend": "host",
        "baud": BAUD,
        "line": "8E1",
        "bytes": SIZE,
        "seconds": round(seconds, 3),
        "line_efficiency_overall": round(SIZE / (seconds * LINE), 3),
        "cpu_s_per_mb": round(cpu_s / (SIZE / 1e6), 3),
        "pages_erased": summary["flash"]["erases"],
        "mcu": MCU,
        "note": "stm32flash 0.7 -w -v -g: writes and reads back each block in turn; CPU is the host tool's",
    }


def cli_row(path):
    """`qsota send --protocol stm32` through a pty (socat to the simulator), as stm32flash
    runs; the pty has no parity, the simulator paces 8E1 anyway."""
    with tempfile.TemporaryDirectory() as tmp:
        with Mcu(personality="stm32-rom", baud=BAUD) as mcu:
            with pty_bridge(mcu.port, Path(tmp) / "ttyMCU") as tty:
                status, out, err, cpu_s = measured(
                    [str(binary("qsota", "QSOTA_CLI", "qsota-cli")), "send", str(path),
                     "--port", str(tty), "--baud", str(BAUD), "--protocol", "stm32",
                     "--parity", "none", "--json"],
                )
            summary = mcu.summary()
    if status != 0 or summary["result"] != "ok":
        raise RuntimeError("qsota send failed:\n%s\n%s" % (err, summary))
    row = phase_row("cli", json.loads(out), cpu_s)
    row["note"] = "the host command over a pty, as stm32flash; CPU is the host tool's"
    return row


def peer_rows(micropython, path):
    """YMODEM (stm32-iap) and the native protocol on the same 8E1 line."""
    import transfer_bench

    rows = []
    for protocol in ("ymodem", "native"):
        for backend in ("native", "pure"):
            r = transfer_bench.one(micropython, protocol, backend, BAUD, path, parity="even")
            r["line"] = "8E1"
            r["line_efficiency"] = round(SIZE / (r["data_seconds"] * LINE), 3)
            r["line_efficiency_overall"] = round(SIZE / (r["seconds"] * LINE), 3)
            r.pop("resent_bytes", None)
            rows.append(r)
    return rows


def run(micropython):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "app.bin"
        path.write_bytes(bytes((i * 131 + (i >> 10)) & 0xFF for i in range(SIZE)))
        started = time.monotonic()
        reference = stm32flash_row(path)
        rows = [qsota_row(micropython, b, path) for b in ("native", "pure")]
        rows.append(cli_row(path))
        for r in rows:
            r["vs_stm32flash"] = round(r["seconds"] / reference["seconds"], 3)
        rows.append(reference)
        rows += peer_rows(micropython, path)
        wall = round(time.monotonic() - started, 1)
    print_table(rows, wall)
    return {"transfer": rows}


def print_table(rows, wall):
    print("stm32: %d KiB at %d 8E1 into %s (%.0f s of benchmark)" % (SIZE >> 10, BAUD, MCU, wall))
    print("  protocol   backend  total s  erase s  data s  verify s  line eff.  cpu s/MB  alloc B/block  vs stm32flash")
    for r in rows:
        print("  %-10s %-7s %8.2f  %7s  %6s  %8s  %9s  %8.3f  %13s  %s" % (
            r["protocol"], r["backend"], r["seconds"], r.get("erase_seconds", "-"),
            r.get("data_seconds", "-"), r.get("verify_seconds", "-"),
            r.get("line_efficiency", "-"), r["cpu_s_per_mb"],
            r.get("alloc_bytes_per_block", "-"), r.get("vs_stm32flash", "")))
    for r in rows:
        if r["protocol"] == "stm32":
            print("  stm32 %s: data phase %.3f of the line (target >= 0.85: %s); %.3fx stm32flash "
                  "(target <= 1.1: %s)" % (r["backend"], r["line_efficiency"],
                  "met" if r["line_efficiency"] >= 0.85 else "MISSED", r["vs_stm32flash"],
                  "met" if r["vs_stm32flash"] <= 1.1 else "MISSED"))


if __name__ == "__main__":
    run(os.environ.get("QSOTA_MICROPYTHON", str(ROOT / "build" / "unix" / "micropython")))
