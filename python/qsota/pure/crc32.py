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
"""

MPEG2 = 0
ISO_HDLC = 1

_tables = [None, None]


def table(variant):
    """The byte table of `variant` (built on first use, 1.3 KB)."""
    t = _tables[variant]
    if t is None:
        low = bytearray(256)
        high = []
        for i in range(256):
            if variant == MPEG2:
                c = i << 24
                for _ in range(8):
                    c = ((c << 1) ^ 0x04C11DB7 if c & 0x80000000 else c << 1) & 0xFFFFFFFF
                c = _swap(c)
            else:
                c = i
                for _ in range(8):
                    c = (c >> 1) ^ 0xEDB88320 if c & 1 else c >> 1
            low[i] = c & 0xFF
            high.append(c >> 8)
        t = _tables[variant] = (bytes(low), high)
    return t


def _swap(v):
    return (v & 0xFF) << 24 | (v & 0xFF00) << 8 | (v >> 8) & 0xFF00 | v >> 24


def start():
    """A new state (both variants start from all ones)."""
    return [0xFFFFFF, 0xFF]


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
