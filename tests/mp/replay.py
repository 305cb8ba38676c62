"""Replays a trace file written by the Rust tests (src/trace.rs explains the format) on the
backend qsota is bound to: every poll must return the recorded action with the recorded
numbers and frame bytes, and every transfer the recorded stats.

replay(path) -> {"sessions": S, "steps": N, "mismatch": None or a description of the first}.
alloc_per_block(path) -> the heap bytes poll, receive and provide allocate per image block.
"""

import gc
import json

import qsota

try:
    from binascii import hexlify, unhexlify
except ImportError:
    from ubinascii import hexlify, unhexlify

try:
    from hashlib import sha256
except ImportError:
    from uhashlib import sha256

SEND, READ, WAIT, DONE, FAILED, DIGEST = 1, 2, 3, 4, 5, 6


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
    if code == DIGEST:
        return [code, s.at]
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
                elif code == DIGEST:
                    read = (None, s.at)
            elif kind == "r":
                data = unhexlify(ev[2])
                s.receive(ev[1], data, len(data))
            elif kind == "v":
                n = ev[1]
                offset, at = read
                if offset is None:  # the final check passed (32) or failed (0)
                    frame[at : at + n] = sha256(image).digest()[:n]
                else:
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


def _data_phase(path, blocks):
    """The head and the events (kind, number, bytes or None) of the first session in `path`
    that reads at least `blocks` image blocks (only that one is kept, and the file is read
    no further: a trace can be larger than a heap)."""
    head, events, n = None, [], 0
    with open(path) as f:
        for line in f:
            if line.startswith("{"):
                if n >= blocks:
                    break
                head, events, n = json.loads(line), [], 0
                continue
            ev = json.loads(line)
            if ev[0] == "p":
                events.append((POLL, ev[1], None))
            elif ev[0] == "r":
                events.append((RECEIVE, ev[1], unhexlify(ev[2])))
            elif ev[0] == "v":
                events.append((PROVIDE, ev[1], None))
                n += 1
    if n < blocks:
        raise ValueError("%s: no session reads %d blocks" % (path, blocks))
    return head, events


POLL, RECEIVE, PROVIDE = 0, 1, 2


def alloc_per_block(path, blocks=60):
    """Replays the first session of `path` that reads at least `blocks` image blocks,
    unchecked (replay() checks it), and returns the heap bytes its sender's poll, receive
    and provide calls allocated per image block from the middle block read to the one
    before the last: the data phase, after what the first frame or answer of each kind may
    allocate once (the native sender's CRC views) and before the last, shorter block."""
    head, events = _data_phase(path, blocks)
    s = _sender(head)
    frame = bytearray(s.frame_size)
    image = unhexlify(head["image"])
    marks = [0, 0]  # heap use at the middle block and the one before the last (storing
    # into a list allocates nothing)
    blocks = sum(1 for ev in events if ev[0] == PROVIDE)
    seen = 0
    gc.collect()
    gc.disable()
    for i in range(len(events)):
        kind, number, data = events[i]
        if kind == POLL:
            s.poll(number, frame)
        elif kind == RECEIVE:
            s.receive(number, data, len(data))
        else:
            seen += 1
            if seen == blocks // 2:
                marks[0] = gc.mem_alloc()
            elif seen == blocks - 1:
                marks[1] = gc.mem_alloc()
            at = s.at
            offset = s.offset
            for j in range(number):  # a copy without a slice (a slice allocates)
                frame[at + j] = image[offset + j]
            s.provide(number)
    gc.enable()
    return {"blocks": blocks, "per_block": (marks[1] - marks[0]) / (blocks - 1 - blocks // 2)}
