"""Seeded random calls to the public classes with arguments of random types and values; the
outcome of each call ("ok" or "ExceptionType: message") is recorded, so that the two backends'
lists can be compared (tests/test_arg_parity.py).

cases(seed, n) -> list of [call description, outcome].
"""

import io
from array import array

import qsota
from qsota.delta import _package_class

VALUES = (
    None, True, False, -1, 0, 1, 2, 127, 128, 255, 256, 1024, 0x7FFFFFFF, 0x80000000,
    0xFFFFFFFF, 0x100000000, 1 << 64, 1.5, "", "x", "fw.bin", "0x1234", "12345",
    "d41d8cd98f00b204e9800998ecf8427e", "auto", "mpeg2", "iso-hdlc", "md5", "sha256",
    b"", b"x", b"\x00", bytes(32), bytearray(8), bytearray(1100), [], {}, (),
    # Typed buffers: 2 (4) bytes an item, whose len() counts items (issue 19 item 5).
    memoryview(array("H", [1, 2, 3])), memoryview(array("H", range(16))),
    memoryview(array("H", range(600))), array("I", [7] * 300), memoryview(array("B", [1] * 1100)),
)


class Rng:
    def __init__(self, seed):
        self.x = (seed * 2654435761 + 1) & 0xFFFFFFFF or 1

    def below(self, n):
        x = self.x
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.x = x
        return x % n

    def value(self):
        return VALUES[self.below(len(VALUES))]


# Each class: positional parameters, keyword parameters, and methods with their arity.
SPECS = (
    ("Verifier", (), ("md5", "sha256", "crc", "size", "crc_variant", "resumable"),
     (("update", 1), ("md5", 0), ("sha256", 0), ("hexdigest", 1), ("crc32", 1), ("check", 0),
      ("export", 0), ("restore", 1))),
    ("YmodemSender", ("name", "size"),
     ("block_size", "timeout_ms", "header_timeout_ms", "start_timeout_ms", "end_gap_ms",
      "retries", "baud"),
     (("poll", 2), ("receive", 2), ("receive", 3), ("provide", 1), ("stats", 0))),
    ("NativeSender", ("size", "sha256"),
     ("component", "version", "rto_ms", "open_timeout_ms", "retries"),
     (("poll", 2), ("receive", 2), ("receive", 3), ("provide", 1), ("stats", 0))),
    ("Stm32Sender", ("size",),
     ("address", "go", "flash_size", "page_size", "timeout_ms", "erase_timeout_ms",
      "start_timeout_ms", "retries", "baud"),
     (("poll", 2), ("receive", 2), ("receive", 3), ("provide", 1), ("stats", 0))),
    ("McubootSender", ("size", "sha256", "hash"),
     ("image", "buf_size", "enter", "resume", "reset", "timeout_ms", "erase_timeout_ms",
      "boot_ms", "retries"),
     (("poll", 2), ("receive", 2), ("receive", 3), ("provide", 1), ("stats", 0))),
    ("DeltaPackage", ("base", "base_size", "out", "limit", "window"), ("check_base",),
     (("push", 1), ("push", 2), ("push", 3), ("finish", 0), ("header", 0), ("target_size", 0))),
)

# Valid positional arguments, so that most cases get past the constructor.
GOOD = {
    "Verifier": (),
    "YmodemSender": ("fw.bin", 1000),
    "NativeSender": (1000, bytes(32)),
    "Stm32Sender": (1000,),
    "McubootSender": (1000, bytes(32), bytes(32)),
    # A small window cap (the applier allocates at most this when the package names one).
    "DeltaPackage": (io.BytesIO(b"base"), 4, io.BytesIO(), 1000, 256),
}


def _class(name):
    """The bound backend's class `name` (the delta applier is bound by qsota.delta)."""
    return _package_class() if name == "DeltaPackage" else getattr(qsota, name)


def _show(v):
    """A short description of an argument (a long buffer by its type and length, a file
    by its type)."""
    if isinstance(v, io.BytesIO):
        return "BytesIO"
    if isinstance(v, (bytes, bytearray)) and len(v) > 8:
        return "%s(%d)" % (type(v).__name__, len(v))
    if isinstance(v, (memoryview, array)):
        return "%s(%d items)" % (type(v).__name__, len(v))
    return repr(v)


def _outcome(f, args, kwargs):
    try:
        f(*args, **kwargs)
        return "ok"
    except Exception as e:  # the point is to record whatever is raised
        return "%s: %s" % (type(e).__name__, e)


def cases(seed, n):
    rng = Rng(seed)
    out = []
    for _ in range(n):
        name, pos, kw, methods = SPECS[rng.below(len(SPECS))]
        cls = _class(name)
        args = list(GOOD[name])
        for i in range(len(args)):
            if rng.below(4) == 0:
                args[i] = rng.value()
        kwargs = {}
        for k in kw:
            if rng.below(4) == 0:
                kwargs[k] = rng.value()
        if rng.below(20) == 0:
            kwargs["bogus"] = 1
        desc = "%s(%s)" % (
            name,
            ", ".join([_show(a) for a in args] + ["%s=%s" % (k, _show(kwargs[k])) for k in sorted(kwargs)]),
        )
        try:
            obj = cls(*args, **kwargs)
        except Exception as e:
            out.append([desc, "%s: %s" % (type(e).__name__, e)])
            continue
        out.append([desc, "ok"])
        for _ in range(3):
            m, arity = methods[rng.below(len(methods))]
            margs = [rng.value() for _ in range(arity)]
            call = "%s.%s(%s)" % (desc, m, ", ".join([_show(a) for a in margs]))
            out.append([call, _outcome(getattr(obj, m), margs, {})])
    return out
