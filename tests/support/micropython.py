"""Runs code under MicroPython (build/unix/micropython, or $QSOTA_MICROPYTHON) with
`MICROPYPATH` set to `python/` (the qsota package) and `tests/mp/` (MicroPython-side test
helpers), under a chosen backend: the `mp` fixture (tests/support/fixtures.py) is a
`MicroPython`.

    out = mp.run("import qsota; print(qsota.NATIVE)", backend="native")  # stdout, str
    data = mp.json("import json; print(json.dumps([1, 2]))", backend="pure")  # last line
    data = mp.both(code)  # mp.json on each backend; the results must be identical
    mp.run(code, backend=None, args=["file.bin"], timeout=30)  # sys.argv[1:] = args

`backend` is "native" (qsota bound to `_qsota`, which must be present), "pure" (qsota bound to
`qsota.pure`), "pure32" (`qsota.pure` on the 32-bit interpreter, below) or None (the package
as it imports). Backends are bound by one prelude line, so line numbers in tracebacks are one
more than in `code`. A non-zero exit fails the test with MicroPython's stderr and stdout;
`mp.run(..., check=False)` returns a `Run` instead.

`BACKENDS` is ("native", "pure"); `WITH_32` adds "pure32", and `mp.both(code, pure32=True)`
runs `code` on it too. pure32's binary is `$QSOTA_MICROPYTHON32`, default
build/unix32/micropython: the same MicroPython built for i386 (scripts/micropython.sh), whose
small ints have 31 bits as on the module, so that every int of 2**30 or more is a long int on
the heap there, and without hashlib.md5 (qsota.pure.md5 stands in), like some QuecPython
builds.
"""

import json
import os
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BACKENDS = ("native", "pure")
PURE32 = "pure32"
WITH_32 = BACKENDS + (PURE32,)
PRELUDE = "import qsota_backend; qsota_backend.use({!r})\n"


class Run:
    """The outcome of one MicroPython run."""

    def __init__(self, returncode, stdout, stderr):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr


class MicroPython:
    def __init__(self, binary, binary32):
        self.binary = binary
        self.binary32 = binary32
        self.env = dict(os.environ)
        self.env["MICROPYPATH"] = os.pathsep.join(
            [str(ROOT / "python"), str(ROOT / "tests" / "mp")]
        )

    def command(self, code, backend):
        """The command (a list: the binary and its options) and the script that run `code` on
        `backend`, for a caller that starts the process itself."""
        command = [self.binary]
        if backend == PURE32:
            # 16 MB: on 31-bit ints the long ints' garbage scatters what a script keeps
            # over the whole heap, and a long run's last JSON line found no free 20 KB
            # block in the default 1 MB, nor in 4 MB.
            command = [executable(self.binary32), "-X", "heapsize=16M"]
            backend = "pure"
        if backend is not None:
            assert backend in BACKENDS, backend
            code = PRELUDE.format(backend) + code
        return command, code

    def run(self, code, backend, args=(), timeout=60, check=True):
        """Runs `code` as a script; returns its stdout (or a `Run` when check=False)."""
        command, code = self.command(code, backend)
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".py", delete=False) as f:
            f.write(code)
        try:
            proc = subprocess.run(
                [*command, f.name, *map(str, args)],
                env=self.env,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        finally:
            os.unlink(f.name)
        if not check:
            return Run(proc.returncode, proc.stdout, proc.stderr)
        if proc.returncode != 0:
            pytest.fail(
                "MicroPython exited with %d (backend %s)\n--- stderr ---\n%s\n--- stdout ---\n%s"
                % (proc.returncode, backend, proc.stderr, proc.stdout),
                pytrace=False,
            )
        return proc.stdout

    def json(self, code, backend, **kw):
        """Runs `code` and parses its last stdout line as JSON."""
        out = self.run(code, backend, **kw)
        lines = out.strip().splitlines()
        assert lines, "no output from MicroPython"
        return json.loads(lines[-1])

    def both(self, code, pure32=False, **kw):
        """Runs `code` on each backend (with pure32=True, also on "pure32"), requires identical
        JSON results and returns them."""
        native = self.json(code, "native", **kw)
        for backend in ("pure", PURE32) if pure32 else ("pure",):
            assert self.json(code, backend, **kw) == native, "%s differs from native" % backend
        return native


def executable(binary):
    """`binary`, or a test failure that says how to build it."""
    if not os.access(binary, os.X_OK):
        pytest.fail("no MicroPython at %s (run ./build.sh build)" % binary, pytrace=False)
    return binary
