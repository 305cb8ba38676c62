"""tests/test_mcuboot.py: both backends through one scripted session against a small model of
MCUboot (one line per step)."""

import _qsota
from qsota.pure import cbor, console
from session import compare, session
from qsota.pure.mcuboot import McubootSender as Pure

IMAGE = bytes(range(256)) * 9 + b"tail"
SHA, HASH = b"s" * 32, b"h" * 32
LOSE = (2, 5, 6, 11)  # answers lost (by request number): timeouts and retransmissions

def answer(req, state):
    d = console.Decoder()
    n = 0
    for b in req:
        n = d.byte(b) or n
    p = bytes(d.buf[2:2 + n])
    group, ident = p[5], p[7]
    if (group, ident) == (0, 6):
        body = b"\xbf\x68buf_size\x19\x01\x2c\xff"  # 300
    elif (group, ident) == (1, 1):
        off = state.get("off", 0)
        r = cbor.Reader(p, 8, len(p))
        left = r.enter(5)
        want, n = None, 0
        while r.more(left):
            left -= 1
            r.key()
            if r.is_key(b"off"):
                r.head(); want = r.arg
            elif r.is_key(b"data"):
                r.head(); n = r.arg
            else:
                r.skip()
        if want == 0 or want == off:
            off = (want or 0) + (n - n % 4 if want + n < len(IMAGE) else n)
        state["off"] = off
        body = b"\xa2\x62rc\x00\x63off\x19" + bytes([off >> 8, off & 255])
    elif (group, ident) == (1, 0):
        body = b"\xa1\x66images\x81\xa2\x64slot\x00\x64hash\x58\x20" + HASH
    else:
        body = b"\xa0"
    out = bytearray(console.encoded_len(len(body) + 12))
    at = len(out) - len(body) - 12 + 2
    out[at:at + 8] = bytes([p[0] + 1, 0, 0, len(body), p[4], p[5], p[6], p[7]])
    out[at + 8:at + 8 + len(body)] = body
    return bytes(out[:console.encode(out, len(out), len(body) + 8)])

def replies():
    """MCUboot's answer to each request, but for the lost ones."""
    state, sent = {}, [0]

    def reply(req):
        sent[0] += 1
        return None if sent[0] in LOSE else b"boot log\r\n" + answer(req, state)

    return reply


def mcuboot(cls, **opts):
    return session(cls(len(IMAGE), SHA, HASH, **opts), IMAGE, replies(), 400)

for opts in ({"enter": True, "timeout_ms": 50, "boot_ms": 20}, {"buf_size": 200, "resume": False}):
    compare(mcuboot(_qsota.McubootSender, **opts), mcuboot(Pure, **opts))
