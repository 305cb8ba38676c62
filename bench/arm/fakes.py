"""Test doubles for the ARM benchmarks: fake MCUs (each is the port qsota.send writes to,
answers every frame at once and keeps the answers until they are read), a fake socket module
for qsota.http with one server file, and a fake Qth. What they do (C on a module: the UART,
the modem's TCP) is metered by insn.METER (start() first, stop() last) and taken off the
measurements. They check nothing but what they must read to answer: the tests check the
protocols. After the first use they allocate nothing (no slice, no bytes made), and each
method's own frame stays off the heap: otherwise their garbage and frames would cost the code
measured, outside the meter's readings.
"""

import io

from insn import METER

# qsota.pure's modules are imported where a fake is made, not here: bench/arm/ram.py imports
# this module before it chooses where qsota comes from.

ACK, NAK, C, EOT = 6, 0x15, 0x43, 4


def _copy(dst, at, src, start, n):
    """dst[at:at + n] = src[start:start + n], byte by byte (a slice would allocate)."""
    for i in range(n):
        dst[at + i] = src[start + i]


def _u32(buf, at):
    return buf[at] | buf[at + 1] << 8 | buf[at + 2] << 16 | buf[at + 3] << 24


class Fake:
    def __init__(self):
        self.out = bytearray(512)  # answers, read from self.r to self.n
        self.r = self.n = 0

    def put(self, data, n=-1):
        """Queues data[:n] (all of it by default) as answer bytes."""
        n = len(data) if n < 0 else n
        _copy(self.out, self.n, data, 0, n)
        self.n += n

    def write(self, buf):
        METER.start()
        self.frame(buf)
        METER.stop()
        return len(buf)

    def any(self):
        METER.start()
        k = self.n - self.r
        METER.stop()
        return k

    def readinto(self, buf, k=None):
        METER.start()
        k = self._give(buf, len(buf) if k is None else k)
        METER.stop()
        return k

    def _give(self, buf, k):
        k = min(self.n - self.r, k)
        _copy(buf, 0, self.out, self.r, k)
        self.r += k
        if self.r == self.n:
            self.r = self.n = 0
        return k


class Ymodem(Fake):
    """A YMODEM receiver: 'C' to start, ACK + 'C' for the header and for EOT, ACK else."""

    def __init__(self):
        super().__init__()
        self.put(b"C")
        self.header = True

    def frame(self, buf):
        if buf[0] == EOT:
            self.header = True
            self.put(b"\x06C")
        elif buf[1] == 0 and self.header and buf[3]:
            self.header = False
            self.put(b"\x06C")
        else:
            self.put(b"\x06")


def _crc8(c, b):
    """CRC-8 (poly 0x07) `c` with the byte `b` added."""
    c ^= b
    for _ in range(8):
        c = ((c << 1) ^ 0x07) & 0xFF if c & 0x80 else (c << 1) & 0xFF
    return c


class Native(Fake):
    """The native protocol's receiver (docs/protocol.md): ACCEPT for OPEN, a cumulative ACK
    for each DATA frame, DONE for COMMIT. An answer is made in `msg` (sync, kind, length,
    CRC-8, payload, CRC-32) and queued."""

    ACCEPT = b"\x01\x00\x00\x04\x04\x00\x05\x00\x00\x00\x00\x00"  # v1, 1024, window 4, 5

    def __init__(self):
        super().__init__()
        self.msg = bytearray(32)
        self.msg[0] = 0xA5
        self.msg[1] = 0x5A
        from qsota.pure import crc32

        self.crc32 = crc32
        self.table = crc32.table(crc32.ISO_HDLC)
        self.state = crc32.start()
        self.views = {}
        self.size = 0

    def frame(self, buf):
        kind = buf[2]
        if kind == 0x01:
            self.size = _u32(buf, 8)
            _copy(self.msg, 6, self.ACCEPT, 0, 12)
            self.answer(0x81, 12)
        elif kind == 0x02:
            self.answer_u32(0x82, _u32(buf, 6) + (buf[3] | buf[4] << 8) - 4)
        else:
            self.answer_u32(0x84, self.size)

    def answer_u32(self, kind, v):
        m = self.msg
        for i in range(4):
            m[6 + i] = (v >> (8 * i)) & 0xFF
        self.answer(kind, 4)

    def answer(self, kind, n):
        """Frames the n payload bytes at msg[6:] as `kind` and queues the frame."""
        m = self.msg
        m[2] = kind
        m[3] = n
        m[4] = 0
        m[5] = _crc8(_crc8(_crc8(0, kind), n), 0)
        v = self.views.get(n)
        if v is None:
            v = self.views[n] = memoryview(m)[2 : 6 + n]
        # The CRC by qsota.pure.crc32 (binascii.crc32 would return a long int): its state
        # is [high 24 bits, low 8 bits] of the register, set back in place to crc32.start()'s.
        s = self.state
        s[0] = 0xFFFFFF
        s[1] = 0xFF
        self.crc32.run(self.table, s, v)
        at = 6 + n
        m[at] = s[1] ^ 0xFF  # ISO-HDLC's CRC is the register inverted, little-endian
        m[at + 1] = (s[0] & 0xFF) ^ 0xFF
        m[at + 2] = ((s[0] >> 8) & 0xFF) ^ 0xFF
        m[at + 3] = (s[0] >> 16) ^ 0xFF
        self.put(m, 10 + n)


class Stm32(Fake):
    """ST's ROM bootloader (AN3155) of an STM32F407: Get, Get ID, Extended Erase, Write and
    Read Memory (into a flash in spare board RAM), Go. qsota's sender writes a command with
    its address as one frame."""

    GET = b"\x79\x06\x31\x00\x02\x11\x21\x31\x44\x79"
    GET_ID = b"\x79\x01\x04\x13\x79"

    def __init__(self):
        import uctypes

        super().__init__()
        self.flash = uctypes.bytearray_at(0x12000000, 1 << 20)
        self.cmd = 0  # the command whose data or length frame comes next (0: none)
        self.at = 0  # its flash offset

    def frame(self, buf):
        cmd = self.cmd
        if cmd:
            self.cmd = 0
            n = buf[0] + 1
            self.put(b"\x79")
            if cmd == 0x31:
                _copy(self.flash, self.at, buf, 1, n)
            else:
                _copy(self.out, self.n, self.flash, self.at, n)
                self.n += n
            return
        cmd = buf[0]
        if cmd == 0x7F:
            self.put(b"\x79")
        elif cmd == 0x00:
            self.put(self.GET)
        elif cmd == 0x02:
            self.put(self.GET_ID)
        else:
            if cmd == 0x11 or cmd == 0x31:
                self.cmd = cmd
                self.at = (buf[2] << 24 | buf[3] << 16 | buf[4] << 8 | buf[5]) - 0x08000000
            self.put(b"\x79\x79")


class Mcuboot(Fake):
    """MCUboot in serial recovery (SMP over its console, buffer `buf_size`): params, each
    upload answered with the offset it now has, the image list with slot 0's `hash`. The
    requests are read by qsota.pure.console's Decoder; an answer is made in `msg` and
    framed there by console.encode."""

    PARAMS = b"\xa2\x68buf_size"  # then buf_size, then BUF_COUNT
    BUF_COUNT = b"\x69buf_count\x01"
    IMAGES = b"\xa1\x66images\x81\xa3\x65image\x00\x64slot\x00\x64hash\x58\x20"
    UPLOADED = b"\xa2\x62rc\x00\x63off"  # then the offset

    def __init__(self, hash, buf_size=1024):
        from qsota.pure import cbor, console

        super().__init__()
        self.cbor, self.console = cbor, console
        self.decoder = console.Decoder(2 * buf_size)  # requests: up to buf_size and more
        self.reader = cbor.Reader(b"")
        self.hash = hash
        self.buf_size = buf_size
        self.off = 0
        self.body = bytearray(96)  # an answer's CBOR
        self.msg = bytearray(256)  # an answer's SMP packet and then its console lines

    def frame(self, data):
        d = self.decoder
        for b in data:
            k = d.byte(b)
            if k:
                self.answer(d.buf, k)

    def answer(self, buf, k):
        """Answers the SMP request buf[2:2 + k]."""
        group, ident = buf[6] << 8 | buf[7], buf[9]
        body = self.body
        if group == 0 and ident == 6:  # params
            n = _text(body, 0, self.PARAMS)
            n = self.cbor.head(body, n, 0, self.buf_size)
            n = _text(body, n, self.BUF_COUNT)
        elif group == 1 and ident == 0:  # the image list
            n = _text(body, 0, self.IMAGES)
            n = _text(body, n, self.hash)
        elif group == 1 and ident == 1:  # upload
            self.uploaded(buf, k)
            n = _text(body, 0, self.UPLOADED)
            n = self.cbor.head(body, n, 0, self.off)
        else:
            body[0] = 0xA0
            n = 1
        self.send_answer(buf, n)

    def uploaded(self, buf, k):
        r = self.reader
        r.at_(buf, 10, 2 + k)
        left = r.enter(5)
        off = n = 0
        while left:
            left -= 1
            r.key()
            if r.is_key(b"off"):
                r.head()
                off = r.arg
            elif r.is_key(b"data"):
                r.head()
                n = r.arg
            else:
                r.skip()
        if off == self.off:
            self.off += n

    def send_answer(self, request, n):
        """Queues the console lines of the answer to `request` (buf[2:10] its SMP header)
        with the body's n bytes."""
        console = self.console
        packet = console.HEADER + n
        e = console.encoded_len(packet + console.WRAP)
        m = self.msg
        at = e - packet - 2
        m[at] = request[2] + 1  # the answer's op
        m[at + 1] = 0
        m[at + 2] = n >> 8
        m[at + 3] = n & 0xFF
        _copy(m, at + 4, request, 6, 4)  # group, sequence, id
        _copy(m, at + 8, self.body, 0, n)
        self.put(m, console.encode(m, e, packet))


def _text(buf, at, data):
    """Copies `data` to buf[at:]; returns the position after it."""
    _copy(buf, at, data, 0, len(data))
    return at + len(data)


class HttpSocket:
    """A connection to a server that answers any GET with HTTP/1.1 200 and `body` (a buffer
    outside the heap, so that the file is not the heap's)."""

    body = b""

    def __init__(self, *args):
        n = len(HttpSocket.body)
        self.head = [b"HTTP/1.1 200 OK\r\n", b"Content-Length: %d\r\n" % n,
                     b'ETag: "bench"\r\n', b"\r\n"]
        self.view = memoryview(HttpSocket.body)
        self.pos = 0

    def settimeout(self, s):
        pass

    def connect(self, address):
        pass

    def write(self, data):
        return len(data)

    def readline(self, n):
        return self.head.pop(0)

    def readinto(self, buf, n=None):
        METER.start()
        n = self._give(buf, len(buf) if n is None else n)
        METER.stop()
        return n

    def _give(self, buf, n):
        n = min(n, len(self.view) - self.pos)
        _copy(buf, 0, self.view, self.pos, n)
        self.pos += n
        return n

    def close(self):
        pass


class SocketModule:
    """What qsota.http uses of `socket`: sys.modules["socket"] = SocketModule before it is
    imported."""

    AF_INET = 2
    SOCK_STREAM = 1
    socket = HttpSocket

    @staticmethod
    def getaddrinfo(host, port):
        return [(2, 1, 0, "", (host, port))]


class Qth:
    """Quectel's Qth, as much as qsota.agent uses: the callbacks of the last setMcuVer."""

    def setMcuVer(self, comp_no, version, info_cb, result_cb):
        self.version = version
        self.info_cb = info_cb

    def setEventCb(self, events):
        pass

    def otaAction(self, action):
        pass


class Source(io.IOBase):
    """A binary file over `data` (a buffer outside the heap, so that the image is not the
    heap's), for qsota.send: its reads metered (the file system's work on a module)."""

    def __init__(self, data):
        self.view = memoryview(data)
        self.pos = 0

    def readinto(self, buf):
        METER.start()
        n = min(len(buf), len(self.view) - self.pos)
        _copy(buf, 0, self.view, self.pos, n)
        self.pos += n
        METER.stop()
        return n

    def read(self, n=-1):
        METER.start()
        end = len(self.view) if n < 0 else min(self.pos + n, len(self.view))
        data = bytes(self.view[self.pos : end])
        self.pos = end
        METER.stop()
        return data

    def seek(self, offset, whence=0):
        if whence == 1:
            offset += self.pos
        elif whence == 2:
            offset += len(self.view)
        self.pos = offset
        return offset

    def ioctl(self, req, arg):
        return 0
