"""qsota.delta: a diff package applied on the module, for bootloaders that take whole images
(ymodem, stm32, mcuboot; docs/delta.md "On the module").

The module rebuilds the target from a base it can prove is the MCU's (its SHA-256 is the
package header's). `Target`, a file object over base + package, applies it as it is read;
its `prove(f)` reads it to the end, proving the result (its SHA-256 against the header's,
the caller's Verifier over it, e.g. keys=) while writing it to the file `f` (the agent's
kept copy, which it then sends). Without room for that copy, `check` proves the result
without keeping it, and a second `Target` applies the package again while `qsota.send`
reads it. The applier is the bound backend's: `_qsota.DeltaPackage` (the
core's, about 200 times as fast) or qsota.pure.delta's `Package`. The package's header is
read through qsota.delta_format, so that the native backend never loads the pure applier.
"""

from . import _bound
from .delta_format import HEADER_LEN, PIECE, parse_header
from .errors import DeltaError


def _package_class():
    """The bound backend's applier."""
    if _bound.backend.__name__ == "_qsota":
        return _bound.backend.DeltaPackage
    from .pure.delta import Package

    return Package

# The bytes of the target `Target` keeps (a ring): a read at most this far behind the
# furthest one is served from it; one further back applies the package again from its start.
RING = 4096
# What one read of the package file takes.
_IN = 512


def header(path):
    """(base SHA-256, extension) of the package at `path` (`parse_header`); DeltaError
    truncated, magic or extension."""
    h = bytearray(HEADER_LEN)
    with open(path, "rb") as f:
        n = f.readinto(h) or 0
    if n < HEADER_LEN:
        raise DeltaError("truncated")
    return parse_header(h)


def check(base, package, verifier=None):
    """Applies the package file `package` to the base file `base` (paths) without keeping
    the result (`Target.prove` keeps it), feeding it to `verifier` (its `update`) when given; returns (target size,
    target SHA-256). DeltaError when the base is not the header's, the package is damaged or
    the result is not what the extension says (`.code`: qsota.codes.DELTA_FAULTS)."""
    t = Target(base, package, check_base=True, out=verifier)
    try:
        return t.prove()
    finally:
        t.close()


class Target:
    """The target of the package file `package` applied to the base file `base` (paths), as
    a binary file (readinto, read, seek, close, `name`) that `qsota.send` reads: applied as it is
    read, into a ring of RING bytes (no copy of the target on the module). Reads in order or
    up to RING back are served as they come; a seek further back applies from the start
    again (the same bytes: the apply is deterministic). A damaged package raises OSError
    from readinto (the driver's TransferError source). `size` is the target's size (from the
    patch, read at construction), `sha256` its digest once read to the end."""

    def __init__(self, base, package, name=None, check_base=False, out=None):
        self.name = name
        self._out = out
        self._check_base = check_base
        self._base = open(base, "rb")
        try:
            self._base_size = self._base.seek(0, 2)
            self._pkg = open(package, "rb")
        except Exception:
            self._base.close()
            raise
        self._ring = bytearray(RING)
        self._rv = memoryview(self._ring)
        self._in = bytearray(_IN)
        self._iv = memoryview(self._in)
        self.sha256 = None
        self._pos = 0
        self._start()
        try:
            self.size = self._target_size()
        except Exception:
            self.close()
            raise

    def _start(self):
        """Applies from the package's first byte again."""
        self._pkg.seek(0)
        self._app = _package_class()(self._base, self._base_size, self,
                                      check_base=self._check_base)
        self._end = 0  # target bytes written so far (the ring holds the last RING of them)
        self._at = self._got = 0  # the unread part of self._in
        self._done = False

    def prove(self, f=None, buf=None):
        """Reads the target from here to its end (through `buf`, a bytearray), writing it to
        the file `f` when given; returns (target size, target SHA-256) once the package's
        checks passed (DeltaError when they fail: the caller discards what `f` got)."""
        mv = memoryview(buf or bytearray(PIECE))
        while True:
            n = self._read(mv)
            if not n:
                return self.size, self.sha256
            if f is not None:
                f.write(mv[:n])

    def _target_size(self):
        while self._app.target_size() is None:
            if not self._feed(RING):
                raise DeltaError("truncated")
        return self._app.target_size()

    def _feed(self, room):
        """One push of package bytes writing at most `room`; False once the package ended
        (then the result is checked)."""
        if self._at == self._got:
            self._got = self._pkg.readinto(self._in) or 0
            self._at = 0
            if not self._got:
                if not self._done:
                    self.sha256 = self._app.finish()[1]
                    self._done = True
                return False
        self._at += self._app.push(self._iv[self._at : self._got], -1, room)
        return True

    def write(self, data):
        """The applier's output: into the ring (and to `out`)."""
        n = len(data)
        at = self._end % RING
        k = min(n, RING - at)
        self._rv[at : at + k] = data[:k] if k < n else data
        if k < n:
            self._rv[: n - k] = data[k:]
        self._end += n
        if self._out is not None:
            self._out.update(data)

    def seek(self, pos, whence=0):
        if whence == 2:
            pos += self.size
        elif whence == 1:
            pos += self._pos
        self._pos = max(0, min(pos, self.size))
        return self._pos

    def read(self, n):
        """Up to `n` bytes from here (qsota.mcuboot reads the image's header and TLVs so)."""
        out = bytearray(max(0, min(n, self.size - self._pos)))
        view = memoryview(out)
        got = 0
        while got < len(out):
            k = self.readinto(view[got:])
            if not k:
                break
            got += k
        return bytes(out[:got])

    def readinto(self, buf):
        try:
            return self._read(buf)
        except DeltaError as e:
            raise OSError(5, "diff package: %s" % e)  # EIO

    def _read(self, buf):
        n = min(len(buf), self.size - self._pos, RING - PIECE)
        pos = self._pos
        if n <= 0:
            # The target's end: the package's last bytes (trailing ones are refused) and
            # the target's digest are checked before the reader sees the end.
            while self._feed(RING):
                pass
            return 0
        if pos < self._end - RING:
            self._start()
        while self._end < pos + n:
            # Never overwrite what this read still needs: the ring keeps [pos, end).
            room = RING - max(0, self._end - pos)
            if not self._feed(room):
                raise DeltaError("truncated")
        at = pos % RING
        k = min(n, RING - at)
        dst = memoryview(buf)
        dst[:k] = self._rv[at : at + k]
        if k < n:
            dst[k:n] = self._rv[: n - k]
        self._pos = pos + n
        return n

    def close(self):
        self._base.close()
        self._pkg.close()
