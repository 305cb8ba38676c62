"""MD5 (RFC 1321) in Python, for ports whose hashlib has none (some QuecPython modules).

Slow (a few KB/s on a module): a fallback that keeps verification possible, not a fast path.
Same interface as hashlib's: update(data), digest() (which makes it final).
"""

try:
    import struct
except ImportError:
    import ustruct as struct

# Left-rotation amounts: _S[round * 4 + step % 4].
_S = (7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21)

# _K[i] = floor(abs(sin(i + 1)) * 2**32).
_K = (
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee,
    0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be,
    0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa,
    0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
    0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c,
    0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05,
    0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039,
    0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1,
    0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
)

_M32 = 0xffffffff


class md5:
    def __init__(self, data=b""):
        self._h = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476]
        self._block = bytearray(64)
        self._fill = 0  # bytes waiting in _block
        self._length = 0  # bytes fed in all
        self._final = False
        self.update(data)

    def update(self, data):
        if self._final:
            raise ValueError("hash is final")
        n = len(data)
        self._length += n
        block = self._block
        fill = self._fill
        i = 0
        # Whole blocks are read from `data` in place; only the ends go through _block, byte
        # by byte: no slice per block, and no slice assignment (optional in MicroPython).
        while i < n:
            if fill == 0 and n - i >= 64:
                self._compress(data, i)
                i += 64
                continue
            block[fill] = data[i]
            fill += 1
            i += 1
            if fill == 64:
                self._compress(block, 0)
                fill = 0
        self._fill = fill

    def digest(self):
        bits = (self._length * 8) & 0xffffffffffffffff
        pad = bytearray(((55 - self._length) % 64) + 1)
        pad[0] = 0x80
        self.update(pad)
        self.update(struct.pack("<Q", bits))
        self._final = True
        return struct.pack("<4I", *self._h)

    def _state(self):
        """(the chaining value as 16 bytes, little-endian words as in a digest; the block
        buffer, whose first `fill` bytes are not compressed yet; fill; bytes fed): what a
        Verifier state records."""
        return struct.pack("<4I", *self._h), self._block, self._fill, self._length

    def _restore(self, chain, at, tail, length):
        """Continues from a state: the chaining value at chain[at:at + 16], `tail` (the bytes
        past the last whole block, length % 64 of them), `length` bytes fed."""
        self._h = list(struct.unpack_from("<4I", chain, at))
        for i in range(len(tail)):
            self._block[i] = tail[i]
        self._fill = len(tail)
        self._length = length

    def _compress(self, buf, at):
        words = struct.unpack_from("<16I", buf, at)
        a, b, c, d = self._h
        for i in range(64):
            if i < 16:
                f = (b & c) | (~b & d)
                g = i
            elif i < 32:
                f = (d & b) | (~d & c)
                g = (5 * i + 1) & 15
            elif i < 48:
                f = b ^ c ^ d
                g = (3 * i + 5) & 15
            else:
                f = c ^ (b | ~d)
                g = (7 * i) & 15
            f = (f + a + _K[i] + words[g]) & _M32
            s = _S[(i >> 4) * 4 + (i & 3)]
            a, d, c = d, c, b
            b = (b + ((f << s) | (f >> (32 - s)))) & _M32
        h = self._h
        h[0] = (h[0] + a) & _M32
        h[1] = (h[1] + b) & _M32
        h[2] = (h[2] + c) & _M32
        h[3] = (h[3] + d) & _M32
