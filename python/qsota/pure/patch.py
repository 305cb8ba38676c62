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
_TAG, _LITERAL, _INDEX, _COUNT = range(4)
_C_KIND, _C_SCATTERED_SIZE, _C_SCATTERED, _C_REPEATED_SIZE, _C_REPEATED, _C_REPEATING = range(6)


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
        the next push (which may take no bytes). (`_push` latches its own faults: a try here
        would put this frame on the heap at every push, see Patch.)"""
        self._latched()
        data = _bytes(data)
        n = len(data) if _all(n) else _arg(_N, n, len(data))
        if not _all(room):
            room = _arg(_ROOM, room)
        return self._push(data, n, room)

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
    most `limit` bytes to `out`; a heatshrink window may take up to `window` bytes.

    The applier is one generator (`_run`), made once per patch: its locals are the
    decoder's state and each push resumes it. On MicroPython a call to a function with
    more than about 11 words of locals and stack puts its frame on the heap
    (facts.md), so per-byte methods allocated about 80 bytes per output byte; resuming a
    generator allocates nothing."""

    def __init__(self, *args, **kw):
        """Patch(base, base_size, out, limit, window): qsota.rules.DELTA's first five."""
        base, self._base_size, out, self._limit, self._window_cap = parse(_PATCH, args, kw)
        self._base = base
        self._out = out
        self._buf = bytearray(PIECE)
        self._view = memoryview(self._buf)
        self.to_size = None  # once the patch has stated it
        self._complete = False
        # what the next push gives the generator
        self._data = None
        self._start = self._end = self._room = 0
        self._gen = self._latching()
        next(self._gen)

    def target_size(self):
        """The target's size, once the patch has stated it, else None."""
        return self.to_size

    def done(self):
        return self._fault is None and self._complete

    def _push(self, data, n, room):
        return self._take(data, 0, n, room)

    def _finish(self):
        """The target's size, all of it written."""
        if not self._complete:
            raise DeltaError("truncated")
        return self.to_size

    def _take(self, data, start, end, room):
        """Takes data[start:end] writing at most `room` bytes (-1: no bound); returns how
        many it took (src/delta/patch.rs `take`)."""
        if 0 <= room < PIECE:
            return 0
        # one by one: MicroPython makes a tuple for an assignment of more than three
        self._data = data
        self._start = start
        self._end = end
        self._room = room
        return next(self._gen)

    def _latching(self):
        """_run, its fault latched."""
        try:
            yield from self._run()
        except DeltaError as e:
            self._fault = e.code
            raise

    def _run(self):
        """The applier (src/delta/patch.rs `take`, decode.rs): yields how many bytes of each
        push it took. Each input byte goes through the codec (`intake`), then the codec's
        output goes out byte by byte (`emit`) until it needs the next input byte, the patch
        is complete, or the push's room is used up: then what is left of a run (heatshrink
        copy, crle repeat) comes first in the next push."""
        buf, view, base, base_size, limit = self._buf, self._view, self._base, self._base_size, self._limit
        size = _Size()
        step, codec = _KIND, _NONE
        to_size = to_pos = left = at = fill = loaded = 0
        moved = False
        # heatshrink: the bits not yet decoded, the symbol being read, the window
        window = None
        bits = pending = state = distance = head = wbits = cbits = mask = copy = 0
        # crle: the segment, a size being read, what is left of it, the repeated byte
        seg = _C_KIND
        cvalue = cshift = cleft = cbyte = 0
        # the input byte not yet emitted (codec none, crle's scattered bytes), or -1
        held = -1
        taken = 0
        while True:
            yield taken
            data, i = self._data, self._start
            end, room = self._end, self._room
            start = i
            full = False
            while True:
                # emit: the codec's output until it needs input
                while not full:
                    if codec == _HS:
                        if copy:
                            copy -= 1
                            c = window[(head - distance) & mask]
                        else:
                            c = -1
                            while True:
                                need = 1 if state == _TAG else 8 if state == _LITERAL else wbits if state == _INDEX else cbits
                                if pending < need:
                                    break
                                pending -= need
                                value = (bits >> pending) & ((1 << need) - 1)
                                bits &= (1 << pending) - 1
                                if state == _TAG:
                                    state = _LITERAL if value else _INDEX
                                elif state == _INDEX:
                                    distance = value + 1
                                    state = _COUNT
                                elif state == _LITERAL:
                                    state = _TAG
                                    c = value
                                    break
                                else:
                                    copy = value
                                    state = _TAG
                                    c = window[(head - distance) & mask]
                                    break
                            if c < 0:
                                break
                        window[head & mask] = c
                        head += 1
                    elif held >= 0:
                        c = held
                        held = -1
                    elif seg == _C_REPEATING and cleft:
                        cleft -= 1
                        c = cbyte
                        if not cleft:
                            seg = _C_KIND
                    else:
                        break
                    # the decompressed stream's byte c; a full piece goes out before
                    # the next diff or extra byte
                    if fill == PIECE and (step == _DIFF or step == _EXTRA):
                        self._write(PIECE)
                        fill = loaded = 0
                        if room >= 0:
                            room -= PIECE
                            full = room < PIECE
                    if step == _DIFF:
                        if fill == loaded:
                            n = min(PIECE - fill, left)
                            if at < 0 or at + n > base_size:
                                raise DeltaError("base_range")
                            try:  # here, not in a method: a try's frame would be on the heap
                                base.seek(at)
                                got = base.readinto(view if n == PIECE else view[fill : fill + n])
                            except Exception:
                                got = -1
                            if got != n:
                                raise DeltaError("base_read")
                            loaded = fill + n
                        buf[fill] = (buf[fill] + c) & 0xFF
                        fill += 1
                        at += 1
                        to_pos += 1
                        left -= 1
                        if not left:
                            step = _EXTRA_SIZE
                        continue
                    if step == _EXTRA:
                        buf[fill] = c
                        fill += 1
                        loaded = fill
                        to_pos += 1
                        left -= 1
                        if not left:
                            step = _ADJUST
                        continue
                    if step == _DONE:
                        raise DeltaError("trailing")
                    value = size.feed(c)
                    if value is None:
                        continue
                    if step == _DATA_FORMAT:
                        if value > 0:
                            raise DeltaError("unsupported")
                        if value < 0:
                            raise DeltaError("malformed")
                        step = _DIFF_SIZE
                    elif step == _DIFF_SIZE or step == _EXTRA_SIZE:
                        if step == _DIFF_SIZE:
                            moved = False
                        if value < 0 or value > to_size - to_pos:
                            raise DeltaError("malformed")
                        left = value
                        if value:
                            moved = True
                            step += 1  # _DIFF, _EXTRA
                        else:
                            step += 2  # _EXTRA_SIZE, _ADJUST
                    else:  # _ADJUST
                        if not moved and value == 0:
                            raise DeltaError("malformed")
                        at += value
                        if to_pos < to_size:
                            step = _DIFF_SIZE
                            continue
                        if fill:
                            self._write(fill)
                        fill = loaded = 0
                        step = _DONE
                        self._complete = True
                        # what the codec still holds is a trailing byte
                        if copy or pending >= 8 or cleft:
                            raise DeltaError("trailing")
                if full or i == end:
                    break
                # intake: the next input byte
                b = data[i]
                i += 1
                if step == _KIND:
                    codec = _kind(b)
                    step = _TO_SIZE
                elif step == _TO_SIZE:
                    value = size.feed(b)
                    if value is not None:
                        if value < 0:
                            raise DeltaError("malformed")
                        if value > limit:
                            raise DeltaError("too_large")
                        to_size = self.to_size = value
                        if not value:
                            step = _DONE
                            self._complete = True
                        else:
                            step = _PARAMS if codec == _HS_PARAMS else _DATA_FORMAT
                elif step == _PARAMS:
                    wbits, cbits = (b >> 4) + 4, (b & 0x0F) + 3
                    if wbits > 15 or cbits >= wbits:
                        raise DeltaError("malformed")
                    if (1 << wbits) > self._window_cap:
                        raise DeltaError("window")
                    window = bytearray(1 << wbits)
                    mask = (1 << wbits) - 1
                    codec = _HS
                    step = _DATA_FORMAT
                elif step == _DONE:
                    raise DeltaError("trailing")
                elif codec == _HS:
                    bits = (bits << 8) | b
                    pending += 8
                elif codec == _NONE:
                    held = b
                elif seg == _C_KIND:
                    if b > 1:
                        raise DeltaError("malformed")
                    seg = _C_REPEATED_SIZE if b else _C_SCATTERED_SIZE
                elif seg == _C_SCATTERED_SIZE or seg == _C_REPEATED_SIZE:
                    if cshift > 28:
                        raise DeltaError("malformed")
                    cvalue |= (b & 0x7F) << cshift
                    cshift += 7
                    if not b & 0x80:
                        if cvalue > MAX_SIZE:
                            raise DeltaError("malformed")
                        cleft = cvalue
                        cvalue = cshift = 0
                        if not cleft:
                            seg = _C_KIND
                        else:
                            seg = _C_SCATTERED if seg == _C_SCATTERED_SIZE else _C_REPEATED
                elif seg == _C_SCATTERED:
                    cleft -= 1
                    if not cleft:
                        seg = _C_KIND
                    held = b
                elif seg == _C_REPEATED:
                    cbyte = b
                    seg = _C_REPEATING
            taken = i - start

    def _write(self, n):
        """Writes the buffer's first `n` bytes to the target."""
        try:
            self._out.write(self._view if n == PIECE else self._view[:n])
        except Exception:
            raise DeltaError("write")


def _kind(b):
    """The codec the patch's first byte names."""
    patch_type, compression = (b >> 4) & 7, b & 0x0F
    if b & 0x80 or patch_type > 2:
        raise DeltaError("malformed")
    if patch_type:
        raise DeltaError("unsupported")
    if compression in (1, 3, 5, 6):
        raise DeltaError("unsupported")
    if compression == 0:
        return _NONE
    if compression == 2:
        return _CRLE
    if compression == 4:
        return _HS_PARAMS
    raise DeltaError("malformed")


_BUFFERS = (bytes, bytearray, memoryview)  # a tuple written in a call is made at each call


def _bytes(data):
    """push's `data` as its bytes (a view of items wider than a byte as a copy, as the C
    module reads it)."""
    if not isinstance(data, _BUFFERS):
        _refuse_type(_DATA, data)
    if isinstance(data, memoryview) and not _bytewise(data):
        data = bytes(data)
    return data


def _all(v):
    """Whether `v` is -1, push's "all" for n and "no bound" for room (an int: -1.0 is a
    float, which the C module refuses too)."""
    return isinstance(v, int) and v == -1


def _arg(row, v, hi=None):
    """An int argument `v` checked by its row of qsota.rules (with `hi` in place of the
    row's: n's is len(data))."""
    return _int(row[0], v, row[2], row[3] if hi is None else hi, row[4])
