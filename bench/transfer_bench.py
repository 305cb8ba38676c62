"""Transfer throughput: `qsota.send` of a 256 KiB image with YMODEM into the MCU simulator.

The simulated MCU is ST's IAP bootloader (`qsota-mcu --personality stm32-iap`) on an
STM32F4 (1 MiB, application area of 992 KiB after a 32 KiB bootloader; datasheet typical
times: sector erase 16 KiB 250 ms, 64 KiB 550 ms, 128 KiB 1 s, so 8.05 s to erase the whole
area before it ACKs the header; programming 16 us per 32-bit word, 4.1 ms per KiB), behind a
paced 8N1 line with a 256-byte receive FIFO.

Per run:
- seconds: the whole transfer; data_seconds: from the first data block's read to the end
  (the header's erase wait belongs to the MCU, not to the line);
- line_efficiency: payload / (data_seconds * baud / 10); line_efficiency_overall uses seconds;
- cpu_ms_per_mb: MicroPython's CPU time (user + system, the whole process) per 10**6 payload
  bytes;
- alloc_bytes_per_block: heap bytes allocated per data block between the 16th KiB and 16 KiB
  before the end (GC off).
Target for YMODEM: line_efficiency >= 0.90 at 115200 (reported, never asserted).
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from ymodem_peers import Mcu  # noqa: E402

SIZE = 256 << 10
BAUDS = (115200, 921600)
BACKENDS = ("native", "pure")
TARGET = 0.90
MCU = "stm32-iap on STM32F4 (992 KiB area, 8.05 s erase, 4.1 ms/KiB program, 256 B FIFO)"

MICROPYTHON_SIDE = """
import gc, json, sys, time
import qsota
port_no, path, backend, SIZE = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
if backend == "pure":
    qsota._use(qsota.pure)
assert qsota.NATIVE == (backend == "native")
marks = {}
FIRST, LATER = 16 * 1024, SIZE - 16 * 1024

def progress(offset, size):
    if offset == 0:
        marks["start"] = time.ticks_ms()
    elif offset == FIRST or offset == LATER:
        marks[offset] = gc.mem_alloc()

port = qsota.tcp_port("127.0.0.1", port_no)
gc.collect()
gc.disable()
stats = qsota.send(port, path, progress=progress)
stats["data_ms"] = time.ticks_diff(time.ticks_ms(), marks["start"])
stats["alloc_per_block"] = (marks[LATER] - marks[FIRST]) / ((LATER - FIRST) // 1024)
print(json.dumps(stats))
"""


def one(micropython, backend, baud, path):
    mcu = Mcu("--personality", "stm32-iap", "--baud", baud)
    try:
        env = dict(os.environ, MICROPYPATH=str(ROOT / "python"))
        proc = subprocess.Popen(
            [micropython, "-c", MICROPYTHON_SIDE, str(mcu.port), str(path), backend, str(SIZE)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out, err = proc.stdout.read(), proc.stderr.read()
        proc.stdout.close()
        proc.stderr.close()
        if proc.returncode != 0:
            raise RuntimeError("MicroPython transfer failed:\n" + err)
        stats = json.loads(out.strip().splitlines()[-1])
        summary = mcu.summary()
    finally:
        mcu.close()
    if summary["result"] != "ok" or summary["sha256"] is None:
        raise RuntimeError("the MCU did not get the image: %s" % summary)
    cpu_s = usage.ru_utime + usage.ru_stime
    line = baud / 10
    return {
        "protocol": "ymodem",
        "backend": backend,
        "baud": baud,
        "bytes": SIZE,
        "seconds": round(stats["elapsed_ms"] / 1000, 3),
        "data_seconds": round(stats["data_ms"] / 1000, 3),
        "line_efficiency": round(SIZE / (stats["data_ms"] / 1000 * line), 3),
        "line_efficiency_overall": round(SIZE / (stats["elapsed_ms"] / 1000 * line), 3),
        "alloc_bytes_per_block": stats["alloc_per_block"],
        "cpu_ms_per_mb": round(cpu_s * 1000 / (SIZE / 1e6), 1),
        "retries": stats["retries"],
        "line_bytes": stats["line_bytes"],
        "mcu": MCU,
    }


def run(micropython):
    """Measures each backend at each baud rate; returns {"transfer": [...]}."""
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "app.bin"
        path.write_bytes(bytes((i * 131 + (i >> 10)) & 0xFF for i in range(SIZE)))
        for backend in BACKENDS:
            for baud in BAUDS:
                started = time.monotonic()
                r = one(micropython, backend, baud, path)
                r["bench_wall_seconds"] = round(time.monotonic() - started, 1)
                runs.append(r)
    print_table(runs)
    return {"transfer": runs}


def print_table(runs):
    print("transfer: YMODEM, %d KiB into %s" % (SIZE >> 10, MCU))
    print("  backend  baud     total s  data s  line eff.  cpu ms/MB  alloc B/block  retries")
    for r in runs:
        verdict = ""
        if r["baud"] == 115200:
            verdict = "  (target >= %.2f: %s)" % (TARGET, "met" if r["line_efficiency"] >= TARGET else "MISSED")
        print("  %-7s %7d  %7.2f  %6.2f  %9.3f  %9.1f  %13.1f  %7d%s" % (
            r["backend"], r["baud"], r["seconds"], r["data_seconds"], r["line_efficiency"],
            r["cpu_ms_per_mb"], r["alloc_bytes_per_block"], r["retries"], verdict))


if __name__ == "__main__":
    run(os.environ.get("QSOTA_MICROPYTHON", str(ROOT / "build" / "unix" / "micropython")))
