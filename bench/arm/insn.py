"""Instruction counts on the emulated module CPU, for the scripts of bench/arm/.

Under `qemu-system-arm -icount shift=0` virtual time advances 1 ns per guest instruction, and
the sabrelite's Cortex-A9 MPCore global timer (0x00A00200) ticks every 10 ns (facts.md,
"qemu"). The counter is set to 0 before each measurement, so that its reading stays a small
int (no heap) for up to 10**10 instructions.

    n = insn.count(fn, *args)          # instructions fn(*args) took
    a = insn.alloc(fn, *args)          # heap bytes it left for the collector
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
    """The heap bytes fn(*args) left for the collector (gc.mem_alloc() with the collector off;
    frames freed at once do not count). Where that is more than the free heap: every byte it
    allocated (the firmware's MICROPY_MEM_STATS count)."""
    gc.collect()
    gc.disable()
    try:
        before = gc.mem_alloc()
        fn(*args)
        return gc.mem_alloc() - before
    except MemoryError:  # more than the free heap: count every allocation instead
        gc.enable()
        gc.collect()
        before = micropython.mem_total()
        fn(*args)
        return micropython.mem_total() - before
    finally:
        gc.enable()


class Meter:
    """What a test double costs, to be taken off a measurement: wrap each of its methods'
    bodies in `with meter:`. `insns()`: instructions spent inside, and in the `with`
    statements themselves; `heap`: heap bytes left inside, counted only while `heap_too`
    is set (gc.mem_alloc() scans the heap: its own time is inside, but it slows every use)."""

    def __init__(self):
        self.heap_too = False
        self.clear()
        self._cost = 0
        # What one `with` costs outside the readings (its calls), to be added per use.
        n = 100
        reset()
        for _ in range(n):
            with self:
                pass
        self._cost = ((ticks() - OVERHEAD) * 10 - self.ticks * 10) // n
        self.clear()

    def __enter__(self):
        self.uses += 1
        self._t = _MEM[_TIMER]
        if self.heap_too:
            self._a = gc.mem_alloc()

    def __exit__(self, *exc):
        if self.heap_too:
            self.heap += gc.mem_alloc() - self._a
        self.ticks += _MEM[_TIMER] - self._t

    def insns(self):
        return self.ticks * 10 + self.uses * self._cost

    def clear(self):
        self.ticks = self.heap = self.uses = 0
        self._t = self._a = 0


METER = Meter()  # the one the fakes of bench/arm/fakes.py use


def report(name, fields):
    fields = dict(fields, name=name)
    print("BENCH " + json.dumps(fields))


class Marks:
    """The heap in use at the first `n` blocks of a transfer run with the collector off: its
    progress callback is `mark` (the fakes' heap taken off); the collector comes back after
    the last mark. per_block(): bytes left for the collector per block, from the 2nd on."""

    def __init__(self, n=6):
        self.n = n
        self.at = [0] * (n + 1)  # marks made, then each (small ints: storing them is free)

    def mark(self, a=None, b=None):
        at = self.at
        if at[0] < self.n:
            at[0] += 1
            at[at[0]] = gc.mem_alloc() - METER.heap
            if at[0] == self.n:
                gc.enable()
                METER.heap_too = False

    def per_block(self):
        return (self.at[self.n] - self.at[2]) / (self.n - 2)


def transfer(fn, marks):
    """Runs fn() (a transfer whose progress calls marks.mark) three times: once for what is
    made on first use, once counted (less the fakes' METER), once for the heap (the collector
    off until the last mark). Returns (instructions, heap per block, the last run's result)."""
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
