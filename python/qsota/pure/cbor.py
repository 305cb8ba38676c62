"""qsota.pure.cbor: the little CBOR that MCUboot's SMP answers and qsota's requests need, in
Python (src/mcuboot/cbor.rs): heads and text strings written in place, and a bounded reader over
an answer in its buffer. Nothing allocates.
"""

_I32_MAX = 0x7FFFFFFF


def _head_len(v):
    if v < 24:
        return 1
    if v < 0x100:
        return 2
    if v < 0x10000:
        return 3
    return 5 if v < 0x100000000 else 9


def head(buf, at, major, v):
    """Writes a CBOR head at buf[at:]; returns the position after it."""
    n = _head_len(v)
    m = major << 5
    if n == 1:
        buf[at] = m | v
        return at + 1
    buf[at] = m | (24 if n == 2 else 25 if n == 3 else 26 if n == 5 else 27)
    for i in range(n - 1):
        buf[at + n - 1 - i] = (v >> (8 * i)) & 0xFF
    return at + n


def text(buf, at, s):
    at = head(buf, at, 3, len(s))
    for b in s:
        buf[at] = b
        at += 1
    return at


class Reader:
    """A bounded CBOR cursor over buf[pos:end] (src/mcuboot/cbor.rs `Reader`). Methods return
    False (or None) on malformed input and never read past `end`."""

    def __init__(self, buf, pos=0, end=0):
        self.at_(buf, pos, end)

    def at_(self, buf, pos, end):
        """Points the reader at buf[pos:end] (one reader serves every answer)."""
        self.buf = buf
        self.pos = pos
        self.end = end
        # The last head: major type, argument (-1: indefinite), and a string's start.
        self.major = 0
        self.arg = 0
        self.at = 0

    def head(self):
        """Reads one head (and a string's extent); False if malformed."""
        buf, p = self.buf, self.pos
        if p >= self.end:
            return False
        b = buf[p]
        p += 1
        major, info = b >> 5, b & 31
        if info < 24:
            arg = info
        elif info < 28:
            n = 1 << (info - 24)
            if p + n > self.end:
                return False
            arg = 0
            for i in range(n):
                arg = (arg << 8) | buf[p + i]
            p += n
        elif info == 31:
            arg = -1
        else:
            return False
        self.major, self.arg, self.pos = major, arg, p
        if major == 2 or major == 3:
            if arg < 0 or p + arg > self.end:
                return False
            self.at = p
            self.pos = p + arg
        elif major == 6:  # a tag: its content is skipped, the whole reads as "other"
            ok = arg >= 0 and self.skip()
            self.major = 9
            return ok
        elif major == 7:
            self.major = 8 if arg < 0 else 9  # 8: break, 9: any other simple value
        return arg >= 0 or major in (4, 5, 7)

    def skip(self):
        return self.head() and self._rest(0)

    def _rest(self, depth):
        major, arg = self.major, self.arg
        if major == 8:
            return False
        if major != 4 and major != 5:
            return True
        if depth >= 8:
            return False
        left = -1 if arg < 0 else arg * (2 if major == 5 else 1)
        while left != 0:
            if not self.head():
                return False
            if self.major == 8:
                return left < 0
            if not self._rest(depth + 1):
                return False
            if left > 0:
                left -= 1
        return True

    def enter(self, major):
        """Reads the head of a map (5) or array (4): its count, -1 if indefinite, or None."""
        if not self.head() or self.major != major:
            return None
        return self.arg

    def more(self, left):
        """Whether another element of an array or map with `left` (-1: indefinite) follows;
        consumes the break."""
        if left >= 0:
            return left > 0
        if self.pos < self.end and self.buf[self.pos] == 0xFF:
            self.pos += 1
            return False
        return True

    def key(self):
        """Reads a map key: True for a text key (then `at`, `arg` are its extent), False
        for another key, which is skipped; None if malformed."""
        if not self.head():
            return None
        if self.major == 3:
            return True
        return False if self._rest(1) else None

    def is_key(self, s):
        if self.arg != len(s):
            return False
        buf, at = self.buf, self.at
        for i in range(len(s)):
            if buf[at + i] != s[i]:
                return False
        return True

    def int(self):
        """An integer in i32's range, or None."""
        if not self.head():
            return None
        if self.major == 0 and self.arg <= _I32_MAX:
            return self.arg
        if self.major == 1 and self.arg <= _I32_MAX:
            return -1 - self.arg
        return None


