"""tests/test_stream.py: a stream sent to the MCU simulator as it downloads (native,
deferred=True: DIGEST_AT_COMMIT); JSON on the last line.

    stream_send URL SIZE MD5 WINDOW PORT [RECORD]

The platform's md5 is MD5: a file on the server that differs from it fails the final check
before COMMIT. Prints the transfer's outcome (ok, or the TransferError's code and message)
and the stream's counters. With RECORD (a path) the stream keeps its resume record there: a
process killed midway and started again continues from it. Each time bytes arrive, the
count downloaded so far goes to stderr (a line each): what a killed process had downloaded.
"""

import json
import sys

import qsota
import small_tcp  # noqa: F401 (the server's count is then what was read)
from qsota.stream import Stream

url, size, md5, window, port = sys.argv[1:6]
size, window = int(size), int(window)
record = sys.argv[6] if len(sys.argv) > 6 else None


class Counted(Stream):
    def _took(self, first, n):
        Stream._took(self, first, n)
        sys.stderr.write("%d\n" % self.downloaded)


def verifier():
    return qsota.Verifier(md5=md5, size=size, resumable=True)


s = Counted(url, ["2_0_0", md5, ""], size, verifier, lambda msg: None, window=window,
           backoff_ms=20, record=record)
result = {}
try:
    s.open()
    stats = qsota.send(qsota.tcp_port("127.0.0.1", int(port)), s, protocol="native",
                       component="mcu", version="2.0", deferred=True)
    result.update(ok=True, stats=stats)
    s.finish()
except qsota.TransferError as e:
    result.update(ok=False, code=e.code, message=str(e))
result.update(downloaded=s.downloaded, again=s.again)
print(json.dumps(result))
