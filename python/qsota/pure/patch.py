"""qsota.pure.patch: a detools sequential patch applied as it arrives, the Rust core's
`delta::Applier` (src/delta/patch.rs, decode.rs) in Python. qsota.pure.delta explains the
interface; this module is its `Patch`.
"""

from ..delta_format import PIECE
from ..errors import DeltaError
from ..rules import DELTA, PUSH
from ..rules import DELTA_MAX_SIZE as MAX_SIZE
from .args import _bytewise, _int, _refuse_type, parse

# The arguments' rows of qsota.rules: the constructor's (Package adds check_base), push's.
_PATCH = DELTA[:5]
_DATA, _N, _ROOM = PUSH

# Steps of a patch (src/delta/patch.rs `Step`).
_KIND, _TO_SIZE, _PARAMS, _DATA_FORMAT, _DIFF_SIZE, _DIFF, _EXTRA_SIZE, _EXTRA, _ADJUST, _DONE = range(10)
# Codecs.
_NONE, _CRLE, _HS_PARAMS, _HS = range(4)
# heatshrink symbols; crle segments.
_TAG, _LITERAL, _INDEX, _COUNT, _COPY = range(5)
_C_KIND, _C_SCATTERED_SIZE, _C_SCATTERED, _C_REPEATED_SIZE, _C_REPEATED, _C_REPEATING = range(6)
# What emitting a byte gives besides "go on" (False) and "the patch is complete" (True): the
# output has less than a piece of room left in this push (src/delta/decode.rs `Flow::Full`).
_FULL = 2


class _Size:
    """A detools size field (src/delta/decode.rs `Size`)."""

    def __init__(self):
        self.value = self.shift = 0
        self.negative = False

    def feed(self, b):
        """The value once complete, else None."""
        if self.shift == 0:
            self.negative = b & 0x40 != 0
            self.value = b & 0x3F
            self.shift = 6
        elif self.shift > 27:
            raise DeltaError("malformed")
        else:
            self.value |= (b & 0x7F) << self.shift
            self.shift += 7
        if b & 0x80:
            return None
        value = self.value
        self.value = self.shift = 0
        if value > MAX_SIZE:
            raise DeltaError("malformed")
        return -value if self.negative else value


class _Latched:
    """push and finish with a fault that is final (src/delta/mod.rs `Latch`): once one
    raised DeltaError, every later call raises it again. Subclasses define `_push(data, n)`
    and `_finish()`."""

    _fault = None

    def push(self, data, n=-1, room=-1):
        """Takes the first `n` bytes of `data` (all with n=-1), writing at most `room` bytes
        (-1: no bound); returns how many it took. With a room it stops early only when less
        than a piece (256 bytes) of room is left, keeping what it still has to write for
        the next push (which may take no bytes)."""
        self._latched()
        data, n = _count(data, n)
        if not _all(room):
            room = _arg(_ROOM, room)
        try:
            return self._push(data, n, room)
        except DeltaError as e:
            self._fault = e.code
            raise

    def finish(self):
        self._latched()
        try:
            return self._finish()
        except DeltaError as e:
            self._fault = e.code
            raise

    def _latched(self):
        if self._fault:
            raise DeltaError(self._fault)


class Patch(_Latched):
    """Applies one detools sequential patch against `base` (`base_size` bytes), writing at
    most `limit` bytes to `out`; a heatshrink window may take up to `window` bytes."""

    def __init__(self, *args, **kw):
        """Patch(base, base_size, out, limit, window): qsota.rules.DELTA's first five."""
        base, self._base_size, out, self._limit, self._window_cap = parse(_PATCH, args, kw)
        self._base = base
        self._out = out
        self._buf = bytearray(PIECE)
        self._view = memoryview(self._buf)
        self._size = _Size()
        self._step = _KIND
        self._codec = _NONE
        self.to_size = 0
        self._to_pos = self._left = self._from = self._fill = self._loaded = 0
        self._moved = False
        # a bound on what one push writes
        self._bounded = False
        self._room = self._stop = 0
        self._stalled = False
        # heatshrink
        self._window = None
        self._bits = self._pending = self._state = self._distance = self._head = 0
        self._wbits = self._cbits = self._mask = self._copy = 0
        # crle
        self._seg = _C_KIND
        self._cvalue = self._cshift = self._cleft = self._cbyte = 0

    def target_size(self):
        """The target's size, once the patch has stated it, else None."""
        return None if self._step in (_KIND, _TO_SIZE) else self.to_size

    def done(self):
        return self._fault is None and self._step == _DONE

    def _push(self, data, n, room):
        return self._take(data, 0, n, room)

    def _finish(self):
        """The target's size, all of it written."""
        if self._step != _DONE:
            raise DeltaError("truncated")
        return self.to_size

    def _take(self, data, start, end, room):
        """Takes data[start:end] writing at most `room` bytes (-1: no bound); returns how
        many it took (src/delta/patch.rs `take`)."""
        if 0 <= room < PIECE:
            return 0
        self._bounded = room >= 0
        self._room = room
        self._stop = 0
        if self._stalled:
            self._stalled = False
            codec = self._codec
            r = self._crle_run() if codec == _CRLE else self._hs_run() if codec == _HS else 0
            if r == _FULL:
                self._stalled = True
                return 0
        for i in range(start, end):
            b = data[i]
            step = self._step
            if step == _KIND:
                self._kind(b)
                continue
            if step == _TO_SIZE:
                self._target_size(b)
                continue
            if step == _PARAMS:
                self._params(b)
                continue
            if step == _DONE:
                raise DeltaError("trailing")
            codec = self._codec
            if codec == _NONE:
                r = self._put(b)
            elif codec == _HS:
                r = self._heatshrink(b)
            else:
                r = self._crle(b)
            if r == _FULL:
                self._stalled = True
                return i + 1 - start
        return end - start

    def _kind(self, b):
        patch_type, compression = (b >> 4) & 7, b & 0x0F
        if b & 0x80 or patch_type > 2:
            raise DeltaError("malformed")
        if patch_type:
            raise DeltaError("unsupported")
        self._step = _TO_SIZE
        if compression in (1, 3, 5, 6):
            raise DeltaError("unsupported")
        codec = {0: _NONE, 2: _CRLE, 4: _HS_PARAMS}.get(compression)
        if codec is None:
            raise DeltaError("malformed")
        self._codec = codec

    def _target_size(self, b):
        size = self._size.feed(b)
        if size is None:
            return
        if size < 0:
            raise DeltaError("malformed")
        if size > self._limit:
            raise DeltaError("too_large")
        self.to_size = size
        if size == 0:
            self._step = _DONE
        elif self._codec == _HS_PARAMS:
            self._step = _PARAMS
        else:
            self._step = _DATA_FORMAT

    def _params(self, b):
        wbits, cbits = (b >> 4) + 4, (b & 0x0F) + 3
        if wbits > 15 or cbits >= wbits:
            raise DeltaError("malformed")
        if (1 << wbits) > self._window_cap:
            raise DeltaError("window")
        self._window = bytearray(1 << wbits)
        self._wbits, self._cbits, self._mask = wbits, cbits, (1 << wbits) - 1
        self._codec = _HS
        self._step = _DATA_FORMAT

    def _heatshrink(self, byte):
        """src/delta/decode.rs `Heatshrink::feed`."""
        self._bits = (self._bits << 8) | byte
        self._pending += 8
        return self._hs_run()

    def _hs_run(self):
        """src/delta/decode.rs `Heatshrink::run`: False (needs the next byte), True
        (complete) or _FULL."""
        bits, pending = self._bits, self._pending
        window, mask = self._window, self._mask
        r = False
        while True:
            state = self._state
            if state == _COPY:
                left = self._copy
                while left:
                    left -= 1
                    head = self._head
                    c = window[(head - self._distance) & mask]
                    window[head & mask] = c
                    self._head = head + 1
                    r = self._put(c)
                    if r:
                        break
                self._copy = left
                if not r:
                    self._state = _TAG
                    continue
                break
            need = 1 if state == _TAG else 8 if state == _LITERAL else self._wbits if state == _INDEX else self._cbits
            if pending < need:
                break
            pending -= need
            value = (bits >> pending) & ((1 << need) - 1)
            bits &= (1 << pending) - 1
            if state == _TAG:
                self._state = _LITERAL if value else _INDEX
            elif state == _INDEX:
                self._distance = value + 1
                self._state = _COUNT
            elif state == _LITERAL:
                self._state = _TAG
                window[self._head & mask] = value
                self._head += 1
                r = self._put(value)
                if r:
                    break
            else:
                self._copy = value + 1
                self._state = _COPY
        self._bits, self._pending = bits, pending
        if r is True and (self._copy or pending >= 8):
            raise DeltaError("trailing")
        return r

    def _crle(self, byte):
        """src/delta/decode.rs `Crle::feed`."""
        seg = self._seg
        if seg == _C_KIND:
            if byte == 0:
                self._seg = _C_SCATTERED_SIZE
            elif byte == 1:
                self._seg = _C_REPEATED_SIZE
            else:
                raise DeltaError("malformed")
        elif seg == _C_SCATTERED_SIZE or seg == _C_REPEATED_SIZE:
            if self._cshift > 28:
                raise DeltaError("malformed")
            self._cvalue |= (byte & 0x7F) << self._cshift
            self._cshift += 7
            if byte & 0x80:
                return
            if self._cvalue > MAX_SIZE:
                raise DeltaError("malformed")
            left = self._cleft = self._cvalue
            self._cvalue = self._cshift = 0
            if left == 0:
                self._seg = _C_KIND
            elif seg == _C_SCATTERED_SIZE:
                self._seg = _C_SCATTERED
            else:
                self._seg = _C_REPEATED
        elif seg == _C_SCATTERED:
            self._cleft -= 1
            if self._cleft == 0:
                self._seg = _C_KIND
            r = self._put(byte)
            if r is True and self._cleft > 0:
                raise DeltaError("trailing")
            return r
        else:
            self._cbyte = byte
            self._seg = _C_REPEATING
            return self._crle_run()
        return False

    def _crle_run(self):
        """src/delta/decode.rs `Crle::run`: what is left of a repeated segment."""
        byte, left = self._cbyte, self._cleft
        r = False
        while left:
            left -= 1
            r = self._put(byte)
            if r:
                break
        self._cleft = left
        if not left:
            self._seg = _C_KIND
        if r is True and left:
            raise DeltaError("trailing")
        return r

    def _put(self, b):
        """One byte of the decompressed stream; whether the patch is now complete."""
        step = self._step
        if step == _DIFF:
            fill = self._fill
            if fill == self._loaded:
                if fill == PIECE:
                    self._flush()
                    fill = 0
                n = min(PIECE - fill, self._left)
                at = self._from
                if at < 0 or at + n > self._base_size:
                    raise DeltaError("base_range")
                self._read(at, self._view[fill : fill + n])
                self._loaded = fill + n
            self._buf[fill] = (self._buf[fill] + b) & 0xFF
            self._fill = fill + 1
            self._from += 1
            self._advance(_EXTRA_SIZE)
            return self._stop
        if step == _EXTRA:
            if self._fill == PIECE:
                self._flush()
            self._buf[self._fill] = b
            self._fill += 1
            self._loaded = self._fill
            self._advance(_ADJUST)
            return self._stop
        if step == _DONE:
            raise DeltaError("trailing")
        value = self._size.feed(b)
        if value is None:
            return False
        if step == _DATA_FORMAT:
            if value > 0:
                raise DeltaError("unsupported")
            if value < 0:
                raise DeltaError("malformed")
            self._step = _DIFF_SIZE
        elif step == _DIFF_SIZE:
            self._moved = False
            self._chunk(value, _DIFF, _EXTRA_SIZE)
        elif step == _EXTRA_SIZE:
            self._chunk(value, _EXTRA, _ADJUST)
        else:
            if not self._moved and value == 0:
                raise DeltaError("malformed")
            self._from += value
            if self._to_pos < self.to_size:
                self._step = _DIFF_SIZE
                return False
            self._flush()
            self._step = _DONE
            return True
        return False

    def _chunk(self, size, data, after):
        if size < 0 or size > self.to_size - self._to_pos:
            raise DeltaError("malformed")
        self._left = size
        if size:
            self._moved = True
            self._step = data
        else:
            self._step = after

    def _advance(self, after):
        self._to_pos += 1
        self._left -= 1
        if self._left == 0:
            self._step = after

    def _read(self, at, view):
        try:
            self._base.seek(at)
            got = self._base.readinto(view)
        except Exception:
            got = -1
        if got != len(view):
            raise DeltaError("base_read")

    def _flush(self):
        fill = self._fill
        if fill:
            try:
                self._out.write(self._view if fill == PIECE else self._view[:fill])
            except Exception:
                raise DeltaError("write")
            if self._bounded:
                self._room -= fill
                if self._room < PIECE:
                    self._stop = _FULL
        self._fill = self._loaded = 0


def _count(data, n):
    """`data` as its bytes (a view of items wider than a byte as a copy, as the C module
    reads it) and how many of them a push takes: `n`, or all with -1."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        _refuse_type(_DATA, data)
    if isinstance(data, memoryview) and not _bytewise(data):
        data = bytes(data)
    if _all(n):
        return data, len(data)
    return data, _arg(_N, n, len(data))


def _all(v):
    """Whether `v` is -1, push's "all" for n and "no bound" for room (an int: -1.0 is a
    float, which the C module refuses too)."""
    return isinstance(v, int) and v == -1


def _arg(row, v, hi=None):
    """An int argument `v` checked by its row of qsota.rules (with `hi` in place of the
    row's: n's is len(data))."""
    return _int(row[0], v, row[2], row[3] if hi is None else hi, row[4])
