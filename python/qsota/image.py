"""qsota.image: what of a verified MCUboot image goes over the line to the MCU.

An MCUboot bootloader checks the container again itself, so it gets all of it; a bootloader
that expects a raw application (ST's IAP over YMODEM, qsota's native receiver) gets the body
only, through `Body`, a file-like view that `qsota.send` reads like any file. YMODEM and the
native protocol carry no address; a sender whose protocol does (the STM32 ROM bootloader's)
takes the header's `image['load_addr']` (with ROM_FIXED, 0x100 in `image['flags']`, imgtool
-F: the address the body was linked for).
"""

# ih_flags of a compressed body (imgtool --compression): only MCUboot can unpack it.
_COMPRESSED = 0x600


def body(source, image, name=None):
    """The body of the verified image `image` (a Verifier's `.image`) in `source` (a path, or
    a binary file object the Body then owns), as an open `Body`; ValueError (before opening)
    for a compressed body, which a raw-application bootloader cannot run."""
    if image["flags"] & _COMPRESSED:
        raise ValueError(
            "image: compressed (ih_flags 0x%08x), only an MCUboot bootloader can take it"
            % image["flags"]
        )
    f = open(source, "rb") if isinstance(source, str) else source
    return Body(f, image["hdr_size"], image["img_size"], name)


class Body:
    """The `size` bytes at `offset` of the binary file `f`, as a file of their own
    (readinto, seek, close; `name`). readinto allocates nothing unless a read is cut short
    at the end."""

    def __init__(self, f, offset, size, name=None):
        self._f = f
        self._offset = offset
        self._size = size
        self._pos = 0
        self.name = name
        f.seek(offset)

    def seek(self, pos, whence=0):
        if whence == 2:
            pos += self._size
        elif whence == 1:
            pos += self._pos
        self._pos = max(0, min(pos, self._size))
        self._f.seek(self._offset + self._pos)
        return self._pos

    def readinto(self, buf):
        n = min(len(buf), self._size - self._pos)
        if n <= 0:
            return 0
        k = self._f.readinto(buf if n == len(buf) else memoryview(buf)[:n]) or 0
        self._pos += k
        return k

    def close(self):
        self._f.close()
