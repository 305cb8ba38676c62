"""Real host tools as the module side of the `stm32-rom` simulator (tests/mcu.py), for
test_stm32.py and bench/stm32_bench.py: Debian's `stm32flash` and PyPI's `stm32loader`
over a pty that socat bridges to the simulator's TCP port.

stm32flash only opens a pty through a path that starts with /dev/tty (a symlink) and with
`-m 8n1` (a pty has no parity; the simulator paces 8E1 anyway); it cannot toggle RTS/DTR
there, so the simulated MCU is already in its bootloader, as BOOT0/NRST would put it.
"""

import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path


class Pty:
    """A /dev/tty* symlink to a pty whose other side socat connects to 127.0.0.1:`port`."""

    def __init__(self, port):
        self.path = Path("/dev/ttyQSOTA%d-%d" % (os.getpid(), port))
        self.socat = subprocess.Popen(
            ["socat", "pty,link=%s,raw,echo=0" % self.path, "tcp:127.0.0.1:%d" % port],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not self.path.exists():
            if time.monotonic() > deadline or self.socat.poll() is not None:
                self.close()
                raise RuntimeError("socat made no pty at %s" % self.path)
            time.sleep(0.01)

    def close(self):
        if self.socat.poll() is None:
            self.socat.terminate()
        self.socat.wait()
        if self.path.is_symlink():
            self.path.unlink()


def tool(name):
    """The host tool's path on PATH, or None."""
    return shutil.which(name)


def run_peer(argv, timeout=600):
    """Runs a host tool; (returncode, output, CPU seconds of the child)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return proc.returncode, proc.stdout + proc.stderr, cpu


def stm32flash(port, path, baud, address=0x08000000):
    """stm32flash writes, verifies and starts `path` on the simulator at TCP `port`;
    (returncode, output, seconds, CPU seconds)."""
    pty = Pty(port)
    try:
        start = time.monotonic()
        rc, out, cpu = run_peer(
            [tool("stm32flash"), "-b", str(baud), "-m", "8n1", "-w", str(path), "-v",
             "-S", "0x%08x" % address, "-g", "0x%08x" % address, str(pty.path)]
        )
        return rc, out, time.monotonic() - start, cpu
    finally:
        pty.close()


# stm32loader 0.7.1 always drives RTS and DTR (BOOT0 and NRST on its reference wiring),
# which a pty refuses (ENOTTY): run it with pyserial's modem-line updates as no-ops, as on
# a board where those lines are not wired.
LOADER = """
import sys
import serial.serialposix as s
s.Serial._update_rts_state = s.Serial._update_dtr_state = lambda self: None
from stm32loader.main import main
main(*sys.argv[1:])
"""


def loader_python():
    """This Python, if it has stm32loader (scripts/common.sh need_pypi), else None."""
    found = subprocess.run([sys.executable, "-c", "import stm32loader"], capture_output=True)
    return sys.executable if found.returncode == 0 else None


def stm32loader(port, path, baud, address=0x08000000):
    """PyPI stm32loader (`-P none`: no parity on a pty) erases, writes, verifies and starts
    `path`; (returncode, output)."""
    python = loader_python()
    pty = Pty(port)
    try:
        rc, out, _ = run_peer(
            [python, "-c", LOADER, "-p", str(pty.path), "-b", str(baud), "-P", "none", "-e",
             "-w", "-v", "-g", "0x%08x" % address, "-a", "0x%08x" % address, str(path)],
        )
        return rc, out
    finally:
        pty.close()
