"""tests/test_ymodem.py: qsota.send over a port with read() but no readinto() (argv: the image
to write and send)."""

import sys

import qsota

PATH = sys.argv[1]
class Port:  # machine.UART without readinto: read(n) returns what is there, or None
    def __init__(self):
        self.reply = b"C"
    def write(self, b):
        self.reply = b"\x06C" if len(b) > 1 and b[1] == 0 else b"\x06"
        return len(b)
    def any(self):
        return len(self.reply)
    def read(self, n):
        r, self.reply = self.reply[:n], b""
        return r or None
with open(PATH, "wb") as f:
    f.write(b"0123456789" * 300)
print(qsota.send(Port(), PATH, end_gap_ms=1)["bytes"])
