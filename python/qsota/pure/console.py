"""qsota.pure.console: MCUboot's serial console framing in Python (src/mcuboot/console.rs, whose
module doc describes it): an SMP packet as a big-endian length, the packet and a CRC-16,
base64 in lines of at most 127 bytes that start with 06 09 (the first) or 04 14. `encode`
frames in place in the driver's buffer; `Decoder` reassembles answers in one preallocated
buffer.
"""

from .crc16 import crc16

CHARS = 124  # base64 characters per line: (127 - 3) // 4 * 4
WRAP = 4  # the length and the CRC around a packet
HEADER = 8  # an SMP header, the least a packet holds
ANSWER_MAX = 512  # the longest answer the decoder keeps
_B64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _sextets():
    t = bytearray(b"\xff" * 256)
    for i in range(64):
        t[_B64[i]] = i
    t[ord("=")] = 64
    return t


_SEXTET = _sextets()


def encoded_len(raw):
    """Line bytes that `raw` bytes (length, packet, CRC) take on the wire."""
    chars = (raw + 2) // 3 * 4
    return chars + 3 * ((chars + CHARS - 1) // CHARS)


def encode(buf, e, packet):
    """Frames the packet of `packet` bytes placed to end 2 bytes before buf[e] (see
    src/mcuboot/console.rs `encode`): length, CRC, then the lines from buf[0]. Returns e."""
    raw = packet + WRAP
    at = e - raw
    n = packet + 2
    buf[at] = n >> 8
    buf[at + 1] = n & 0xFF
    crc = crc16(buf, at + 2, at + 2 + packet)
    buf[e - 2] = crc >> 8
    buf[e - 1] = crc & 0xFF
    # Line by line: its marker, its whole 3-byte groups in a loop of their own (this is
    # the per-byte cost of sending over the console), the padded last 1 or 2 bytes of the
    # packet, the newline. Each group is read before its 4 characters are written: the
    # characters never reach the bytes not yet read.
    per_line = CHARS // 4 * 3
    r, w = at, 0
    b64 = _B64
    while r < e:
        buf[w] = 6 if w == 0 else 4
        buf[w + 1] = 9 if w == 0 else 0x14
        w += 2
        end = r + per_line
        if end > e:
            end = e
        full = end - (end - r) % 3
        while r < full:
            v = buf[r] << 16 | buf[r + 1] << 8 | buf[r + 2]
            buf[w] = b64[v >> 18]
            buf[w + 1] = b64[(v >> 12) & 63]
            buf[w + 2] = b64[(v >> 6) & 63]
            buf[w + 3] = b64[v & 63]
            r += 3
            w += 4
        if r < end:
            v = buf[r] << 16
            if end - r > 1:
                v |= buf[r + 1] << 8
            buf[w] = b64[v >> 18]
            buf[w + 1] = b64[(v >> 12) & 63]
            buf[w + 2] = b64[(v >> 6) & 63] if end - r > 1 else 61
            buf[w + 3] = 61
            r = end
            w += 4
        buf[w] = 10
        w += 1
    return w


class Decoder:
    """Reassembles packets (src/mcuboot/console.rs `Decoder`): `byte(b)` returns the packet's
    length in `buf` (from buf[2]) when b completes one, else 0. `size`: the longest packet
    kept, with its length and CRC."""

    def __init__(self, size=ANSWER_MAX):
        self.buf = bytearray(size)
        self.size = size
        self.reset()

    def reset(self):
        self.len = 0
        self.state = 0  # 0 idle, 1 saw 06, 2 saw 04, 3 in a line, 4 between lines
        self.quad = bytearray(4)
        self.qlen = 0
        self.broken = False

    def byte(self, b):
        st = self.state
        if b == 6:
            self.state = 1
        elif st == 1 and b == 9:
            self.len = 0
            self._start()
        elif st == 4 and b == 4:
            self.state = 2
        elif st == 2 and b == 0x14:
            self._start()
        elif st == 3:
            if b == 10:
                return self._end()
            if b != 13:
                self._char(b)
        else:
            self.state = 0
        return 0

    def _start(self):
        self.state = 3
        self.qlen = 0
        self.broken = False

    def _char(self, c):
        v = _SEXTET[c]
        if v == 255:
            self.broken = True
            return
        q = self.quad
        q[self.qlen] = v
        self.qlen += 1
        if self.qlen < 4:
            return
        self.qlen = 0
        if q[0] == 64 or q[1] == 64:
            n = 0
        elif q[2] == 64:
            n = 1 if q[3] == 64 else 0
        elif q[3] == 64:
            n = 2
        else:
            n = 3
        if n == 0 or self.len + n > self.size:
            self.broken = True
            return
        v = ((q[0] & 63) << 18) | ((q[1] & 63) << 12)
        if n > 1:
            v |= (q[2] & 63) << 6
        if n > 2:
            v |= q[3] & 63
        buf, at = self.buf, self.len
        for i in range(n):
            buf[at + i] = (v >> (16 - 8 * i)) & 0xFF
        self.len = at + n

    def _end(self):
        self.state = 4
        if self.broken or self.qlen:
            self.state = 0
            return 0
        if self.len < 2:
            return 0
        buf = self.buf
        want = (buf[0] << 8) | buf[1]
        have = self.len - 2
        if have < want:
            return 0
        self.state = 0
        if have != want or want < HEADER + 2 or crc16(buf, 2, self.len) != 0:
            return 0
        return want - 2


