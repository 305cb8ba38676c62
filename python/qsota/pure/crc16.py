"""qsota.pure.crc16: CRC-16/XMODEM, YMODEM's block check and the frame check of SMP over a
console UART (qsota.pure.console), as src/crc16.rs is for the Rust core."""

try:
    from array import array
except ImportError:
    from uarray import array


def _crc_table():
    """Each byte's CRC-16 with its two bytes swapped (see crc16)."""
    t = array("H", bytes(512))
    for i in range(256):
        c = i << 8
        for _ in range(8):
            c = ((c << 1) ^ 0x1021) if c & 0x8000 else (c << 1)
        t[i] = (c & 0xFF) << 8 | (c >> 8) & 0xFF
    return t


_TABLE = _crc_table()


def crc16(buf, start, end, views=None):
    """CRC-16/XMODEM of buf[start:end] (check value 0x31C3). `views` (a dict the caller keeps
    per buffer) holds the memoryview of each span: a loop over a view costs less than one
    that indexes, and the view is made once. The state is kept with its bytes swapped, so
    that the byte that leaves is the low one: one table lookup and four operations a byte."""
    t = _TABLE
    u = 0
    if views is None:
        for i in range(start, end):
            u = (u >> 8) ^ t[(u ^ buf[i]) & 0xFF]
    else:
        key = start * 65536 + end
        v = views.get(key)
        if v is None:
            v = views[key] = memoryview(buf)[start:end]
        for b in v:
            u = (u >> 8) ^ t[(u ^ b) & 0xFF]
    return (u & 0xFF) << 8 | u >> 8
