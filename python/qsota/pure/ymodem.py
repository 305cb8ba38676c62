"""qsota.pure.ymodem: `_qsota.YmodemSender` in Python, for firmware without the C module.

A line-for-line port of the Rust sender (src/ymodem.rs, whose module doc explains the
lost-ACK recovery): same frames, same decisions, same error messages. The tests compare the
frames of both backends byte for byte.
"""

from ..codes import DIGEST, DONE, SEND
from ..rules import YMODEM
from .args import parse
from .crc16 import crc16
from .sender import Sender, _after, _reached

_SOH = 0x01
_STX = 0x02
_EOT = 0x04
_ACK = 0x06
_NAK = 0x15
_CAN = 0x18
_C = 0x43
_PAD = 0x1A
_OVERHEAD = 5
_DATA_AT = 3
_CANCEL = 5
_MAX_AHEAD = 2
_NULL_TRIES = 3
_NULL_WAIT_MS = 1500  # src/ymodem/mod.rs NULL_WAIT_MS: longer than XMODEM's 1 s purge
_QUIET_MS = 20
# src/ymodem.rs PACKET_BUDGET_MS: the longest a packet may take on the wire at a known baud.
_PACKET_BUDGET_MS = 750
# What `_reading` and `_filled` hold for a deferred image's final check (no block has it;
# a small int on a 32-bit port).
_CHECK = 0x3FFFFFFF

# Phases (src/ymodem.rs `Phase`).
_START = 0
_BLOCK = 1
_DATA_START = 2
_EOT_SENT = 3
_END_GAP = 4
_NULL = 5
_DONE = 6
_FAILED = 7


class YmodemSender(Sender):
    """A sans-IO YMODEM sender for one file of `size` bytes (see qsota.transfer)."""

    def __init__(self, *args, **kw):
        (name, size, block_size, timeout_ms, header_timeout_ms, start_timeout_ms, end_gap_ms,
         retries, baud, deferred) = parse(YMODEM, args, kw)
        super().__init__(retries)
        if baud and (block_size + _OVERHEAD) * 10000 > _PACKET_BUDGET_MS * baud:
            block_size = 128  # a 1K packet would outlast the receiver's packet timeout
        self._name = name
        self._size = size
        self._bs = block_size
        self._timeout = timeout_ms
        self._header_timeout = header_timeout_ms
        self._start_timeout = start_timeout_ms
        self._end_gap = end_gap_ms
        self._baud = baud
        self._blocks = (size + block_size - 1) // block_size
        self._size_text = b"%d" % size
        header = len(name) + 1 + len(self._size_text)
        self.frame_size = 1024 + _OVERHEAD if block_size == 1024 or header > 128 else 128 + _OVERHEAD
        self._phase = _START
        self._cur = 0
        self._send = False
        self._quiet_until = None
        self._framed = -1
        self._maybe = False
        self._ahead = 0
        self._can = False
        self._zero_ack = False
        self._cancel_pending = False
        self._s_blocks = 0
        # A deferred image (a stream) passes its final check before EOT (DIGEST).
        self._checked = not deferred
        self._frame = None  # the buffer _views are of
        self._views = None

    @property
    def block(self):
        return self._cur

    def stats(self):
        return self._stats(
            blocks=self._s_blocks,
        )

    def _fail_with(self, code):
        self._cancel_pending = code != "cancelled"
        self._phase = _FAILED
        self._halt(code)

    def _step(self, phase):
        self._phase = phase
        self._tries = 0
        self._heard = False
        self._maybe = False
        self._ahead = 0
        self._send = True

    def _confirm(self):
        data = min(self._cur, self._blocks)
        self._s_blocks = data
        self._s_bytes = min(data * self._bs, self._size)
        if self._cur >= self._blocks and not (self._cur == 0 and self._blocks == 0):
            self._step(_EOT_SENT)
        elif self._cur == 0:
            self._step(_DATA_START)
            self._send = False
        else:
            self._cur += 1
            self._step(_BLOCK)

    def _first_data(self):
        self._cur = 1
        self._step(_BLOCK)
        if self._blocks == 0:
            self._step(_EOT_SENT)

    def _byte(self, now_ms, b):
        phase = self._phase
        if phase == _DONE or phase == _FAILED:
            return
        if b == _CAN:
            if self._can:
                self._fail_with("cancelled")
            self._can = True
            return
        self._can = False
        # A restarted receiver takes a data block numbered 0 for a header (src/ymodem.rs).
        zero_ack = self._zero_ack
        self._zero_ack = False
        if zero_ack and b == _C:
            self._fail_with("protocol")
            return
        if self._quiet_until is not None:
            self._quiet_until = _after(now_ms, _QUIET_MS)
            return
        if self._send or self._reading >= 0:
            return
        if phase == _START:
            if b == _C:
                self._cur = 0
                self._step(_BLOCK)
        elif phase == _BLOCK:
            if b == _ACK:
                cur = self._cur
                zero = 0 < cur <= self._blocks and cur % 256 == 0
                self._confirm()
                self._zero_ack = zero
            elif b == _NAK:
                self._heard = True
                self._nak()
                self._after_quiet(now_ms)
            elif b == _C:
                self._heard = True
                self._maybe = True
                self._retry()
                self._after_quiet(now_ms)
        elif phase == _DATA_START:
            if b == _C or b == _NAK:
                self._first_data()
        elif phase == _EOT_SENT:
            if b == _ACK:
                self._step(_END_GAP)
                self._send = False
                self._deadline = _after(now_ms, self._end_gap)
            elif b == _NAK and self._tries == 0 and not self._heard:
                self._heard = True
                self._send = True
            elif b == _NAK or b == _C:
                self._heard = True
                self._retry()
                self._after_quiet(now_ms)
        elif phase == _END_GAP:
            if b == _C:
                self._step(_NULL)
        elif phase == _NULL:
            if b == _ACK:
                self._phase = _DONE
            elif b == _NAK:
                self._heard = True
                self._retry()
                self._after_quiet(now_ms)
            elif b == _C:
                self._retry()

    def _after_quiet(self, now_ms):
        if self._send:
            self._send = False
            self._quiet_until = _after(now_ms, _QUIET_MS)

    def _nak(self):
        if self._maybe and self._ahead < _MAX_AHEAD:
            self._cur += 1
            self._ahead += 1
            self._maybe = False
        elif self._ahead > 0:
            self._cur -= 1
            self._ahead -= 1
            self._maybe = True
        self._retry()

    def _poll(self, now_ms, frame):
        if self._started is None:
            self._started = now_ms
        while True:
            if self._phase == _FAILED:
                if self._cancel_pending and len(frame) >= _CANCEL:
                    self._cancel_pending = False
                    for i in range(_CANCEL):
                        frame[i] = _CAN
                    self._s_line += _CANCEL
                    self.length = _CANCEL
                    return SEND
                return self._failed()
            if self._phase == _DONE:
                return DONE
            if len(frame) < self.frame_size or self._reading >= 0:
                self._fail_with("usage")
                continue
            if self._quiet_until is not None:
                if not _reached(now_ms, self._quiet_until):
                    return self._wait(self._quiet_until)
                self._quiet_until = None
                self._send = True
            if self._send:
                return self._transmit(now_ms, frame)
            deadline = self._deadline
            if self._phase == _START:
                deadline = _after(self._started, self._start_timeout)
            if not _reached(now_ms, deadline):
                return self._wait(deadline)
            phase = self._phase
            if phase == _START:
                self._fail_with("timeout")
            elif phase == _DATA_START:
                self._first_data()
            elif phase == _END_GAP:
                self._step(_NULL)
            elif phase == _NULL and not self._heard and self._tries + 1 >= _NULL_TRIES:
                self._phase = _DONE
            else:
                self._maybe = True
                self._retry()

    def _transmit(self, now_ms, frame):
        phase = self._phase
        cur = self._cur
        wait = self._timeout
        if phase == _BLOCK and cur == 0:
            self._framed = -1
            n = self._frame_header(frame)
            wait = self._header_timeout
        elif phase == _BLOCK and cur > self._blocks:
            self._framed = -1
            n = _frame_block(frame, cur, 0, 128, self._views_of(frame))
        elif phase == _BLOCK:
            bs = self._bs
            data = min(bs, self._size - (cur - 1) * bs)
            wire = 128 if data <= 128 else 1024
            if self._framed != cur:
                if self._filled != cur:
                    return self._read(cur, (cur - 1) * bs, _DATA_AT, data)
                self._filled = -1
                _frame_block(frame, cur, data, wire, self._views_of(frame))
                self._framed = cur
            n = wire + _OVERHEAD
        elif phase == _EOT_SENT:
            self._framed = -1
            if not self._checked:
                # Asked once, as the last block is confirmed (what `provide` reads).
                if self._filled != _CHECK:
                    self._reading = _CHECK
                    self._read_len = 32
                    self.at = 0
                    return DIGEST
                self._filled = -1
                self._checked = True
            frame[0] = _EOT
            n = 1
        else:
            self._framed = -1
            for i in range(_DATA_AT, _DATA_AT + 128):
                frame[i] = 0
            n = _frame_block(frame, 0, 128, 128, self._views_of(frame))
            wait = min(wait, _NULL_WAIT_MS)
        self._send = False
        self._s_frames += 1
        self._s_line += n
        if self._baud:
            wait += (n * 10000 + self._baud - 1) // self._baud
        self._deadline = _after(now_ms, wait)
        self.length = n
        return SEND

    def _frame_header(self, frame):
        name = self._name
        text = self._size_text
        wire = 128 if len(name) + 1 + len(text) <= 128 else 1024
        for i in range(_DATA_AT, _DATA_AT + wire):
            frame[i] = 0
        # Byte by byte: slice assignment into a memoryview is optional in MicroPython.
        at = _DATA_AT
        for b in name:
            frame[at] = b
            at += 1
        at += 1
        for b in text:
            frame[at] = b
            at += 1
        return _frame_block(frame, 0, wire, wire, self._views_of(frame))

    def _views_of(self, frame):
        """crc16's views of `frame` (the driver passes the same buffer to every poll)."""
        if frame is not self._frame:
            self._frame = frame
            self._views = {}
        return self._views


def _frame_block(frame, number, data, wire, views=None):
    """Completes a block in place (see src/ymodem.rs `frame_block`)."""
    n = number & 0xFF
    frame[0] = _SOH if wire == 128 else _STX
    frame[1] = n
    frame[2] = n ^ 0xFF
    for i in range(_DATA_AT + data, _DATA_AT + wire):
        frame[i] = _PAD
    crc = crc16(frame, _DATA_AT, _DATA_AT + wire, views)
    frame[_DATA_AT + wire] = crc >> 8
    frame[_DATA_AT + wire + 1] = crc & 0xFF
    return wire + _OVERHEAD
