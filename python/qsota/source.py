"""qsota.source: the image `qsota.send` reads: opening a path or taking a file object
(`open_source`), its SHA-256 (`sha256_of`), and `Views`, the memoryviews of one buffer
through which the driver reads and writes without allocating per block."""

from .errors import TransferError

# The name a file object without one is sent under (YMODEM's header needs a name).
DEFAULT_NAME = "image.bin"


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
