"""Runs MicroPython test scripts on the qemu firmware (ports/qemu, BOARD=SABRELITE).

    python3 tests/arm/run.py [--load DIR] FIRMWARE.elf SCRIPT.py...

Boots qemu-system-arm once with the emulated UART on a pipe and drives MicroPython's raw
REPL: for each script a soft reset (a clean heap), then the script, then its output. A script
passes when it raised nothing and its last line is `OK <number of checks>` (each script counts
its own checks, so one that silently checked nothing fails). No pyserial, no pty: qemu's
chardev applies back-pressure to the pipe, so nothing is lost.
"""

import os
import select
import signal
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from support.child import dies_with_parent  # noqa: E402

QEMU = [
    "qemu-system-arm", "-machine", "sabrelite", "-m", "128M", "-nographic",
    "-monitor", "null", "-semihosting", "-serial", "stdio",
]
TIMEOUT = 120  # seconds per script; the slowest (pure-Python digests) takes a few
# Virtual time advances 1 ns per guest instruction: the benchmarks count instructions by the
# MPCore global timer (bench/arm/insn.py).
ICOUNT = ["-icount", "shift=0,align=off,sleep=off"]
ARCHIVE = 0x14000000  # where tests/arm/frozen/ramfs.py finds the host's files


def archive(files):
    """The files {name: bytes} as tests/arm/frozen/ramfs.py reads them."""
    out = [b"QFS1", struct.pack("<I", len(files))]
    for name, data in sorted(files.items()):
        raw = name.encode()
        out += [struct.pack("<H", len(raw)), raw, struct.pack("<I", len(data)), data]
        out.append(bytes(-len(data) % 4))
    return b"".join(out)


class Board:
    """qemu running the firmware; `files` ({name: bytes}) are loaded for ramfs, `icount`
    makes its clock count instructions."""

    def __init__(self, firmware, files=None, icount=False, timeout=TIMEOUT):
        self.firmware, self.files = firmware, files
        args = QEMU + (ICOUNT if icount else []) + ["-kernel", firmware]
        self.loaded = None
        if files:
            self.loaded = tempfile.NamedTemporaryFile(suffix=".qfs")
            self.loaded.write(archive(files))
            self.loaded.flush()
            args += ["-device", "loader,file=%s,addr=0x%x,force-raw=on" % (self.loaded.name, ARCHIVE)]
        # qemu dies with this process, however it ends (a killed run left orphans).
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     preexec_fn=dies_with_parent)
        self.buf = b""
        self.timeout = timeout
        try:
            self.read_until(b">>> ", timeout=30)
        except BaseException:
            self.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def read_until(self, marker, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        fd = self.proc.stdout.fileno()
        while marker not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError("no %r after %ds; got %r" % (marker, timeout or self.timeout, self.buf[-300:]))
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
        if self.loaded is not None:
            self.loaded.close()


def folder(path):
    """The files under `path` as {"NAME/...": bytes}, NAME its base name (for Board's files)."""
    base = os.path.basename(os.path.normpath(path))
    out = {}
    for top, _, names in os.walk(path):
        for name in names:
            full = os.path.join(top, name)
            with open(full, "rb") as f:
                out[base + "/" + os.path.relpath(full, path)] = f.read()
    return out


def main(firmware, scripts, files=None):
    failed = []
    with Board(firmware, files=files) as board:
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
    print("%d of %d ARM scripts passed" % (len(scripts) - len(failed), len(scripts)))
    return 1 if failed else 0


if __name__ == "__main__":
    # SIGTERM (timeout, a CI runner) ends like Ctrl-C: the `with` kills qemu.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    argv = sys.argv[1:]
    files = None
    if argv[:1] == ["--load"]:
        files = folder(argv[1])  # at /NAME/... once the script mounts ramfs
        argv = argv[2:]
    if len(argv) < 2:
        sys.exit("usage: run.py [--load DIR] FIRMWARE.elf SCRIPT.py...")
    sys.exit(main(argv[0], argv[1:], files))
