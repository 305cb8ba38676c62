# ARM benchmark: stream mode's peak heap (issue 22: at most the window plus 8 KiB, 24,576 B
# with the default 16 KiB window), on the module's CPU class (32-bit, MicroPython 1.25):
# qsota.stream.Stream reads a 64 KiB image from a fake HTTP socket and qsota.send(deferred=
# True) sends it as it downloads to a fake native receiver (bench/arm/fakes.py), with the
# verifier the agent makes (md5 and size). The package is the firmware's frozen one (as on a
# module; loaded from .mpy files its bytecode would take the heap the 16 KiB ring needs). The
# heap is sampled as bench/stream_bench.py samples it on the unix port, only more often:
# gc.mem_alloc() after a collection at every frame the driver reads and every wait for the
# network, above the heap in use before the Stream is made (the modules imported: frozen on
# a module).
import gc
import sys

import _qsota
import fakes
import insn

sys.modules["socket"] = fakes.SocketModule

import qsota  # noqa: E402 (after the fake socket)
import qsota.clock  # noqa: E402


class Clock:
    """Time passes only when the driver sleeps: the fakes answer at once."""

    def __init__(self):
        self.ms = 0

    def ticks_ms(self):
        return self.ms

    def ticks_diff(self, a, b):
        return a - b

    def sleep_ms(self, ms):
        if ms > 0:
            self.ms += ms

    def sleep_us(self, us):
        self.sleep_ms((us + 999) // 1000)


clock = Clock()
for name in ("ticks_ms", "ticks_diff", "sleep_ms", "sleep_us"):
    setattr(qsota.clock, name, getattr(clock, name))

import qsota.pure  # noqa: E402
import qsota.stream  # noqa: E402 (after the clock: it takes qsota.clock's names)
import qsota.transfer  # noqa: E402, F401 (what the driver imports, before the heap's start)
import qsota.verify  # noqa: E402, F401

SIZE = 65536
image = insn.image(SIZE)
fakes.HttpSocket.body = image
v = _qsota.Verifier()
v.update(image)
MD5 = v.hexdigest("md5")
peak = [0]


def mark(*args):
    gc.collect()
    m = gc.mem_alloc()
    if m > peak[0]:
        peak[0] = m


def stream(backend):
    s = qsota.stream.Stream("http://example.com/fw.bin", ["bench", MD5], SIZE,
                            lambda: qsota.Verifier(md5=MD5, size=SIZE, resumable=True),
                            lambda m: None)
    idle = s.idle

    def watched(us):
        idle(us)
        mark()

    s.idle = watched
    s.open()
    stats = qsota.send(fakes.Native(), s, protocol="native", component="mcu", version="2",
                       baud=115200, deferred=True, progress=mark)
    s.finish()
    return stats


for backend in (_qsota, qsota.pure):
    qsota._use(backend)
    name = "native" if backend is _qsota else "pure"
    stream(backend)  # what is made on first use (the fake MCU's tables, views)
    gc.collect()
    base = gc.mem_alloc()
    peak[0] = base
    stats = stream(backend)
    insn.report("stream", {"backend": name, "peak_heap": peak[0] - base,
                           "window": qsota.stream.WINDOW, "bytes": stats["bytes"],
                           "target": qsota.stream.WINDOW + 8192})
