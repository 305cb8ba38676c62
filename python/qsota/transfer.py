"""qsota.transfer: `send` drives any sans-IO sender over a UART-like port.

A sender (`YmodemSender`, `LinkSender`) decides everything; this driver only
moves bytes and tells time. It owns one frame buffer, reads image bytes straight into it and
writes frames from it: after the first block nothing is allocated per block (memoryviews of
each length are made once and kept). See "Sender objects" in docs/architecture.md.
"""

try:
    import time
except ImportError:  # MicroPython 1.13 (legacy QuecPython) has only the u-names
    import utime as time

try:
    _ticks_ms = time.ticks_ms
    _ticks_diff = time.ticks_diff
    _sleep_ms = time.sleep_ms
except AttributeError:  # CPython: only for tools, not the hot path

    def _ticks_ms():
        return int(time.monotonic() * 1000)

    def _ticks_diff(a, b):
        return a - b

    def _sleep_ms(ms):
        time.sleep(ms / 1000)


# Action codes every sender's poll() returns (src/transfer.rs `Action`).
SEND = 1
READ = 2
WAIT = 3
DONE = 4
FAILED = 5

_RX = 64
_MESSAGES = {
    "timeout": "the receiver did not answer",
    "cancelled": "the receiver cancelled the transfer",
    "retries": "too many retransmissions",
    "protocol": "the receiver broke the protocol",
    "source": "the source gave fewer bytes than its size",
    "rejected": "the receiver refused the image",
    "usage": "the sender was misused",
    "io": "the port failed",
}


class TransferError(Exception):
    """A transfer failed: `.code` is one of timeout, cancelled, retries, protocol, source,
    rejected, usage, io; the message says what happened and where."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def _sender_class(protocol):
    import qsota

    if protocol == "ymodem":
        return qsota.YmodemSender
    if protocol == "native":
        return qsota.LinkSender
    if protocol == "stm32":
        return qsota.Stm32Sender
    if not isinstance(protocol, str):
        raise TypeError("protocol: expected str, got %s" % type(protocol).__name__)
    raise ValueError("protocol: unknown %r (known: 'ymodem', 'native', 'stm32')" % (protocol,))


# The native receiver's ERROR codes (docs/protocol.md section 5), for messages.
_RECEIVER_ERRORS = ("", "version", "size", "flash", "digest", "not open", "state", "argument")


def _sha256(f, given):
    """The image's SHA-256 for the native protocol's OPEN: `given` (32 bytes, or 64 hex
    digits), else computed from `f`, which is rewound."""
    if isinstance(given, str):
        try:
            from binascii import unhexlify
        except ImportError:
            from ubinascii import unhexlify
        try:
            return unhexlify(given)
        except ValueError:
            raise ValueError("sha256: expected 64 hex digits")
    if given is not None:
        return given
    try:
        from hashlib import sha256
    except ImportError:
        from uhashlib import sha256
    h = sha256()
    buf = bytearray(1024)
    views = _Views(buf)
    while True:
        n = f.readinto(buf)
        if not n:
            break
        h.update(views.get(0, n))
    f.seek(0)
    return h.digest()


def _check_port(port):
    for method in ("write", "any"):
        if not callable(getattr(port, method, None)):
            raise TypeError(
                "port: expected a UART-like object with write(), any() and readinto() or "
                "read(), got %s" % type(port).__name__
            )
    if not (callable(getattr(port, "readinto", None)) or callable(getattr(port, "read", None))):
        raise TypeError("port: needs readinto() or read(), got %s" % type(port).__name__)


def _basename(path):
    return path.rsplit("/", 1)[-1]


def _open(source, name):
    """(file, size, name, opened_here) for a path or a file object."""
    if isinstance(source, str):
        try:
            f = open(source, "rb")
        except OSError as e:
            raise TransferError("source", "source: cannot open %r (%s)" % (source, e))
        opened = True
        default = _basename(source)
    elif callable(getattr(source, "readinto", None)) and callable(getattr(source, "seek", None)):
        f = source
        opened = False
        default = getattr(source, "name", None)
        default = _basename(default) if isinstance(default, str) else None
    else:
        raise TypeError(
            "source: expected a path or a binary file object with readinto() and seek(), "
            "got %s" % type(source).__name__
        )
    try:
        size = f.seek(0, 2)
        f.seek(0)
    except OSError as e:
        if opened:
            f.close()
        raise TransferError("source", "source: cannot seek (%s)" % e)
    name = default if name is None else name
    if name is None:
        if opened:
            f.close()
        raise ValueError("name: required when the source file has no name")
    return f, size, name, opened


class _Views:
    """memoryviews of one buffer, made once per (start, length) and kept."""

    def __init__(self, buf):
        self.mv = memoryview(buf)
        self.cache = {}

    def get(self, start, length):
        key = start * 65536 + length
        v = self.cache.get(key)
        if v is None:
            v = self.mv[start : start + length]
            self.cache[key] = v
        return v


def _written(k):
    """What one port.write returned, as a count: None is 0 (nothing taken yet), a negative
    count (how some ports report a failure) is an error, not a silent retry from byte 0."""
    if k is None:
        return 0
    if k < 0:
        raise OSError(5, "write returned %d" % k)  # EIO
    return k


def _write_all(port, views, n):
    done = _written(port.write(views.get(0, n)))
    # machine.UART writes everything; a port that takes less costs a memoryview per retry.
    while done < n:
        k = _written(port.write(views.mv[done:n]))
        if k:
            done += k
        else:
            _sleep_ms(1)


def _read_exact(f, views, at, n):
    got = 0
    while got < n:
        k = f.readinto(views.get(at + got, n - got))
        if not k:
            break
        got += k
    return got


def send(port, source, protocol="ymodem", name=None, progress=None, **options):
    """Sends the file `source` (a path or a binary file object) over `port` (machine.UART or
    anything with write, any and readinto/read) with `protocol`.

    `name` defaults to the file's base name; `progress(offset, size)` is called before each
    block is read; `options` go to the sender (YMODEM: block_size, timeout_ms,
    header_timeout_ms, start_timeout_ms, end_gap_ms, retries, baud; native: component,
    version, sha256 (bytes or hex, else computed from the file first), rto_ms,
    open_timeout_ms, retries; stm32 (ST's ROM bootloader, 8E1): address, go, flash_size,
    page_size, timeout_ms, erase_timeout_ms, start_timeout_ms, retries, baud, and boot0,
    nrst, nrst_active, reset_ms, boot_ms for qsota.stm32boot; `name` is not used by
    native and stm32). Returns the stats dict (bytes, frames,
    retries, line_bytes, elapsed_ms; YMODEM: blocks; native: resumed_from, resent_bytes,
    reopens, ...); raises TransferError.
    """
    cls = _sender_class(protocol)
    _check_port(port)
    if progress is not None and not callable(progress):
        raise TypeError("progress: expected a callable, got %s" % type(progress).__name__)
    f, size, name, opened = _open(source, "" if protocol in ("native", "stm32") else name)
    try:
        if protocol == "native":
            sender = cls(size, _sha256(f, options.pop("sha256", None)), **options)
        elif protocol == "stm32":
            from . import stm32boot

            pins = stm32boot.take(options)
            sender = cls(size, **options)
            stm32boot.enter(*pins)
        else:
            sender = cls(name, size, **options)
        return _drive(port, f, size, sender, protocol, progress)
    finally:
        if opened:
            f.close()


def _drive(port, f, size, sender, protocol, progress):
    frame = bytearray(sender.frame_size)
    fv = _Views(frame)
    frame_mv = fv.mv
    rx = bytearray(_RX)
    readinto = getattr(port, "readinto", None)
    pos = 0
    start = _ticks_ms()
    while True:
        now = _ticks_diff(_ticks_ms(), start)
        action = sender.poll(now, frame_mv)
        if action == SEND:
            try:
                _write_all(port, fv, sender.length)
            except OSError as e:
                raise TransferError("io", "%s: port write failed (%s)" % (protocol, e))
        elif action == READ:
            offset = sender.offset
            if progress is not None:
                progress(offset, size)
            try:
                if offset != pos:
                    f.seek(offset)
                got = _read_exact(f, fv, sender.at, sender.length)
            except OSError as e:
                raise TransferError("source", "source: read failed at %d (%s)" % (offset, e))
            pos = offset + got
            sender.provide(got)
        elif action == WAIT:
            data = rx
            try:
                got = port.any()
                if got:
                    # readinto(buf, n) and receive(now, buf, n): no slice of rx per read.
                    if readinto is not None:
                        got = readinto(rx, min(got, _RX)) or 0
                    else:
                        data = port.read(min(got, _RX)) or b""  # read() allocates anyway
                        got = len(data)
            except OSError as e:
                raise TransferError("io", "%s: port read failed (%s)" % (protocol, e))
            if got:
                sender.receive(_ticks_diff(_ticks_ms(), start), data, got)
            elif _ticks_diff(sender.until, now) > 0:
                _sleep_ms(1)
        elif action == DONE:
            stats = sender.stats()
            stats["elapsed_ms"] = _ticks_diff(_ticks_ms(), start)
            return stats
        else:
            code = sender.error
            stats = sender.stats()
            why = _MESSAGES.get(code, code)
            refused = stats.get("receiver_error", 0)
            if refused:
                why += " (%s)" % (_RECEIVER_ERRORS[refused] if refused < 8 else refused)
            if stats.get("reason"):
                why += " (%s)" % stats["reason"]
            raise TransferError(
                code,
                "%s: %s (block %d, %d of %d bytes acknowledged)"
                % (protocol, why, sender.block, stats["bytes"], size),
            )


class TcpPort:
    """A UART-like port over a TCP connection (unix port): write, any, readinto, read.

    Input goes through a small buffer of its own, so that any() can tell how many bytes
    are waiting without allocating (a select.poll would make a tuple per event)."""

    def __init__(self, sock):
        self._sock = sock
        self._buf = bytearray(256)
        self._n = 0  # bytes in _buf
        self._pos = 0  # bytes of them already handed out

    def _fill(self):
        if self._pos < self._n:
            return
        self._pos = self._n = 0
        try:
            n = self._sock.readinto(self._buf)
        except OSError as e:
            if e.args[0] == 11:  # EAGAIN: nothing yet
                return
            raise
        if n == 0:
            raise OSError(104, "connection closed by the peer")  # ECONNRESET
        self._n = n or 0

    def write(self, buf):
        while True:
            try:
                n = self._sock.write(buf)
            except OSError as e:
                if e.args[0] != 11:  # EAGAIN: the socket buffer is full
                    raise
                n = None
            if n:
                return n
            _sleep_ms(1)

    def any(self):
        self._fill()
        return self._n - self._pos

    def readinto(self, buf, nbytes=None):
        self._fill()
        k = min(len(buf) if nbytes is None else nbytes, self._n - self._pos)
        if not k:
            return None
        src, pos = self._buf, self._pos
        for i in range(k):
            buf[i] = src[pos + i]
        self._pos = pos + k
        return k

    def read(self, n=256):
        buf = bytearray(n)
        k = self.readinto(buf)
        return bytes(buf[:k]) if k else None

    def close(self):
        self._sock.close()


def tcp_port(host, port, timeout_ms=5000):
    """Connects to `host:port` (the MCU side listens) and returns a UART-like TcpPort."""
    try:
        import socket
    except ImportError:
        import usocket as socket
    if not isinstance(host, str):
        raise TypeError("host: expected str, got %s" % type(host).__name__)
    if not isinstance(port, int) or not 0 < port < 65536:
        raise ValueError("port: must be 1 to 65535")
    start = _ticks_ms()
    addr = socket.getaddrinfo(host, port)[0][-1]
    while True:
        s = socket.socket()
        try:
            s.connect(addr)
            break
        except OSError as e:
            s.close()
            if _ticks_diff(_ticks_ms(), start) >= timeout_ms:
                raise TransferError("io", "tcp_port: cannot connect to %s:%d (%s)" % (host, port, e))
            _sleep_ms(20)
    s.setblocking(False)
    return TcpPort(s)
