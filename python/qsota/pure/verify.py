"""qsota.pure.verify: `_qsota.Verifier` in Python, for firmware without the C module.

Same API, results and error messages as the C module (the tests compare the two), and the
same rules as the Rust core (src/verify.rs, src/hex.rs). Digests come from the port's
hashlib (QuecPython: uhashlib), MD5 from qsota.pure.md5 where the port has none, the CRCs
from qsota.pure.crc32 (no long int, so no heap, per byte on a 32-bit port).

With crc_variant='auto' both CRC-32 variants are kept, a Python loop each per byte. When the
bytes are also kept in a file (qsota.verify.kept_in: the download's part, verify_file's file),
only MPEG-2 (the one Quectel documents) runs as they stream past, and ISO-HDLC is computed
from the file only when something asks for it: a check() that MPEG-2 does not pass, or
crc32('iso-hdlc'). One pass cannot keep both for the price of one: they are independent
32-bit functions of the data, and each needs its own table step per byte.
"""

try:
    import hashlib
except ImportError:
    import uhashlib as hashlib
try:
    import struct
except ImportError:
    import ustruct as struct

from ..rules import CRC, CRC32, HEX, HEXDIGEST, KEYS, NAME, NON_HEX, NOT_A_NUMBER, UPDATE, VERIFIER
from ..rules import NOT_FRESH, NOT_RESUMABLE, RESTORE, STATE_DAMAGED, STATE_FINAL, STATE_VARIANT
from ..rules import STATE_VERSION
from . import crc32
from .args import _int, _refuse_type, _take, _type_error, parse, readable

_new_md5 = getattr(hashlib, "md5", None)
if _new_md5 is None:
    from .md5 import md5 as _new_md5

# CRC variant names, in the order 'auto' tries them.
_MPEG2 = "mpeg2"
_ISO_HDLC = "iso-hdlc"
_VARIANTS = (_MPEG2, _ISO_HDLC)
_AUTO = "auto"
# The variants by their C ABI codes (QSOTA_CRC_*), which a NAME row's lo..hi select.
_BY_CODE = (_AUTO, _MPEG2, _ISO_HDLC)

_FINAL = "update: the verifier is final after check() or a digest"
_UPDATE = UPDATE[0]
_RESTORE = RESTORE[0]
_RESUMABLE = VERIFIER[-1]

# The state record of src/midstate.rs: everything before its check value (magic, version,
# CRC variants, 0, size, MD5 and SHA-256 chaining values, MPEG-2 and ISO-HDLC so far as
# 16-bit halves, low first, the partial block), then the check value's halves.
_STATE = "<4sBBHQ16s32sHHHH64s"
_STATE_CHECKED = 136
_STATE_MAGIC = b"QVST"
_STATE_VERSION = 1
_STATE_MAX_SIZE = (1 << 61) - 1  # MD5 counts bits in 64 bits
_CRC32 = CRC32[0]
_DIGESTS = ("md5", "sha256")


class VerifyError(ValueError):
    """Verifier.check() found a mismatch; the message names each mismatched field."""


def _is_int(obj):
    # bool is no CRC or size (and MicroPython does not count it as an int either).
    return isinstance(obj, int) and not isinstance(obj, bool)


def _text(what, kind, obj):
    """The bytes of a str or bytes argument of `kind`."""
    if isinstance(obj, str):
        return obj.encode()
    if isinstance(obj, bytes):
        return obj
    _type_error(what, kind, obj)


def _digit(c):
    """The value of the hex digit with code `c`, or None."""
    if 48 <= c <= 57:
        return c - 48
    if 97 <= c <= 102:
        return c - 87
    if 65 <= c <= 70:
        return c - 55
    return None


def _all_hex(text):
    for c in text:
        if _digit(c) is None:
            return False
    return True


def _hex_digest(what, obj, digits, message):
    """The digest given as `digits` hex digits (str or bytes), as bytes."""
    text = _text(what, HEX, obj)
    if not _all_hex(text):
        raise ValueError("%s: %s, %s" % (what, message, NON_HEX))
    if len(text) != digits:
        raise ValueError("%s: %s, got %d" % (what, message, len(text)))
    out = bytearray(digits // 2)
    for i in range(len(out)):
        out[i] = _digit(text[2 * i]) << 4 | _digit(text[2 * i + 1])
    return bytes(out)


def _fold(digits, radix):
    """The value of `digits` in `radix`, or None when it does not fit in 32 bits."""
    value = 0
    for c in digits:
        value = value * radix + _digit(c)
        if value > 0xFFFFFFFF:
            return None
    return value


def _crc_readings(what, obj, lo, hi, message):
    """The values an expected CRC may have: an int, or text read as decimal and/or hex.

    `0x1a2b` is hex; text with a hex letter is hex; digits only may be decimal (the AT
    flow) or hex (the platform's JSON), so both readings that fit in 32 bits count.
    """
    if _is_int(obj):
        return (_int(what, obj, lo, hi, message),)
    text = _text(what, CRC, obj)
    hex_only = text[:2] in (b"0x", b"0X")
    digits = text[2:] if hex_only else text
    if not digits or not _all_hex(digits):
        raise ValueError("%s: %s" % (what, NOT_A_NUMBER))
    readings = []
    if not hex_only and all(48 <= c <= 57 for c in digits):
        readings.append(_fold(digits, 10))
    readings.append(_fold(digits, 16))
    readings = tuple(v for v in readings if v is not None)
    if not readings:
        raise ValueError("%s: %s" % (what, message))
    return readings


def _name(row, obj, choices):
    """`obj` checked by a NAME row: a str among `choices`."""
    if not isinstance(obj, str):
        _refuse_type(row, obj)
    if obj not in choices:
        raise ValueError("%s: %s" % (row[0], row[4]))
    return obj


def _variants(row):
    """The CRC variant names a NAME row allows: those of its codes lo..hi."""
    return _BY_CODE[row[2] : row[3] + 1]


_CRC32_VARIANTS = _variants(_CRC32)


def _arg(row, v):
    """A constructor argument `v` of its `row` of qsota.rules' VERIFIER, checked and
    converted; None is not given."""
    name, kind, lo, hi, message, _ = row
    if v is None:
        return None
    if kind == HEX:
        return _hex_digest(name, v, lo, message)
    if kind == CRC:
        return _crc_readings(name, v, lo, hi, message)
    if kind == NAME:  # crc_variant
        return _name(row, v, _variants(row))
    if kind == KEYS:
        from .image import SignedImage

        return SignedImage(v)
    return _take(row, v)  # size


def _shown(obj):
    """An expected value as the caller gave it: text as is, an int as 0x%08x."""
    if _is_int(obj):
        return "0x%08x" % obj
    return obj if isinstance(obj, str) else obj.decode()


def _hex(digest):
    return "".join("%02x" % b for b in digest)


def _encode_state(crcs, size, chains, at, crc_halves, block):
    """A state record (src/midstate.rs): the CRC variants' code, the size, the chaining
    values of MD5 and SHA-256 at chains[at:at + 48] (each in digest order), the CRC values as
    (MPEG-2 low, high, ISO-HDLC low, high) halves, and `block`, whose first size % 64
    bytes are the partial block. Fields a policy does not compute, and padding, are 0."""
    mlo, mhi, ilo, ihi = crc_halves
    if crcs == 2:
        mlo = mhi = 0
    if crcs == 1:
        ilo = ihi = 0
    tail = bytes(block[: size % 64])
    out = struct.pack(
        _STATE, _STATE_MAGIC, _STATE_VERSION, crcs, 0, size, bytes(chains[at : at + 16]),
        bytes(chains[at + 16 : at + 48]), mlo, mhi, ilo, ihi, tail,
    )
    return out + struct.pack("<HH", *_check_value(out))


def _check_value(data):
    """CRC-32/ISO-HDLC of `data` as (low, high) halves: a state record's check value."""
    s = crc32.start()
    crc32.run(crc32.table(crc32.ISO_HDLC), s, data)
    return crc32.halves(crc32.ISO_HDLC, s)


class Verifier:
    """Hashes an image as it streams past and checks it against the expected values."""

    def __init__(self, *args, **kw):
        """Verifier(md5=None, sha256=None, crc=None, size=None, crc_variant='auto', *,
        keys=None): the arguments of qsota.rules' VERIFIER, checked in its order."""
        given = []  # as the caller gave them, for check()'s messages

        def take(row, v):
            given.append(v)
            return _arg(row, v)

        values = parse(VERIFIER, args, kw, take)
        self._want_md5, self._want_sha256, self._want_crc, _, policy, self._image = values[:6]
        self._resumable = bool(values[6])
        if self._resumable and self._image is not None:
            raise ValueError("%s: %s" % (_RESUMABLE[0], _RESUMABLE[4]))
        self._policy = _AUTO if policy is None else policy
        self._given = tuple(given[:4])  # md5, sha256, crc, size
        if self._resumable:
            # hashlib's state cannot be read out: hash in Python, whose state can.
            from .md5 import md5
            from .sha256 import sha256

            self._md5 = md5()
            self._sha256 = sha256()
        else:
            self._md5 = _new_md5()
            self._sha256 = hashlib.sha256()
        self._digests = None  # (md5, sha256) once final
        # The CRC states (qsota.pure.crc32) of the variants the policy allows, as the core.
        self._mpeg2 = crc32.start() if self._policy != _ISO_HDLC else None
        self._iso = crc32.start() if self._policy != _MPEG2 else None
        self._kept = None  # the file that holds the bytes, while ISO-HDLC waits for it
        self._size = 0
        self._matched = None

    @property
    def size(self):
        """Bytes seen so far."""
        return self._size

    @property
    def image(self):
        """With keys=: the signed image's header fields (load_addr, hdr_size, img_size,
        flags, version, key: the index of the key that signed) once check() passed; else None."""
        return None if self._image is None else self._image.info()

    @property
    def crc_matched(self):
        """The variant the expected CRC matched in the last check(), or None."""
        return self._matched

    def update(self, buf):
        """Feeds the next piece of the image: bytes, bytearray or a memoryview of them
        (without allocating), or another buffer (its bytes copied: args.readable)."""
        buf = readable(buf, _UPDATE)
        if self._digests is not None:
            raise ValueError(_FINAL)
        self._md5.update(buf)
        self._sha256.update(buf)
        if self._image is not None:
            self._image.update(buf)
        if self._mpeg2 is not None:
            crc32.run(crc32.table(crc32.MPEG2), self._mpeg2, buf)
        if self._iso is not None and self._kept is None:
            crc32.run(crc32.table(crc32.ISO_HDLC), self._iso, buf)
        self._size += len(buf)

    def _kept_in(self, path):
        """Every byte fed to this verifier (before this call: none) is also in the file
        `path`: with 'auto', ISO-HDLC waits for it (see the module's doc). For
        qsota.verify.kept_in."""
        if self._policy == _AUTO and self._size == 0:
            self._kept = path

    def _final(self):
        if self._digests is None:
            self._digests = (self._md5.digest(), self._sha256.digest())
        return self._digests

    def md5(self):
        """The MD5 of everything seen (bytes); makes the verifier final."""
        return self._final()[0]

    def sha256(self):
        """The SHA-256 of everything seen (bytes); makes the verifier final."""
        return self._final()[1]

    def hexdigest(self, name):
        """The 'md5' or 'sha256' digest as lowercase hex; makes the verifier final."""
        if _name(HEXDIGEST[0], name, _DIGESTS) == "md5":
            return _hex(self.md5())
        return _hex(self.sha256())

    def crc32(self, variant=None):
        """The CRC-32 ('mpeg2' or 'iso-hdlc') of everything seen; by default the pinned
        variant, or MPEG-2 (the one Quectel documents) when both are computed. Makes the
        verifier final."""
        if variant is None:
            variant = _MPEG2 if self._policy == _AUTO else self._policy
        _name(_CRC32, variant, _CRC32_VARIANTS)
        if self._policy not in (_AUTO, variant):
            raise ValueError(
                "variant: '%s' is not computed with crc_variant='%s'" % (variant, self._policy)
            )
        self._final()
        return self._crc(variant)

    def _crc(self, variant):
        if variant == _MPEG2:
            return crc32.value(crc32.MPEG2, self._mpeg2)
        if self._kept is not None:
            self._reread()
        return crc32.value(crc32.ISO_HDLC, self._iso)

    def _reread(self):
        """Runs ISO-HDLC over the first `size` bytes of the kept file (once)."""
        path, self._kept = self._kept, None
        state = self._iso
        t = crc32.table(crc32.ISO_HDLC)
        buf = bytearray(1024)
        view = memoryview(buf)
        left = self._size
        with open(path, "rb") as f:
            while left:
                n = f.readinto(buf if left >= len(buf) else view[:left])
                if not n:
                    raise VerifyError("crc: %s holds %d bytes fewer than were verified" % (path, left))
                crc32.run(t, state, buf if n == len(buf) else view[:n])
                left -= n

    def _crc_halves(self):
        """The CRCs so far as (MPEG-2 low, high, ISO-HDLC low, high) 16-bit halves (0 for a
        variant not computed)."""
        if self._kept is not None:
            self._reread()
        m = crc32.halves(crc32.MPEG2, self._mpeg2) if self._mpeg2 is not None else (0, 0)
        i = crc32.halves(crc32.ISO_HDLC, self._iso) if self._iso is not None else (0, 0)
        return m + i

    def _set_crc_halves(self, mlo, mhi, ilo, ihi):
        """Continues the CRCs the policy computes from these values (as _crc_halves)."""
        if self._mpeg2 is not None:
            self._mpeg2 = crc32.resume(crc32.MPEG2, mlo, mhi)
        if self._iso is not None:
            self._iso = crc32.resume(crc32.ISO_HDLC, ilo, ihi)

    def export(self):
        """The state after the bytes fed so far (140 bytes, docs/api.md "Verifier state"):
        a new Verifier with the same expectations continues from it (`restore`). Needs
        resumable=True; refused once final."""
        if not self._resumable:
            raise ValueError("export: " + NOT_RESUMABLE)
        if self._digests is not None:
            raise ValueError("export: " + STATE_FINAL)
        md5, block, _, size = self._md5._state()
        sha256 = self._sha256._state()[0]
        code = _BY_CODE.index(self._policy)
        return _encode_state(code, size, md5 + sha256, 0, self._crc_halves(), block)

    def restore(self, state):
        """Continues from what `export` wrote (bytes-like), before the first byte. Needs
        resumable=True; ValueError naming `state` for a damaged record, one of a later
        version or one made with another crc_variant; nothing changes then."""
        state = readable(state, _RESTORE)
        if not self._resumable:
            raise ValueError("restore: " + NOT_RESUMABLE)
        name, _, lo, hi, message, _ = _RESTORE
        if not lo <= len(state) <= hi:
            raise ValueError("%s: %s, got %d" % (name, message, len(state)))
        if self._size or self._digests is not None:
            raise ValueError("restore: " + NOT_FRESH)
        f = struct.unpack_from(_STATE, state)
        check = struct.unpack_from("<HH", state, _STATE_CHECKED)
        if f[0] != _STATE_MAGIC or _check_value(memoryview(state)[:_STATE_CHECKED]) != check:
            raise ValueError("%s: %s" % (name, STATE_DAMAGED))
        if f[1] != _STATE_VERSION:
            raise ValueError("%s: %s" % (name, STATE_VERSION))
        code, size = f[2], f[4]
        if code > 2 or size > _STATE_MAX_SIZE:
            raise ValueError("%s: %s" % (name, STATE_DAMAGED))
        halves = f[7:11]
        if _encode_state(code, size, state, 16, halves, f[11]) != bytes(state):
            raise ValueError("%s: %s" % (name, STATE_DAMAGED))
        if _BY_CODE[code] != self._policy:
            raise ValueError("%s: %s" % (name, STATE_VARIANT))
        tail = f[11][: size % 64]
        self._md5._restore(state, 16, tail, size)
        self._sha256._restore(state, 32, tail, size)
        self._set_crc_halves(*halves)
        self._size = size

    def check(self):
        """True when every expectation holds, else VerifyError; makes the verifier final."""
        md5, sha256, crc, size = self._given
        problems = []
        if self._want_md5 is not None and self._want_md5 != self.md5():
            problems.append("md5: expected %s, got %s" % (_shown(md5), _hex(self.md5())))
        if self._want_sha256 is not None and self._want_sha256 != self.sha256():
            problems.append("sha256: expected %s, got %s" % (_shown(sha256), _hex(self.sha256())))
        self._matched = None
        if self._want_crc is not None:
            allowed = _VARIANTS if self._policy == _AUTO else (self._policy,)
            for variant in allowed:
                if self._crc(variant) in self._want_crc:
                    self._matched = variant
                    break
            else:
                got = " ".join("%s=0x%08x" % (v, self._crc(v)) for v in allowed)
                problems.append("crc: expected %s, got %s" % (_shown(crc), got))
        if size is not None and size != self._size:
            problems.append("size: expected %d, got %d" % (size, self._size))
        refused = self._image.check() if self._image is not None else None
        if refused:
            problems.append(refused)
        self._final()
        if problems:
            raise VerifyError("; ".join(problems))
        return True
