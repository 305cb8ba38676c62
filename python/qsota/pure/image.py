"""qsota.pure.image: the signed MCUboot image check of `Verifier(keys=...)` in Python.

The same parser as the Rust core (src/image.rs: read its module doc for the format and the
rules), the same verdicts and the same messages as the C module (cmodule/image.c). The image
hash comes from a second hashlib SHA-256 over header, body and protected TLVs (MicroPython's
hashlib cannot copy a state); the Ed25519 check from qsota.pure.ed25519, whose self-test
runs when the first SignedImage is made: an interpreter that fails it is refused there, as
the cause, rather than every image later as "does not verify".
"""

try:
    import hashlib
except ImportError:
    import uhashlib as hashlib

import sys

from ..rules import BUF, KEY_BYTES, KEYS, TLV_HASH, VERIFIER
from .args import _refuse_type, _type_error, parse

_KEYS_ROW = [r for r in VERIFIER if r[1] == KEYS][0]
_MAGIC = 0x96F3B83D
_INFO_MAGIC = 0x6907
_PROT_INFO_MAGIC = 0x6908
_KEYHASH = 0x01
_SHA256 = 0x10
_ED25519 = 0x24
_WANT_LEN = {_KEYHASH: 32, _SHA256: 32, _ED25519: 64}
_UNSUPPORTED = (0x11, 0x12, 0x25)  # SHA-384, SHA-512 (imgtool --sha), pure Ed25519 (--pure)
_SPKI_PREFIX = b"\x30\x2a\x30\x05\x06\x03\x2b\x65\x70\x03\x21\x00"
_BROKEN = (
    "keys: the Ed25519 self-test failed: this interpreter's long-int arithmetic is wrong "
    "(MicroPython %d.%d.%d), so qsota.pure cannot check signatures on it"
)

# Parser states (src/image.rs `Tlv`).
_HEADER = 0
_BODY = 1
_INFO = 2
_ENTRY = 3
_VALUE = 4
_DONE = 5

# The messages of the refusals, by the C ABI's QSOTA_IMAGE_E_* number, with values a and b.
_PROBLEMS = (
    None,
    "image: bad magic 0x%08x (not an MCUboot image)",
    "image: ih_hdr_size %d is below 32",
    "image: encrypted (ih_flags 0x%08x), cannot be checked",
    "image: truncated header (%d bytes)",
    "image: truncated body (%d of %d bytes)",
    "tlv: truncated TLV area (%d bytes after the body)",
    "tlv: bad magic 0x%04x at offset %d",
    "tlv: protected area of %d bytes, ih_protect_tlv_size says %d",
    "tlv: the TLV at offset %d runs past its area",
    "tlv: type 0x%02x has length %d",
    "image: %d bytes after the TLV area",
    "hash: no SHA-256 TLV (0x10)",
    "hash: the SHA-256 TLV does not match the image",
    "signature: the image is not signed (no key hash TLV 0x01)",
    "key: signed with a key not in keys (key hash %08x...)",
    "signature: no Ed25519 signature TLV (0x24)",
    "signature: the Ed25519 signature does not verify with keys[%d]",
    "tlv: type 0x%02x is not supported (sign with --sha 256, without --pure)",
)
(
    _E_MAGIC,
    _E_HEADER_SIZE,
    _E_ENCRYPTED,
    _E_TRUNCATED_HEADER,
    _E_TRUNCATED_BODY,
    _E_TRUNCATED_TLVS,
    _E_TLV_MAGIC,
    _E_PROTECTED_SIZE,
    _E_TLV_OVERRUN,
    _E_TLV_LENGTH,
    _E_TRAILING,
    _E_HASH_MISSING,
    _E_HASH_MISMATCH,
    _E_KEY_MISSING,
    _E_KEY_UNKNOWN,
    _E_SIGNATURE_MISSING,
    _E_SIGNATURE_BAD,
    _E_UNSUPPORTED,
) = range(1, 19)


def _le(b, at, n):
    return int.from_bytes(bytes(b[at : at + n]), "little")


def _keys(keys):
    """The list of keys (bytes) from the `keys` argument, checked by qsota.rules' row, as the
    C module does."""
    name, _, lo, hi, message, _ = _KEYS_ROW
    if not isinstance(keys, (list, tuple)):
        _refuse_type(_KEYS_ROW, keys)
    if not lo <= len(keys) <= hi:
        raise ValueError("%s: %s, got %d" % (name, message, len(keys)))
    for key in keys:
        if not isinstance(key, (bytes, bytearray)):
            _type_error(name, BUF, key)
        if len(key) != 32:
            raise ValueError("%s: %s, got %d bytes" % (name, KEY_BYTES, len(key)))
    return [bytes(k) for k in keys]


def key_hash(key):
    """imgtool's key hash: the SHA-256 of the key's DER SubjectPublicKeyInfo."""
    return hashlib.sha256(_SPKI_PREFIX + key).digest()


class SignedImage:
    """Checks one MCUboot image as it streams past (src/image.rs `SignedImage`)."""

    def __init__(self, keys):
        # keys None: a reader for what the image says, without keys (tlv_hash).
        self.keys = [] if keys is None else _keys(keys)
        if keys is not None:
            from . import ed25519  # here: a reader without keys (tlv_hash) needs none of it

            if not ed25519.self_test():
                raise RuntimeError(_BROKEN % tuple(sys.implementation.version[:3]))
        self.hashes = [key_hash(k) for k in self.keys]
        self.pos = 0
        self.state = _HEADER
        self.raw = bytearray(32)
        self.header = None  # (load_addr, hdr_size, protect_tlv_size, img_size, flags, version)
        self.body_end = self.hashed_end = self.area_end = 0
        self.protected = False  # whether the area being read is the protected one
        self.part = bytearray(4)
        self.part_len = 0
        self.value = bytearray(64)
        self.kind = self.len = self.left = 0
        self.prefix = hashlib.sha256()
        self.body = hashlib.sha256()  # the body alone (what a raw-application bootloader checks)
        self.body_sha256 = None
        self.image_hash = self.tlv_hash = None
        self.named_key = None
        self.key_hash_seen = None
        self.key_known = False
        self.signature = None
        self.problem = None
        self.verdict = None  # the message of the first check(), "" for a signed image
        self.key = None

    def _fail(self, code, a=0, b=0):
        if self.problem is None:
            self.problem = (code, a, b)

    def update(self, buf):
        start = self.pos
        self._parse(buf)
        if self.header is not None and self.image_hash is None:
            n = self.hashed_end - start
            if n >= len(buf):
                self.prefix.update(buf)
            else:
                self.prefix.update(memoryview(buf)[:n])
            if start + min(n, len(buf)) == self.hashed_end:
                self.image_hash = self.prefix.digest()
        elif self.header is None:
            self.prefix.update(buf)
        if self.header is not None and self.body_sha256 is None:
            self._hash_body(start, buf)

    def _hash_body(self, start, buf):
        """Feeds the body's part of `buf` (which starts at file offset `start`) to its hash."""
        end = start + len(buf)
        lo, hi = max(start, self.header[1]), min(end, self.body_end)
        if lo == start and hi == end:
            self.body.update(buf)
        elif lo < hi:
            self.body.update(memoryview(buf)[lo - start : hi - start])
        if end >= self.body_end:
            self.body_sha256 = self.body.digest()

    def _parse(self, buf):
        i, n = 0, len(buf)
        while i < n and self.problem is None:
            state = self.state
            if state == _BODY:
                k = min(n - i, self.body_end - self.pos)
                i += k
                self._count_body(k)
                continue
            if state == _DONE:
                break  # trailing bytes: counted below, refused by check
            byte = buf[i]
            i += 1
            self.pos += 1
            if state == _HEADER:
                self.raw[self.pos - 1] = byte
                if self.pos == 32:
                    self._parse_header()
            else:
                self._tlv_byte(byte)
        self.pos += n - i

    def _count_body(self, k):
        """`k` more bytes of header padding and body seen (they are only counted)."""
        self.pos += k
        if self.pos == self.body_end:
            self.state = _INFO
            self.protected = self.header[2] != 0

    def _parse_header(self):
        r = self.raw
        magic = _le(r, 0, 4)
        if magic != _MAGIC:
            return self._fail(_E_MAGIC, magic)
        hdr_size = _le(r, 8, 2)
        prot = _le(r, 10, 2)
        img_size = _le(r, 12, 4)
        flags = _le(r, 16, 4)
        version = "%d.%d.%d+%d" % (r[20], r[21], _le(r, 22, 2), _le(r, 24, 4))
        if hdr_size < 32:
            return self._fail(_E_HEADER_SIZE, hdr_size)
        if flags & 0x0C:
            return self._fail(_E_ENCRYPTED, flags)
        self.header = (_le(r, 4, 4), hdr_size, prot, img_size, flags, version)
        self.body_end = hdr_size + img_size
        self.hashed_end = self.body_end + prot
        self.state = _BODY
        if self.pos == self.body_end:  # hdr_size 32, empty body
            self.state = _INFO
            self.protected = prot != 0

    def _take_part(self, byte):
        self.part[self.part_len] = byte
        self.part_len += 1
        if self.part_len < 4:
            return False
        self.part_len = 0
        return True

    def _tlv_byte(self, byte):
        state = self.state
        if state == _INFO:
            if not self._take_part(byte):
                return
            at = self.pos - 4
            magic, total = _le(self.part, 0, 2), _le(self.part, 2, 2)
            protected = self.protected
            if magic != (_PROT_INFO_MAGIC if protected else _INFO_MAGIC):
                return self._fail(_E_TLV_MAGIC, magic, at)
            if protected and total != self.header[2]:
                return self._fail(_E_PROTECTED_SIZE, total, self.header[2])
            if total < 4:
                return self._fail(_E_TLV_OVERRUN, at)
            self.area_end = at + total
            self._end_of_entry()
        elif state == _ENTRY:
            if not self._take_part(byte):
                return
            at = self.pos - 4
            kind, length = _le(self.part, 0, 2), _le(self.part, 2, 2)
            if at + 4 + length > self.area_end:
                return self._fail(_E_TLV_OVERRUN, at)
            protected = self.area_end <= self.hashed_end
            if not protected and kind in _UNSUPPORTED:
                return self._fail(_E_UNSUPPORTED, kind)
            if not protected and length != _WANT_LEN.get(kind, length):
                return self._fail(_E_TLV_LENGTH, kind, length)
            self.kind = 0 if protected else kind
            self.len = self.left = length
            self.state = _VALUE
            if length == 0:
                self._end_of_entry()
        elif state == _VALUE:
            if self.kind in _WANT_LEN:
                self.value[self.len - self.left] = byte
            self.left -= 1
            if self.left == 0:
                self._use_value()
                self._end_of_entry()

    def _end_of_entry(self):
        if self.pos < self.area_end:
            self.state = _ENTRY
        elif self.area_end == self.hashed_end and self.header[2] != 0:
            self.state = _INFO
            self.protected = False
        else:
            self.state = _DONE

    def _use_value(self):
        kind = self.kind
        v = bytes(self.value)
        if kind == _SHA256:
            self.tlv_hash = v[:32]
        elif kind == _KEYHASH:
            self.key_hash_seen = int.from_bytes(v[:4], "big")
            self.named_key = None
            for i, h in enumerate(self.hashes):
                if h == v[:32]:
                    self.named_key = i
                    self.key_known = True
                    break
        elif kind == _ED25519:
            if self.named_key is not None and self.signature is None:
                self.signature = (self.named_key, v)
            self.named_key = None

    def check(self):
        """None when the image is signed by one of the keys, else the refusal's message.
        The first call decides; later calls give its answer."""
        if self.verdict is None:
            code, a, b = self._decide()
            text = _PROBLEMS[code] or ""
            self.verdict = text % (a, b)[: text.count("%")]
        return self.verdict or None

    def _decide(self):
        if self.problem is not None:
            return self.problem
        if self.header is None:
            return (_E_TRUNCATED_HEADER, self.pos, 0)
        if self.pos < self.body_end:
            return (_E_TRUNCATED_BODY, max(0, self.pos - self.header[1]), self.header[3])
        if self.state != _DONE:
            return (_E_TRUNCATED_TLVS, self.pos - self.body_end, 0)
        if self.pos > self.area_end:
            return (_E_TRAILING, self.pos - self.area_end, 0)
        if self.tlv_hash is None or self.image_hash is None:
            return (_E_HASH_MISSING, 0, 0)
        if self.tlv_hash != self.image_hash:
            return (_E_HASH_MISMATCH, 0, 0)
        if self.signature is None:
            if self.key_hash_seen is None:
                return (_E_KEY_MISSING, 0, 0)
            if not self.key_known:
                return (_E_KEY_UNKNOWN, self.key_hash_seen, 0)
            return (_E_SIGNATURE_MISSING, 0, 0)
        key, signature = self.signature
        from . import ed25519

        if not ed25519.verify(self.keys[key], self.image_hash, signature):
            return (_E_SIGNATURE_BAD, key, 0)
        self.key = key
        return (0, 0, 0)

    def info(self):
        """The `image` attribute: the header's fields once the image was checked and signed."""
        if self.verdict != "":
            return None
        load_addr, hdr_size, _, img_size, flags, version = self.header
        return {
            "load_addr": load_addr,
            "hdr_size": hdr_size,
            "img_size": img_size,
            "flags": flags,
            "key": self.key,
            "version": version,
            "body_sha256": self.body_sha256,
        }



def tlv_hash(head, tail, tail_at):
    """src/image.rs `tlv_hash`: the SHA-256 TLV of an MCUboot image (bytes), or None unless
    the header and the TLV areas parse up to it. `head` is the image's start (its 32-byte
    header at least, or all of it); where it stops before the TLV areas, `tail` is the file
    from offset `tail_at` on (at or before the body's end), the body between skipped."""
    head, tail, tail_at = parse(TLV_HASH, (head, tail, tail_at), {})
    reader = SignedImage(None)
    reader._parse(head)
    if reader.header is None:
        return None
    if reader.tlv_hash is None and reader.state != _DONE:
        # The tail may start in the body (whose bytes are only counted), not past what the
        # parser has seen of the TLV areas; bytes the head covered already are dropped.
        reach = reader.body_end if reader.state == _BODY else reader.pos
        if tail_at > reach:
            return None
        seen = max(0, reader.pos - tail_at)
        if seen > len(tail):
            return None
        if reader.pos < tail_at:
            reader._count_body(tail_at - reader.pos)
        reader._parse(memoryview(tail)[seen:])
    return reader.tlv_hash
