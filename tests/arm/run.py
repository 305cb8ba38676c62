"""Runs MicroPython test scripts on the qemu firmware (ports/qemu, BOARD=SABRELITE).

    python3 tests/arm/run.py FIRMWARE.elf SCRIPT.py...

Boots qemu-system-arm once with the emulated UART on a pipe and drives MicroPython's raw
REPL: for each script a soft reset (a clean heap), then the script, then its output. A script
passes when it raised nothing and its last line is `OK <number of checks>` (each script counts
its own checks, so one that silently checked nothing fails). No pyserial, no pty: qemu's
chardev applies back-pressure to the pipe, so nothing is lost.
"""

import os
import select
import subprocess
import sys
import time

QEMU = [
    "qemu-system-arm", "-machine", "sabrelite", "-m", "128M", "-nographic",
    "-monitor", "null", "-semihosting", "-serial", "stdio",
]
TIMEOUT = 120  # seconds per script; the slowest (pure-Python digests) takes a few


class Board:
    def __init__(self, firmware, qemu_args=()):
        self.proc = subprocess.Popen(
            QEMU + list(qemu_args) + ["-kernel", firmware],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self.buf = b""

    def read_until(self, marker, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while marker not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError("no %r after %ds; got %r" % (marker, timeout, self.buf[-300:]))
            chunk = os.read(fd, 4096)
            if not chunk:
                raise EOFError("qemu exited; got %r" % self.buf[-300:])
            self.buf += chunk
        head, _, self.buf = self.buf.partition(marker)
        return head

    def write(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def run(self, source):
        """Soft-resets into the raw REPL, runs `source`, returns (stdout, stderr)."""
        self.write(b"\r\x03\x03\x01")  # interrupt anything, enter the raw REPL
        self.read_until(b"raw REPL; CTRL-B to exit\r\n>")
        self.write(b"\x04")  # soft reset: fresh heap, back in the raw REPL
        self.read_until(b"raw REPL; CTRL-B to exit\r\n>")
        self.write(source + b"\x04")
        self.read_until(b"OK")
        out = self.read_until(b"\x04")
        err = self.read_until(b"\x04")
        self.read_until(b">")
        return out.replace(b"\r\n", b"\n").decode(), err.replace(b"\r\n", b"\n").decode()

    def close(self):
        self.proc.kill()
        self.proc.wait()


def main(firmware, scripts):
    board = Board(firmware)
    failed = []
    try:
        board.read_until(b">>> ", timeout=30)
        for path in scripts:
            name = os.path.basename(path)
            with open(path, "rb") as f:
                out, err = board.run(f.read())
            last = out.strip().splitlines()[-1:] or [""]
            ok = not err and last[0].startswith("OK ") and last[0][3:].isdigit()
            print("%s %s (%s)" % ("pass" if ok else "FAIL", name, last[0]))
            if not ok:
                failed.append(name)
                sys.stdout.write(out[-2000:] + err[-2000:])
    finally:
        board.close()
    print("%d of %d ARM scripts passed" % (len(scripts) - len(failed), len(scripts)))
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: run.py FIRMWARE.elf SCRIPT.py...")
    sys.exit(main(sys.argv[1], sys.argv[2:]))
