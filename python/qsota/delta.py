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


class _Cut:
    """_CUT[a:b] is the slice a:b itself (MicroPython has no slice()): a slice made once and
    kept copies a piece without the slice object a written `x[a:b]` allocates per copy."""

    def __getitem__(self, cut):
        return cut


_CUT = _Cut()
# The ring's pieces (the applier writes whole pieces, but for the target's last): k is
# [k * PIECE, (k + 1) * PIECE).
_SLOTS = RING // PIECE
_PIECES = tuple(_CUT[k * PIECE : (k + 1) * PIECE] for k in range(_SLOTS))


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
        self._slots = tuple(self._rv[cut] for cut in _PIECES)
        self._in = bytearray(_IN)
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
        self._taken = 0  # package bytes the applier took
        self._got = 0  # package bytes in self._in (from self._taken on), 0: none
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
        if not self._got:
            self._got = self._pkg.readinto(self._in) or 0
            if not self._got:
                return self._ended()
        took = self._app.push(self._in, self._got, room)
        self._taken += took
        if took < self._got:
            # The push stopped short: the next one reads the rest from the file again (a
            # view of it here would allocate at every stop).
            self._pkg.seek(self._taken)
        self._got = 0
        return True

    def _ended(self):
        if not self._done:
            self.sha256 = self._app.finish()[1]
            self._done = True
        return False

    def write(self, data):
        """The applier's output: into the ring (and to `out`)."""
        at = self._end % RING
        if len(data) == PIECE and not at % PIECE:
            self._ring[_PIECES[at // PIECE]] = data
        else:
            self._write_any(data, at)
        self._end += len(data)
        if self._out is not None:
            self._out.update(data)

    def _write_any(self, data, at):
        n = len(data)
        k = min(n, RING - at)
        self._rv[at : at + k] = data[:k] if k < n else data
        if k < n:
            self._rv[: n - k] = data[k:]

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
        except DeltaError:  # not `as e`: that puts this frame on the heap at every read
            pass
        self._failed(buf)

    def _failed(self, buf):
        """Raises the OSError of a read that failed: a fault is final, the same read raises
        it again, here with its reason."""
        try:
            self._read(buf)
        except DeltaError as e:
            raise OSError(5, "diff package: %s" % e)  # EIO
        raise OSError(5, "diff package")

    # _read and what it calls are split small: on MicroPython a frame of more than about 11
    # words is on the heap at every call (qsota.pure.patch.Patch).
    def _read(self, buf):
        n = min(len(buf), self.size - self._pos, RING - PIECE)
        if n <= 0:
            # The target's end: the package's last bytes (trailing ones are refused) and
            # the target's digest are checked before the reader sees the end.
            while self._feed(RING):
                pass
            return 0
        self._apply_to(self._pos + n)
        if self._pos % PIECE or n % PIECE:
            self._copy_any(buf, n)
        else:
            self._copy_pieces(buf, n // PIECE)
        self._pos += n
        return n

    def _apply_to(self, stop):
        """Applies until the ring holds [self._pos, stop)."""
        pos = self._pos
        if pos < self._end - RING:
            self._start()
        while self._end < stop:
            # Never overwrite what this read still needs: the ring keeps [pos, end).
            if not self._feed(RING - max(0, self._end - pos)):
                raise DeltaError("truncated")

    def _copy_pieces(self, buf, count):
        """The ring's `count` pieces from self._pos (on a piece) to buf."""
        at = self._pos // PIECE
        for k in range(count):
            buf[_PIECES[k]] = self._slots[(at + k) % _SLOTS]

    def _copy_any(self, buf, n):
        at = self._pos % RING
        k = min(n, RING - at)
        dst = memoryview(buf)
        dst[:k] = self._rv[at : at + k]
        if k < n:
            dst[k:n] = self._rv[: n - k]

    def close(self):
        self._base.close()
        self._pkg.close()


class Copy:
    """The file a diff package's target is written to as `Target.prove` proves it (for
    qsota.update: the next base, and what is sent). A write that fails (the workdir full
    after all) ends the copy, not the proof: the target is then applied again to send it."""

    def __init__(self, path):
        self.path = path
        try:
            self.f = open(path, "wb")
        except OSError:
            self.f = None

    def write(self, data):
        if self.f is not None:
            try:
                self.f.write(data)
            except OSError:
                self.discard()

    def close(self):
        """Whether the file holds all that was written."""
        if self.f is None:
            return False
        try:
            self.f.close()
        except OSError:
            self.f = None
            return False
        self.f = None
        return True

    def discard(self):
        if self.f is not None:
            try:
                self.f.close()
            except OSError:
                pass
            self.f = None
        from .download import remove  # the agent's (only the agent keeps a copy)

        remove(self.path)
