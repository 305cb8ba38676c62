"""What MD5 and SHA-256 in Python (pure/md5.py, pure/sha256.py) share: the 64-byte block
buffer, the update that compresses whole blocks in place, the padding, and the part of a
Verifier state (pure/verify.py) past the chaining value. A subclass gives `_compress(d, i)`
(one block, d[i:i + 64]) and `big_endian` (the padding's length byte order).
"""


class BlockHash:
    big_endian = False

    def _start(self, data):
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

    def _pad(self):
        """Feeds the padding (the length in bits, 64-bit, byte by byte: n * 8 may be a long
        int) and makes the hash final."""
        n = self._length
        pad = bytearray(((55 - n) % 64) + 9)
        pad[0] = 0x80
        at = len(pad) - 8
        for k in range(8):
            byte = (n & 0x1F) << 3 if k == 0 else (n >> (8 * k - 3)) & 0xFF
            pad[at + (7 - k if self.big_endian else k)] = byte
        self.update(pad)
        self._final = True

    def _restore_tail(self, tail, length):
        """`tail`: the bytes past the last whole block (length % 64 of them); `length`
        bytes fed."""
        for i in range(len(tail)):
            self._block[i] = tail[i]
        self._fill = len(tail)
        self._length = length
