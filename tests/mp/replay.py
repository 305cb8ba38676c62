"""Replays a trace file written by the Rust tests (src/trace.rs explains the format) on the
backend qsota is bound to: every poll must return the recorded action with the recorded
numbers and frame bytes, and every transfer the recorded stats.

replay(path) -> {"sessions": S, "steps": N, "mismatch": None or a description of the first}.
"""

import json

import qsota

try:
    from binascii import hexlify, unhexlify
except ImportError:
    from ubinascii import hexlify, unhexlify

SEND, READ, WAIT, DONE, FAILED = 1, 2, 3, 4, 5


def _value(v):
    if isinstance(v, str) and v.startswith("hex:"):
        return unhexlify(v[4:])
    return v


def _sender(head):
    cls = {
        "ymodem": qsota.YmodemSender,
        "native": qsota.NativeSender,
        "stm32": qsota.Stm32Sender,
        "mcuboot": qsota.McubootSender,
    }[head["protocol"]]
    args = [_value(a) for a in head["args"]]
    kwargs = {}
    for k, v in head["kwargs"].items():
        kwargs[k] = _value(v)
    return cls(*args, **kwargs)


def _got(s, code, frame):
    """What poll returned, in the trace's event form."""
    if code == SEND:
        return [code, s.length, hexlify(bytes(frame[: s.length])).decode()]
    if code == READ:
        return [code, s.offset, s.at, s.length]
    if code == WAIT:
        return [code, s.until, s.length]
    if code == FAILED:
        return [code, s.error, s.block]
    return [code]


def replay(path):
    sessions = steps = 0
    s = frame = image = None
    read = None  # (offset, at) of the last READ
    session_no = -1
    with open(path) as f:
        for line in f:
            ev = json.loads(line)
            if isinstance(ev, dict):
                session_no += 1
                sessions += 1
                s = _sender(ev)
                if s.frame_size != ev["frame_size"]:
                    return _mismatch(sessions, steps, session_no, "frame_size", ev["frame_size"], s.frame_size)
                frame = bytearray(s.frame_size)
                image = unhexlify(ev["image"])
                continue
            steps += 1
            kind = ev[0]
            if kind == "p":
                code = s.poll(ev[1], frame)
                got = _got(s, code, frame)
                if got != ev[2:]:
                    return _mismatch(sessions, steps, session_no, "poll at %d" % ev[1], ev[2:], got)
                if code == READ:
                    read = (s.offset, s.at)
            elif kind == "r":
                data = unhexlify(ev[2])
                s.receive(ev[1], data, len(data))
            elif kind == "v":
                n = ev[1]
                offset, at = read
                frame[at : at + n] = image[offset : offset + n]
                s.provide(n)
            elif kind == "e":
                got = s.stats()
                if got != ev[1]:
                    return _mismatch(sessions, steps, session_no, "stats", ev[1], got)
    return {"sessions": sessions, "steps": steps, "mismatch": None}


def _mismatch(sessions, steps, session_no, what, want, got):
    return {
        "sessions": sessions,
        "steps": steps,
        "mismatch": {"session": session_no, "step": steps, "what": what, "want": want, "got": got},
    }
