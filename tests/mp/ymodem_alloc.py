"""tests/test_ymodem.py: heap bytes per block of qsota.send over a port that ACKs at once (argv:
the image to write and send)."""

import gc, sys

import qsota

PATH = sys.argv[1]
class Port:
    def __init__(self):
        self.reply = bytearray(b"C ")
        self.n = 1
    def write(self, b):
        self.reply[0] = 6
        self.reply[1] = 67  # the C after the header's ACK; ignored later
        self.n = 2 if len(b) > 1 and b[1] == 0 else 1
        return len(b)
    def any(self):
        return self.n
    def readinto(self, b, nbytes):  # machine.UART.readinto(buf, nbytes)
        k = min(self.n, nbytes)
        for i in range(k):
            b[i] = self.reply[i]
        self.n = 0
        return k
with open(PATH, "wb") as f:
    f.write(bytes(120 * 1024))
marks = []
def progress(offset, size):
    if offset in (10 * 1024, 110 * 1024):
        marks.append(gc.mem_alloc())
gc.collect()
gc.disable()
stats = qsota.send(Port(), PATH, progress=progress, end_gap_ms=1)
print((marks[1] - marks[0]) / 100, stats["bytes"], stats["retries"])
