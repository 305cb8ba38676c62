"""MicroPython side of tests/test_pacing.py: a fake clock for qsota.send's driver and fake
lines with a receiver at the far end, so that waits and stalls are checked without waiting.

    clock = Clock()
    clock.install()                      # qsota.clock's ticks/sleep now run on `clock`
    line = YmodemLine(clock, baud=115200)  # or NativeLine, Stm32Line; blocking=True adds wait(ms)
    stats = qsota.send(line, path, baud=115200)
    clock.wakeups                        # sleeps + blocking waits the driver made

A line carries each written byte for 10 bit times (8N1; 11 for the ROM bootloader's 8E1) after
the previous one; the receiver
reads whole frames and its answers arrive, byte after byte at the same rate, `delay_us`
after the frame's last byte (`header_delay_us` for what needs an erase first: YMODEM's
header, the native OPEN). `take` caps how many bytes one write() takes (short writes);
`stop_after` is the number of bytes after which writes take nothing (returning `stuck`:
None or 0).
"""

import qsota.clock
from qsota.pure import native

SOH, STX, EOT, ACK, C = 1, 2, 4, 6, 0x43
ROM_ACK = 0x79  # AN3155's ACK


class Clock:
    def __init__(self):
        self.us = 0
        self.wakeups = 0

    def ticks_ms(self):
        return self.us // 1000

    def ticks_diff(self, a, b):
        return a - b

    def sleep_us(self, us):
        self.wakeups += 1
        self.us += max(us, 0)

    def install(self):
        qsota.clock.ticks_ms = self.ticks_ms
        qsota.clock.ticks_diff = self.ticks_diff
        qsota.clock.sleep_us = self.sleep_us


class Line:
    """The module's end of the line; subclasses answer frames (`frame_length`, `answer`)."""

    def __init__(self, clock, baud, delay_us=4000, header_delay_us=2000000, take=None,
                 stop_after=None, stuck=None, blocking=False, bits=10):
        self.clock = clock
        self.byte_us = bits * 1000000 // baud
        self.delay_us = delay_us
        self.header_delay_us = header_delay_us
        self.take = take
        self.stop_after = stop_after
        self.stuck = stuck
        self.written = 0
        self.stuck_at = None  # when a write first took nothing (us)
        self.line_free = 0  # when the last written byte has left (us)
        self.rx = bytearray()  # what the receiver has of the current frame
        self.replies = []  # [arrival us, byte], in order
        self.frames = 0
        if blocking:
            self.wait = self._wait

    def write(self, buf):
        n = len(buf)
        if self.take is not None:
            n = min(n, self.take)
        if self.stop_after is not None:
            n = min(n, self.stop_after - self.written)
            if n <= 0:
                if self.stuck_at is None:
                    self.stuck_at = self.clock.us
                return self.stuck
        start = max(self.clock.us, self.line_free)
        for i in range(n):
            self.rx.append(buf[i])
            self.line_free = start + (i + 1) * self.byte_us
            want = self.frame_length(self.rx)
            if want and len(self.rx) >= want:
                self.frames += 1
                frame, self.rx = bytes(self.rx[:want]), self.rx[want:]
                reply, header = self.answer(frame)
                if header and self.replies and self.replies[-1][0] > self.line_free:
                    continue  # busy erasing: what comes in meanwhile is lost
                at = self.line_free + (self.header_delay_us if header else self.delay_us)
                for b in reply:
                    at += self.byte_us
                    self.replies.append([at, b])
        self.written += n
        return n

    def any(self):
        now = self.clock.us
        k = 0
        for at, _ in self.replies:
            if at > now:
                break
            k += 1
        return k

    def readinto(self, buf, nbytes=None):
        k = min(self.any(), len(buf) if nbytes is None else nbytes)
        for i in range(k):
            buf[i] = self.replies[i][1]
        del self.replies[:k]
        return k or None

    def _wait(self, timeout_ms):
        """A blocking wait: returns when a reply byte has arrived or after timeout_ms."""
        self.clock.wakeups += 1
        end = self.clock.us + timeout_ms * 1000
        if self.replies:
            end = min(end, max(self.replies[0][0], self.clock.us))
        self.clock.us = end


class YmodemLine(Line):
    """A spec YMODEM receiver: 'C' to start, ACK + 'C' for the header, ACK per block, ACK +
    'C' for EOT, ACK for the null block."""

    def __init__(self, clock, baud, **kw):
        super().__init__(clock, baud, **kw)
        self.replies.append([0, C])
        self.header = True

    def frame_length(self, rx):
        if not rx:
            return 0
        return {SOH: 133, STX: 1029, EOT: 1}.get(rx[0], 1)

    def answer(self, frame):
        if frame[0] == EOT:
            self.header = True  # the null block 0 follows
            return bytes([ACK, C]), False
        if frame[0] in (SOH, STX) and frame[1] == 0 and self.header:
            self.header = False
            if frame[3] == 0:  # the null block: the session ends
                return bytes([ACK]), False
            return bytes([ACK, C]), True
        return bytes([ACK]), False


def _le(v, n=4):
    return bytes((v >> (8 * i)) & 255 for i in range(n))


def _answer(kind, payload):
    f = bytearray(64)
    f[6 : 6 + len(payload)] = payload
    return bytes(f[: native._seal(f, kind, len(payload), {})])


class NativeLine(Line):
    """A native-protocol receiver (docs/protocol.md) with a window of `window` frames: ACCEPT
    for OPEN (after the erase), a cumulative ACK per DATA frame, DONE for COMMIT."""

    def __init__(self, clock, baud, window=4, **kw):
        super().__init__(clock, baud, **kw)
        self.window = window
        self.size = 0

    def frame_length(self, rx):
        return 10 + (rx[3] | rx[4] << 8) if len(rx) >= 6 else 0

    def answer(self, frame):
        kind = frame[2]
        if kind == 0x01:  # OPEN: version, flags, size, ...
            self.size = frame[8] | frame[9] << 8 | frame[10] << 16 | frame[11] << 24
            accept = b"\x01\x00" + _le(1024, 2) + _le(self.window, 2) + _le(5, 2) + _le(0)
            return _answer(0x81, accept), True
        if kind == 0x02:  # DATA: offset, bytes
            offset = frame[6] | frame[7] << 8 | frame[8] << 16 | frame[9] << 24
            return _answer(0x82, _le(offset + len(frame) - 14)), False
        return _answer(0x84, _le(self.size)), False


class Stm32Line(Line):
    """ST's ROM bootloader (AN3155) of an STM32F407 (PID 0x413) at 8E1: Get, Get ID, Extended
    Erase (`header_delay_us` a sector), Write Memory, Read Memory and Go. The whole answer to
    a frame comes after it, as qsota's sender sends a command with its address in one frame."""

    def __init__(self, clock, baud, **kw):
        super().__init__(clock, baud, bits=11, **kw)
        self.flash = bytearray(b"\xff" * (64 << 10))
        self.next = None  # (command, flash offset) whose data or length frame comes next

    def frame_length(self, rx):
        if self.next is not None:
            return rx[0] + 3 if self.next[0] == 0x31 else 2
        if rx[0] == 0x7F:
            return 1
        if rx[0] in (0x00, 0x02):
            return 2
        if rx[0] == 0x44:
            return 5 + 2 * ((rx[2] << 8 | rx[3]) + 1) if len(rx) >= 4 else 0
        return 7  # Write, Read, Go: the command and its address

    def answer(self, frame):
        if self.next is not None:
            cmd, at = self.next
            self.next = None
            n = frame[0] + 1
            if cmd == 0x31:
                self.flash[at : at + n] = frame[1 : 1 + n]
                return bytes([ROM_ACK]), False
            return bytes([ROM_ACK]) + bytes(self.flash[at : at + n]), False
        cmd = frame[0]
        if cmd == 0x7F:
            return bytes([ROM_ACK]), False
        if cmd == 0x00:
            return bytes([ROM_ACK, 6, 0x31, 0x00, 0x02, 0x11, 0x21, 0x31, 0x44, ROM_ACK]), False
        if cmd == 0x02:
            return bytes([ROM_ACK, 1, 0x04, 0x13, ROM_ACK]), False
        if cmd == 0x44:
            return bytes([ROM_ACK, ROM_ACK]), True
        if cmd in (0x11, 0x31):
            at = (frame[2] << 24 | frame[3] << 16 | frame[4] << 8 | frame[5]) - 0x08000000
            self.next = (cmd, at)
        return bytes([ROM_ACK, ROM_ACK]), False
