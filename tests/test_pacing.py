"""qsota.send's waits and writes (qsota.pacing) on a fake clock, both backends, both
protocols and the ROM bootloader's: the driver wakes a bounded number of times per frame (no 1 ms polling), and a
port that stops taking bytes (write returns None or 0, or short writes that stop) ends in
TransferError io within the protocol's reply timeout instead of a hang. The fake lines
(tests/mp/fakeline.py) carry bytes at the baud rate to receivers that answer as the MCU
simulator's do; speed itself is measured by the benchmark, never here."""

import json

import pytest

IMAGE = """
import json, qsota
from fakeline import Clock, NativeLine, Stm32Line, YmodemLine
clock = Clock()
clock.install()
with open({path!r}, "wb") as f:
    f.write(bytes(range(256)) * 4 * 48)  # 48 KiB
LINES = {{"ymodem": (YmodemLine, {{}}), "native": (NativeLine, {{"protocol": "native"}}),
         "stm32": (Stm32Line, {{"protocol": "stm32"}})}}
"""

WAKEUPS = IMAGE + """
out = []
for protocol in ("ymodem", "native", "stm32"):
    Line, opts = LINES[protocol]
    for baud, given in ((115200, 115200), (921600, 921600), (115200, 0)):
        for blocking in (False, True):
            clock.wakeups = 0
            line = Line(clock, baud, blocking=blocking)
            stats = qsota.send(line, {path!r}, baud=given, **opts)
            out.append([protocol, baud, given, blocking, stats["bytes"], stats["frames"],
                        clock.wakeups])
print(json.dumps(out))
"""

# Wake-ups per frame at most, by (baud given, the port has a blocking wait), and for the
# receiver's 2 s erase before it answers the first frame (paced checks at 1 ms + 1/8 of the
# time waited: about 8 ln(2000)). The old driver slept 1 ms at a time: ~90 per frame at
# 115200.
PER_FRAME = {(True, True): 3, (True, False): 8, (False, True): 16, (False, False): 30}
ERASE = 100


def test_the_driver_wakes_a_bounded_number_of_times_per_frame(mp, tmp_path):
    code = WAKEUPS.format(path=str(tmp_path / "img.bin"))
    runs = mp.both(code)
    assert len(runs) == 18
    for protocol, baud, given, blocking, size, frames, wakeups in runs:
        assert size == 48 * 1024
        assert frames >= 48
        bound = PER_FRAME[(given != 0, blocking)] * frames + ERASE
        assert wakeups <= bound, (protocol, baud, given, blocking, frames, wakeups)
    # A window's answers are taken together: with the baud rate known and a port with
    # wait(), the native protocol (a window of 4 on the fake line) costs less than one wake
    # per frame (it was about 2.6: one per answer, and one more for its rest).
    for protocol, baud, given, blocking, size, frames, wakeups in runs:
        if protocol == "native" and given and blocking:
            assert wakeups < frames, (baud, frames, wakeups)
    # The ROM bootloader's sender says how much of an answer is still to come (WAIT's
    # `length`): with the rate known, its 257-byte read-back answer costs two wakes (the
    # ACK, then the rest), not one per few bytes (about 23 per frame before).
    for protocol, baud, given, blocking, size, frames, wakeups in runs:
        if protocol == "stm32" and given and blocking:
            assert wakeups < 2 * frames, (baud, frames, wakeups)
    # Knowing the baud rate never costs wake-ups.
    by = {tuple(r[:4]): r[6] for r in runs}
    for protocol in ("ymodem", "native", "stm32"):
        for blocking in (False, True):
            assert by[(protocol, 115200, 115200, blocking)] <= by[(protocol, 115200, 0, blocking)]


STALLS = IMAGE + """
out = []
for protocol in ("ymodem", "native"):
    Line, opts = LINES[protocol]
    for kw in ({line_kw}):
        line = Line(clock, 115200, **kw)
        try:
            stats = qsota.send(line, {path!r}, baud=115200, **opts)
            out.append([protocol, "ok", stats["bytes"], line.frames])
        except qsota.TransferError as e:
            waited = (clock.us - line.stuck_at) // 1000 if line.stuck_at is not None else None
            out.append([protocol, e.code, str(e), waited])
print(json.dumps(out))
"""


def test_a_port_that_stops_taking_bytes_fails_with_io_in_time(mp, tmp_path, backend):
    kinds = "dict(stop_after=0, stuck=None), dict(stop_after=5000, stuck=None), " \
        "dict(stop_after=5000, stuck=0), dict(take=100, stop_after=20000, stuck=0)"
    code = STALLS.format(path=str(tmp_path / "img.bin"), line_kw=kinds)
    runs = mp.json(code, backend=backend)
    assert len(runs) == 8
    for protocol, code, message, waited in runs:
        # The reply timeout each protocol waits by default (YMODEM timeout_ms, native rto).
        stall_ms = 3000 if protocol == "ymodem" else 1000
        assert code == "io", (protocol, code, message)
        assert "the port took no bytes for %d ms" % stall_ms in message, message
        # A write backs off by at most 32 ms, so the error comes that soon after the limit.
        assert stall_ms <= waited <= stall_ms + 40, (protocol, message, waited)


def test_short_writes_deliver_the_whole_image(mp, tmp_path, backend):
    code = STALLS.format(path=str(tmp_path / "img.bin"), line_kw="dict(take=1), dict(take=100)")
    runs = mp.json(code, backend=backend)
    assert [r[:3] for r in runs] == [[p, "ok", 48 * 1024] for p in
                                     ("ymodem", "ymodem", "native", "native")], runs


def test_short_timeouts_bound_the_stall(mp, tmp_path, backend):
    # The limit follows the protocol's options: timeout_ms for YMODEM, rto_ms for native.
    code = (IMAGE + """
out = []
for protocol, opts in (("ymodem", {{"timeout_ms": 200}}), ("native", {{"rto_ms": 150}})):
    Line, base = LINES[protocol]
    line = Line(clock, 115200, stop_after=3000, stuck=None)
    try:
        qsota.send(line, {path!r}, **dict(base, **opts))
    except qsota.TransferError as e:
        out.append([e.code, (clock.us - line.stuck_at) // 1000])
print(json.dumps(out))
""").format(path=str(tmp_path / "img.bin"))
    (c1, w1), (c2, w2) = mp.json(code, backend=backend)
    assert (c1, c2) == ("io", "io")
    assert 200 <= w1 <= 240 and 150 <= w2 <= 190, (w1, w2)
