# ARM benchmark: verification, instructions per image byte (bench/arm_bench.py runs it).
# A 16 KiB image in 4 KiB updates (the agent's chunk), each Verifier mode on both backends;
# the pure one as on a stock module (qsota.pure.md5, no binascii.crc32) and with a C md5 in
# its place (_qsota's MD5, which also hashes SHA-256 and a CRC: an upper bound of a C md5's
# cost; this firmware's hashlib has none); the pure MD5 and each pure CRC alone.
import hashlib

import _qsota
import insn
import qsota.pure
import qsota.pure.md5
import qsota.pure.verify as pv
import qsota.verify

SIZE = 16384
CHUNK = 4096
view = memoryview(insn.image(SIZE))
chunks = [view[at : at + CHUNK] for at in range(0, SIZE, CHUNK)]
_v = _qsota.Verifier(crc_variant="mpeg2")
_v.update(view)
CRC = _v.crc32()


class CMd5:
    """hashlib.md5's shape over _qsota's Rust MD5."""

    def __init__(self):
        self.v = _qsota.Verifier(crc_variant="mpeg2")

    def update(self, data):
        self.v.update(data)

    def digest(self):
        return self.v.md5()


class NoHash:
    def update(self, data):
        pass

    def digest(self):
        return b""


def stock(md5=qsota.pure.md5.md5):
    """The pure Verifier as on a stock module (or with `md5` as the port's)."""
    pv._new_md5 = md5
    if hasattr(pv, "_crc32"):
        pv._crc32 = None  # binascii.crc32: this firmware has it, a stock module has not


def one_update(cls, variant):
    v = cls(crc_variant=variant)
    for c in chunks:
        v.update(c)
    v.check()


def kept_update(cls, crc):
    """'auto' as the agent's download and verify_file run it: the bytes are also in a file,
    and the expected CRC is MPEG-2's (so ISO-HDLC is never computed)."""
    v = qsota.verify.kept_in(cls(crc=crc), "/kept.bin")
    for c in chunks:
        v.update(c)
    v.check()


def per_byte(fn, *args):
    fn(*args)  # anything made on first use (the CRC tables) is made
    return insn.count(fn, *args) / SIZE


def updates(v, n):
    for i in range(n):
        v.update(chunks[i])


def heap_per_update(cls, variant):
    """(heap bytes left, bytes allocated) per update."""
    v = cls(crc_variant=variant)
    v.update(chunks[3])  # what is made on first use is made
    kept, allocated = insn.alloc(updates, v, 3)
    return kept / 3, allocated / 3


for backend, cls in (("native", _qsota.Verifier), ("pure", qsota.pure.Verifier)):
    for md5_name, md5 in (("pure", qsota.pure.md5.md5), ("c", CMd5)):
        if backend == "native" and md5_name == "c":
            continue
        stock(md5)
        for variant in ("auto", "mpeg2", "iso-hdlc"):
            kept, allocated = heap_per_update(cls, variant)
            insn.report("verify", {
                "backend": backend, "md5": md5_name if backend == "pure" else "c",
                "variant": variant, "insn_per_byte": per_byte(one_update, cls, variant),
                "heap_per_update": kept, "alloc_per_update": allocated,
                "update_bytes": CHUNK})
        if hasattr(qsota.verify, "kept_in"):
            insn.report("verify", {
                "backend": backend, "md5": md5_name if backend == "pure" else "c",
                "variant": "auto kept", "insn_per_byte": per_byte(kept_update, cls, CRC),
                "update_bytes": CHUNK})
stock()


def hash_alone(new):
    h = new()
    for c in chunks:
        h.update(c)
    h.digest()


insn.report("parts", {"part": "pure md5", "insn_per_byte": per_byte(hash_alone, qsota.pure.md5.md5)})
insn.report("parts", {"part": "C sha256 (hashlib)", "insn_per_byte": per_byte(hash_alone, hashlib.sha256)})
# A CRC alone: the pure Verifier pinned to it, with both digests stubbed out.
pv._new_md5 = NoHash
pv.hashlib = type("stub", (), {"sha256": NoHash})
for variant in ("mpeg2", "iso-hdlc"):
    insn.report("parts", {"part": "pure crc32 " + variant,
                         "insn_per_byte": per_byte(one_update, qsota.pure.Verifier, variant)})
