"""tests/test_stm32.py: heap bytes per block of qsota.send over a port that answers like the ROM
at once (argv: the image to write and send)."""

import gc, sys

import qsota

PATH = sys.argv[1]
IMAGE = bytes(64 * 1024)
class Port:
    def __init__(self):
        self.reply = bytearray(300)
        self.n = 0
        self.read = False
    def write(self, b):
        r = self.reply
        r[0] = 0x79
        n = 1
        if b[0] == 0x7F:
            pass
        elif len(b) == 2 and b[0] == 0:
            for i, c in enumerate(b"\x07\x31\x00\x01\x02\x11\x21\x31\x44\x79"):
                r[1 + i] = c
            n = 11
        elif len(b) == 2 and b[0] == 2:
            for i, c in enumerate(b"\x01\x04\x13\x79"):
                r[1 + i] = c
            n = 5
        elif len(b) == 2:
            for i in range(b[0] + 1):
                r[1 + i] = 0
            n = b[0] + 2
        elif len(b) == 7:
            r[1] = 0x79
            n = 2
        self.n = n
        return len(b)
    def any(self):
        return self.n
    def readinto(self, b, nbytes):
        k = min(self.n, nbytes)
        for i in range(k):
            b[i] = self.reply[i]
        for i in range(k, self.n):
            self.reply[i - k] = self.reply[i]
        self.n -= k
        return k
with open(PATH, "wb") as f:
    f.write(IMAGE)
marks = []
def progress(offset, size):
    if offset in (8 * 1024, 56 * 1024):
        marks.append(gc.mem_alloc())
gc.collect()
gc.disable()
stats = qsota.send(Port(), PATH, protocol="stm32", progress=progress)
print((marks[1] - marks[0]) / 192, stats["verified"], stats["retries"])
