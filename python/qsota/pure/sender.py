"""qsota.pure.sender: what the pure senders share (as cmodule/sender.c does for _qsota): the
action codes, the action's numbers as int attributes, the image reads (READ, `provide`) and
the retry count; see docs/architecture.md "Sender objects". No allocation per call.
"""

# Only what this module uses: MicroPython grows a module's table of names only when it is
# full, and in a full table every builtin the checks below look up (isinstance, len, int)
# is searched through all of it (29 names here cost the pure ymodem sender 14 instructions a
# byte on the ARM bench, the stm32 sender 170). The senders take the action codes from
# qsota.codes.
from ..codes import FAILED, READ, WAIT
from ..rules import POLL, PROVIDE, RECEIVE
from .args import _int, _refuse_type, readable, writable


# The methods' rows of qsota.rules, (name, kind, lo, hi, message, default) each.
_NOW = POLL[0]
_FRAME = POLL[1]
_DATA = RECEIVE[1]
_DATA_N = RECEIVE[2]
_PROVIDED = PROVIDE[0]


def _frame(frame):
    """poll's `frame` checked (a writable buffer of bytes), like the C module's."""
    return writable(frame, _FRAME)


def _now(now_ms):
    """`now_ms` checked (an int) and taken modulo 2**32, like the C module's."""
    if not isinstance(now_ms, int) or isinstance(now_ms, bool):
        _refuse_type(_NOW, now_ms)
    # 0xFFFFFFFF is a long int on a 32-bit port (small ints end at 2**30), and an operation
    # on one allocates: the usual now_ms, a small ticks_diff, is returned as it is.
    if 0 <= now_ms <= 0x3FFFFFFF:
        return now_ms
    return now_ms & 0xFFFFFFFF


def _received(data):
    """receive(now_ms, data, n)'s `data` as its bytes (args.readable), checked like the C
    module's."""
    return readable(data, _DATA)


def _taken(data, n):
    """How many leading bytes of `data` (as `_received` gave it) receive takes: `n`, checked
    like the C module's. (Two calls, not one returning a pair: a tuple per call allocates.)"""
    if n is None:
        return len(data)
    r = _DATA_N  # indexed, not unpacked: six locals would put the frame on the heap
    return _int(r[0], n, r[2], len(data), r[4])  # at most len(data)


def _provided(n):
    """provide's `n` checked, like the C module's."""
    r = _PROVIDED
    return _int(r[0], n, r[2], r[3], r[4])


def _after(now_ms, ms):
    """(now_ms + ms) modulo 2**32, without a long int while the sum is small (see _now)."""
    t = now_ms + ms
    if 0 <= t <= 0x3FFFFFFF:
        return t
    return t & 0xFFFFFFFF


def _since(now_ms, mark):
    """(now_ms - mark) modulo 2**32, the milliseconds since `mark`, without a long int while
    the difference is small (see _now)."""
    d = now_ms - mark
    if 0 <= d <= 0x3FFFFFFF:
        return d
    return d & 0xFFFFFFFF


def _reached(now, deadline):
    """`now` is at or after `deadline` on a wrapping millisecond clock."""
    d = now - deadline
    if -0x3FFFFFFF <= d <= 0x3FFFFFFF:  # small ints: no long int per poll (see _now)
        return d >= 0
    return (d & 0xFFFFFFFF) < 0x80000000


class Sender:
    """The driver-facing part of a sender. A subclass implements `_poll`, `_byte(now, b)`
    (or its own `receive`) and `_fail_with(code)`, and sets `_send` (a frame is due)."""

    def __init__(self, retries):
        self._retries = retries
        self._tries = 0
        self._heard = False
        self._reading = -1  # what the READ that is out is for (block, offset), -1: none
        self._read_len = 0
        self._filled = -1  # what the frame holds image bytes of, not yet framed, -1: none
        self._fail = None
        self._started = None
        self._deadline = 0
        self._s_bytes = 0
        self._s_frames = 0
        self._s_retries = 0
        self._s_line = 0
        # The action's numbers, valid after the poll that returned it.
        self.length = 0
        self.offset = 0
        self.at = 0
        self.until = 0
        self.error = None

    def poll(self, now_ms, frame):
        """The next action (see qsota.transfer), with `now_ms` and `frame` checked as the C
        module checks them; the subclass's `_poll` decides."""
        now_ms = _now(now_ms)
        return self._poll(now_ms, _frame(frame))

    def _halt(self, code):
        """Fails with `code`: no frame pending, no answer awaited, no quiet waited for."""
        self._fail = code
        self._send = False
        self._quiet_until = None
        self._reading = -1

    def _stats(self, **more):
        """The counters every sender keeps, and `more`: what its stats() returns."""
        more["bytes"] = self._s_bytes
        more["frames"] = self._s_frames
        more["retries"] = self._s_retries
        more["line_bytes"] = self._s_line
        return more

    def receive(self, now_ms, data, n=None):
        """The first `n` bytes of `data` from the line, to `_byte` one at a time."""
        now_ms = _now(now_ms)
        data = _received(data)
        n = _taken(data, n)
        i = 0
        while i < n:  # not `for`: its iterator's slots would put the frame on the heap
            self._byte(now_ms, data[i])
            i += 1

    def provide(self, n):
        _provided(n)
        if self._reading >= 0 and n == self._read_len:
            self._filled = self._reading
            self._reading = -1
        elif self._reading >= 0 and n < self._read_len:
            self._fail_with("source")
        else:
            self._fail_with("usage")

    def _read(self, key, offset, at, n):
        """Asks for `n` image bytes at `offset` into frame[at:]; `key` names them."""
        self._reading = key
        self._read_len = n
        self.offset = offset
        self.at = at
        self.length = n
        return READ

    def _wait(self, until, expects=0):
        """WAIT until `until`; `expects` more bytes of the answer are due (0: unknown)."""
        self.until = until
        self.length = expects
        return WAIT

    def _failed(self):
        self.error = self._fail
        return FAILED

    def _retry(self):
        """Sends again, or gives up after too many tries (then returns False)."""
        self._s_retries += 1
        if self._tries >= self._retries:
            self._fail_with("retries" if self._heard else "timeout")
            return False
        self._tries += 1
        self._send = True
        return True
