"""qsota.pure.crc16: CRC-16/XMODEM, YMODEM's block check and the frame check of SMP over a
console UART (qsota.pure.console), as src/crc16.rs is for the Rust core."""

try:
    from array import array
except ImportError:
    from uarray import array


def _crc_table():
    t = array("H", bytes(512))
    for i in range(256):
        c = i << 8
        for _ in range(8):
            c = ((c << 1) ^ 0x1021) if c & 0x8000 else (c << 1)
        t[i] = c & 0xFFFF
    return t


_TABLE = _crc_table()


def crc16(buf, start, end):
    """CRC-16/XMODEM of buf[start:end] (check value 0x31C3)."""
    t = _TABLE
    crc = 0
    for i in range(start, end):
        crc = ((crc << 8) & 0xFFFF) ^ t[(crc >> 8) ^ buf[i]]
    return crc
