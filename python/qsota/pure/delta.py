"""qsota.pure.delta: the Rust core's delta applier (src/delta/) in Python.

`Patch` (qsota.pure.patch) applies a detools sequential patch (compression none, crle or
heatshrink), `Package` an esp_delta_ota package around one, with or without qsota's
extension (docs/delta.md). Both take the patch in pieces of any size (`push`), read the base
through `base.seek(offset)` and `base.readinto(buf)` and write the target in order through
`out.write(buf)` (a memoryview into the applier's buffer, valid during the call), in the same
pieces as the Rust core: at most 256 bytes, so trace replay (tests/test_traces.py) can
require identical reads and writes. `push(data, n, room)` writes at most `room` bytes and
returns how many of the `n` it took (a few patch bytes can stand for a long run of output:
qsota.delta streams the target with it). A problem raises `DeltaError` (`code` as
`qsota.codes.DELTA_FAULTS`); a fault is final, later calls raise it again. Nothing is
allocated per push but the heatshrink window (2^window bytes, once per patch, at most
`window` bytes) and a memoryview per partial piece.
"""

try:
    import hashlib
except ImportError:
    import uhashlib as hashlib

from ..codes import DELTA_HEAD as HEAD
from ..delta_format import DIGEST_LEN, HEADER_LEN
from ..delta_format import parse_header as header
from ..rules import DELTA
from .args import parse
from .patch import MAX_SIZE, PIECE, DeltaError, Patch, _Latched


def describe(head):
    """(base size, base SHA-256, target size, the first 20 bytes of the target's SHA-256)
    from a package's first bytes (HEAD of them suffice; src/native/delta.rs
    `DeltaOpen::from_package`). DeltaError: `truncated`, `magic`, `extension`,
    `no_extension` (a package made for ESP), or the patch's own."""
    if len(head) < HEADER_LEN:
        raise DeltaError("truncated")
    base_sha, ext = header(head)
    if ext is None:
        raise DeltaError("no_extension")
    p = Patch(None, 0, None, MAX_SIZE, 0)
    for i in range(HEADER_LEN, len(head)):
        p.push(head[i : i + 1])
        size = p.target_size()
        if size is not None:
            return ext[0], base_sha, size, ext[1]
    raise DeltaError("truncated")


class _Hashing:
    """Writes to `out` and hashes what it writes."""

    def __init__(self, out):
        self.out = out
        self.sha = hashlib.sha256()

    def write(self, data):
        self.sha.update(data)
        self.out.write(data)


class Package(_Latched):
    """Applies a delta package (see the module's doc) against `base` (`base_size` bytes):
    the base's SHA-256 is checked when the header is in (unless `check_base` is False: the
    caller checked `header()`), the target's SHA-256 at `finish` (with the extension)."""

    def __init__(self, *args, **kw):
        """Package(base, base_size, out, limit, window, check_base): qsota.rules.DELTA."""
        base, base_size, out, limit, window, check_base = parse(DELTA, args, kw)
        self._out = _Hashing(out)
        self._patch = Patch(base, base_size, self._out, limit, window)
        self._base_size = self._patch._base_size
        self._check_base = check_base
        self._stage = bytearray(HEADER_LEN)
        self._staged = 0
        self._header = None

    def header(self):
        """(base SHA-256, extension) once the header is in, else None; the extension is
        (base size, the first 20 bytes of the target's SHA-256), or None for a package made
        for ESP."""
        return self._header

    def target_size(self):
        """The target's size once the patch has stated it, else None."""
        return None if self._header is None else self._patch.target_size()

    def _push(self, data, n, room):
        i = 0
        if self._header is None:
            i = min(n, HEADER_LEN - self._staged)
            for k in range(i):
                self._stage[self._staged + k] = data[k]
            self._staged += i
            if self._staged < HEADER_LEN:
                return i
            self._open()
        patch = self._patch
        try:
            return i + patch._take(data, i, n, room)
        except DeltaError as e:
            patch._fault = e.code
            raise

    def _finish(self):
        """(target size, target SHA-256)."""
        if self._header is None:
            raise DeltaError("truncated")
        size = self._patch.finish()
        sha = self._out.sha.digest()
        ext = self._header[1]
        if ext is not None and sha[:DIGEST_LEN] != ext[1]:
            raise DeltaError("target_mismatch")
        return size, sha

    def _open(self):
        base_sha, ext = header(self._stage)
        if ext is not None and ext[0] != self._base_size:
            raise DeltaError("base_mismatch")
        if self._check_base and self._base_sha256() != base_sha:
            raise DeltaError("base_mismatch")
        self._header = (base_sha, ext)

    def _base_sha256(self):
        """The base's SHA-256, read in pieces of the patch's buffer (as the Rust core)."""
        sha = hashlib.sha256()
        view = self._patch._view
        at = 0
        while at < self._base_size:
            n = min(PIECE, self._base_size - at)
            self._patch._read(at, view if n == PIECE else view[:n])
            sha.update(view if n == PIECE else view[:n])
            at += n
        return sha.digest()
