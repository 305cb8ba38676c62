"""Runs code under MicroPython (build/unix/micropython, or $QSOTA_MICROPYTHON) with
`MICROPYPATH` set to `python/` (the qsota package) and `tests/mp/` (MicroPython-side test
helpers), under a chosen backend: the `mp` fixture (tests/support/fixtures.py) is a
`MicroPython`.

    out = mp.run("import qsota; print(qsota.NATIVE)", backend="native")  # stdout, str
    data = mp.json("import json; print(json.dumps([1, 2]))", backend="pure")  # last line
    data = mp.both(code)  # mp.json on each backend; the results must be identical
    mp.run(code, backend=None, args=["file.bin"], timeout=30)  # sys.argv[1:] = args

`backend` is "native" (qsota bound to `_qsota`, which must be present), "pure" (qsota bound to
`qsota.pure`) or None (the package as it imports). Backends are bound by one prelude line,
so line numbers in tracebacks are one more than in `code`. A non-zero exit fails the test
with MicroPython's stderr and stdout; `mp.run(..., check=False)` returns a `Run` instead.
"""

import json
import os
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BACKENDS = ("native", "pure")
PRELUDE = "import qsota_backend; qsota_backend.use({!r})\n"


class Run:
    """The outcome of one MicroPython run."""

    def __init__(self, returncode, stdout, stderr):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr


class MicroPython:
    def __init__(self, binary):
        self.binary = binary
        self.env = dict(os.environ)
        self.env["MICROPYPATH"] = os.pathsep.join(
            [str(ROOT / "python"), str(ROOT / "tests" / "mp")]
        )

    def run(self, code, backend, args=(), timeout=60, check=True):
        """Runs `code` as a script; returns its stdout (or a `Run` when check=False)."""
        if backend is not None:
            assert backend in BACKENDS, backend
            code = PRELUDE.format(backend) + code
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".py", delete=False) as f:
            f.write(code)
        try:
            proc = subprocess.run(
                [self.binary, f.name, *map(str, args)],
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

    def both(self, code, **kw):
        """Runs `code` on each backend, requires identical JSON results and returns them."""
        native = self.json(code, "native", **kw)
        pure = self.json(code, "pure", **kw)
        assert native == pure, "the backends differ"
        return native
