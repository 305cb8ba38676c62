"""Test doubles for the ARM benchmarks: fake MCUs (each is the port qsota.send writes to,
answers every frame at once and keeps the answers until they are read), a fake socket module
for qsota.http with one server file, and a fake Qth. What they do (C on a module: the UART,
the modem's TCP) is metered by insn.METER and taken off the measurements. They check nothing
but what they must read to answer: the tests check the protocols.
"""

import binascii
import io
import struct

import uctypes
from insn import METER


ACK, NAK, C, EOT = 6, 0x15, 0x43, 4


class Fake:
    def __init__(self):
        self.out = bytearray(512)  # answers, read from self.r to self.n
        self.r = self.n = 0

    def put(self, data):
        self.out[self.n : self.n + len(data)] = data
        self.n += len(data)

    def write(self, buf):
        with METER:
            self.frame(buf)
            return len(buf)

    def any(self):
        with METER:
            return self.n - self.r

    def readinto(self, buf, k=None):
        with METER:
            k = min(self.n - self.r, len(buf) if k is None else k)
            buf[0:k] = self.out[self.r : self.r + k]
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


def _crc8(data):
    c = 0
    for b in data:
        c ^= b
        for _ in range(8):
            c = ((c << 1) ^ 0x07) & 0xFF if c & 0x80 else (c << 1) & 0xFF
    return c


def _native_frame(kind, payload):
    """A frame of the native protocol: sync, kind, length, CRC-8, payload, CRC-32."""
    head = bytes((kind, len(payload) & 0xFF, len(payload) >> 8))
    covered = head + bytes((_crc8(head),)) + payload
    return b"\xa5\x5a" + covered + struct.pack("<I", binascii.crc32(covered))


class Native(Fake):
    """The native protocol's receiver (docs/protocol.md): ACCEPT for OPEN, a cumulative ACK
    for each DATA frame, DONE for COMMIT."""

    def frame(self, buf):
        kind = buf[2]
        if kind == 0x01:
            self.size = buf[8] | buf[9] << 8 | buf[10] << 16 | buf[11] << 24
            self.put(_native_frame(0x81, struct.pack("<BBHHHI", 1, 0, 1024, 4, 5, 0)))
        elif kind == 0x02:
            off = buf[6] | buf[7] << 8 | buf[8] << 16 | buf[9] << 24
            self.put(_native_frame(0x82, struct.pack("<I", off + (buf[3] | buf[4] << 8) - 4)))
        else:
            self.put(_native_frame(0x84, struct.pack("<I", self.size)))


class Stm32(Fake):
    """ST's ROM bootloader (AN3155) of an STM32F407: Get, Get ID, Extended Erase, Write and
    Read Memory (into a flash in spare board RAM), Go. qsota's sender writes a command with
    its address as one frame."""

    def __init__(self):
        super().__init__()
        self.flash = uctypes.bytearray_at(0x12000000, 1 << 20)
        self.next = None  # (command, flash offset) whose data or length frame comes next

    def frame(self, buf):
        ok = b"\x79"
        if self.next is not None:
            cmd, at = self.next
            self.next = None
            n = buf[0] + 1
            if cmd == 0x31:
                # Into a view of just those bytes: a slice assignment into the whole flash
                # would move the megabyte after them (MicroPython moves the tail).
                memoryview(self.flash)[at : at + n][:] = buf[1 : 1 + n]
                self.put(ok)
            else:
                self.put(ok)
                self.put(self.flash[at : at + n])
            return
        cmd = buf[0]
        if cmd == 0x7F:
            self.put(ok)
        elif cmd == 0x00:
            self.put(b"\x79\x06\x31\x00\x02\x11\x21\x31\x44\x79")
        elif cmd == 0x02:
            self.put(b"\x79\x01\x04\x13\x79")
        else:
            if cmd in (0x11, 0x31):
                self.next = (cmd, (buf[2] << 24 | buf[3] << 16 | buf[4] << 8 | buf[5]) - 0x08000000)
            self.put(b"\x79\x79")


def _smp_answer(request, body):
    """The console lines of MCUboot's answer `body` (CBOR) to the SMP `request` header."""
    from qsota.pure import console

    n = console.HEADER + len(body)
    raw = n + console.WRAP
    e = console.encoded_len(raw)
    out = bytearray(e)
    at = e - raw + 2
    out[at : at + 8] = bytes((request[0] + 1, 0, len(body) >> 8, len(body) & 0xFF)) + request[4:8]
    out[at + 8 : at + n] = body
    return out[: console.encode(out, e, n)]


def _uint(v):
    from qsota.pure import cbor

    out = bytearray(9)
    return bytes(out[: cbor.head(out, 0, 0, v)])


class Mcuboot(Fake):
    """MCUboot in serial recovery (SMP over its console, buffer `buf_size`): params, each
    upload answered with the offset it now has, the image list with slot 0's `hash`."""

    def __init__(self, hash, buf_size=1024):
        from qsota.pure import cbor  # (not at import: the RAM benchmark imports this first)

        super().__init__()
        self.reader = cbor.Reader(b"")
        self.hash = hash
        self.buf_size = buf_size
        self.off = 0
        self.packet = bytearray()  # length, SMP packet, CRC-16

    def frame(self, data):
        for line in bytes(data).split(b"\n"):
            if line[:2] == b"\x06\x09":
                self.packet = bytearray()
            self.packet += binascii.a2b_base64(line[2:])
            p = self.packet
            if len(p) > 2 and len(p) - 2 >= p[0] << 8 | p[1]:
                self.answer(p, (p[0] << 8 | p[1]) - 2)
                self.packet = bytearray()

    def answer(self, buf, k):
        request = bytes(buf[2:10])
        group, ident = request[4] << 8 | request[5], request[7]
        if (group, ident) == (0, 6):  # params
            self.put(_smp_answer(request, b"\xa2\x68buf_size" + _uint(self.buf_size)
                                 + b"\x69buf_count\x01"))
        elif (group, ident) == (1, 0):  # the image list
            self.put(_smp_answer(request, b"\xa1\x66images\x81\xa3\x65image\x00\x64slot\x00"
                                 b"\x64hash\x58\x20" + self.hash))
        elif (group, ident) == (1, 1):  # upload
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
            self.put(_smp_answer(request, b"\xa2\x62rc\x00\x63off" + _uint(self.off)))
        else:
            self.put(_smp_answer(request, b"\xa0"))


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
        with METER:
            n = min(len(buf) if n is None else n, len(self.view) - self.pos)
            buf[0:n] = self.view[self.pos : self.pos + n]
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
        with METER:
            n = min(len(buf), len(self.view) - self.pos)
            buf[0:n] = self.view[self.pos : self.pos + n]
            self.pos += n
            return n

    def read(self, n=-1):
        with METER:
            end = len(self.view) if n < 0 else min(self.pos + n, len(self.view))
            data = bytes(self.view[self.pos : end])
            self.pos = end
            return data

    def seek(self, offset, whence=0):
        self.pos = offset + (0, self.pos, len(self.view))[whence]
        return self.pos

    def ioctl(self, req, arg):
        return 0
