"""CRC-32 in Python for qsota.pure: MPEG-2 (poly 0x04C11DB7 shifted left, no final XOR) and
ISO-HDLC (the same polynomial reflected, final XOR 0xFFFFFFFF: zlib's), in one loop.

ISO-HDLC's state shifts right and each byte enters at its low end. MPEG-2's shifts left; kept
byte-reversed it shifts right too (the byte that leaves is then the lowest), so the same loop
runs it with its own table, and `value` turns the state back. A 32-bit state would be a long
int on a 32-bit port (small ints have 31 bits): a heap allocation per byte. It is held as a
list [the high 24 bits, the low 8 bits]: the low byte is the next table index, and each table
is a bytes of the entries' low bytes and a list of their high 24 bits. No value reaches
2**30, and nothing is allocated per call (about 830 instructions per byte on a Cortex-A9,
bench/arm_bench.py).

    s = start()
    run(table(MPEG2), s, data)        # as often as data comes
    value(MPEG2, s)                   # the CRC (an int; a long int on a 32-bit port)
    reset(s)                          # the same state, for the next CRC
    put_iso_hdlc(s, buf, at)          # an ISO-HDLC CRC as 4 bytes, low first: no int at all
"""

MPEG2 = 0
ISO_HDLC = 1

_tables = [None, None]


def table(variant):
    """The byte table of `variant` (built on first use, 1.3 KB). Entries are computed in
    16-bit halves: a value built from a long int stays one on a 32-bit port, and each use
    of it would allocate."""
    t = _tables[variant]
    if t is None:
        low = bytearray(256)
        high = []
        for i in range(256):
            if variant == MPEG2:  # the entry's bytes, most significant first: a b c d
                hi, lo = i << 8, 0
                for _ in range(8):
                    top = hi & 0x8000
                    hi = (hi << 1) & 0xFFFF | lo >> 15
                    lo = (lo << 1) & 0xFFFF
                    if top:
                        hi ^= 0x04C1
                        lo ^= 0x1DB7
                low[i] = hi >> 8  # byte-reversed: d c b a
                high.append((lo & 0xFF) << 16 | (lo >> 8) << 8 | hi & 0xFF)
            else:
                hi, lo = 0, i
                for _ in range(8):
                    bit = lo & 1
                    lo = lo >> 1 | (hi & 1) << 15
                    hi >>= 1
                    if bit:
                        hi ^= 0xEDB8
                        lo ^= 0x8320
                low[i] = lo & 0xFF
                high.append(hi << 8 | lo >> 8)
        t = _tables[variant] = (bytes(low), high)
    return t


def _swap(v):
    return (v & 0xFF) << 24 | (v & 0xFF00) << 8 | (v >> 8) & 0xFF00 | v >> 24


def start():
    """A new state (both variants start from all ones)."""
    s = [0, 0]
    reset(s)
    return s


def reset(s):
    """Starts the state `s` over, as `start` makes one, allocating nothing."""
    s[0] = 0xFFFFFF
    s[1] = 0xFF


def run(t, s, data):
    """Feeds the bytes of `data` to the state `s` with the table `t`."""
    low, high = t
    h = s[0]
    lo = s[1]
    for b in data:
        i = lo ^ b
        lo = (h & 0xFF) ^ low[i]
        h = (h >> 8) ^ high[i]
    s[0] = h
    s[1] = lo


def value(variant, s):
    """The CRC of what state `s` was fed."""
    v = s[0] << 8 | s[1]
    return _swap(v) if variant == MPEG2 else v ^ 0xFFFFFFFF


def put_iso_hdlc(s, buf, at):
    """Writes the ISO-HDLC CRC of what state `s` was fed to buf[at:at + 4], least significant
    byte first, with no long int (`value` makes one on a 32-bit port)."""
    h = s[0] ^ 0xFFFFFF  # the final XOR, on the high 24 bits and the low 8
    buf[at] = s[1] ^ 0xFF
    buf[at + 1] = h & 0xFF
    buf[at + 2] = (h >> 8) & 0xFF
    buf[at + 3] = h >> 16


def halves(variant, s):
    """The CRC of what state `s` was fed as its (low, high) 16-bit halves, no long int: what
    a Verifier state records."""
    h = s[0]
    if variant == MPEG2:  # the state is the CRC byte-reversed: h = b3 b2 b1, s[1] = b0
        return h & 0xFF00 | h >> 16, s[1] << 8 | h & 0xFF
    return ((h & 0xFF) << 8 | s[1]) ^ 0xFFFF, (h >> 8) ^ 0xFFFF


def resume(variant, lo, hi):
    """A state that continues from a CRC given as (low, high) halves (as `halves` gives)."""
    if variant == MPEG2:
        return [(lo & 0xFF) << 16 | lo & 0xFF00 | hi & 0xFF, hi >> 8]
    lo ^= 0xFFFF
    return [(hi ^ 0xFFFF) << 8 | lo >> 8, lo & 0xFF]
