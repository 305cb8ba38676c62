"""qsota.source: the image `qsota.send` reads: opening a path or taking a file object
(`open_source`), what is never sent as an application (`refusal`: an empty image, a diff
package), its SHA-256 (`sha256_of`), and `Views`, the memoryviews of one buffer through
which the driver reads and writes without allocating per block."""

from .errors import TransferError

# The name a file object without one is sent under (YMODEM's header needs a name).
DEFAULT_NAME = "image.bin"

# What no entry point sends as an application, and the patch formats by their first bytes,
# as the core says them (src/source.rs, through the generated qsota.codes).
from .codes import DELTA_HEAD, PATCH_FORMATS, SOURCE_EMPTY as EMPTY, SOURCE_HEAD as HEAD
from .codes import SOURCE_NOT_AN_APPLICATION as NOT_AN_APPLICATION, SOURCE_PATCH as PATCH

# The format of qsota's own packages (`qsota delta`), which the native protocol carries.
PACKAGE = PATCH_FORMATS[0][0]


def patch_format(head):
    """The name of the patch format that an image's first bytes (`head`, up to HEAD of them)
    say it is, else None. The one place that knows diff packages (src/source.rs in Rust):
    what qsota learns to apply itself is decided by its callers from this answer."""
    for name, magic in PATCH_FORMATS:
        if head[: len(magic)] == magic:
            return name
    return None


def head_of(f, size=HEAD):
    """The first `size` bytes of the file object `f` (fewer if it is shorter); rewinds it.
    A stream's (qsota.stream) as it kept them (up to a delta package's head, DELTA_HEAD):
    read again from byte 0, it would download them again."""
    magic = getattr(f, "magic", None)
    if callable(magic) and size <= DELTA_HEAD:
        return bytes(magic()[:size])
    head = bytearray(size)
    n = 0
    while n < size:
        got = f.readinto(memoryview(head)[n:])
        if not got:
            break
        n += got
    f.seek(0)
    return bytes(head[:n])


def refusal(f, size, allow_empty=False, mcu_applies_diffs=False, carries_packages=False):
    """Why the image `f` (a file object, rewound) of `size` bytes is not sent, naming the
    option that sends it anyway (qsota.send's and the agent's), or None. `carries_packages`:
    the protocol carries qsota's own packages as such (native: the receiver applies them)."""
    if size == 0:
        return None if allow_empty else EMPTY + " (allow_empty=True sends it)"
    name = None if mcu_applies_diffs else patch_format(head_of(f))
    if name is None or (carries_packages and name == PACKAGE):
        return None
    return "%s (%s)%s (mcu_applies_diffs=True sends it as it is)" % (
        PATCH, name, NOT_AN_APPLICATION)


class Views:
    """memoryviews of one buffer, made once per (start, length) and kept."""

    def __init__(self, buf):
        self.mv = memoryview(buf)
        self.cache = {}

    def get(self, start, length):
        key = start * 65536 + length
        v = self.cache.get(key)
        if v is None:
            v = self.mv[start : start + length]
            self.cache[key] = v
        return v


def sha256_of(f, given):
    """The image's SHA-256 for a sender that carries it: `given` (32 bytes, or 64 hex
    digits), else computed from `f`, which is rewound."""
    if isinstance(given, str):
        try:
            from binascii import unhexlify
        except ImportError:
            from ubinascii import unhexlify
        try:
            return unhexlify(given)
        except ValueError:
            raise ValueError("sha256: expected 64 hex digits")
    if given is not None:
        return given
    try:
        from hashlib import sha256
    except ImportError:
        from uhashlib import sha256
    h = sha256()
    buf = bytearray(1024)
    views = Views(buf)
    while True:
        n = f.readinto(buf)
        if not n:
            break
        h.update(views.get(0, n))
    f.seek(0)
    return h.digest()


def _basename(path):
    return path.rsplit("/", 1)[-1]


def open_source(source, name):
    """(file, size, name, opened_here) for a path or a file object."""
    if isinstance(source, str):
        if _is_dir(source):
            raise TransferError("source", "source: %r is a directory" % (source,))
        try:
            f = open(source, "rb")
        except OSError as e:
            raise TransferError("source", "source: cannot open %r (%s)" % (source, e))
        opened = True
        default = _basename(source)
    elif callable(getattr(source, "readinto", None)) and callable(getattr(source, "seek", None)):
        f = source
        opened = False
        default = getattr(source, "name", None)
        default = _basename(default) if isinstance(default, str) else None
    else:
        raise TypeError(
            "source: expected a path or a binary file object with readinto() and seek(), "
            "got %s" % type(source).__name__
        )
    try:
        size = f.seek(0, 2)
        f.seek(0)
    except OSError as e:
        if opened:
            f.close()
        raise TransferError("source", "source: cannot seek (%s)" % e)
    if name is None:
        name = DEFAULT_NAME if default is None else default
    return f, size, name, opened


def _is_dir(path):
    try:
        import os
    except ImportError:
        import uos as os
    try:
        return os.stat(path)[0] & 0x4000 != 0  # S_IFDIR
    except OSError:
        return False  # open() says why
