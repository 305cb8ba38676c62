"""tests/test_native.py: a source that ends before its size (argv: the size it claims, the size
it has, its path, the simulator's port)."""

import json, sys

import qsota

SIZE = int(sys.argv[1])
REAL = int(sys.argv[2])
PATH = sys.argv[3]
PORT = int(sys.argv[4])
class Shrinking:
    # A file that says it holds SIZE bytes but ends at REAL.
    def __init__(self):
        self.f = open(PATH, "rb")
    def seek(self, offset, whence=0):
        return SIZE if whence == 2 else self.f.seek(offset)
    def readinto(self, buf):
        return self.f.readinto(buf)
port = qsota.tcp_port("127.0.0.1", PORT)
try:
    qsota.send(port, Shrinking(), protocol="native", sha256=b"\x00" * 32)
    print(json.dumps({"ok": True}))
except qsota.TransferError as e:
    print(json.dumps({"ok": False, "code": e.code, "message": str(e)}))
