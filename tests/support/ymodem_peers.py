"""`RbPeer`: lrzsz's real `rb -y` on a pty, bridged by socat to a loopback TCP listener
that `qsota.tcp_port` connects to, for the YMODEM tests (test_ymodem.py). The MCU simulator
is in mcu.py, `qsota.send` under MicroPython in transfer_runs.py.
"""

import os
import socket
import subprocess
import time
from pathlib import Path


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
