"""Replays a delta trace written by the Rust tests (src/delta/tests.rs `run` explains the
events) on qsota.pure.delta: every push must make the recorded base reads and target writes,
in order and in the same pieces, and end as recorded (`["k", taken]` or the fault); every
finish must give the recorded size and SHA-256 or fault.

replay(path) -> {"sessions": S, "steps": N, "mismatch": None or a description of the first}.
"""

import json

from qsota.pure.delta import DeltaError, Package, Patch

try:
    from binascii import hexlify, unhexlify
except ImportError:
    from ubinascii import hexlify, unhexlify


class _Base:
    def __init__(self, data, log, fails):
        self.data, self.log, self.fails, self.at = data, log, fails, 0

    def seek(self, at):
        self.at = at

    def readinto(self, buf):
        n = len(buf)
        self.log.append(["b", self.at, n])
        if self.fails:
            return 0
        buf[:] = self.data[self.at : self.at + n]
        return n


class _Out:
    def __init__(self, log, fails):
        self.log, self.fails = log, fails

    def write(self, data):
        self.log.append(["w", hexlify(bytes(data)).decode()])
        if self.fails:
            raise OSError(5)


def _applier(head, log):
    kw = head["kwargs"]
    base = _Base(unhexlify(head["image"]), log, kw["base_fails"])
    out = _Out(log, kw["write_fails"])
    size = head["args"][0]
    if kw["package"]:
        return Package(base, size, out, kw["limit"], kw["window"])
    return Patch(base, size, out, kw["limit"], kw["window"])


def _finish(a):
    try:
        got = a.finish()
    except DeltaError as e:
        return ["f", e.code]
    if isinstance(got, tuple):
        return ["x", got[0], hexlify(got[1]).decode()]
    return ["x", got, None]


def replay(path):
    sessions = steps = 0
    a = log = None
    pending = None  # the events of the open push, up to its ["k"] or ["f", ...]
    with open(path) as f:
        for line in f:
            ev = json.loads(line)
            if isinstance(ev, dict):
                sessions += 1
                log = []
                a = _applier(ev, log)
                continue
            steps += 1
            if ev[0] == "d":
                del log[:]
                try:
                    log.append(["k", a.push(unhexlify(ev[1]), -1, ev[2])])
                except DeltaError as e:
                    log.append(["f", e.code])
                pending = []
            elif pending is not None:
                pending.append(ev)
                if ev[0] in ("k", "f"):
                    if pending != log:
                        return _mismatch(sessions, steps, "push", pending, log)
                    pending = None
            else:
                got = _finish(a)
                if got != ev:
                    return _mismatch(sessions, steps, "finish", ev, got)
    return {"sessions": sessions, "steps": steps, "mismatch": None}


def _mismatch(sessions, steps, what, want, got):
    return {
        "sessions": sessions,
        "steps": steps,
        "mismatch": {"session": sessions - 1, "step": steps, "what": what, "want": want, "got": got},
    }
