# ARM benchmark: each sender plus qsota.send's driver, instructions per payload byte
# (bench/arm_bench.py runs it). A 16 KiB image to a fake MCU (bench/arm/fakes.py) on a
# fake clock, with baud=115200 given to send() so that the driver paces; what the fake MCU
# and the clock do (C on a module) is metered and taken off. heap_per_block: bytes left for
# the collector per data frame, from the 2nd to the 6th (the collector off meanwhile).
import gc

import _qsota
import fakes
import insn
import qsota
import qsota.clock
import qsota.pure
from insn import METER

SIZE = 16384
BAUD = 115200


class Clock:
    """The driver's clock (qsota.clock): time passes only when it sleeps."""

    def __init__(self):
        self.us = 0

    def ticks_ms(self):
        METER.start()
        t = self.us // 1000
        METER.stop()
        return t

    def ticks_diff(self, a, b):
        METER.start()
        d = a - b
        METER.stop()
        return d

    def sleep_us(self, us):
        METER.start()
        if us > 0:
            self.us += us
        METER.stop()


clock = Clock()
# A qsota.pacing.Pacer takes qsota.clock's when it is made.
qsota.clock.ticks_ms = clock.ticks_ms
qsota.clock.ticks_diff = clock.ticks_diff
qsota.clock.sleep_us = clock.sleep_us


def mcuboot_image(image):
    """A minimal MCUboot image in `image` (outside the heap): header, body, TLVs with the
    SHA-256 of header and body."""
    import hashlib
    import struct

    n = len(image) - 32 - 40
    image[0:32] = struct.pack("<IIHHIIBBHII", 0x96F3B83D, 0, 32, 0, n, 0, 1, 0, 0, 0, 0)
    digest = hashlib.sha256(memoryview(image)[: 32 + n]).digest()
    image[32 + n : 32 + n + 8] = struct.pack("<HHHH", 0x6907, 40, 0x10, 32)
    image[32 + n + 8 :] = digest
    return image, digest


body = insn.image(SIZE)
mcu_image, mcu_hash = mcuboot_image(insn.image(SIZE, 0x13800000))
# protocol: (the fake MCU, send's options, the image)
PROTOCOLS = (
    ("ymodem", fakes.Ymodem, {}, body),
    ("native", fakes.Native, {"protocol": "native"}, body),
    ("stm32", fakes.Stm32, {"protocol": "stm32"}, body),
    ("mcuboot", lambda: fakes.Mcuboot(mcu_hash), {"protocol": "mcuboot", "reset": False},
     mcu_image),
)
marks = insn.Marks()


def send(make, options, image):
    return qsota.send(make(), fakes.Source(image), baud=BAUD, progress=marks.mark, **options)


for protocol, make, options, image in PROTOCOLS:
    for backend in (_qsota, qsota.pure):
        qsota._use(backend)
        row = {"protocol": protocol, "backend": "native" if backend is _qsota else "pure"}
        try:
            n, (heap, allocated), stats = insn.transfer(lambda: send(make, options, image), marks)
            row.update(insn_per_byte=n / stats["bytes"], heap_per_block=heap,
                       alloc_per_block=allocated, frames=stats["frames"])
        except MemoryError:  # (the package of QSOTA_BENCH_BEFORE may take most of the heap)
            row["error"] = "MemoryError"
        gc.collect()
        insn.report("send", row)
