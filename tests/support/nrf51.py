"""The nRF51 reference bootloader (boot/, docs/bootloader.md) under qemu-system-arm -M microbit,
for tests/test_boot.py and bench/boot_bench.py (CPython). scripts/boot.sh builds what it runs
into build/boot/.

    with Board(factory_flash(app_image("1_0_0"))) as board:  # bootloader, then the application
        board.ask("version?", "version ")  # -> "1_0_0"
        send(board.port, image)        # qsota send --protocol native through board.port
        board.wait_for("app 2_0_0")    # after the reset that installs it
        board.flash()                  # the flash as memsave reads it (bytes)

Resets are modelled outside qemu: at a system reset qemu re-applies its loader images (flash
writes inside them are undone, RAM is kept), so the guest's reset request pauses qemu instead
(-action reboot=shutdown,shutdown=pause), and the board saves flash and RAM with memsave and
starts a new qemu on both: a warm reset, RAM kept as on the chip (the bootloader's way in
lives there). A power cut (`cut`) keeps the flash alone.

The UART is a unix-socket chardev behind a `Line`: a relay on a fixed TCP port (board.port)
that stays up while qemu processes come and go, as a UART line does while its MCU resets; what
the module sends meanwhile is lost. The line keeps a transcript of what the MCU sent.

A ticker thread sends qemu's monitor a command every 10 ms, which keeps qemu reading the
UART's chardev (tests/qemu_link.py).
"""

import json
import os
import queue
import random
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from .mcu import binary
from .qemu_link import BoardError, Line, Qmp

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "build" / "boot"

# boot/hal/src/layout.rs
PAGE = 1024
FLASH_SIZE = 256 * PAGE
APP = 24 * PAGE
APP_SIZE = 115 * PAGE
SLOT = APP + APP_SIZE
META = SLOT + APP_SIZE
JOURNAL = META + PAGE
RAM = 0x2000_0000
RAM_SIZE = 16 * 1024
HANDOFF = RAM + RAM_SIZE - 8
# boot/hal/src/handoff.rs: the application's request for the bootloader.
ENTER = (0x5153_4254).to_bytes(4, "little") + (0x5153_4254 ^ 0xFFFF_FFFF).to_bytes(4, "little")


def missing():
    """Why the nRF51 tests cannot run here, or None."""
    if not (OUT / "bootloader.bin").exists():
        return "no %s/bootloader.bin (./build.sh test builds it: scripts/boot.sh)" % OUT
    if not shutil.which("qemu-system-arm"):
        return "no qemu-system-arm"
    return None


def app_image(version, size=None, seed=0):
    """The test application `version`, padded to `size` bytes with seeded data (the image's
    size is what the transfer and the install cost; the application never reads it)."""
    code = (OUT / ("app-%s.bin" % version)).read_bytes()
    if size is None:
        return code
    assert size >= len(code), "the application alone is %d bytes" % len(code)
    rng = random.Random("%s/%d/%d" % (version, size, seed))
    return code + bytes(rng.getrandbits(8) for _ in range(size - len(code)))


def new_version(base, version):
    """The application `version` with the rest of `base` (its padding) unchanged: what a
    delta between two releases of one firmware sees."""
    code = app_image(version)
    return code + base[len(code):]


def delta_package(base, target, tmpdir):
    """`qsota delta BASE TARGET`: the package (the default heatshrink window, 256 bytes: the
    bootloader's)."""
    paths = [os.path.join(str(tmpdir), name) for name in ("base.bin", "target.bin", "pkg.bin")]
    for path, data in zip(paths, (base, target)):
        with open(path, "wb") as f:
            f.write(data)
    run = subprocess.run([str(binary("qsota", "QSOTA_CLI", "qsota-cli")), "delta", *paths[:2],
                          "-o", paths[2]], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    with open(paths[2], "rb") as f:
        return f.read()


def factory_flash(app):
    """The flash as a programmer leaves it: the bootloader, the application, the rest erased
    (a full image: qemu's flash is 0x00 wherever no image was loaded)."""
    flash = bytearray(b"\xff" * FLASH_SIZE)
    boot = (OUT / "bootloader.bin").read_bytes()
    flash[: len(boot)] = boot
    flash[APP : APP + len(app)] = app
    return bytes(flash)


def send(port, image, tmpdir, timeout=300, **options):
    """`qsota send --protocol native` of `image` to 127.0.0.1:`port`: (exit status, stats dict
    or None, stderr)."""
    fd, path = tempfile.mkstemp(suffix=".bin", dir=tmpdir)  # sends may run at once
    with os.fdopen(fd, "wb") as f:
        f.write(image)
    args = [str(binary("qsota", "QSOTA_CLI", "qsota-cli")), "send", "--tcp",
            "127.0.0.1:%d" % port, "--protocol", "native", "--json", path]
    for key, value in options.items():
        args += ["--" + key.replace("_", "-"), str(value)]
    try:
        proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    finally:
        os.unlink(path)
    lines = proc.stdout.strip().splitlines()
    stats = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else None
    return proc.returncode, stats, proc.stderr


class Board:
    """One emulated nRF51 across its resets (see the module doc). `ram` (bytes at RAM) models
    a warm start, e.g. with the way in left by the application; `gdb=True` starts each qemu
    halted with its gdbstub at `board.gdb_path` (tests/nrf51_cuts.py drives it)."""

    def __init__(self, flash, ram=None, gdb=False):
        self.dir = Path(tempfile.mkdtemp(prefix="qsota-nrf51-"))
        self.line = Line()
        self.port = self.line.port
        self.gdb = gdb
        self.resets = 0
        # The RAM at each warm reset, in order (bench/boot_bench.py reads the stack's depth).
        self.reset_rams = []
        self.proc = None
        self.qmp = None
        self._lock = threading.Lock()
        self._closing = False
        # What went wrong in a reset that the watcher thread carried out.
        self.failure = None
        try:
            self._start(flash, ram)
        except BaseException:
            self.close()
            raise

    @property
    def gdb_path(self):
        return self.dir / "gdb.sock"

    def _start(self, flash, ram):
        """A new qemu on `flash` (and `ram`), its UART on the line."""
        (self.dir / "flash.bin").write_bytes(flash)
        # -S: the CPU waits until QMP listens to events (a reset before would be missed).
        args = ["qemu-system-arm", "-M", "microbit", "-S", "-display", "none", "-monitor", "none",
                "-qmp", "unix:%s,server=on,wait=off" % (self.dir / "qmp.sock"),
                "-action", "reboot=shutdown,shutdown=pause",
                "-serial", "unix:%s,server=on" % (self.dir / "uart.sock"),
                "-device", "loader,file=%s,addr=0" % (self.dir / "flash.bin")]
        if ram is not None:
            (self.dir / "ram.bin").write_bytes(ram)
            args += ["-device", "loader,file=%s,addr=%#x" % (self.dir / "ram.bin", RAM)]
        if self.gdb:
            self.gdb_path.unlink(missing_ok=True)
            args += ["-gdb", "unix:%s,server=on,wait=off" % self.gdb_path]
        for sock in ("qmp.sock", "uart.sock"):
            (self.dir / sock).unlink(missing_ok=True)
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        try:
            qmp = Qmp(self.dir / "qmp.sock", timeout=30)
            self.line.attach(self.dir / "uart.sock", timeout=30)  # qemu starts once attached
            qmp.start()
            self.qmp = qmp
            if not self.gdb:
                qmp.command("cont")
        except BoardError as e:
            if self.proc.poll() is None:
                self.proc.kill()
            why = self.proc.stderr.read().decode(errors="replace")[-500:]
            self._kill()
            raise BoardError("%s; qemu: %s" % (e, why)) from None
        threading.Thread(target=self._tick, args=(qmp,), daemon=True).start()
        if not self.gdb:
            threading.Thread(target=self._watch, args=(qmp,), daemon=True).start()

    def _tick(self, qmp):
        """Keeps qemu's main loop turning (see the module doc) while `qmp`'s qemu lives."""
        while not self._closing and qmp is self.qmp:
            try:
                qmp.poke()
            except OSError:
                return
            time.sleep(0.01)

    def _watch(self, qmp):
        """Turns the guest's reset request into a warm reset (see the module doc)."""
        while not self._closing:
            try:
                event = qmp.events.get(timeout=0.5)
            except queue.Empty:
                continue
            if event["event"] == "SHUTDOWN" and event["data"].get("reason") == "guest-reset":
                with self._lock:
                    if self._closing or qmp is not self.qmp:
                        return
                    try:
                        self.warm_reset()
                    except Exception as e:  # noqa: BLE001 (reported by wait_for)
                        self.failure = e
                return

    def _save(self, addr, size, name):
        path = self.dir / name
        path.unlink(missing_ok=True)
        # memsave, not pmemsave: the flash is a ROM device, which pmemsave reads as zeros.
        self.qmp.hmp('memsave %#x %#x "%s"' % (addr, size, path))
        return path.read_bytes()

    def _kill(self):
        if self.qmp is not None:
            self.qmp.close()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        if self.proc is not None:
            self.proc.wait(timeout=10)
            self.proc.stderr.close()
        # Once qemu is gone, so that the line keeps all the UART said (Line.detach).
        self.line.detach()

    def warm_reset(self):
        """The reset the guest asked for (qemu is paused): flash and RAM carried over."""
        flash = self._save(0, FLASH_SIZE, "flash.save")
        ram = self._save(RAM, RAM_SIZE, "ram.save")
        self._kill()
        self.resets += 1
        self.reset_rams.append(ram)
        self._start(flash, ram)

    def flash(self):
        """The flash now (qemu keeps running)."""
        with self._lock:
            return self._save(0, FLASH_SIZE, "flash.save")

    def cut(self):
        """A power cut: qemu stops, the flash is all that is left. Returns it."""
        with self._lock:
            self.qmp.command("stop")
            flash = self._save(0, FLASH_SIZE, "flash.save")
            self._kill()
            return flash

    def power_on(self, flash, gdb=False):
        """Powers the board up on `flash` (after a cut): RAM starts empty."""
        with self._lock:
            self._kill()
            self.gdb = gdb
            self._start(flash, None)

    def mark(self):
        """Where the transcript ends now (for wait_for)."""
        with self.line.lock:
            return len(self.line.transcript)

    def wait_for(self, text, start=0, timeout=10):
        try:
            return self.line.wait_for(text.encode(), start, timeout)
        except BoardError as e:
            raise BoardError("%s (%s)" % (e, self._state())) from None

    def _state(self):
        """What the board is doing, for a failure's message."""
        if self.failure is not None:
            return "a reset failed: %s" % self.failure
        try:
            status = self.qmp.command("query-status", timeout=5)["status"]
        except (BoardError, OSError, ValueError) as e:
            status = "unknown (%s)" % e
        return "after %d resets qemu is %s" % (self.resets, status)

    def ask(self, command, answer, timeout=10):
        """Sends the line `command` to the application and returns the rest of its line that
        starts with `answer`. The line is sent again every second: the MCU may be resetting
        (a line sent meanwhile is lost, as on a UART)."""
        start = self.mark()
        end = time.monotonic() + timeout
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as s:
            while True:
                s.sendall(b"\n" + command.encode() + b"\n")
                try:
                    at = self.wait_for(answer, start, 1)
                    break
                except BoardError:
                    if time.monotonic() > end:
                        raise
            stop = self.wait_for("\n", at, timeout)
        return bytes(self.line.transcript[at : stop - 1]).decode(errors="replace")

    def close(self):
        self._closing = True
        with self._lock:
            self._kill()
        self.line.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def app_bytes(flash, size):
    """The application area's first `size` bytes."""
    return flash[APP : APP + size]

