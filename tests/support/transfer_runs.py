"""What test_ymodem.py and test_native.py share: `qsota.send` under MicroPython into the MCU
simulator (tests/mcu.py), one run or many side by side, and the MicroPython-side pieces of
their scripts.

    path, data = image(tmp_path, 40_000)
    result, summary = Transfer(mp, "native", path, dict(personality="spec"), **send_options).result()
    outcomes = fault_runs(cases, start, check)   # the seeded fault runs, PARALLEL at a time

`result` is {"ok": True, "stats": {...}} or {"ok": False, "code": ..., "message": ...};
`summary` is the simulator's JSON summary.
"""

import json
import random
import subprocess
import time

from .mcu import Mcu

PARALLEL = 12


def image(directory, size, name="fw.bin", seed=1):
    """`size` random bytes (from `seed`) written to directory/name: (path, data)."""
    data = random.Random(seed * 1_000_003 + size).randbytes(size)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_bytes(data)
    return path, data


def line_faults(seed, reply_factor):
    """Simulator options for a seeded fault run: bit flips and lost bytes at a rate of 1e-4
    to 4e-4 (by seed) towards the MCU, `reply_factor` times that in its replies."""
    rate = 1e-4 * (1 + seed % 4)
    return dict(
        seed=seed, bitflip_rate=rate, drop_rate=rate,
        reply_bitflip_rate=rate * reply_factor, reply_drop_rate=rate * reply_factor,
    )


SEND = """
import json, qsota
port = qsota.tcp_port("127.0.0.1", {port})
try:
    stats = qsota.send(port, {path!r}, name={name!r}, **{options!r})
    print(json.dumps({{"ok": True, "stats": stats}}))
except qsota.TransferError as e:
    print(json.dumps({{"ok": False, "code": e.code, "message": str(e)}}))
"""


class Sending:
    """One `qsota.send` running in MicroPython, to a receiver on a loopback TCP port."""

    def __init__(self, mp, backend, port, path, name=None, **options):
        command, code = mp.command(
            SEND.format(port=port, path=str(path), name=name, options=options), backend
        )
        self.proc = subprocess.Popen(
            [*command, "-c", code],
            env=mp.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def close(self):
        """Stops the MicroPython process if it still runs (a test that failed half-way)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()

    def result(self, timeout=120):
        """The outcome of the send (see the module docstring)."""
        out, err = self.proc.communicate(timeout=timeout)
        assert self.proc.returncode == 0, "MicroPython failed:\n%s\n%s" % (err, out)
        return json.loads(out.strip().splitlines()[-1])


class Transfer:
    """`qsota.send` of `path` into a new simulator started with `mcu_options` (keyword
    options of `Mcu`)."""

    def __init__(self, mp, backend, path, mcu_options, **send_options):
        self.mcu = Mcu(**mcu_options)
        try:
            self.sending = Sending(mp, backend, self.mcu.port, path, **send_options)
        except BaseException:
            self.mcu.close()
            raise

    def running(self):
        return self.sending.proc.poll() is None

    def result(self):
        """(result, summary) once the send has ended; both processes are stopped."""
        try:
            return self.sending.result(), self.mcu.summary()
        finally:
            self.close()

    def close(self):
        self.sending.close()
        self.mcu.close()


def fault_runs(cases, start, check):
    """Runs the seeded fault cases PARALLEL at a time. `start(case)` returns a `Transfer`
    and the image it sends; `check(result, summary, data)` checks each as it ends. Returns
    {"exact": runs that succeeded, "error": runs that failed}. Every process is stopped,
    also when a check fails."""
    pending, running = list(cases), []
    outcomes = {"exact": 0, "error": 0}
    try:
        while pending or running:
            while pending and len(running) < PARALLEL:
                running.append(start(pending.pop()))
            done = [run for run in running if not run[0].running()]
            if not done:
                time.sleep(0.05)
            for run in done:
                running.remove(run)
                transfer, data = run
                result, summary = transfer.result()
                check(result, summary, data)
                outcomes["exact" if result["ok"] else "error"] += 1
    finally:
        for transfer, _ in running:
            transfer.close()
    return outcomes


# MicroPython: `session(s, image, answers, steps)` drives a sender through a scripted session
# and `compare(native, pure)` prints how two logs compare (tests/mp/session.py).
SESSION = """
import hashlib
from session import compare, session
"""

# MicroPython: `err(f)` prints the exception `f()` raises ("no error" if none), `Port` is a
# silent port (tests/mp/errs.py) and "{path}" a 10-byte file; the script goes on with
# `err(...)` lines.
ERRORS = """
import qsota
from errs import Port, err
with open("{path}", "wb") as f:
    f.write(b"x" * 10)
"""
