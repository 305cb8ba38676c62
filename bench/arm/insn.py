"""Instruction counts on the emulated module CPU, for the scripts of bench/arm/.

Under `qemu-system-arm -icount shift=0` virtual time advances 1 ns per guest instruction, and
the sabrelite's Cortex-A9 MPCore global timer (0x00A00200) ticks every 10 ns (facts.md,
"qemu"). The counter is set to 0 before each measurement, so that its reading stays a small
int (no heap) for up to 10**10 instructions.

    n = insn.count(fn, *args)          # instructions fn(*args) took
    kept, allocated = insn.alloc(fn, *args)  # heap bytes it left, and allocated (frames too)
    insn.report("verify", {...})       # one line `BENCH {"name": ..., ...}` for the host
    image = insn.image(16384)          # test data outside the heap
"""

import gc
import json

import machine
import micropython
import uctypes

_TIMER = 0x00A00200
_MEM = machine.mem32


_SPARE = 0x13000000  # board RAM far from the firmware and below tests/arm/frozen/ramfs.py's


def image(size, at=_SPARE):
    """A bytearray of `size` pseudo-random bytes in spare board RAM at `at`, outside the heap
    (so that a measurement's heap is the code's alone); the same bytes on every call."""
    buf = uctypes.bytearray_at(at, size)
    x = 1
    for i in range(size):
        x = (x * 1103515245 + 12345) & 0x3FFFFFFF
        buf[i] = x >> 16 & 0xFF
    return buf


def reset():
    _MEM[_TIMER + 8] = 0  # stopped: only then is the counter writable
    _MEM[_TIMER] = 0
    _MEM[_TIMER + 4] = 0
    _MEM[_TIMER + 8] = 1


def ticks():
    """Timer ticks (10 instructions each) since the last reset()."""
    return _MEM[_TIMER]


def _overhead():
    reset()
    return ticks()


OVERHEAD = min(_overhead() for _ in range(3))  # a reset() and a reading, in ticks


def count(fn, *args):
    """The instructions fn(*args) executed."""
    gc.collect()
    reset()
    fn(*args)
    return (ticks() - OVERHEAD) * 10


def alloc(fn, *args):
    """(heap bytes fn(*args) left for the collector, bytes it allocated): gc.mem_alloc() with
    the collector off, and the firmware's count of every allocation (MICROPY_MEM_STATS),
    which also has what was freed at once (a call frame that MicroPython put on the heap).
    Where fn leaves more than the free heap, the first is the second."""
    gc.collect()
    gc.disable()
    total = micropython.mem_total()
    try:
        before = gc.mem_alloc()
        fn(*args)
        return gc.mem_alloc() - before, micropython.mem_total() - total
    except MemoryError:  # more than the free heap: count every allocation instead
        gc.enable()
        gc.collect()
        total = micropython.mem_total()
        fn(*args)
        total = micropython.mem_total() - total
        return total, total
    finally:
        gc.enable()


class Meter:
    """What a test double costs, to be taken off a measurement: each of its methods calls
    start() first and stop() last. insns(): instructions between the two, and in the two
    calls themselves; `heap`: heap bytes left between them, counted only while `heap_too` is
    set (gc.mem_alloc() scans the heap: its own time is inside, but it slows every use), and
    `allocated`: bytes allocated between them, frames freed at once included.

    Not a `with` block: its exception slot (three words) would put most methods' frames on
    the heap (MicroPython allocates a frame of more than 11 words there), which costs the
    caller, outside any reading. A double that allocates leaves garbage whose collection may
    fall outside the readings: the doubles of bench/arm/fakes.py allocate nothing after the
    first use."""

    def __init__(self):
        self.heap_too = False
        self.clear()
        self._cost = 0
        # What a start() and a stop() cost outside the readings, to be added per use.
        n = 100
        reset()
        for _ in range(n):
            self.start()
            self.stop()
        self._cost = ((ticks() - OVERHEAD) * 10 - self.ticks * 10) // n
        self.clear()

    def start(self):
        self.uses += 1
        self._t = _MEM[_TIMER]
        if self.heap_too:
            self._a = gc.mem_alloc()
            self._m = micropython.mem_total()

    def stop(self):
        if self.heap_too:
            self.heap += gc.mem_alloc() - self._a
            self.allocated += micropython.mem_total() - self._m
        self.ticks += _MEM[_TIMER] - self._t

    def insns(self):
        return self.ticks * 10 + self.uses * self._cost

    def clear(self):
        self.ticks = self.heap = self.allocated = self.uses = 0
        self._t = self._a = self._m = 0


METER = Meter()  # the one the fakes of bench/arm/fakes.py use


def report(name, fields):
    fields = dict(fields, name=name)
    print("BENCH " + json.dumps(fields))


class Marks:
    """The heap at the first `n` blocks of a transfer run with the collector off: its
    progress callback is `mark` (the fakes' heap taken off); the collector comes back after
    the last mark. per_block(): (bytes left for the collector per block, bytes allocated per
    block: the same plus what was freed at once, such as a call frame that MicroPython put
    on the heap), from the 2nd block on."""

    def __init__(self, n=6):
        self.n = n
        # Marks made, then each mark's heap in use and allocated so far (small ints:
        # storing them is free).
        self.at = [0] * (n + 1)
        self.total = [0] * (n + 1)

    def mark(self, a=None, b=None):
        at = self.at
        if at[0] < self.n:
            at[0] += 1
            at[at[0]] = gc.mem_alloc() - METER.heap
            self.total[at[0]] = micropython.mem_total() - METER.allocated
            if at[0] == self.n:
                gc.enable()
                METER.heap_too = False

    def per_block(self):
        n = self.n
        return ((self.at[n] - self.at[2]) / (n - 2), (self.total[n] - self.total[2]) / (n - 2))


def transfer(fn, marks):
    """Runs fn() (a transfer whose progress calls marks.mark) three times: once for what is
    made on first use, once counted (less the fakes' METER), once for the heap (the collector
    off until the last mark). Returns (instructions, (heap, allocated) per block, the last
    run's result)."""
    fn()
    METER.clear()
    n = count(fn) - METER.insns()
    METER.clear()
    METER.heap_too = True
    marks.at[0] = 0
    gc.collect()
    gc.disable()
    try:
        result = fn()
    finally:
        gc.enable()
        METER.heap_too = False
    return n, marks.per_block(), result
