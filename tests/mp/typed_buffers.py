"""tests/test_verify.py: buffers of items wider than a byte (a memoryview over array('H')),
wherever a class takes a buffer: read as their bytes, as the C module reads them, or refused
where bytes must be written (a sender's frame). JSON, compared between backends."""

import json, qsota
from array import array


def outcome(f):
    try:
        return ["ok", f()]
    except Exception as e:
        return [type(e).__name__, str(e)]


out = []
# Verifier.update: the bytes 01 00 02 00 03 00, then 4 KiB of 16-bit items over 255.
v = qsota.Verifier(size=6 + 4076)
v.update(memoryview(array("H", [1, 2, 3])))
v.update(memoryview(array("H", range(300, 2348)))[10:])  # a slice counts items too
v.update(memoryview(array("H", range(300, 310)))[:0])
out.append(outcome(lambda: [v.check(), v.crc32(), v.hexdigest("md5")]))
# A constructor's bytes argument: 16 items of 2 bytes are the 32-byte SHA-256.
out.append(outcome(lambda: qsota.NativeSender(10, memoryview(array("H", range(16)))).stats()["bytes"]))
# receive: a YMODEM receiver's "C" as the low byte of a 16-bit item, then n counts bytes.
s = qsota.YmodemSender("x", 10, start_timeout_ms=1000)
frame = bytearray(s.frame_size)
out.append(s.poll(0, frame))
s.receive(1, memoryview(array("H", [0x43])), 2)
out.append([s.poll(2, frame), s.length])
out.append(outcome(lambda: s.receive(3, memoryview(array("H", [0x43])), 3)))
# poll's frame: bytes in a bytearray or array('B') view; wider items are refused.
out.append(outcome(lambda: qsota.YmodemSender("x", 10).poll(0, memoryview(array("B", bytes(1029))))))
out.append(outcome(lambda: qsota.YmodemSender("x", 10).poll(0, memoryview(array("H", bytes(2058))))))
out.append(outcome(lambda: qsota.YmodemSender("x", 10).poll(0, array("I", bytes(2058)))))
print(json.dumps(out))
