"""qsota.transfer: `send` drives any sans-IO sender over a UART-like port.

A sender (`YmodemSender`, `NativeSender`) decides everything; this driver only
moves bytes and tells time. It owns one frame buffer, reads image bytes straight into it and
writes frames from it: after the first block nothing is allocated per block (memoryviews of
each length are made once and kept). See "Sender objects" in docs/architecture.md. What it
knows of each protocol is its record in qsota.protocols; the image is opened and hashed by
qsota.source.
"""

from . import _bound
from .codes import DIGEST, DONE, MESSAGES, READ, SEND, WAIT
from .errors import TransferError
from .pacing import Pacer
from .protocols import get as _protocol
from .source import Views, open_source, refusal

# The receive buffer: the longest answer (the ROM bootloader's 257-byte read-back, an MCUboot
# answer) is taken in one read.
_RX = 512


def _check_port(port):
    for method in ("write", "any"):
        if not callable(getattr(port, method, None)):
            raise TypeError(
                "port: expected a UART-like object with write(), any() and readinto() or "
                "read(), got %s" % type(port).__name__
            )
    if not (callable(getattr(port, "readinto", None)) or callable(getattr(port, "read", None))):
        raise TypeError("port: needs readinto() or read(), got %s" % type(port).__name__)


def _written(k):
    """What one port.write returned, as a count: None is 0 (nothing taken yet), a negative
    count (how some ports report a failure) is an error, not a silent retry from byte 0."""
    if k is None:
        return 0
    if k < 0:
        raise OSError(5, "write returned %d" % k)  # EIO
    return k


def _write_rest(port, views, n, first, pacer, stall_ms):
    """Writes the rest of frame[:n] after a first write that returned `first` (machine.UART
    writes everything; a port that takes less costs a memoryview per retry). A port that
    takes no bytes (machine.UART returns None on a write timeout, some ports 0) for
    `stall_ms` fails with TransferError io: never a hang. Returns the bytes written."""
    done = _written(first)
    tries = 0
    since = pacer.now()
    while done < n:
        k = _written(port.write(views.mv[done:n]))
        now = pacer.now()
        if k:
            done += k
            tries = 0
            since = now
        elif now - since >= stall_ms:
            return done
        else:
            tries += 1
            pacer.stalled(tries)
    return done


def _read_rest(f, views, at, n, got):
    """Reads on into frame[at:at + n] after a first readinto that returned `got` bytes,
    until n bytes or the end of the file. Returns the bytes read."""
    if not got:
        return 0
    while got < n:
        k = f.readinto(views.get(at + got, n - got))
        if not k:
            break
        got += k
    return got


def send(port, source, protocol="ymodem", name=None, progress=None, **options):
    """Sends the file `source` (a path or a binary file object) over `port` (machine.UART or
    anything with write, any and readinto/read) with `protocol`.

    An empty source is refused (TransferError `source`) unless `allow_empty=True`, and so
    is a diff package (a patch: qsota.source.patch_format) unless `mcu_applies_diffs=True`
    says that the MCU's bootloader applies it.
    `name` defaults to the file's base name; `progress(offset, size)` is called before each
    block is read; `options` go to the sender (YMODEM: block_size, timeout_ms,
    header_timeout_ms, start_timeout_ms, end_gap_ms, retries, baud; native: component,
    version, sha256 (bytes or hex, else computed from the file first), rto_ms,
    open_timeout_ms, retries, deferred (a stream, qsota.stream: OPEN names the image by
    `source.identity()`, and once the MCU has every byte the driver runs the stream's final
    check, `source.digest()`, and COMMIT carries the SHA-256, or the transfer is aborted); stm32 (ST's ROM bootloader, 8E1): address, go, flash_size,
    page_size, timeout_ms, erase_timeout_ms, start_timeout_ms, retries, baud, and boot0,
    nrst, nrst_active, reset_ms, boot_ms for qsota.stm32boot; mcuboot (a signed MCUboot
    image into serial recovery): image, buf_size, enter, boot_pin, reset_pin, boot_level,
    boot_ms, resume, reset, timeout_ms, erase_timeout_ms, retries, sha256, see
    qsota.mcuboot; `name` is used by YMODEM only). `baud` (any protocol, 0: unknown) is the
    line's rate: with it the driver sleeps while a frame is on the wire (qsota.pacing).
    Returns the stats dict (bytes, frames, retries, line_bytes, elapsed_ms; YMODEM: blocks;
    native: resumed_from, resent_bytes, reopens, ...; mcuboot: hash, buf_size, chunk, ...);
    raises TransferError.
    """
    p = _protocol(protocol)
    _check_port(port)
    if progress is not None and not callable(progress):
        raise TypeError("progress: expected a callable, got %s" % type(progress).__name__)
    allow_empty = options.pop("allow_empty", False)
    mcu_applies_diffs = options.pop("mcu_applies_diffs", False)
    baud = options.get("baud", 0) if p.takes_baud else _baud(options.pop("baud", 0))
    stall_ms = p.stall_ms(options)
    enter = p.entry(options) if p.entry is not None else None
    f, size, name, opened = open_source(source, name)
    try:
        refused = refusal(f, size, allow_empty, mcu_applies_diffs, p.packages)
        if refused is not None:
            raise TransferError("source", "source: " + refused)
        cls = getattr(_bound.backend, p.cls)
        sender = cls(*p.args(f, size, name, options), **options)
        if enter is not None:
            enter(port)
        idle = getattr(f, "idle", None)  # a stream (qsota.stream): its download
        pacer = Pacer(port, baud, p.bits, idle=idle if callable(idle) else None)
        return _drive(port, f, size, sender, protocol, progress, pacer, stall_ms, p.detail)
    finally:
        if opened:
            f.close()


# Senders that take `baud` themselves (YMODEM adds each frame's wire time to its timeouts);
# for the others it only paces the driver.
def _baud(baud):
    if not isinstance(baud, int) or isinstance(baud, bool):
        raise TypeError("baud: expected int, got %s" % type(baud).__name__)
    if not 0 <= baud <= 0xFFFFFFFF:
        raise ValueError("baud: must be 0 to 4294967295")
    return baud


def _final_check(f, frame, at):
    """DIGEST (a sender made with `deferred=True` for a stream, qsota.stream): the image's
    final check (md5, CRC, size, signature: the stream's verifier) once the receiver has
    every byte, and its SHA-256 written to frame[at:]. Returns how many bytes were written,
    0 if the check failed, and the failure (None if it passed)."""
    check = getattr(f, "digest", None)
    if check is None:
        return 0, "the source has no final check (deferred=True needs a stream)"
    try:
        sha = check()
    except ValueError as e:  # VerifyError: the MCU keeps its firmware
        return 0, "the image failed its final check (%s)" % e
    for i in range(32):  # byte by byte: slice assignment into a memoryview is optional
        frame[at + i] = sha[i]
    return 32, None


def _drive(port, f, size, sender, protocol, progress, pacer, stall_ms, detail):
    """The transfer's loop. The usual frame, read and answer take no call but the sender's,
    the port's, the file's and the pacer's, and allocate nothing: MicroPython puts the
    frame of a call whose locals and stack take more than 11 words on the heap, a search of
    the heap on every call that in a fragmented heap (an application's) costs tens of
    thousands of instructions. So the helpers above serve only short writes and reads."""
    frame = bytearray(sender.frame_size)
    failed_check = None
    fv = Views(frame)
    frame_mv = fv.mv
    rx = bytearray(_RX)
    readinto = getattr(port, "readinto", None)
    poll, write, any_, read_file = sender.poll, port.write, port.any, f.readinto
    ticks_ms, ticks_diff, start = pacer.ticks_ms, pacer.ticks_diff, pacer.start
    # A stream's (pacer.idle): its reads and waits may hold time (qsota.pacing.Pacer.hold);
    # `held` is pacer.held as of the last of them.
    stream = pacer.idle is not None
    held = 0
    out_n = in_at = in_n = -1  # the last frame written and block read, and their views
    out = into = None
    pos = 0
    while True:
        now = ticks_diff(ticks_ms(), start) - held
        action = poll(now, frame_mv)
        if action == SEND:
            n = sender.length
            if n != out_n:
                out_n, out = n, fv.get(0, n)
            try:
                done = write(out)
                if done != n:
                    done = _write_rest(port, fv, n, done, pacer, stall_ms)
            except OSError as e:
                raise TransferError("io", "%s: port write failed (%s)" % (protocol, e))
            if done < n:
                raise TransferError(
                    "io",
                    "%s: the port took no bytes for %d ms (%d of %d bytes of a frame written)"
                    % (protocol, stall_ms, done, n),
                )
            pacer.sent(now, n)
        elif action == READ:
            offset = sender.offset
            if progress is not None:
                progress(offset, size)
            if stream:
                began = pacer.now()
            n = sender.length
            if n != in_n or sender.at != in_at:
                in_at, in_n = sender.at, n
                into = fv.get(in_at, n)
            try:
                if offset != pos:
                    f.seek(offset)
                got = read_file(into)
                if got != n:
                    got = _read_rest(f, fv, in_at, n, got)
            except OSError as e:
                raise TransferError("source", "source: read failed at %d (%s)" % (offset, e))
            if stream:  # it may have waited for the network: not the MCU's time
                pacer.hold(pacer.now() - began)
                held = pacer.held
            pos = offset + got
            sender.provide(got)
        elif action == WAIT:
            data = rx
            waited = False
            while True:
                try:
                    got = any_() if pacer.listening(now) else 0
                    if got:
                        # readinto(buf, n) and receive(now, buf, n): no slice of rx per read.
                        if readinto is not None:
                            got = readinto(rx, got if got < _RX else _RX) or 0
                        else:
                            data = port.read(got if got < _RX else _RX) or b""  # allocates
                            got = len(data)
                except OSError as e:
                    raise TransferError("io", "%s: port read failed (%s)" % (protocol, e))
                if got or waited:
                    break
                # Nothing yet: wait, then look once more before the sender sees the new
                # time, so that what came meanwhile is taken before its deadline can fire.
                pacer.wait(now, sender.until - now, sender.length)
                if stream:
                    held = pacer.held
                now = ticks_diff(ticks_ms(), start) - held
                waited = True
            if got:
                now = ticks_diff(ticks_ms(), start) - held
                sender.receive(now, data, got)
                pacer.received(now, got)
        elif action == DIGEST:
            began = pacer.now()
            n, failed_check = _final_check(f, frame_mv, sender.at)
            pacer.hold(pacer.now() - began)  # it may download the image's last bytes
            held = pacer.held
            sender.provide(n)
        elif action == DONE:
            stats = sender.stats()
            stats["elapsed_ms"] = pacer.now()
            return stats
        else:
            code = sender.error
            stats = sender.stats()
            why = failed_check or MESSAGES.get(code, code)
            if detail is not None:
                why += detail(stats)
            raise TransferError(
                code,
                "%s: %s (block %d, %d of %d bytes acknowledged)"
                % (protocol, why, sender.block, stats["bytes"], size),
            )
