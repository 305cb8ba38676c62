"""Runs the qsota-mcu simulator (tools/qsota-mcu) for tests and benchmarks (CPython).

    from support.mcu import Mcu

    with Mcu(personality="stm32-iap", baud=921600, flash_scale=0, drop_ack=[3]) as sim:
        send_image("127.0.0.1", sim.port)   # the module side connects to sim.port
        summary = sim.summary(timeout=60)    # waits for the simulator to end; a dict
        image = sim.image()                  # the image it received (its --out file)

Keyword arguments become options (see `qsota-mcu --help` or tools/qsota-mcu/README.md):
`flash_scale=0` gives `--flash-scale 0`, a list gives a comma-separated value
(`drop_ack=[1, 5]` -> `--drop-ack 1,5`), None leaves the option out. `--listen` and `--out`
are set by the helper.

The simulator serves one connection and then prints its summary (one JSON line, see the
README): `summary()` returns it parsed, once the simulator has exited with status 0. It also
ends by itself when the bootloader finishes its session, so a test can first await its
sender and then the summary.

The binary is `$QSOTA_MCU` if set, else the newest of `target/{release,debug}/qsota-mcu`
(also under `$CARGO_TARGET_DIR`); `./build.sh` builds the release one. The process is always
killed when the `with` block ends (or on `close()`); a timeout waiting for the port or the
summary raises `McuError` carrying the simulator's stderr.
"""

import json
import os
import selectors
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class McuError(Exception):
    """The simulator did not start, or did not finish in time."""


def binary(name="qsota-mcu", env="QSOTA_MCU", package="qsota-mcu"):
    """The qsota-mcu executable to run (or another of the workspace's: `qsota`)."""
    if os.environ.get(env):
        return Path(os.environ[env])
    dirs = [ROOT / "target"]
    if os.environ.get("CARGO_TARGET_DIR"):
        dirs.insert(0, Path(os.environ["CARGO_TARGET_DIR"]))
    found = [d / p / name for d in dirs for p in ("release", "debug")]
    found = [f for f in found if f.is_file()]
    if not found:
        raise McuError("%s is not built: run ./build.sh (or cargo build -p %s)" % (name, package))
    return max(found, key=lambda f: f.stat().st_mtime)


def options(**kwargs):
    """Command line options from keyword arguments."""
    args = []
    for key, value in kwargs.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            value = ",".join(str(v) for v in value)
        args += ["--" + key.replace("_", "-"), str(value)]
    return args


class Mcu:
    """One simulator process; see the module docstring."""

    def __init__(self, start_timeout=10, **kwargs):
        self._dir = tempfile.TemporaryDirectory(prefix="qsota-mcu-")
        self._out = Path(self._dir.name) / "image.bin"
        self._stderr = open(Path(self._dir.name) / "stderr", "w+b")
        self.args = [str(binary()), "--listen", "127.0.0.1:0", "--out", str(self._out)]
        self.args += options(**kwargs)
        self._proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=self._stderr)
        self._stdout = b""
        self._summary = None
        try:
            line = self._line(start_timeout)
            if not line.startswith(b"listening "):
                raise McuError("unexpected first line {!r}{}".format(line, self._err()))
            self.port = int(line.split()[1])
        except BaseException:
            self.close()
            raise

    def _err(self):
        self._stderr.seek(0)
        text = self._stderr.read().decode(errors="replace").strip()
        return "; stderr: " + text if text else ""

    def _line(self, timeout):
        """The next stdout line, waiting at most `timeout` seconds."""
        end = time.monotonic() + timeout
        with selectors.DefaultSelector() as sel:
            sel.register(self._proc.stdout, selectors.EVENT_READ)
            while b"\n" not in self._stdout:
                left = end - time.monotonic()
                if left <= 0 or not sel.select(left):
                    raise McuError("no output from qsota-mcu in {} s{}".format(timeout, self._err()))
                chunk = os.read(self._proc.stdout.fileno(), 4096)
                if not chunk:
                    raise McuError("qsota-mcu exited ({}){}".format(self._proc.wait(), self._err()))
                self._stdout += chunk
        line, _, self._stdout = self._stdout.partition(b"\n")
        return line

    def summary(self, timeout=60):
        """Waits for the simulator to end; returns its summary as a dict."""
        if self._summary is None:
            try:
                summary = json.loads(self._line(timeout))
                status = self._proc.wait(timeout)
                if status != 0:
                    raise McuError("qsota-mcu exited ({}){}".format(status, self._err()))
                self._summary = summary
            except (McuError, subprocess.TimeoutExpired) as e:
                self.close()
                raise McuError("qsota-mcu did not finish: {}".format(e)) from None
        return self._summary

    def image(self):
        """The received image (bytes) as the simulator stored it; call after summary()."""
        return self._out.read_bytes()

    def close(self):
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        self._proc.stdout.close()
        self._stderr.close()
        self._dir.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@contextmanager
def pty_bridge(port, link):
    """A pty at `link` (a symlink to its /dev/pts path) whose other end is socat connected
    to 127.0.0.1:`port`: a serial port for tools that need one (`qsota --port`). The pty's
    slave is held open meanwhile, as a UART line stays up while its users come and go."""
    socat = subprocess.Popen(
        ["socat", "PTY,link={},raw,echo=0".format(link), "TCP:127.0.0.1:{}".format(port)],
        stderr=subprocess.DEVNULL,
    )
    try:
        end = time.monotonic() + 10
        while not Path(link).exists():
            if time.monotonic() > end or socat.poll() is not None:
                raise McuError("socat made no pty at {}".format(link))
            time.sleep(0.02)
        held = os.open(str(link), os.O_RDWR | os.O_NOCTTY)
        try:
            yield link
        finally:
            os.close(held)
    finally:
        socat.terminate()
        socat.wait()
