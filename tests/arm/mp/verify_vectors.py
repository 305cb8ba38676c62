# Verification on the emulated ARM: known vectors, split and misaligned feeds, check() with
# every form of expected value, on _qsota (the Rust core built for ARMv7-A) and qsota.pure,
# which must agree. Run by tests/arm/run.py; the last line is `OK <checks>`.
import qsota
import qsota.pure
from check import eq, ok, raises


def hexlify(b):
    return "".join("%02x" % x for x in b)


# (data, md5, sha256, crc32/mpeg2, crc32/iso-hdlc)
VECTORS = (
    (b"", "d41d8cd98f00b204e9800998ecf8427e",
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 0xFFFFFFFF, 0),
    (b"abc", "900150983cd24fb0d6963f7d28e17f72",
     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", 0x9B73448C, 0x352441C2),
    (b"123456789", "25f9e794323b453885f5181f1b624d0b",
     "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225", 0x0376E6E7, 0xCBF43926),
)

eq(qsota.NATIVE, True, "qsota.NATIVE: _qsota is in this firmware")
BACKENDS = (("native", qsota), ("pure", qsota.pure))

for name, m in BACKENDS:
    for data, md5, sha, mpeg2, iso in VECTORS:
        v = m.Verifier()
        v.update(data)
        eq(v.size, len(data), name + " size")
        eq(v.crc32(), mpeg2, name + " crc32 mpeg2 %r" % data)
        eq(v.crc32("iso-hdlc"), iso, name + " crc32 iso-hdlc %r" % data)
        eq(hexlify(v.md5()), md5, name + " md5 %r" % data)
        eq(hexlify(v.sha256()), sha, name + " sha256 %r" % data)
        v = m.Verifier(md5=md5.upper(), sha256=sha, crc=mpeg2, size=len(data))
        v.update(data)
        eq(v.check(), True, name + " check %r" % data)
        eq(v.hexdigest("md5"), md5, name + " hexdigest md5")
        # Every printed form of the CRC: int, decimal text, hex text with and without 0x.
        for crc in (iso, str(iso), "%x" % iso, "0x%08X" % iso):
            v = m.Verifier(crc=crc)
            v.update(data)
            eq(v.check(), True, name + " crc as %r" % (crc,))

# A pseudo-random image, fed in uneven pieces through misaligned memoryview slices (the core
# is built with strict alignment; qemu's Cortex-A9 faults on unaligned access here).
image = bytearray(6007)
x = 1
for i in range(len(image)):
    x = (x * 1103515245 + 12345) & 0x7FFFFFFF
    image[i] = x >> 16 & 0xFF
results = []
for name, m in BACKENDS:
    whole = m.Verifier()
    whole.update(image)
    pieces = m.Verifier()
    mv = memoryview(image)
    pos, step = 0, 1
    while pos < len(image):
        pieces.update(mv[pos:pos + step])
        pos += step
        step = step * 3 % 1021 + 1
    for v in (whole, pieces):
        eq(v.size, len(image), name + " size")
    eq(pieces.crc32(), whole.crc32(), name + " split crc32")
    eq(pieces.crc32("iso-hdlc"), whole.crc32("iso-hdlc"), name + " split crc32 iso")
    eq(pieces.md5(), whole.md5(), name + " split md5")
    eq(pieces.sha256(), whole.sha256(), name + " split sha256")
    results.append((whole.crc32(), whole.crc32("iso-hdlc"), whole.md5(), whole.sha256()))
eq(results[0], results[1], "native and pure agree on the image")

# One MiB through the native core in 4 KiB blocks, against FIPS 180-2's million 'a'.
v = qsota.Verifier(sha256="cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
                   size=1000000)
block = b"a" * 4000
for _ in range(250):
    v.update(block)
eq(v.check(), True, "native million 'a'")

# A mismatch names the field, and check() leaves the verifier final.
for name, m in BACKENDS:
    v = m.Verifier(md5="00" * 16, crc=1, size=3)
    v.update(b"abc")
    msg = raises(m.VerifyError, v.check, name + " mismatch")
    eq("md5" in msg and "crc" in msg, True, name + " mismatch names md5 and crc: " + msg)
    eq("size" in msg, False, name + " size matched: " + msg)
    eq(isinstance(m.VerifyError("x"), ValueError), True, name + " VerifyError is a ValueError")
    raises(ValueError, lambda: v.update(b"x"), name + " update after check")

ok()
