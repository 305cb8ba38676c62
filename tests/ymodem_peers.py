"""Receivers for the YMODEM tests and benchmark, each behind a loopback TCP listener that
`qsota.tcp_port` connects to, and a runner for `qsota.send` under MicroPython.

- `RbPeer`: lrzsz's real `rb -y` on a pty, bridged to TCP by socat.
- `Mcu`: the host MCU simulator `qsota-mcu` (tools/qsota-mcu).
- `Sending`: one `qsota.send` in a MicroPython process, so that many transfers can run
  side by side.
"""

import json
import os
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.01)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RbPeer:
    """`rb -y` receiving into `directory`/rx. socat owns the pty master and the TCP side;
    this object holds the pty slave open too, so that the line stays up (silent, like a
    UART) after rb exits, as on a real wire."""

    def __init__(self, directory):
        self.dir = Path(directory) / "rx"
        self.dir.mkdir(parents=True)
        self.port = _free_port()
        tty = Path(directory) / "tty"
        self.socat = subprocess.Popen(
            [
                "socat",
                "PTY,link=%s,raw,echo=0,wait-slave" % tty,
                "TCP-LISTEN:%d,bind=127.0.0.1,reuseaddr" % self.port,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_for(tty.exists, 5, "socat made no pty")
        except TimeoutError:
            self.socat.kill()
            self.socat.wait()
            raise
        self._hold = os.open(tty, os.O_RDWR | os.O_NOCTTY)
        fd = os.open(tty, os.O_RDWR | os.O_NOCTTY)
        self.log = Path(directory) / "rb.log"
        with open(self.log, "wb") as log:
            self.rb = subprocess.Popen(["rb", "-y"], stdin=fd, stdout=fd, stderr=log, cwd=self.dir)
        os.close(fd)

    def files(self):
        """{name: bytes} of what rb stored."""
        return {p.name: p.read_bytes() for p in self.dir.iterdir()}

    def wait(self, timeout=10):
        """rb's exit status (0: it finished the batch)."""
        return self.rb.wait(timeout)

    def close(self):
        for p in (self.rb, self.socat):
            if p.poll() is None:
                p.kill()
            p.wait()
        os.close(self._hold)


def mcu_binary():
    return Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "release" / "qsota-mcu"


class Mcu:
    """qsota-mcu on a free port with the given command-line options."""

    def __init__(self, *options):
        binary = mcu_binary()
        if not os.access(binary, os.X_OK):
            raise FileNotFoundError("no simulator at %s (cargo build --release -p qsota-mcu)" % binary)
        self.proc = subprocess.Popen(
            [str(binary), "--listen", "127.0.0.1:0", "--timeout", "120", *map(str, options)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = self.proc.stdout.readline().split()
        assert line[:1] == ["listening"], "qsota-mcu: %r %s" % (line, self.proc.stderr.read())
        self.port = int(line[1])

    def summary(self, timeout=60):
        """The simulator's JSON summary (after the module side disconnected)."""
        out, err = self.proc.communicate(timeout=timeout)
        lines = out.strip().splitlines()
        assert self.proc.returncode == 0 and lines, "qsota-mcu failed: %s" % err
        return json.loads(lines[-1])

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


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
    """One `qsota.send` running in MicroPython."""

    def __init__(self, mp, backend, port, path, name=None, **options):
        from conftest import PRELUDE

        code = PRELUDE.format(backend) + SEND.format(port=port, path=str(path), name=name, options=options)
        self.proc = subprocess.Popen(
            [mp.binary, "-c", code],
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
        """{"ok": True, "stats": {...}} or {"ok": False, "code": ..., "message": ...}."""
        out, err = self.proc.communicate(timeout=timeout)
        assert self.proc.returncode == 0, "MicroPython failed:\n%s\n%s" % (err, out)
        return json.loads(out.strip().splitlines()[-1])

