"""qsota.pure.native: `_qsota.NativeSender` in Python, for firmware without the C module.

A line-for-line port of the Rust sender (src/native/sender.rs; the protocol is docs/protocol.md):
same frames, same decisions, same error messages. The tests compare both backends.
"""

try:
    from array import array
except ImportError:
    from uarray import array

try:
    from binascii import crc32 as _crc32
except ImportError:
    try:
        from ubinascii import crc32 as _crc32  # MicroPython 1.13 without weak links
    except ImportError:  # crc32 is optional in (u)binascii
        _crc32 = None

try:
    from struct import pack_into as _pack_into
except ImportError:
    from ustruct import pack_into as _pack_into

from ..codes import DIGEST, DONE, SEND
from ..rules import NATIVE
from .args import parse
from .sender import Sender, _after, _now, _provided, _reached, _received, _taken
from . import crc32 as _crc

_SYNC0 = 0xA5
_SYNC1 = 0x5A
_HEADER = 6
_OVERHEAD = 10
_DATA_AT = 10
_MAX_PAYLOAD = 1024
_FRAME_SIZE = _OVERHEAD + 4 + _MAX_PAYLOAD
_RX_BUF = 64
_VERSION = 1
# OPEN's flag: the 32 bytes name the image by the sender's identity, COMMIT carries the
# SHA-256 (an image checked at its end only: a stream).
_DIGEST_AT_COMMIT = 0x02
# A deferred image's final check (DIGEST), step by step (`_final`).
_FINAL_NONE = 0  # none to ask for: not deferred, or the SHA-256 is kept (`_digest`)
_FINAL_DUE = 1  # asked for once every byte is acknowledged
_FINAL_OUT = 2  # DIGEST is out: `provide` takes its answer
_FINAL_IN = 3  # the SHA-256 is in the frame, to be kept for COMMIT and its repeats

_OPEN = 0x01
_DATA = 0x02
_COMMIT = 0x03
_ABORT = 0x04
_ACCEPT = 0x81
_ACK = 0x82
_NAK = 0x83
_DONE_KIND = 0x84
_ERROR = 0x85

_E_NOT_OPEN = 5
_E_STATE = 6

# OPEN's flag: the image is a delta package the receiver applies (docs/protocol.md).
_DELTA = 1
# OPEN's flag: the receiver checks the image's signature before it commits it.
_SIGNED = 4

# The adaptive timer's smallest margin over the smoothed round trip (src/native/sender.rs).
_GRANULARITY_MS = 2

_OPENING = 0
_SENDING = 1
_COMMITTING = 2
_FINISHED = 3
_FAILED = 4


def _crc8_table():
    """CRC-8 (poly 0x07) of each byte, for the header check."""
    t = array("B", bytes(256))
    for i in range(256):
        c = i
        for _ in range(8):
            c = ((c << 1) ^ 0x07) & 0xFF if c & 0x80 else (c << 1) & 0xFF
        t[i] = c
    return t


_CRC8 = _crc8_table()


# A frame's CRC-32, little-endian, as the last `_crc_of` computed it. A 32-bit int is a long
# int on a 31-bit port (the module's) once it reaches 2**30, and each operation on one
# allocates: so the CRC goes from binascii's result straight into bytes (`pack_into`: the
# one long int is binascii's own), and the pure loop's state is never joined into one int.
_CRC = bytearray(4)
_STATE = [0, 0]


def _crc_of(buf, start, end, views):
    """Puts the CRC-32/ISO-HDLC (check value 0xCBF43926) of buf[start:end] into _CRC, by
    binascii's crc32 where the port has it. `views` (a dict the caller keeps per buffer)
    holds the memoryview of each span, so that framing makes no view per block."""
    v = views.get(start * 65536 + end)
    if v is None:
        v = views[start * 65536 + end] = memoryview(buf)[start:end]
    if _crc32:
        _pack_into("<I", _CRC, 0, _crc32(v))
    else:
        _crc_pure(v)


def _crc_pure(v):
    """_crc_of without binascii (apart: its locals would put _crc_of's frame on the heap)."""
    s = _STATE
    _crc.reset(s)
    _crc.run(_crc.table(_crc.ISO_HDLC), s, v)
    _crc.put_iso_hdlc(s, _CRC, 0)


def _crc_is(buf, at):
    """Whether buf[at:at + 4] holds _CRC."""
    c = _CRC
    return c[0] == buf[at] and c[1] == buf[at + 1] and c[2] == buf[at + 2] and c[3] == buf[at + 3]


def _crc8(a, b, c):
    t = _CRC8
    return t[t[t[a] ^ b] ^ c]


def _u32(buf, at):
    return buf[at] | buf[at + 1] << 8 | buf[at + 2] << 16 | buf[at + 3] << 24


def _put32(buf, at, v):
    buf[at] = v & 0xFF
    buf[at + 1] = (v >> 8) & 0xFF
    buf[at + 2] = (v >> 16) & 0xFF
    buf[at + 3] = (v >> 24) & 0xFF


def _put(buf, at, data):
    """Copies `data` into buf[at:]; returns the index after it."""
    for b in data:
        buf[at] = b
        at += 1
    return at


def _seal(frame, kind, n, views):
    """Frames the `n` payload bytes at frame[6:]; returns the frame's length."""
    frame[0] = _SYNC0
    frame[1] = _SYNC1
    frame[2] = kind
    frame[3] = n & 0xFF
    frame[4] = n >> 8
    frame[5] = _crc8(kind, n & 0xFF, n >> 8)
    _crc_of(frame, 2, _HEADER + n, views)
    _put(frame, _HEADER + n, _CRC)
    return _OVERHEAD + n


class _Parser:
    """The streaming frame parser of src/native/frame.rs, for the receiver's short answers."""

    def __init__(self):
        self.buf = bytearray(_RX_BUF)
        self.len = 0
        self.ready = 0
        self.views = {}

    def feed(self, data, at, n):
        """Takes bytes from data[at:n] until a frame is ready (then `ready` is its length);
        returns where it stopped."""
        buf = self.buf
        if self.ready:
            self._shift(self.ready)
            self.ready = 0
        while True:
            need = self._check()
            if need == 0:
                return at
            if need < 0:
                self._resync()
                continue
            if at >= n:
                return at
            if self.len == 0:
                while at < n and data[at] != _SYNC0:
                    at += 1
                if at >= n:
                    return at
            take = min(need, n - at)
            k = self.len
            for i in range(take):
                buf[k + i] = data[at + i]
            self.len += take
            at += take

    def _check(self):
        """0: a frame is ready; -1: no frame starts at byte 0; else bytes still needed."""
        b = self.buf
        n = self.len
        if n < 1:
            return 1
        if b[0] != _SYNC0:
            return -1
        if n < 2:
            return 1
        if b[1] != _SYNC1:
            return -1
        if n < _HEADER:
            return _HEADER - n
        plen = b[3] | b[4] << 8
        total = _OVERHEAD + plen
        if b[5] != _crc8(b[2], b[3], b[4]) or total > _RX_BUF:
            return -1
        if n < total:
            return total - n
        _crc_of(b, 2, total - 4, self.views)
        if not _crc_is(b, total - 4):
            return -1
        self.ready = total
        return 0

    def _resync(self):
        b = self.buf
        i = 1
        while i < self.len and b[i] != _SYNC0:
            i += 1
        self._shift(i)

    def _shift(self, k):
        b = self.buf
        for i in range(self.len - k):
            b[i] = b[k + i]
        self.len -= k


def _frame_ms(payload, baud):
    """A DATA frame of `payload` bytes on an 8N1 line at `baud` (0: unknown, 0), rounded up."""
    if not baud:
        return 0
    return ((payload + _OVERHEAD + 4) * 10000 + baud - 1) // baud


class NativeSender(Sender):
    """A sans-IO sender of the native protocol for one image (see qsota.transfer)."""

    def __init__(self, *args, **kw):
        (size, sha256, component, version, rto_ms, open_timeout_ms, retries, baud, deferred,
         delta, require_signature) = parse(NATIVE, args, kw)
        if delta:
            from .delta import DeltaError, describe

            try:
                delta = describe(delta)
            except DeltaError as e:
                raise ValueError("delta: %s" % e)
        super().__init__(retries)
        self._size = size
        # What OPEN says besides the size and its flags (one attribute: MicroPython fills an
        # instance's table of attributes before it grows it, and every method call on the
        # sender first misses in that table; the fewer attributes, the shorter the miss).
        self._open = (sha256, component, version, delta or None)
        # OPEN's flags byte.
        self._flags = ((_DIGEST_AT_COMMIT if deferred and not delta else 0)
                       | (_DELTA if delta else 0)
                       | (_SIGNED if require_signature else 0))
        # A deferred package goes with DELTA alone (the receiver checks its target against
        # OPEN's digest): COMMIT still waits for DIGEST, and carries nothing.
        self._final = _FINAL_DUE if deferred else _FINAL_NONE
        self._digest = None  # COMMIT's SHA-256 (DIGEST_AT_COMMIT)
        self._rto_opt = rto_ms
        self._open_timeout = open_timeout_ms
        self._parser = _Parser()
        self._phase = _OPENING
        self._payload = 0
        self._window = 0
        self._rto = 1000
        # The adaptive timer (rto_ms 0), as the Rust `Rtt`: SRTT x 8, RTTVAR x 4, the frame
        # being timed (its end offset, -1: none, and when it went out), its bounds.
        self._adaptive = rto_ms == 0
        self._baud = baud
        self._srtt8 = 0
        self._rttvar4 = 0
        self._sampled = False
        self._timing_end = -1
        self._timing_sent = 0
        self._rto_floor = 0
        self._rto_max = 0
        self._acked = 0
        self._next = 0
        self._high = 0
        self._send = True
        self._abort_pending = False
        self._opened = False
        self._s_resumed = 0
        self._s_resent = 0
        self._s_reopens = 0
        self._s_error = 0
        self._frame = None  # the frame buffer last framed in, and its CRC views
        self._views = {}
        self.frame_size = _FRAME_SIZE

    @property
    def block(self):
        return self._acked // _MAX_PAYLOAD

    def stats(self):
        return self._stats(
            resumed_from=self._s_resumed,
            resent_bytes=self._s_resent,
            reopens=self._s_reopens,
            window=self._window,
            payload=self._payload,
            receiver_error=self._s_error,
            rto_ms=self._rto,
        )

    def _fail_with(self, code):
        self._abort_pending = code != "rejected"
        self._phase = _FAILED
        self._fail = code
        self._reading = -1
        self._filled = -1

    def _retry(self):
        if self._adaptive and self._opened:
            self._timing_end = -1
            self._rto = min(self._rto * 2, self._rto_max)
        if super()._retry() and self._phase == _SENDING:
            self._phase = _OPENING

    def _go_back(self, to):
        self._next = to
        self._filled = -1
        if self._timing_end > to:
            self._timing_end = -1  # the timed frame goes out again

    def _sample(self, r):
        """A round trip of `r` ms (RFC 6298, as the Rust `Rtt::sample`); sets the timeout."""
        r = min(r, self._rto_max)
        if self._sampled:
            srtt8 = self._srtt8
            err = abs(r - (srtt8 >> 3))
            self._srtt8 = srtt8 - (srtt8 >> 3) + r
            self._rttvar4 = self._rttvar4 - (self._rttvar4 >> 2) + err
        else:
            self._srtt8 = r << 3
            self._rttvar4 = r << 1
            self._sampled = True
        rto = (self._srtt8 >> 3) + max(self._rttvar4, _GRANULARITY_MS)
        self._rto = min(max(rto, self._rto_floor), self._rto_max)

    def _reopen(self):
        self._s_reopens += 1
        self._phase = _OPENING
        self._retry()

    def receive(self, now_ms, data, n=None):
        now_ms = _now(now_ms)
        data = _received(data)
        n = _taken(data, n)
        parser = self._parser
        at = 0
        # Until the parser wants more: after a resync, frames can wait in its buffer.
        while True:
            at = parser.feed(data, at, n)
            if not parser.ready:
                break
            self._answer(now_ms, parser.buf[2], parser.buf, parser.ready - _OVERHEAD)

    def _answer(self, now_ms, kind, buf, plen):
        phase = self._phase
        if phase == _FINISHED or phase == _FAILED:
            return
        p = _HEADER
        offset = _u32(buf, p) if plen >= 4 else None
        if phase == _OPENING and kind == _ACCEPT:
            self._accept(now_ms, buf, plen)
        elif phase == _SENDING and kind == _ACK:
            if offset is not None and self._acked < offset <= self._high:
                self._progress(now_ms, offset)
        elif phase == _SENDING and kind == _NAK:
            if offset is not None and self._acked <= offset <= self._high:
                self._progress(now_ms, offset)
                if self._next > offset:
                    self._s_retries += 1
                    self._go_back(offset)
        elif phase == _COMMITTING and kind == _DONE_KIND and offset == self._size:
            self._heard = True
            self._phase = _FINISHED
        elif kind == _ERROR:
            code = buf[p] if plen >= 1 else 0
            self._heard = True
            if code == _E_NOT_OPEN and (phase == _SENDING or phase == _COMMITTING):
                self._reopen()
                return
            self._s_error = code
            # NOT_OPEN while opening is stale: the answer to DATA sent before the reset.
            if code != _E_NOT_OPEN:
                self._fail_with("protocol" if code == _E_STATE else "rejected")

    def _accept(self, now_ms, buf, plen):
        p = _HEADER
        if plen < 12 or buf[p] != _VERSION:
            self._fail_with("protocol")
            return
        payload = buf[p + 2] | buf[p + 3] << 8
        window = buf[p + 4] | buf[p + 5] << 8
        busy = buf[p + 6] | buf[p + 7] << 8
        resume = _u32(buf, p + 8)
        if payload == 0 or window == 0 or resume > self._size:
            self._fail_with("protocol")
            return
        self._heard = True
        if not self._opened:
            self._s_resumed = resume
        self._payload = min(payload, _MAX_PAYLOAD)
        self._window = window
        if not self._adaptive:
            self._rto = self._rto_opt
        else:
            self._rto_max = busy + 1000
            self._rto_floor = min(_frame_ms(self._payload, self._baud), self._rto_max)
            if not self._sampled:
                self._rto = self._rto_max
        self._phase = _SENDING
        if resume > self._acked or self._s_bytes == 0:
            self._tries = 0
        self._acked = resume
        self._high = max(self._high, resume)
        self._go_back(resume)
        self._s_bytes = resume
        self._opened = True
        self._deadline = _after(now_ms, self._rto)

    def _progress(self, now_ms, n):
        self._heard = True
        if self._adaptive and 0 <= self._timing_end <= n:
            self._timing_end = -1
            r = now_ms - self._timing_sent
            self._sample(r if r >= 0 else r + 0x100000000)
        if n > self._acked:
            self._acked = n
            self._s_bytes = n
            self._tries = 0
            self._deadline = _after(now_ms, self._rto)
            if self._next < n:
                self._go_back(n)

    def _poll(self, now_ms, frame):
        while True:
            phase = self._phase
            if phase == _FAILED:
                if self._abort_pending and len(frame) > _OVERHEAD:
                    self._abort_pending = False
                    frame[_HEADER] = 0
                    return self._emit(frame, _ABORT, 1)
                return self._failed()
            if phase == _FINISHED:
                return DONE
            if len(frame) < _FRAME_SIZE or self._reading >= 0 or self._final == _FINAL_OUT:
                self._fail_with("usage")
                continue
            if phase == _OPENING:
                action = self._poll_open(now_ms, frame)
            elif phase == _SENDING:
                action = self._poll_data(now_ms, frame)
            else:
                action = self._poll_commit(now_ms, frame)
            if action:
                return action

    def _poll_open(self, now_ms, frame):
        if self._started is None:
            self._started = now_ms
        if self._send:
            self._send = False
            self._deadline = _after(now_ms, self._rto)
            return self._emit(frame, _OPEN, self._open_payload(frame))
        if not self._opened and _reached(now_ms, _after(self._started, self._open_timeout)):
            self._fail_with("retries" if self._heard else "timeout")
            return 0
        if _reached(now_ms, self._deadline):
            # The first OPEN waits out open_timeout_ms (the MCU may be booting); later ones
            # count as retries.
            if self._opened:
                self._retry()
            else:
                self._s_retries += 1
                self._send = True
            return 0
        return self._wait(self._deadline)

    def _poll_data(self, now_ms, frame):
        if self._filled >= 0:
            return self._data_frame(now_ms, frame)
        if self._acked == self._size:
            self._phase = _COMMITTING
            self._send = True
            self._tries = 0
            return 0
        if _reached(now_ms, self._deadline):
            self._retry()
            return 0
        if self._next < self._size and self._next - self._acked < self._window * self._payload:
            n = min(self._size - self._next, self._payload)
            return self._read(self._next, self._next, _DATA_AT, n)
        return self._wait(self._deadline)

    def _data_frame(self, now_ms, frame):
        """DATA with the block just read (a method of its own: with _poll_data's locals its
        frame would be on the heap)."""
        offset = self._filled
        end = offset + self._read_len
        self._filled = -1
        _put32(frame, _HEADER, offset)
        if self._adaptive and self._timing_end < 0 and end > self._high:
            self._timing_end = end
            self._timing_sent = now_ms
        self._s_frames += 1
        if self._high > offset:  # resent: what of it went before
            self._s_resent += min(self._high, end) - offset
        self._high = max(self._high, end)
        self._next = end
        return self._emit(frame, _DATA, 4 + end - offset)

    def _poll_commit(self, now_ms, frame):
        if self._send:
            if self._final == _FINAL_DUE:
                # Asked once, when every byte is acknowledged; kept for COMMIT's repeats.
                self._final = _FINAL_OUT
                self.at = _HEADER
                return DIGEST
            if self._final == _FINAL_IN:
                self._final = _FINAL_NONE
                self._digest = bytes(frame[_HEADER : _HEADER + 32])
            self._send = False
            # The answer waits for the read-back of the whole image: the longest timeout.
            self._deadline = _after(now_ms, self._rto_max if self._adaptive else self._rto)
            n = 0
            if self._flags & _DIGEST_AT_COMMIT:
                n = _put(frame, _HEADER, self._digest) - _HEADER
            return self._emit(frame, _COMMIT, n)
        if _reached(now_ms, self._deadline):
            self._retry()
            return 0
        return self._wait(self._deadline)

    def _open_payload(self, frame):
        p = _HEADER
        sha, comp, ver, d = self._open
        frame[p] = _VERSION
        frame[p + 1] = self._flags
        _put32(frame, p + 2, self._size)
        # Byte by byte: the frame is the driver's memoryview, and slice assignment into one
        # is optional in MicroPython (as in qsota.pure.ymodem).
        at = _put(frame, p + 6, sha)
        frame[at] = len(comp)
        at = _put(frame, at + 1, comp)
        frame[at] = len(ver)
        at = _put(frame, at + 1, ver)
        if d is not None:
            base_size, base_sha, target_size, target_digest = d
            _put32(frame, at, base_size)
            at = _put(frame, at + 4, base_sha)
            _put32(frame, at, target_size)
            at = _put(frame, at + 4, target_digest)
        return at - p

    def provide(self, n):
        if self._final != _FINAL_OUT:
            return super().provide(n)
        _provided(n)
        self._final = _FINAL_IN if n == 32 else _FINAL_DUE
        if n < 32:
            self._fail_with("source")  # the image failed its check
        elif n > 32:
            self._fail_with("usage")

    def _emit(self, frame, kind, n):
        if frame is not self._frame:
            self._frame = frame
            self._views = {}
        n = _seal(frame, kind, n, self._views)
        self._s_line += n
        self.length = n
        return SEND
