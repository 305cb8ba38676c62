"""tests/test_stream.py: qsota.stream.Stream read as a sender reads it (JSON on the last line).

    stream_read URL OUT RECORD SIZE MD5 WINDOW SEED START STOP JUMP

reads 1 KiB frames from START (the MCU's resume offset) in order, writing each where it
belongs in the file OUT, with idle waits between them and, seeded, a go-back now and then
(a retransmission: at most the half window the stream retains behind the furthest read); at JUMP ("AT:TO", or "-") it
goes back from AT to TO once (an MCU that resumes behind the ring); at STOP (or the end) it
stops: at the end it asks for the digest (the final check). RECORD "-": no record. Prints
the stream's counters, and the error that ended it, if any.
"""

import json
import sys

import qsota
import small_tcp  # noqa: F401 (the server's count is then what was read)
from outcome import plain
from qsota.stream import Stream

url, out, record, size, md5, window, seed, start, stop, jump = sys.argv[1:11]
size, window, seed, start = int(size), int(window), int(seed), int(start)
stop = int(stop) if stop != "-" else size
jump = [int(x) for x in jump.split(":")] if jump != "-" else None
lines = []


def log(msg):
    lines.append(msg)


def verifier():
    return qsota.Verifier(md5=md5, size=size, resumable=True)


s = Stream(url, ["2_0_0", md5, ""], size, verifier, log, window=window,
           record=None if record == "-" else record, backoff_ms=20)
frame = bytearray(1024)
mv = memoryview(frame)
result = {}
x = seed or 1
try:
    s.open()
    f = open(out, "r+b")
    at = furthest = start
    while at < stop:
        s.idle(2000)
        n = min(1024, size - at)
        s.seek(at)
        got = s.readinto(mv[:n])
        f.seek(at)
        f.write(mv[:got])
        at += got
        furthest = max(furthest, at)
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        if seed and x % 7 == 0:  # a go-back, as far as the retained half window
            at = max(start, furthest - 1024 * (1 + x % (window // 2048)))
        if jump and at >= jump[0]:
            at, jump = jump[1], None
    f.close()
    if stop == size:
        result["sha256"] = plain(s.digest())
        s.finish()
    else:
        s.close()
except Exception as e:
    result["error"] = [type(e).__name__, str(e)]
result.update(downloaded=s.downloaded, again=s.again, connections=s.connections,
              have=s.have, log=lines)
print(json.dumps(result))
