"""qsota.pure.stm32: `_qsota.Stm32Sender` in Python, for firmware without the C module.

A line-for-line port of the Rust sender (src/stm32/mod.rs, whose module doc explains the
merged frames and the recovery): same frames, same decisions, same messages. The device
table and the reasons' texts are generated from the core (stm32_devices.py, qsota.codes).
"""

from ..codes import DONE, SEND, STM32_REASONS as REASONS
from ..rules import STM32
from .args import parse
from .sender import Sender, _after, _now, _provided, _reached, _received, _since, _taken
from .stm32_devices import PARTS

_ACK = 0x79
_NACK = 0x1F
_SYNC = 0x7F
_PROBE = 0x02
_GET = 0x00
_GET_ID = 0x02
_READ = 0x11
_GO = 0x21
_WRITE = 0x31
_ERASE = 0x43
_EXT_ERASE = 0x44
_BLOCK = 256
_CMP_AT = 8
_FRAME_SIZE = _CMP_AT + _BLOCK
_SYNC_MS = 100
_QUIET_MS = 20
_PROBE_MS = 20
_MAX_LATENCY_MS = 200
_MAX_PROBES = 40
_MAX_PROBE_LEN = 128
_BASE = 0x08000000

_NO_ANSWER, _UNKNOWN, _TOO_LARGE, _READ_PROT, _WRITE_PROT, _WRITE_FAILED = 1, 2, 3, 4, 5, 6
_MISMATCH, _UNSUPPORTED, _ADDRESS = 7, 8, 9

# Ops (src/stm32/mod.rs `Op`).
_OP_SYNC = 0
_OP_GET = 1
_OP_GET_ID = 2
_OP_ERASE = 3
_OP_WRITE_ADDR = 4
_OP_WRITE_DATA = 5
_OP_READ_ADDR = 6
_OP_READ_DATA = 7
_OP_GO = 8
_OP_RESYNC = 9
_OP_DONE = 10
_OP_FAILED = 11


def page_of(layout, off):
    """(unit, end offset) of the erase unit holding flash offset `off` (devices.rs)."""
    if layout > 0:
        return off // layout, (off // layout + 1) * layout
    u = -layout
    b, r = divmod(off, 64 * u)
    if r < 4 * u:
        j, end = r // u, (r // u + 1) * u
    elif r < 8 * u:
        j, end = 4, 8 * u
    else:
        j = 5 + (r - 8 * u) // (8 * u)
        end = 8 * u + (j - 4) * 8 * u
    return b * 12 + j, b * 64 * u + end


def _erased(back, n):
    """Whether back[:n] reads as erased flash (all 0xFF)."""
    for i in range(n):
        if back[i] != 0xFF:
            return False
    return True


class Stm32Sender(Sender):
    """A sans-IO sender for ST's ROM bootloader (AN3155), for one image of `size` bytes."""

    def __init__(self, *args, **kw):
        (size, address, go, flash_size, page_size, timeout_ms, erase_timeout_ms,
         start_timeout_ms, retries, baud) = parse(STM32, args, kw)
        super().__init__(retries)
        self.frame_size = _FRAME_SIZE
        self._size = size
        self._address = address
        self._go = go
        self._flash_size = flash_size
        self._page_size = page_size
        self._timeout = timeout_ms
        self._erase_timeout = erase_timeout_ms
        self._start_timeout = start_timeout_ms
        self._baud = baud
        self._blocks = (size + _BLOCK - 1) // _BLOCK
        self._op = _OP_SYNC
        self._resume = _OP_SYNC
        self._send = True
        self._quiet_until = None
        self._wire_end = 0
        self._timing = False
        self._latency = 0
        self._echo_until = None
        self._mark = 0
        self._acks = 0
        self._var = False
        self._want = 0
        self._tail = False
        self._got = 0
        self._buf = bytearray(_BLOCK)
        self._compare = False
        self._filled = False
        self._probe = False
        self._go_acked = False
        self._probe_len = 1
        self._probes = 0
        self._last = 0
        self._layout = 1
        self._erase_off = 0
        self._erase_end = 0
        self._block = 0
        self._s_verified = 0
        self._pid = 0
        self._version = 0
        self._erase_cmd = 0
        self._pages = 0
        self._erase_ms = 0
        self._write_ms = 0
        self._verify_ms = 0
        self._went = False
        self._reason = 0

    @property
    def block(self):
        return self._block

    def stats(self):
        return self._stats(
            verified=self._s_verified,
            pid=self._pid,
            version=self._version,
            erase_cmd=self._erase_cmd,
            pages=self._pages,
            erase_ms=self._erase_ms,
            write_ms=self._write_ms,
            verify_ms=self._verify_ms,
            went=self._went,
            reason=REASONS[self._reason],
        )

    def _len(self):
        """Image bytes of the current block (on the wire: rounded up to 4, no tuple)."""
        return min(self._size - self._block * _BLOCK, _BLOCK)

    def _fail_with(self, code, reason=0):
        self._op = _OP_FAILED
        self._reason = reason
        self._halt(code)

    def _next(self, op):
        self._op = op
        self._send = True

    def _done_op(self, op):
        self._tries = 0
        self._heard = False
        self._echo_until = None
        self._next(op)

    def _quiet_ms(self):
        """The silence that says no answer is on its way (src/stm32/mod.rs, Recovery)."""
        return _QUIET_MS + self._latency

    def _error(self, now, reason):
        self._s_retries += 1
        # A block that read back different stays the operation's story (src/stm32/mod.rs).
        if self._tries == 0 or self._last != _MISMATCH:
            self._last = reason
        if self._tries >= self._retries:
            if self._last:
                code = "rejected"
            else:
                code = "retries" if self._heard else "timeout"
            self._fail_with(code, self._last)
            return
        self._tries += 1
        op = self._op
        if op == _OP_WRITE_DATA and not reason:
            self._probe = True
            op = _OP_READ_ADDR
        elif op == _OP_WRITE_DATA:
            op = _OP_WRITE_ADDR
        elif op == _OP_READ_DATA:
            op = _OP_READ_ADDR
        self._resume = op
        self._op = _OP_RESYNC
        self._probe_len = 1
        self._probes = 0
        self._compare = False
        self._send = False
        self._quiet_until = _after(now, self._quiet_ms())

    def _nack_reason(self):
        op = self._op
        addressed = op == _OP_WRITE_ADDR or op == _OP_READ_ADDR or op == _OP_GO
        if (op == _OP_ERASE or addressed) and self._acks == 2:
            return _READ_PROT
        if op == _OP_ERASE:
            return _WRITE_PROT
        if addressed:
            return _ADDRESS
        if op == _OP_WRITE_DATA:
            return _WRITE_FAILED
        return 0

    def receive(self, now_ms, data, n=None):
        """As Sender.receive (a byte at a time to `_byte`), but the data bytes of an answer
        (a 256-byte read-back) are stored here in one loop: a method call per byte was most
        of this sender's time."""
        now_ms = _now(now_ms)
        data = _received(data)
        n = _taken(data, n)
        i = 0
        while i < n:
            k = self._data_run(n - i)
            if k:
                self._store(data, i, k)
                i += k
            else:
                self._byte(now_ms, data[i])
                i += 1

    def _store(self, data, i, k):
        """Stores data[i:i + k] as answer data (a loop of its own: in `receive` it would
        take the frame past MicroPython's 11 words on the C stack, to the heap)."""
        buf = self._buf
        got = self._got
        end = got + k
        while got < end:
            buf[got] = data[i]
            got += 1
            i += 1
        self._got = end
        self._want -= k
        self._heard = True

    def _data_run(self, left):
        """How many of the next `left` bytes `_byte` would only store as answer data (not
        the last one, whose storing completes the answer)."""
        op = self._op
        if (
            self._want < 2
            or op == _OP_DONE
            or op == _OP_FAILED
            or op == _OP_SYNC
            or op == _OP_RESYNC
            or self._quiet_until is not None
            or self._send
            or self._reading >= 0
            or self._compare
            or self._acks > 0
            or self._var
        ):
            return 0
        return min(left, self._want - 1)

    def _byte(self, now, b):
        op = self._op
        if op == _OP_DONE or op == _OP_FAILED:
            return
        if self._timing:
            self._timed(now)
        if self._quiet_until is not None:
            self._quiet_until = _after(now, self._quiet_ms())
            return
        if self._send or self._reading >= 0 or self._compare:
            return
        self._heard = True
        answer = b == _ACK or b == _NACK
        if op == _OP_SYNC:
            if answer:
                self._done_op(_OP_GET)
        elif op == _OP_RESYNC:
            if answer and self._probe_len == 1:
                self._next(self._resume)
            else:
                if answer:
                    self._probe_len = 1
                self._quiet_until = _after(now, self._quiet_ms())
        elif self._acks > 0:
            if b == _ACK:
                self._acks -= 1
                if op == _OP_GO:
                    self._go_acked = True
                if self._acks == 0 and self._want == 0 and not self._var and not self._tail:
                    self._complete(now)
            elif b == _NACK:
                echo = self._echo_until
                if echo is not None and not _reached(now, echo):
                    self._error(now, self._last)  # perhaps a probe's late answer
                else:
                    self._error(now, self._nack_reason())
            else:
                self._error(now, 0)
        elif self._var:
            self._var = False
            self._want = b + 1
        elif self._want > 0:
            self._buf[self._got] = b
            self._got += 1
            self._want -= 1
            if self._want == 0 and not self._tail:
                self._complete(now)
        elif self._tail:
            if b == _ACK:
                self._tail = False
                self._complete(now)
            else:
                self._error(now, 0)

    def _timed(self, now):
        """The first answer byte to the frame came at `now`: how late after it was on the
        wire (apart from `_byte`, whose frame it would take to the heap)."""
        self._timing = False
        late = now - self._wire_end
        if not -0x3FFFFFFF <= late <= 0x3FFFFFFF:  # wrapped: as the i32 Rust reads
            late = ((late & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000
        if late > self._latency:
            self._latency = min(late, _MAX_LATENCY_MS)

    def _has(self, cmd):
        buf = self._buf
        for i in range(1, self._got):
            if buf[i] == cmd:
                return True
        return False

    def _complete(self, now):
        elapsed = _since(now, self._mark)
        op = self._op
        if op == _OP_GET:
            self._version = self._buf[0]
            erase = _EXT_ERASE if self._has(_EXT_ERASE) else _ERASE if self._has(_ERASE) else 0
            needed = self._has(_WRITE) and self._has(_READ) and (self._has(_GO) or not self._go)
            if erase and needed:
                self._erase_cmd = erase
                self._done_op(_OP_GET_ID)
            else:
                self._fail_with("rejected", _UNSUPPORTED)
        elif op == _OP_GET_ID:
            if self._got != 2:
                self._fail_with("protocol")
                return
            self._pid = self._buf[0] << 8 | self._buf[1]
            self._mark = now
            self._plan()
        elif op == _OP_ERASE:
            self._pages += 1
            self._erase_off = page_of(self._layout, self._erase_off)[1]
            if self._erase_off >= self._erase_end:
                self._erase_ms = elapsed
                self._mark = now
                self._done_op(_OP_WRITE_ADDR)
            else:
                self._done_op(_OP_ERASE)
        elif op == _OP_WRITE_ADDR:
            self._next(_OP_WRITE_DATA)
        elif op == _OP_WRITE_DATA:
            self._written(now)
        elif op == _OP_READ_ADDR:
            self._next(_OP_READ_DATA)
        elif op == _OP_READ_DATA:
            self._compare = True
        else:
            self._went = True
            self._op = _OP_DONE

    def _plan(self):
        part = None
        for p in PARTS:
            if p[0] == self._pid:
                part = p
                break
        flash = self._flash_size
        if not flash and part is not None:
            flash = part[1] * 1024
        layout = self._page_size
        if not layout and part is not None:
            layout = part[2]
        if not layout or not flash:
            self._fail_with("rejected", _UNKNOWN)
            return
        start = self._address - _BASE
        end = start + self._size
        if end > flash:
            self._fail_with("rejected", _TOO_LARGE)
            return
        self._layout = layout
        self._erase_off = start
        self._erase_end = end
        if page_of(layout, end - 1)[0] > (0xFE if self._erase_cmd == _ERASE else 0xFFEF):
            self._fail_with("rejected", _UNSUPPORTED)
            return
        self._done_op(_OP_ERASE)

    def _written(self, now):
        self._s_bytes += self._len()
        self._probe = False
        self._block += 1
        if self._block == self._blocks:
            self._write_ms = _since(now, self._mark)
            self._mark = now
            self._block = 0
        self._done_op(_OP_READ_ADDR if self._block == 0 else _OP_WRITE_ADDR)

    def _compared(self, now, frame):
        # The read-back `back` against the image bytes at frame[_CMP_AT:] and the 0xFF
        # padding: one test a byte, up to the first difference (the loop is this sender's
        # per-byte floor); whether it reads erased only when a probe needs to know.
        n = self._len()
        pad = (n + 3) & ~3
        back = self._buf
        at = _CMP_AT
        same = True
        for i in range(n):
            if back[i] != frame[at + i]:
                same = False
                break
        for i in range(n, pad if same else n):
            if back[i] != 0xFF:
                same = False
                break
        if self._probe and not same and _erased(back, pad):
            self._probe = False
            self._next(_OP_WRITE_ADDR)
        elif not same:
            self._error(now, _MISMATCH)
        elif self._probe:
            self._written(now)
        else:
            self._s_verified += n
            self._block += 1
            if self._block < self._blocks:
                self._done_op(_OP_READ_ADDR)
            else:
                self._verify_ms = _since(now, self._mark)
                self._block -= 1
                if self._go:
                    self._done_op(_OP_GO)
                else:
                    self._op = _OP_DONE

    def _expects(self):
        """How many more bytes the answer to the frame out needs, as far as known (a count
        byte stands for itself until it says how many follow); probes: unknown."""
        if self._op == _OP_SYNC or self._op == _OP_RESYNC:
            return 0
        return self._acks + self._var + self._want + self._tail

    def _expect(self, acks, var, want):
        self._acks = acks
        self._var = var
        self._tail = var
        self._want = want
        self._got = 0

    def _addressed(self, frame, cmd, addr):
        frame[0] = cmd
        frame[1] = cmd ^ 0xFF
        frame[2] = addr >> 24
        frame[3] = (addr >> 16) & 0xFF
        frame[4] = (addr >> 8) & 0xFF
        frame[5] = addr & 0xFF
        frame[6] = frame[2] ^ frame[3] ^ frame[4] ^ frame[5]
        return 7

    def _transmit(self, now, frame):
        t = self._timeout
        op = self._op
        n = self._len()
        pad = (n + 3) & ~3
        reply = 0
        if op == _OP_SYNC:
            frame[0] = _SYNC
            self._expect(1, False, 0)
            k, wait = 1, _SYNC_MS
        elif op == _OP_RESYNC:
            self._probes += 1
            if self._probes > _MAX_PROBES:
                return self._gone()
            k = self._probe_len
            for i in range(k):
                frame[i] = _PROBE
            wait = _PROBE_MS + self._latency
        elif op == _OP_GET or op == _OP_GET_ID:
            cmd = _GET if op == _OP_GET else _GET_ID
            frame[0] = cmd
            frame[1] = cmd ^ 0xFF
            self._expect(1, True, 0)
            k, wait = 2, t
        elif op == _OP_ERASE:
            page = page_of(self._layout, self._erase_off)[0]
            hi, lo = page >> 8, page & 0xFF
            cmd = self._erase_cmd
            frame[0] = cmd
            frame[1] = cmd ^ 0xFF
            frame[2] = 0
            if cmd == _EXT_ERASE:
                frame[3] = 0
                frame[4] = hi
                frame[5] = lo
                frame[6] = hi ^ lo
                k = 7
            else:
                frame[3] = lo
                frame[4] = lo
                k = 5
            self._expect(2, False, 0)
            wait = t + self._erase_timeout
        elif op == _OP_WRITE_ADDR or op == _OP_READ_ADDR or op == _OP_GO:
            if op == _OP_GO:
                cmd, addr = _GO, self._address
            else:
                cmd = _WRITE if op == _OP_WRITE_ADDR else _READ
                addr = self._address + self._block * _BLOCK
            self._filled = False
            self._expect(2, False, 0)
            k, wait = self._addressed(frame, cmd, addr), t
        elif op == _OP_WRITE_DATA:
            for i in range(1 + n, 1 + pad):
                frame[i] = 0xFF
            frame[0] = pad - 1
            x = 0
            for i in range(1 + pad):
                x ^= frame[i]
            frame[1 + pad] = x
            self._expect(1, False, 0)
            k, wait = pad + 2, t
        else:
            frame[0] = pad - 1
            frame[1] = (pad - 1) ^ 0xFF
            self._expect(1, False, 0)
            self._want = pad
            reply = pad
            k, wait = 2, t
        self._send = False
        self._s_frames += 1
        self._s_line += k
        wire = 0
        if self._baud:
            wait += ((k + reply) * 11000 + self._baud - 1) // self._baud
            wire = (k * 11000 + self._baud - 1) // self._baud
        self._deadline = _after(now, wait)
        self._wire_end = _after(now, wire)
        # An erase or a write answers when the flash is done: no measure of the line.
        self._timing = op != _OP_ERASE and op != _OP_WRITE_DATA
        if op == _OP_RESYNC:
            self._echo_until = _after(self._wire_end, self._quiet_ms())
        self.length = k
        return SEND

    def _gone(self):
        if self._resume == _OP_GO and self._go_acked:
            self._op = _OP_DONE
            return DONE
        self._fail_with("timeout", self._last)
        return self._failed()

    def _expired(self, now):
        op = self._op
        if op == _OP_SYNC:
            if _reached(now, _after(self._started, self._start_timeout)):
                self._fail_with("timeout", _NO_ANSWER)
            else:
                self._send = True
        elif op == _OP_RESYNC:
            self._probe_len = min(self._probe_len * 2, _MAX_PROBE_LEN)
            self._send = True
        else:
            self._error(now, 0)

    def _poll(self, now_ms, frame):
        if self._started is None:
            self._started = now_ms
        while True:
            op = self._op
            if op == _OP_FAILED:
                return self._failed()
            if op == _OP_DONE:
                return DONE
            if len(frame) < _FRAME_SIZE or self._reading >= 0:
                self._fail_with("usage")
                continue
            if self._quiet_until is not None:
                if not _reached(now_ms, self._quiet_until):
                    return self._wait(self._quiet_until)
                self._quiet_until = None
                self._send = True
            # A data frame, or an address frame not yet due, needs the block read first.
            if not self._filled and (
                op == _OP_WRITE_DATA
                or op == _OP_READ_DATA
                or (not self._send and (op == _OP_WRITE_ADDR or op == _OP_READ_ADDR))
            ):
                return self._read_block(op)
            if self._compare:
                self._compare = False
                self._compared(now_ms, frame)
                continue
            if self._send:
                return self._transmit(now_ms, frame)
            if not _reached(now_ms, self._deadline):
                return self._wait(self._deadline, self._expects())
            self._expired(now_ms)

    def _read_block(self, op):
        """READ of the block's image bytes: into the data frame for a write, beside the
        read-back for a comparison."""
        write = op == _OP_WRITE_ADDR or op == _OP_WRITE_DATA
        return self._read(self._block, self._block * _BLOCK, 1 if write else _CMP_AT, self._len())

    def provide(self, n):
        _provided(n)
        if self._reading >= 0 and n == self._read_len:
            self._reading = -1
            self._filled = True
        elif self._reading >= 0 and n < self._read_len:
            self._fail_with("source")
        else:
            self._fail_with("usage")
