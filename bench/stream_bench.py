"""Stream mode against store-first (issue 22, item 6): a 1 MiB image into the native receiver
of `qsota-mcu` at 115200 baud (its line in real time, 16 KiB sectors), downloaded from
the test file server throttled to 100 KB/s and to 20 KB/s, the native backend.

- store: qsota.download into a file (the Verifier in the same pass), then qsota.send from
  the file: `download_s` and `transfer_s` are the two halves.
- stream: qsota.stream.Stream read by qsota.send(deferred=True) as it downloads (16 KiB
  window): `total_s` only, the halves overlap.

The port is the simulator's TCP port without its blocking `wait`, as QuecPython's UART has
none: the driver paces its looks at the line by the baud rate in both modes.

Targets: stream total <= 1.1x the longer of store's download and transfer; peak heap, here
on the 64-bit unix port, whose objects are up to twice a module's (the figure that counts,
on the module's 32-bit CPU class, is bench/arm/stream.py's row of `./build.sh bench arm`)
(`gc.mem_alloc()` after a collection, above the start, sampled at every 8th frame the
driver reads and every 8th wait for the network; the start has the driver's modules imported:
their bytecode is heap on the unix port, frozen on a module) <= the window + 8 KiB. QSOTA_STREAM_BENCH_KB sets another size.
"""

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools" / "qth_emu"))
sys.path.insert(0, str(ROOT / "tests"))

from fileserver import FileServer  # noqa: E402
from support.mcu import Mcu  # noqa: E402

SIZE = int(os.environ.get("QSOTA_STREAM_BENCH_KB", "1024")) << 10
RATES = (100_000, 20_000)
BAUD = 115200
WINDOW = 16384
TIME_TARGET = 1.1
HEAP_TARGET = WINDOW + 8192
# A slot for 1 MiB: uniform 16 KiB sectors (20 ms erase, STM32F4 programming time), the last
# one the receiver's record (stm32f4's layout keeps its last 128 KiB sector for it).
MCU = {"sector_size": "16K", "flash_size": "1040K"}

MICROPYTHON_SIDE = """
import gc, json, sys, time
import qsota
from qsota.download import Download
from qsota.stream import Stream
# What both modes import: their bytecode is heap on the unix port, frozen on a module.
import qsota.transfer, qsota.tcpport, qsota.verify

mode, url, md5, size, port, work = sys.argv[1:7]
size, port = int(size), int(port)
peak = [0]
calls = [0]
def mark(*args):
    calls[0] += 1
    if calls[0] %% 8:
        return
    gc.collect()  # live bytes, not garbage yet to collect
    m = gc.mem_alloc()
    if m > peak[0]:
        peak[0] = m
gc.collect()
base = gc.mem_alloc()
class Uart:
    # The simulator's TCP port as QuecPython's UART is: no blocking wait (both modes then
    # pace their looks at the line as on the module; qsota.pacing).
    def __init__(self, port):
        p = qsota.tcp_port("127.0.0.1", port)
        self.write, self.any, self.readinto, self.read = p.write, p.any, p.readinto, p.read
opts = {"protocol": "native", "component": "mcu", "version": "2", "baud": %d,
        "progress": mark}
t0 = time.ticks_ms()
if mode == "store":
    d = Download(work + "/fw", bytearray(4096), lambda m: None, mark)
    v, n = d.run(url, ["bench", md5], size, lambda: qsota.Verifier(md5=md5, size=size))
    v.check()
    t1 = time.ticks_ms()
    stats = qsota.send(Uart(port), d.part, sha256=v.sha256(), **opts)
else:
    s = Stream(url, ["bench", md5], size,
               lambda: qsota.Verifier(md5=md5, size=size, resumable=True), lambda m: None)
    idle = s.idle
    def watched(us):
        idle(us)
        mark()
    s.idle = watched
    s.open()
    t1 = t0
    stats = qsota.send(Uart(port), s, deferred=True, **opts)
    s.finish()
t2 = time.ticks_ms()
print(json.dumps({"download_s": (t1 - t0) / 1000, "transfer_s": (t2 - t1) / 1000,
                  "total_s": (t2 - t0) / 1000, "peak_heap": peak[0] - base,
                  "retries": stats.get("retries", 0)}))
""" % BAUD


def one(micropython, mode, rate, www, image):
    server = FileServer(www, rate=rate).start()
    work = tempfile.mkdtemp(dir=www.parent)  # no kept download from the run before
    env = dict(os.environ, MICROPYPATH=str(ROOT / "python"))
    try:
        with Mcu(personality="native", baud=BAUD, **MCU) as mcu:
            proc = subprocess.run(
                [micropython, "-c", MICROPYTHON_SIDE, mode, server.url("fw.bin"),
                 hashlib.md5(image).hexdigest(), str(len(image)), str(mcu.port), work],
                env=env, capture_output=True, text=True, timeout=1800,
            )
            summary = mcu.summary()
    finally:
        server.stop()
    if proc.returncode != 0 or summary["result"] != "ok":
        raise RuntimeError("stream bench %s %d: %s %s %s" % (mode, rate, proc.stdout,
                                                             proc.stderr, summary))
    r = json.loads(proc.stdout.splitlines()[-1])
    return dict(r, mode=mode, rate=rate, size=len(image), baud=BAUD,
                served=server.body_bytes, heap_port="unix 64-bit")


def run(micropython):
    image = bytes((i * 131 + (i >> 10)) & 0xFF for i in range(SIZE))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        www = Path(tmp) / "www"
        www.mkdir()
        (www / "fw.bin").write_bytes(image)
        for rate in RATES:
            store = one(micropython, "store", rate, www, image)
            stream = one(micropython, "stream", rate, www, image)
            longer = max(store["download_s"], store["transfer_s"])
            stream["vs_longer"] = round(stream["total_s"] / longer, 3)
            stream["time_met"] = stream["vs_longer"] <= TIME_TARGET
            stream["heap_met"] = stream["peak_heap"] <= HEAP_TARGET
            rows += [store, stream]
    print_table(rows)
    return {"stream": rows}


def print_table(rows):
    print("stream vs store-first: %d KiB at %d baud into the native receiver" % (
        SIZE >> 10, BAUD))
    print("  mode    server B/s  download s  transfer s  total s  peak heap (64-bit)  served")
    for r in rows:
        extra = ""
        if r["mode"] == "stream":
            extra = "  (%.2fx the longer half, target <= %.1f: %s; heap target <= %d on " \
                "64-bit unix: %s)" % (
                r["vs_longer"], TIME_TARGET, "met" if r["time_met"] else "MISSED",
                HEAP_TARGET, "met" if r["heap_met"] else "MISSED")
        print("  %-6s  %10d  %10.2f  %10.2f  %7.2f  %18d  %7d%s" % (
            r["mode"], r["rate"], r["download_s"], r["transfer_s"], r["total_s"],
            r["peak_heap"], r["served"], extra))
