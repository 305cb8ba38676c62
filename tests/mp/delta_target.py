# qsota.delta on MicroPython: check(), then a Target read the way the drivers read, in blocks
# of several sizes with seeks behind (within the ring and beyond it: a restart), compared
# with the target; a damaged package's read raises OSError; whether the pure applier was
# loaded (never on the native backend). Prints one JSON line.
# argv: base, package, target, damaged package
import json
import sys
from binascii import hexlify

from qsota import delta

base, package, target, damaged = sys.argv[1:5]
want = open(target, "rb").read()
size, sha = delta.check(base, package)
t = delta.Target(base, package, "t.bin")
buf = bytearray(1024)
mv = memoryview(buf)
pos = restarts = 0
same = t.size == len(want)
# (block, how far back it starts): re-reads within the ring (4 KiB) and, once, 9000 bytes
# back (applied from the start again)
steps = [(256, 0), (1024, 0), (128, 300), (1024, 0), (700, 0), (1024, 1024), (1024, 0)]
i = 0
while pos < len(want):
    n, back = steps[i % len(steps)]
    if i == 30:
        back = 9000
    i += 1
    pos = max(0, pos - back)
    t.seek(pos)
    k = t.readinto(mv[:n])
    same = same and bytes(mv[:k]) == want[pos : pos + k]
    pos += k
end = t.readinto(buf)
t.close()
t = delta.Target(base, damaged)
fault = None
try:
    while t.readinto(buf):
        pass
except OSError as e:
    fault = str(e)
t.close()
print(json.dumps([size, hexlify(sha).decode(), same, end, fault,
                  "qsota.pure.delta" in sys.modules]))
