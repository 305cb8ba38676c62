"""SHA-256 (FIPS 180-4) in Python, for a resumable `qsota.pure.Verifier`: the port's hashlib
keeps its state out of reach, and a streamed update must export it (docs/api.md, "Verifier
state"). Slow next to hashlib: used only where the state must travel.

Same interface as hashlib's: update(data), digest() (which makes it final); `_state` and
`_restore` read and write what a Verifier state records.

Written for a 32-bit port, where small ints have 31 bits and anything larger is a long int
allocated on the heap: each 32-bit word is kept as two 16-bit halves (`xh`, `xl`), so that no
value reaches 2**30 and a block allocates nothing. A sum of halves carries into the high half
by `(lo >> 16)`; a rotation by r < 16 takes each half's low r bits into the other half's top,
by r > 16 it swaps the halves first; terms are masked once, after their XOR.
"""

try:
    from array import array
except ImportError:
    from uarray import array

from .blockhash import BlockHash

# The round constants, high and low halves.
_K = (
    0x428A2F98, 0x71374491, 0xB5C0FBCF, 0xE9B5DBA5, 0x3956C25B, 0x59F111F1, 0x923F82A4, 0xAB1C5ED5,
    0xD807AA98, 0x12835B01, 0x243185BE, 0x550C7DC3, 0x72BE5D74, 0x80DEB1FE, 0x9BDC06A7, 0xC19BF174,
    0xE49B69C1, 0xEFBE4786, 0x0FC19DC6, 0x240CA1CC, 0x2DE92C6F, 0x4A7484AA, 0x5CB0A9DC, 0x76F988DA,
    0x983E5152, 0xA831C66D, 0xB00327C8, 0xBF597FC7, 0xC6E00BF3, 0xD5A79147, 0x06CA6351, 0x14292967,
    0x27B70A85, 0x2E1B2138, 0x4D2C6DFC, 0x53380D13, 0x650A7354, 0x766A0ABB, 0x81C2C92E, 0x92722C85,
    0xA2BFE8A1, 0xA81A664B, 0xC24B8B70, 0xC76C51A3, 0xD192E819, 0xD6990624, 0xF40E3585, 0x106AA070,
    0x19A4C116, 0x1E376C08, 0x2748774C, 0x34B0BCB5, 0x391C0CB3, 0x4ED8AA4A, 0x5B9CCA4F, 0x682E6FF3,
    0x748F82EE, 0x78A5636F, 0x84C87814, 0x8CC70208, 0x90BEFFFA, 0xA4506CEB, 0xBEF9A3F7, 0xC67178F2,
)
_INITIAL = (
    0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19,
)


def _halves(words, high):
    """The high (or low) 16-bit halves of 32-bit words (the literals above are long ints on
    a 32-bit port: split once, at import)."""
    out = array("H")
    for w in words:
        out.append((w >> 16) & 0xFFFF if high else w & 0xFFFF)
    return out


def _pairs(words):
    """The 16-bit halves of 32-bit words, high first."""
    out = array("H")
    for w in words:
        out.append((w >> 16) & 0xFFFF)
        out.append(w & 0xFFFF)
    return out


_KH = _halves(_K, True)
_KL = _halves(_K, False)


class sha256(BlockHash):
    big_endian = True

    def __init__(self, data=b""):
        self._h = _pairs(_INITIAL)  # h0 high, h0 low, h1 high, ...
        self._wh = array("H", bytes(128))  # the message schedule, high and low halves
        self._wl = array("H", bytes(128))
        self._start(data)

    def digest(self):
        self._pad()
        return bytes(self._chain())

    def _chain(self):
        """The chaining value as 32 bytes, big-endian words (as in a digest)."""
        out = bytearray(32)
        h = self._h
        for i in range(16):
            out[2 * i] = h[i] >> 8
            out[2 * i + 1] = h[i] & 0xFF
        return out

    def _state(self):
        """(the chaining value as 32 bytes, big-endian words as in a digest; the block buffer,
        whose first `fill` bytes are not compressed yet; fill; bytes fed)."""
        return self._chain(), self._block, self._fill, self._length

    def _restore(self, chain, at, tail, length):
        """Continues from a state: the chaining value at chain[at:at + 32], `tail` (the bytes
        past the last whole block, length % 64 of them), `length` bytes fed."""
        h = self._h
        for i in range(16):
            h[i] = chain[at + 2 * i] << 8 | chain[at + 2 * i + 1]
        self._restore_tail(tail, length)

    def _compress(self, d, i):
        """One 64-byte block, d[i:i + 64], into the state."""
        wh = self._wh
        wl = self._wl
        for t in range(16):
            j = i + 4 * t
            wh[t] = d[j] << 8 | d[j + 1]
            wl[t] = d[j + 2] << 8 | d[j + 3]
        for t in range(16, 64):
            # s0 = rotr7 ^ rotr18 ^ shr3 of w[t - 15]; s1 = rotr17 ^ rotr19 ^ shr10 of w[t - 2]
            xh = wh[t - 15]
            xl = wl[t - 15]
            s0h = ((xh >> 7) | (xl << 9)) ^ ((xl >> 2) | (xh << 14)) ^ (xh >> 3)
            s0l = ((xl >> 7) | (xh << 9)) ^ ((xh >> 2) | (xl << 14)) ^ ((xl >> 3) | (xh << 13))
            xh = wh[t - 2]
            xl = wl[t - 2]
            s1h = ((xl >> 1) | (xh << 15)) ^ ((xl >> 3) | (xh << 13)) ^ (xh >> 10)
            s1l = ((xh >> 1) | (xl << 15)) ^ ((xh >> 3) | (xl << 13)) ^ ((xl >> 10) | (xh << 6))
            lo = (s0l & 0xFFFF) + (s1l & 0xFFFF) + wl[t - 7] + wl[t - 16]
            wl[t] = lo & 0xFFFF
            wh[t] = ((s0h & 0xFFFF) + (s1h & 0xFFFF) + wh[t - 7] + wh[t - 16] + (lo >> 16)) & 0xFFFF
        h = self._h
        ah = h[0]
        al = h[1]
        bh = h[2]
        bl = h[3]
        ch = h[4]
        cl = h[5]
        dh = h[6]
        dl = h[7]
        eh = h[8]
        el = h[9]
        fh = h[10]
        fl = h[11]
        gh = h[12]
        gl = h[13]
        hh = h[14]
        hl = h[15]
        kh = _KH
        kl = _KL
        for t in range(64):
            # T1 = h + S1(e) + Ch(e, f, g) + k + w, S1 = rotr6 ^ rotr11 ^ rotr25
            s1h = ((eh >> 6) | (el << 10)) ^ ((eh >> 11) | (el << 5)) ^ ((el >> 9) | (eh << 7))
            s1l = ((el >> 6) | (eh << 10)) ^ ((el >> 11) | (eh << 5)) ^ ((eh >> 9) | (el << 7))
            lo = hl + (s1l & 0xFFFF) + (gl ^ (el & (fl ^ gl))) + kl[t] + wl[t]
            t1h = hh + (s1h & 0xFFFF) + (gh ^ (eh & (fh ^ gh))) + kh[t] + wh[t] + (lo >> 16)
            t1l = lo & 0xFFFF
            # T2 = S0(a) + Maj(a, b, c), S0 = rotr2 ^ rotr13 ^ rotr22
            s0h = ((ah >> 2) | (al << 14)) ^ ((ah >> 13) | (al << 3)) ^ ((al >> 6) | (ah << 10))
            s0l = ((al >> 2) | (ah << 14)) ^ ((al >> 13) | (ah << 3)) ^ ((ah >> 6) | (al << 10))
            hh = gh
            hl = gl
            gh = fh
            gl = fl
            fh = eh
            fl = el
            lo = dl + t1l
            el = lo & 0xFFFF
            eh = (dh + t1h + (lo >> 16)) & 0xFFFF
            dh = ch
            dl = cl
            ch = bh
            cl = bl
            bh = ah
            bl = al
            lo = t1l + (s0l & 0xFFFF) + ((bl & cl) | (dl & (bl | cl)))
            al = lo & 0xFFFF
            ah = (t1h + (s0h & 0xFFFF) + ((bh & ch) | (dh & (bh | ch))) + (lo >> 16)) & 0xFFFF
        lo = h[1] + al
        h[1] = lo & 0xFFFF
        h[0] = (h[0] + ah + (lo >> 16)) & 0xFFFF
        lo = h[3] + bl
        h[3] = lo & 0xFFFF
        h[2] = (h[2] + bh + (lo >> 16)) & 0xFFFF
        lo = h[5] + cl
        h[5] = lo & 0xFFFF
        h[4] = (h[4] + ch + (lo >> 16)) & 0xFFFF
        lo = h[7] + dl
        h[7] = lo & 0xFFFF
        h[6] = (h[6] + dh + (lo >> 16)) & 0xFFFF
        lo = h[9] + el
        h[9] = lo & 0xFFFF
        h[8] = (h[8] + eh + (lo >> 16)) & 0xFFFF
        lo = h[11] + fl
        h[11] = lo & 0xFFFF
        h[10] = (h[10] + fh + (lo >> 16)) & 0xFFFF
        lo = h[13] + gl
        h[13] = lo & 0xFFFF
        h[12] = (h[12] + gh + (lo >> 16)) & 0xFFFF
        lo = h[15] + hl
        h[15] = lo & 0xFFFF
        h[14] = (h[14] + hh + (lo >> 16)) & 0xFFFF
