"""qsota.pacing: how `qsota.send`'s driver waits, so that it sleeps while nothing can happen.

While an image goes out the module's one core also runs the modem stack, the Qth session and
the application: the driver must not spin. It knows when input can first arrive:
- not right after a write;
- a reply cannot start before the frame it answers is on the wire (with `baud` known: the
  write's start plus 10 bits per byte for 8N1, 11 for the ROM bootloader's 8E1);
- the sender's WAIT deadline (`until`) says when it must run again anyway.
Between those it blocks in the port's `wait(timeout_ms)` when the port has one (`TcpPort`:
`select.poll`), else it checks `any()` at intervals of 1 ms + 1/8 of the time already waited,
so a reply is handled at most 1 ms + 12% of its delay late and a wait of T ms costs about
8 ln(T) wake-ups (a 2 s erase about 60), not T.

With a window of frames on the line (the native protocol), the answers to earlier frames
need not be taken one by one: while the line is still busy with frames already written (the
driver counts their wire time at `baud`), it sleeps, comes back one frame time before the
line drains, takes the answers that came meanwhile in one read and writes the frames they
allow. At 115200 with the bench's window of 5 that is one wake per three frames instead of
two per frame. After any wait the driver looks at the port once more before the sender sees
the new time, so an answer that came during a sleep is taken before its deadline passes.

After input that did not complete an answer (the sender still waits), the rest of it is on
its way: with `baud` known the driver sleeps for the bytes the sender says it still expects
(WAIT's `length`: the ROM bootloader's 257-byte read-back answer costs two wake-ups, not
one per few bytes), or, where the sender cannot know (0), as long as the previous answer took
to arrive, less what is already here: a 14-byte native ACK costs about two wake-ups.

A streamed update (qsota.stream) gives the driver an `idle(us)` hook: the waits above then
read the network instead of sleeping (download and transfer overlap), the port's own wait
is not used (the hook must run meanwhile), and what a wait or a read of the image takes
beyond its time (a reconnection, a slow network) is `hold`: not counted on the sender's
clock, since the MCU had nothing to do with it.

QuecPython's `machine.UART` offers neither a blocking read nor an honest poll: its stream
ioctl reports readable whether or not bytes are there (ports/quectel/machine_uart.c), and its
`sleep_ms` runs a scheduled RX callback (`set_callback`) but then sleeps on to the end
(mp_hal_delay_ms in ports/quectel/mphalport.c), so a callback cannot end a sleep early;
installing one would also replace the application's own, which cannot be read back. So on
QuecPython the driver paces its checks by the line as above. Nothing here allocates per call.
"""

from . import clock as _clock

# Byte times added to the expected rest of a partial answer before the driver looks again.
_SLACK_BYTES = 2
# Longest sleep (it stays a small int in microseconds on 32-bit ports).
_MAX_SLEEP_MS = 1000
# What an idle hook may overrun its time by before the overrun is held.
_HOLD_SLACK_MS = 2
# Longest pause between retries of a write that made no progress.
_WRITE_BACKOFF_MS = 32


class Pacer:
    """The driver's clock and waits for one transfer over `port` at `baud` (0: unknown), with
    `bits` line bits per byte.

    `clock` is (ticks_ms, ticks_diff, sleep_us); by default qsota.clock's. `idle(us)`, if
    given, takes the place of every sleep (a streamed source's download).
    """

    def __init__(self, port, baud, bits=10, clock=None, idle=None):
        if clock is None:
            clock = (_clock.ticks_ms, _clock.ticks_diff, _clock.sleep_us)
        self.ticks_ms, self.ticks_diff, self.sleep_us = clock
        self.idle = idle
        self.held = 0  # ms the sender's clock does not count (see `hold`; the driver reads it)
        # Every wait's sleep: the clock's, called as it is (no call of ours per wait), or the
        # idle hook's.
        self._sleep = self.sleep_us if idle is None else self._idle_sleep
        wait = getattr(port, "wait", None)
        self._port_wait = wait if callable(wait) and idle is None else None
        # Microseconds per byte on the wire, 0 when the rate is unknown.
        self._byte_us = bits * 1000000 // baud if baud else 0
        self._bit_ms = bits * 1000  # n bytes take n * _bit_ms / baud ms
        self.start = self.ticks_ms()
        self._quiet = -1  # ms (since start) before which the driver need not look; -1: none
        self._baud = baud
        self._free = 0  # ms (since start) when what was written is off the wire (baud known)
        self._carry = 0  # what _free lacks, in 1/baud ms
        self._since = 0  # when the current wait for input began (ms since start)
        self._sent = False  # a frame went out and the port was not asked since
        self._partial = False  # input came in, and the sender still waits for more
        self._reply = 0  # bytes received since the last frame went out
        self._reply_len = 0  # bytes the answer to the frame before took

    def now(self):
        """Milliseconds since the transfer started, less what was held."""
        return self.ticks_diff(self.ticks_ms(), self.start) - self.held

    def hold(self, ms):
        """`ms` just spent on something else than the MCU (waiting for the network) are not
        counted: the sender's timers see the MCU's time only."""
        if ms > 0:
            self.held += ms

    def _idle_sleep(self, us):
        """Gives `us` microseconds to the idle hook; what it takes beyond them is held."""
        before = self.now()
        self.idle(us)
        over = self.now() - before - (us + 999) // 1000
        if over > _HOLD_SLACK_MS:  # not a late wake-up: a reconnection, a slow read
            self.hold(over)

    def sent(self, began, n):
        """`n` bytes were written, starting at `began` (ms since start)."""
        if self._reply:
            self._reply_len = self._reply
            self._reply = 0
        if self._byte_us:
            self._on_line(began, n)
        self._since = began
        self._sent = True
        self._partial = False

    def _on_line(self, began, n):
        """Marks when the `n` bytes written at `began` are off the wire (baud known)."""
        free = self._free
        busy = free > began
        if not busy:
            free = began
            self._carry = 0
        # n bytes take n * _bit_ms / baud ms; the remainder is carried, so that the mark
        # does not drift from the line over a long window.
        n = n * self._bit_ms + self._carry
        frame = n // self._baud
        self._carry = n - frame * self._baud
        free += frame
        self._free = free
        if busy and (self._port_wait is None or free - began > 2 * frame):
            # Earlier frames are still on the wire (a window): their answers can wait
            # while the line is busy; the driver is back one frame before it drains and
            # takes the answers that came meanwhile together. A port's blocking wait
            # does better while less than a frame is ahead: it returns at the one
            # answer that can come before the line drains.
            if free - frame > self._quiet:
                self._quiet = free - frame
        elif self._quiet < 0 and self._port_wait is None:
            # The first frame since the last input: its answer comes after its last
            # byte (a port's blocking wait needs no mark: it returns when input comes).
            self._quiet = free

    def received(self, now, n):
        """`n` bytes of input arrived at `now`."""
        self._quiet = -1
        self._since = now
        self._sent = False
        self._partial = True
        self._reply += n

    def listening(self, now):
        """Whether input can have arrived by `now`, so that the driver asks the port; not
        right after a write (a port's blocking wait returns at once if it has input)."""
        return not self._sent and (self._quiet < 0 or now >= self._quiet)

    def wait(self, now, left, expects):
        """Nothing was read at `now`: sleeps until input can be there or `left` ms have
        passed (the sender's deadline less now); `expects` bytes of the answer are still to
        come (0: unknown)."""
        self._sent = False
        if left > _MAX_SLEEP_MS:
            left = _MAX_SLEEP_MS
        if left <= 0:
            return
        # After input the sender took while it still waits, the rest of an answer is on its
        # way. Sleep for the bytes the sender expects, or as long as the last answer took less
        # what is here, and a little more; at an unknown rate, one paced check below (not the
        # port's wait, which would return at each byte of it).
        partial = self._partial
        if partial:
            self._partial = False
            if self._byte_us:
                self._sleep_for_rest(left, expects)
                return
        quiet = self._quiet
        if quiet >= 0:
            self._quiet = -1
            if quiet > now:
                self._sleep_ms(quiet - now, left)
                self._since = quiet
                return
        if self._port_wait is not None and not partial:
            self._port_wait(left)
        else:
            self._sleep_ms(1 + (now - self._since) // 8, left)

    def _sleep_for_rest(self, left, expects):
        """Sleeps while the rest of an answer arrives: `expects` bytes (0: as many as the
        last answer had beyond what is here, at least one), and a little more."""
        if not expects:
            expects = self._reply_len - self._reply
            if expects < 1:
                expects = 1
        us = (expects + _SLACK_BYTES) * self._byte_us
        self._sleep(us if us < left * 1000 else left * 1000)

    def _sleep_ms(self, ms, left):
        """Sleeps `ms`, at most `left`."""
        self._sleep((ms if ms < left else left) * 1000)

    def stalled(self, tries):
        """A write took no bytes for the `tries`-th time in a row: backs off."""
        self.sleep_us(min(1 << min(tries, 5), _WRITE_BACKOFF_MS) * 1000)
