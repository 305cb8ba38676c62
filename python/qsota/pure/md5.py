"""MD5 (RFC 1321) in Python, for ports whose hashlib has none (most QuecPython modules).

Same interface as hashlib's: update(data), digest() (which makes it final).

Written for a 32-bit port, where small ints have 31 bits and anything larger is a long int
allocated on the heap: each 32-bit word is kept as two 16-bit halves (`xl`, `xh`), so that no
value ever reaches 2**30 and a block allocates nothing. A sum of 16-bit halves carries into
the high half by `(lo >> 16)`; the high halves of the registers are left unmasked (every use
masks or shifts out what lies above bit 15, and they grow by less than 2**17 per step), which
saves an operation per step. A rotation by s < 16 takes each half's high s bits from the
other half; by s > 16 it swaps the halves first. The 64 steps are written out: a loop would
look each step's constants up, which costs more than the step itself on an interpreter
(about 2,700 instructions per byte on a Cortex-A9, bench/arm_bench.py).
"""

try:
    import struct
except ImportError:
    import ustruct as struct

from .blockhash import BlockHash


class md5(BlockHash):
    def __init__(self, data=b""):
        self._h = [0x2301, 0x6745, 0xAB89, 0xEFCD, 0xDCFE, 0x98BA, 0x5476, 0x1032]
        self._start(data)

    def _compress(self, d, i):
        _compress(self._h, d, i)

    def digest(self):
        self._pad()
        return struct.pack("<8H", *self._h)

    def _state(self):
        """(the chaining value as 16 bytes, little-endian words as in a digest; the block
        buffer, whose first `fill` bytes are not compressed yet; fill; bytes fed): what a
        Verifier state records."""
        return struct.pack("<8H", *self._h), self._block, self._fill, self._length

    def _restore(self, chain, at, tail, length):
        """Continues from a state: the chaining value at chain[at:at + 16], `tail` (the bytes
        past the last whole block, length % 64 of them), `length` bytes fed."""
        self._h = list(struct.unpack_from("<8H", chain, at))
        self._restore_tail(tail, length)


def _compress(h, d, i):
    """One 64-byte block, d[i:i + 64], into the state h (a list of eight 16-bit halves)."""
    al, ah, bl, bh, cl, ch, dl, dh = h
    w0l = d[i + 0] | d[i + 1] << 8
    w0h = d[i + 2] | d[i + 3] << 8
    w1l = d[i + 4] | d[i + 5] << 8
    w1h = d[i + 6] | d[i + 7] << 8
    w2l = d[i + 8] | d[i + 9] << 8
    w2h = d[i + 10] | d[i + 11] << 8
    w3l = d[i + 12] | d[i + 13] << 8
    w3h = d[i + 14] | d[i + 15] << 8
    w4l = d[i + 16] | d[i + 17] << 8
    w4h = d[i + 18] | d[i + 19] << 8
    w5l = d[i + 20] | d[i + 21] << 8
    w5h = d[i + 22] | d[i + 23] << 8
    w6l = d[i + 24] | d[i + 25] << 8
    w6h = d[i + 26] | d[i + 27] << 8
    w7l = d[i + 28] | d[i + 29] << 8
    w7h = d[i + 30] | d[i + 31] << 8
    w8l = d[i + 32] | d[i + 33] << 8
    w8h = d[i + 34] | d[i + 35] << 8
    w9l = d[i + 36] | d[i + 37] << 8
    w9h = d[i + 38] | d[i + 39] << 8
    w10l = d[i + 40] | d[i + 41] << 8
    w10h = d[i + 42] | d[i + 43] << 8
    w11l = d[i + 44] | d[i + 45] << 8
    w11h = d[i + 46] | d[i + 47] << 8
    w12l = d[i + 48] | d[i + 49] << 8
    w12h = d[i + 50] | d[i + 51] << 8
    w13l = d[i + 52] | d[i + 53] << 8
    w13h = d[i + 54] | d[i + 55] << 8
    w14l = d[i + 56] | d[i + 57] << 8
    w14h = d[i + 58] | d[i + 59] << 8
    w15l = d[i + 60] | d[i + 61] << 8
    w15h = d[i + 62] | d[i + 63] << 8
    # Round 1: F = d ^ (b & (c ^ d)), words in order.
    tl = al + (dl ^ (bl & (cl ^ dl))) + 0xA478 + w0l
    th = ah + (dh ^ (bh & (ch ^ dh))) + 0xD76A + w0h + (tl >> 16)
    al = bl + ((tl & 511) << 7 | (th >> 9) & 127)
    ah = bh + ((th & 511) << 7 | (tl >> 9) & 127) + (al >> 16)
    al &= 0xFFFF
    tl = dl + (cl ^ (al & (bl ^ cl))) + 0xB756 + w1l
    th = dh + (ch ^ (ah & (bh ^ ch))) + 0xE8C7 + w1h + (tl >> 16)
    dl = al + ((tl & 15) << 12 | (th >> 4) & 4095)
    dh = ah + ((th & 15) << 12 | (tl >> 4) & 4095) + (dl >> 16)
    dl &= 0xFFFF
    tl = cl + (bl ^ (dl & (al ^ bl))) + 0x70DB + w2l
    th = ch + (bh ^ (dh & (ah ^ bh))) + 0x2420 + w2h + (tl >> 16)
    cl = dl + ((th & 32767) << 1 | (tl >> 15) & 1)
    ch = dh + ((tl & 32767) << 1 | (th >> 15) & 1) + (cl >> 16)
    cl &= 0xFFFF
    tl = bl + (al ^ (cl & (dl ^ al))) + 0xCEEE + w3l
    th = bh + (ah ^ (ch & (dh ^ ah))) + 0xC1BD + w3h + (tl >> 16)
    bl = cl + ((th & 1023) << 6 | (tl >> 10) & 63)
    bh = ch + ((tl & 1023) << 6 | (th >> 10) & 63) + (bl >> 16)
    bl &= 0xFFFF
    tl = al + (dl ^ (bl & (cl ^ dl))) + 0x0FAF + w4l
    th = ah + (dh ^ (bh & (ch ^ dh))) + 0xF57C + w4h + (tl >> 16)
    al = bl + ((tl & 511) << 7 | (th >> 9) & 127)
    ah = bh + ((th & 511) << 7 | (tl >> 9) & 127) + (al >> 16)
    al &= 0xFFFF
    tl = dl + (cl ^ (al & (bl ^ cl))) + 0xC62A + w5l
    th = dh + (ch ^ (ah & (bh ^ ch))) + 0x4787 + w5h + (tl >> 16)
    dl = al + ((tl & 15) << 12 | (th >> 4) & 4095)
    dh = ah + ((th & 15) << 12 | (tl >> 4) & 4095) + (dl >> 16)
    dl &= 0xFFFF
    tl = cl + (bl ^ (dl & (al ^ bl))) + 0x4613 + w6l
    th = ch + (bh ^ (dh & (ah ^ bh))) + 0xA830 + w6h + (tl >> 16)
    cl = dl + ((th & 32767) << 1 | (tl >> 15) & 1)
    ch = dh + ((tl & 32767) << 1 | (th >> 15) & 1) + (cl >> 16)
    cl &= 0xFFFF
    tl = bl + (al ^ (cl & (dl ^ al))) + 0x9501 + w7l
    th = bh + (ah ^ (ch & (dh ^ ah))) + 0xFD46 + w7h + (tl >> 16)
    bl = cl + ((th & 1023) << 6 | (tl >> 10) & 63)
    bh = ch + ((tl & 1023) << 6 | (th >> 10) & 63) + (bl >> 16)
    bl &= 0xFFFF
    tl = al + (dl ^ (bl & (cl ^ dl))) + 0x98D8 + w8l
    th = ah + (dh ^ (bh & (ch ^ dh))) + 0x6980 + w8h + (tl >> 16)
    al = bl + ((tl & 511) << 7 | (th >> 9) & 127)
    ah = bh + ((th & 511) << 7 | (tl >> 9) & 127) + (al >> 16)
    al &= 0xFFFF
    tl = dl + (cl ^ (al & (bl ^ cl))) + 0xF7AF + w9l
    th = dh + (ch ^ (ah & (bh ^ ch))) + 0x8B44 + w9h + (tl >> 16)
    dl = al + ((tl & 15) << 12 | (th >> 4) & 4095)
    dh = ah + ((th & 15) << 12 | (tl >> 4) & 4095) + (dl >> 16)
    dl &= 0xFFFF
    tl = cl + (bl ^ (dl & (al ^ bl))) + 0x5BB1 + w10l
    th = ch + (bh ^ (dh & (ah ^ bh))) + 0xFFFF + w10h + (tl >> 16)
    cl = dl + ((th & 32767) << 1 | (tl >> 15) & 1)
    ch = dh + ((tl & 32767) << 1 | (th >> 15) & 1) + (cl >> 16)
    cl &= 0xFFFF
    tl = bl + (al ^ (cl & (dl ^ al))) + 0xD7BE + w11l
    th = bh + (ah ^ (ch & (dh ^ ah))) + 0x895C + w11h + (tl >> 16)
    bl = cl + ((th & 1023) << 6 | (tl >> 10) & 63)
    bh = ch + ((tl & 1023) << 6 | (th >> 10) & 63) + (bl >> 16)
    bl &= 0xFFFF
    tl = al + (dl ^ (bl & (cl ^ dl))) + 0x1122 + w12l
    th = ah + (dh ^ (bh & (ch ^ dh))) + 0x6B90 + w12h + (tl >> 16)
    al = bl + ((tl & 511) << 7 | (th >> 9) & 127)
    ah = bh + ((th & 511) << 7 | (tl >> 9) & 127) + (al >> 16)
    al &= 0xFFFF
    tl = dl + (cl ^ (al & (bl ^ cl))) + 0x7193 + w13l
    th = dh + (ch ^ (ah & (bh ^ ch))) + 0xFD98 + w13h + (tl >> 16)
    dl = al + ((tl & 15) << 12 | (th >> 4) & 4095)
    dh = ah + ((th & 15) << 12 | (tl >> 4) & 4095) + (dl >> 16)
    dl &= 0xFFFF
    tl = cl + (bl ^ (dl & (al ^ bl))) + 0x438E + w14l
    th = ch + (bh ^ (dh & (ah ^ bh))) + 0xA679 + w14h + (tl >> 16)
    cl = dl + ((th & 32767) << 1 | (tl >> 15) & 1)
    ch = dh + ((tl & 32767) << 1 | (th >> 15) & 1) + (cl >> 16)
    cl &= 0xFFFF
    tl = bl + (al ^ (cl & (dl ^ al))) + 0x0821 + w15l
    th = bh + (ah ^ (ch & (dh ^ ah))) + 0x49B4 + w15h + (tl >> 16)
    bl = cl + ((th & 1023) << 6 | (tl >> 10) & 63)
    bh = ch + ((tl & 1023) << 6 | (th >> 10) & 63) + (bl >> 16)
    bl &= 0xFFFF
    # Round 2: G = c ^ (d & (b ^ c)), word 5i + 1.
    tl = al + (cl ^ (dl & (bl ^ cl))) + 0x2562 + w1l
    th = ah + (ch ^ (dh & (bh ^ ch))) + 0xF61E + w1h + (tl >> 16)
    al = bl + ((tl & 2047) << 5 | (th >> 11) & 31)
    ah = bh + ((th & 2047) << 5 | (tl >> 11) & 31) + (al >> 16)
    al &= 0xFFFF
    tl = dl + (bl ^ (cl & (al ^ bl))) + 0xB340 + w6l
    th = dh + (bh ^ (ch & (ah ^ bh))) + 0xC040 + w6h + (tl >> 16)
    dl = al + ((tl & 127) << 9 | (th >> 7) & 511)
    dh = ah + ((th & 127) << 9 | (tl >> 7) & 511) + (dl >> 16)
    dl &= 0xFFFF
    tl = cl + (al ^ (bl & (dl ^ al))) + 0x5A51 + w11l
    th = ch + (ah ^ (bh & (dh ^ ah))) + 0x265E + w11h + (tl >> 16)
    cl = dl + ((tl & 3) << 14 | (th >> 2) & 16383)
    ch = dh + ((th & 3) << 14 | (tl >> 2) & 16383) + (cl >> 16)
    cl &= 0xFFFF
    tl = bl + (dl ^ (al & (cl ^ dl))) + 0xC7AA + w0l
    th = bh + (dh ^ (ah & (ch ^ dh))) + 0xE9B6 + w0h + (tl >> 16)
    bl = cl + ((th & 4095) << 4 | (tl >> 12) & 15)
    bh = ch + ((tl & 4095) << 4 | (th >> 12) & 15) + (bl >> 16)
    bl &= 0xFFFF
    tl = al + (cl ^ (dl & (bl ^ cl))) + 0x105D + w5l
    th = ah + (ch ^ (dh & (bh ^ ch))) + 0xD62F + w5h + (tl >> 16)
    al = bl + ((tl & 2047) << 5 | (th >> 11) & 31)
    ah = bh + ((th & 2047) << 5 | (tl >> 11) & 31) + (al >> 16)
    al &= 0xFFFF
    tl = dl + (bl ^ (cl & (al ^ bl))) + 0x1453 + w10l
    th = dh + (bh ^ (ch & (ah ^ bh))) + 0x0244 + w10h + (tl >> 16)
    dl = al + ((tl & 127) << 9 | (th >> 7) & 511)
    dh = ah + ((th & 127) << 9 | (tl >> 7) & 511) + (dl >> 16)
    dl &= 0xFFFF
    tl = cl + (al ^ (bl & (dl ^ al))) + 0xE681 + w15l
    th = ch + (ah ^ (bh & (dh ^ ah))) + 0xD8A1 + w15h + (tl >> 16)
    cl = dl + ((tl & 3) << 14 | (th >> 2) & 16383)
    ch = dh + ((th & 3) << 14 | (tl >> 2) & 16383) + (cl >> 16)
    cl &= 0xFFFF
    tl = bl + (dl ^ (al & (cl ^ dl))) + 0xFBC8 + w4l
    th = bh + (dh ^ (ah & (ch ^ dh))) + 0xE7D3 + w4h + (tl >> 16)
    bl = cl + ((th & 4095) << 4 | (tl >> 12) & 15)
    bh = ch + ((tl & 4095) << 4 | (th >> 12) & 15) + (bl >> 16)
    bl &= 0xFFFF
    tl = al + (cl ^ (dl & (bl ^ cl))) + 0xCDE6 + w9l
    th = ah + (ch ^ (dh & (bh ^ ch))) + 0x21E1 + w9h + (tl >> 16)
    al = bl + ((tl & 2047) << 5 | (th >> 11) & 31)
    ah = bh + ((th & 2047) << 5 | (tl >> 11) & 31) + (al >> 16)
    al &= 0xFFFF
    tl = dl + (bl ^ (cl & (al ^ bl))) + 0x07D6 + w14l
    th = dh + (bh ^ (ch & (ah ^ bh))) + 0xC337 + w14h + (tl >> 16)
    dl = al + ((tl & 127) << 9 | (th >> 7) & 511)
    dh = ah + ((th & 127) << 9 | (tl >> 7) & 511) + (dl >> 16)
    dl &= 0xFFFF
    tl = cl + (al ^ (bl & (dl ^ al))) + 0x0D87 + w3l
    th = ch + (ah ^ (bh & (dh ^ ah))) + 0xF4D5 + w3h + (tl >> 16)
    cl = dl + ((tl & 3) << 14 | (th >> 2) & 16383)
    ch = dh + ((th & 3) << 14 | (tl >> 2) & 16383) + (cl >> 16)
    cl &= 0xFFFF
    tl = bl + (dl ^ (al & (cl ^ dl))) + 0x14ED + w8l
    th = bh + (dh ^ (ah & (ch ^ dh))) + 0x455A + w8h + (tl >> 16)
    bl = cl + ((th & 4095) << 4 | (tl >> 12) & 15)
    bh = ch + ((tl & 4095) << 4 | (th >> 12) & 15) + (bl >> 16)
    bl &= 0xFFFF
    tl = al + (cl ^ (dl & (bl ^ cl))) + 0xE905 + w13l
    th = ah + (ch ^ (dh & (bh ^ ch))) + 0xA9E3 + w13h + (tl >> 16)
    al = bl + ((tl & 2047) << 5 | (th >> 11) & 31)
    ah = bh + ((th & 2047) << 5 | (tl >> 11) & 31) + (al >> 16)
    al &= 0xFFFF
    tl = dl + (bl ^ (cl & (al ^ bl))) + 0xA3F8 + w2l
    th = dh + (bh ^ (ch & (ah ^ bh))) + 0xFCEF + w2h + (tl >> 16)
    dl = al + ((tl & 127) << 9 | (th >> 7) & 511)
    dh = ah + ((th & 127) << 9 | (tl >> 7) & 511) + (dl >> 16)
    dl &= 0xFFFF
    tl = cl + (al ^ (bl & (dl ^ al))) + 0x02D9 + w7l
    th = ch + (ah ^ (bh & (dh ^ ah))) + 0x676F + w7h + (tl >> 16)
    cl = dl + ((tl & 3) << 14 | (th >> 2) & 16383)
    ch = dh + ((th & 3) << 14 | (tl >> 2) & 16383) + (cl >> 16)
    cl &= 0xFFFF
    tl = bl + (dl ^ (al & (cl ^ dl))) + 0x4C8A + w12l
    th = bh + (dh ^ (ah & (ch ^ dh))) + 0x8D2A + w12h + (tl >> 16)
    bl = cl + ((th & 4095) << 4 | (tl >> 12) & 15)
    bh = ch + ((tl & 4095) << 4 | (th >> 12) & 15) + (bl >> 16)
    bl &= 0xFFFF
    # Round 3: H = b ^ c ^ d, word 3i + 5.
    tl = al + (bl ^ cl ^ dl) + 0x3942 + w5l
    th = ah + (bh ^ ch ^ dh) + 0xFFFA + w5h + (tl >> 16)
    al = bl + ((tl & 4095) << 4 | (th >> 12) & 15)
    ah = bh + ((th & 4095) << 4 | (tl >> 12) & 15) + (al >> 16)
    al &= 0xFFFF
    tl = dl + (al ^ bl ^ cl) + 0xF681 + w8l
    th = dh + (ah ^ bh ^ ch) + 0x8771 + w8h + (tl >> 16)
    dl = al + ((tl & 31) << 11 | (th >> 5) & 2047)
    dh = ah + ((th & 31) << 11 | (tl >> 5) & 2047) + (dl >> 16)
    dl &= 0xFFFF
    tl = cl + (dl ^ al ^ bl) + 0x6122 + w11l
    th = ch + (dh ^ ah ^ bh) + 0x6D9D + w11h + (tl >> 16)
    cl = dl + (th & 0xFFFF)
    ch = dh + (tl & 0xFFFF) + (cl >> 16)
    cl &= 0xFFFF
    tl = bl + (cl ^ dl ^ al) + 0x380C + w14l
    th = bh + (ch ^ dh ^ ah) + 0xFDE5 + w14h + (tl >> 16)
    bl = cl + ((th & 511) << 7 | (tl >> 9) & 127)
    bh = ch + ((tl & 511) << 7 | (th >> 9) & 127) + (bl >> 16)
    bl &= 0xFFFF
    tl = al + (bl ^ cl ^ dl) + 0xEA44 + w1l
    th = ah + (bh ^ ch ^ dh) + 0xA4BE + w1h + (tl >> 16)
    al = bl + ((tl & 4095) << 4 | (th >> 12) & 15)
    ah = bh + ((th & 4095) << 4 | (tl >> 12) & 15) + (al >> 16)
    al &= 0xFFFF
    tl = dl + (al ^ bl ^ cl) + 0xCFA9 + w4l
    th = dh + (ah ^ bh ^ ch) + 0x4BDE + w4h + (tl >> 16)
    dl = al + ((tl & 31) << 11 | (th >> 5) & 2047)
    dh = ah + ((th & 31) << 11 | (tl >> 5) & 2047) + (dl >> 16)
    dl &= 0xFFFF
    tl = cl + (dl ^ al ^ bl) + 0x4B60 + w7l
    th = ch + (dh ^ ah ^ bh) + 0xF6BB + w7h + (tl >> 16)
    cl = dl + (th & 0xFFFF)
    ch = dh + (tl & 0xFFFF) + (cl >> 16)
    cl &= 0xFFFF
    tl = bl + (cl ^ dl ^ al) + 0xBC70 + w10l
    th = bh + (ch ^ dh ^ ah) + 0xBEBF + w10h + (tl >> 16)
    bl = cl + ((th & 511) << 7 | (tl >> 9) & 127)
    bh = ch + ((tl & 511) << 7 | (th >> 9) & 127) + (bl >> 16)
    bl &= 0xFFFF
    tl = al + (bl ^ cl ^ dl) + 0x7EC6 + w13l
    th = ah + (bh ^ ch ^ dh) + 0x289B + w13h + (tl >> 16)
    al = bl + ((tl & 4095) << 4 | (th >> 12) & 15)
    ah = bh + ((th & 4095) << 4 | (tl >> 12) & 15) + (al >> 16)
    al &= 0xFFFF
    tl = dl + (al ^ bl ^ cl) + 0x27FA + w0l
    th = dh + (ah ^ bh ^ ch) + 0xEAA1 + w0h + (tl >> 16)
    dl = al + ((tl & 31) << 11 | (th >> 5) & 2047)
    dh = ah + ((th & 31) << 11 | (tl >> 5) & 2047) + (dl >> 16)
    dl &= 0xFFFF
    tl = cl + (dl ^ al ^ bl) + 0x3085 + w3l
    th = ch + (dh ^ ah ^ bh) + 0xD4EF + w3h + (tl >> 16)
    cl = dl + (th & 0xFFFF)
    ch = dh + (tl & 0xFFFF) + (cl >> 16)
    cl &= 0xFFFF
    tl = bl + (cl ^ dl ^ al) + 0x1D05 + w6l
    th = bh + (ch ^ dh ^ ah) + 0x0488 + w6h + (tl >> 16)
    bl = cl + ((th & 511) << 7 | (tl >> 9) & 127)
    bh = ch + ((tl & 511) << 7 | (th >> 9) & 127) + (bl >> 16)
    bl &= 0xFFFF
    tl = al + (bl ^ cl ^ dl) + 0xD039 + w9l
    th = ah + (bh ^ ch ^ dh) + 0xD9D4 + w9h + (tl >> 16)
    al = bl + ((tl & 4095) << 4 | (th >> 12) & 15)
    ah = bh + ((th & 4095) << 4 | (tl >> 12) & 15) + (al >> 16)
    al &= 0xFFFF
    tl = dl + (al ^ bl ^ cl) + 0x99E5 + w12l
    th = dh + (ah ^ bh ^ ch) + 0xE6DB + w12h + (tl >> 16)
    dl = al + ((tl & 31) << 11 | (th >> 5) & 2047)
    dh = ah + ((th & 31) << 11 | (tl >> 5) & 2047) + (dl >> 16)
    dl &= 0xFFFF
    tl = cl + (dl ^ al ^ bl) + 0x7CF8 + w15l
    th = ch + (dh ^ ah ^ bh) + 0x1FA2 + w15h + (tl >> 16)
    cl = dl + (th & 0xFFFF)
    ch = dh + (tl & 0xFFFF) + (cl >> 16)
    cl &= 0xFFFF
    tl = bl + (cl ^ dl ^ al) + 0x5665 + w2l
    th = bh + (ch ^ dh ^ ah) + 0xC4AC + w2h + (tl >> 16)
    bl = cl + ((th & 511) << 7 | (tl >> 9) & 127)
    bh = ch + ((tl & 511) << 7 | (th >> 9) & 127) + (bl >> 16)
    bl &= 0xFFFF
    # Round 4: I = c ^ (b | ~d), word 7i.
    tl = al + (cl ^ (bl | (dl ^ 0xFFFF))) + 0x2244 + w0l
    th = ah + (ch ^ (bh | (dh ^ 0xFFFF))) + 0xF429 + w0h + (tl >> 16)
    al = bl + ((tl & 1023) << 6 | (th >> 10) & 63)
    ah = bh + ((th & 1023) << 6 | (tl >> 10) & 63) + (al >> 16)
    al &= 0xFFFF
    tl = dl + (bl ^ (al | (cl ^ 0xFFFF))) + 0xFF97 + w7l
    th = dh + (bh ^ (ah | (ch ^ 0xFFFF))) + 0x432A + w7h + (tl >> 16)
    dl = al + ((tl & 63) << 10 | (th >> 6) & 1023)
    dh = ah + ((th & 63) << 10 | (tl >> 6) & 1023) + (dl >> 16)
    dl &= 0xFFFF
    tl = cl + (al ^ (dl | (bl ^ 0xFFFF))) + 0x23A7 + w14l
    th = ch + (ah ^ (dh | (bh ^ 0xFFFF))) + 0xAB94 + w14h + (tl >> 16)
    cl = dl + ((tl & 1) << 15 | (th >> 1) & 32767)
    ch = dh + ((th & 1) << 15 | (tl >> 1) & 32767) + (cl >> 16)
    cl &= 0xFFFF
    tl = bl + (dl ^ (cl | (al ^ 0xFFFF))) + 0xA039 + w5l
    th = bh + (dh ^ (ch | (ah ^ 0xFFFF))) + 0xFC93 + w5h + (tl >> 16)
    bl = cl + ((th & 2047) << 5 | (tl >> 11) & 31)
    bh = ch + ((tl & 2047) << 5 | (th >> 11) & 31) + (bl >> 16)
    bl &= 0xFFFF
    tl = al + (cl ^ (bl | (dl ^ 0xFFFF))) + 0x59C3 + w12l
    th = ah + (ch ^ (bh | (dh ^ 0xFFFF))) + 0x655B + w12h + (tl >> 16)
    al = bl + ((tl & 1023) << 6 | (th >> 10) & 63)
    ah = bh + ((th & 1023) << 6 | (tl >> 10) & 63) + (al >> 16)
    al &= 0xFFFF
    tl = dl + (bl ^ (al | (cl ^ 0xFFFF))) + 0xCC92 + w3l
    th = dh + (bh ^ (ah | (ch ^ 0xFFFF))) + 0x8F0C + w3h + (tl >> 16)
    dl = al + ((tl & 63) << 10 | (th >> 6) & 1023)
    dh = ah + ((th & 63) << 10 | (tl >> 6) & 1023) + (dl >> 16)
    dl &= 0xFFFF
    tl = cl + (al ^ (dl | (bl ^ 0xFFFF))) + 0xF47D + w10l
    th = ch + (ah ^ (dh | (bh ^ 0xFFFF))) + 0xFFEF + w10h + (tl >> 16)
    cl = dl + ((tl & 1) << 15 | (th >> 1) & 32767)
    ch = dh + ((th & 1) << 15 | (tl >> 1) & 32767) + (cl >> 16)
    cl &= 0xFFFF
    tl = bl + (dl ^ (cl | (al ^ 0xFFFF))) + 0x5DD1 + w1l
    th = bh + (dh ^ (ch | (ah ^ 0xFFFF))) + 0x8584 + w1h + (tl >> 16)
    bl = cl + ((th & 2047) << 5 | (tl >> 11) & 31)
    bh = ch + ((tl & 2047) << 5 | (th >> 11) & 31) + (bl >> 16)
    bl &= 0xFFFF
    tl = al + (cl ^ (bl | (dl ^ 0xFFFF))) + 0x7E4F + w8l
    th = ah + (ch ^ (bh | (dh ^ 0xFFFF))) + 0x6FA8 + w8h + (tl >> 16)
    al = bl + ((tl & 1023) << 6 | (th >> 10) & 63)
    ah = bh + ((th & 1023) << 6 | (tl >> 10) & 63) + (al >> 16)
    al &= 0xFFFF
    tl = dl + (bl ^ (al | (cl ^ 0xFFFF))) + 0xE6E0 + w15l
    th = dh + (bh ^ (ah | (ch ^ 0xFFFF))) + 0xFE2C + w15h + (tl >> 16)
    dl = al + ((tl & 63) << 10 | (th >> 6) & 1023)
    dh = ah + ((th & 63) << 10 | (tl >> 6) & 1023) + (dl >> 16)
    dl &= 0xFFFF
    tl = cl + (al ^ (dl | (bl ^ 0xFFFF))) + 0x4314 + w6l
    th = ch + (ah ^ (dh | (bh ^ 0xFFFF))) + 0xA301 + w6h + (tl >> 16)
    cl = dl + ((tl & 1) << 15 | (th >> 1) & 32767)
    ch = dh + ((th & 1) << 15 | (tl >> 1) & 32767) + (cl >> 16)
    cl &= 0xFFFF
    tl = bl + (dl ^ (cl | (al ^ 0xFFFF))) + 0x11A1 + w13l
    th = bh + (dh ^ (ch | (ah ^ 0xFFFF))) + 0x4E08 + w13h + (tl >> 16)
    bl = cl + ((th & 2047) << 5 | (tl >> 11) & 31)
    bh = ch + ((tl & 2047) << 5 | (th >> 11) & 31) + (bl >> 16)
    bl &= 0xFFFF
    tl = al + (cl ^ (bl | (dl ^ 0xFFFF))) + 0x7E82 + w4l
    th = ah + (ch ^ (bh | (dh ^ 0xFFFF))) + 0xF753 + w4h + (tl >> 16)
    al = bl + ((tl & 1023) << 6 | (th >> 10) & 63)
    ah = bh + ((th & 1023) << 6 | (tl >> 10) & 63) + (al >> 16)
    al &= 0xFFFF
    tl = dl + (bl ^ (al | (cl ^ 0xFFFF))) + 0xF235 + w11l
    th = dh + (bh ^ (ah | (ch ^ 0xFFFF))) + 0xBD3A + w11h + (tl >> 16)
    dl = al + ((tl & 63) << 10 | (th >> 6) & 1023)
    dh = ah + ((th & 63) << 10 | (tl >> 6) & 1023) + (dl >> 16)
    dl &= 0xFFFF
    tl = cl + (al ^ (dl | (bl ^ 0xFFFF))) + 0xD2BB + w2l
    th = ch + (ah ^ (dh | (bh ^ 0xFFFF))) + 0x2AD7 + w2h + (tl >> 16)
    cl = dl + ((tl & 1) << 15 | (th >> 1) & 32767)
    ch = dh + ((th & 1) << 15 | (tl >> 1) & 32767) + (cl >> 16)
    cl &= 0xFFFF
    tl = bl + (dl ^ (cl | (al ^ 0xFFFF))) + 0xD391 + w9l
    th = bh + (dh ^ (ch | (ah ^ 0xFFFF))) + 0xEB86 + w9h + (tl >> 16)
    bl = cl + ((th & 2047) << 5 | (tl >> 11) & 31)
    bh = ch + ((tl & 2047) << 5 | (th >> 11) & 31) + (bl >> 16)
    bl &= 0xFFFF
    x = h[0] + al
    h[0] = x & 0xFFFF
    h[1] = (h[1] + ah + (x >> 16)) & 0xFFFF
    x = h[2] + bl
    h[2] = x & 0xFFFF
    h[3] = (h[3] + bh + (x >> 16)) & 0xFFFF
    x = h[4] + cl
    h[4] = x & 0xFFFF
    h[5] = (h[5] + ch + (x >> 16)) & 0xFFFF
    x = h[6] + dl
    h[6] = x & 0xFFFF
    h[7] = (h[7] + dh + (x >> 16)) & 0xFFFF
