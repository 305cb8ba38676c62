"""qsota.tcpport: a UART-like port over TCP, a helper for tests, the MCU simulator, benches
and the demo on the unix port (`qsota.tcp_port` imports it when called, so a firmware that
never calls it spends no RAM on it)."""

from .clock import sleep_ms, ticks_diff, ticks_ms
from .errors import TransferError


class TcpPort:
    """A UART-like port over a TCP connection (unix port): write, any, readinto, read, and
    wait(timeout_ms), which the driver blocks in (select.poll, see qsota.pacing).

    Input goes through a small buffer of its own, so that any() can tell how many bytes
    are waiting without allocating. `write` takes what the socket takes, waiting up to
    `write_timeout_ms` for room, and returns None when it took nothing (as machine.UART does
    on a write timeout)."""

    def __init__(self, sock, write_timeout_ms=100):
        try:
            import select
        except ImportError:
            import uselect as select
        self._sock = sock
        self._buf = bytearray(256)
        self._n = 0  # bytes in _buf
        self._pos = 0  # bytes of them already handed out
        self._write_timeout = write_timeout_ms
        # ipoll(): blocks like poll() without the list and tuples poll() makes per call.
        self._readable = select.poll()
        self._readable.register(sock, select.POLLIN)
        self._writable = select.poll()
        self._writable.register(sock, select.POLLOUT)

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

    def _write(self, buf):
        try:
            return self._sock.write(buf)
        except OSError as e:
            if e.args[0] != 11:  # EAGAIN: the socket buffer is full
                raise
        return None

    def write(self, buf):
        n = self._write(buf)
        if not n:
            self._writable.ipoll(self._write_timeout)
            n = self._write(buf)
        return n or None

    def wait(self, timeout_ms):
        """Returns once input is waiting (or the peer closed), or after `timeout_ms`."""
        if self._pos < self._n:
            return
        self._readable.ipoll(timeout_ms)

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
    start = ticks_ms()
    addr = socket.getaddrinfo(host, port)[0][-1]
    while True:
        s = socket.socket()
        try:
            s.connect(addr)
            break
        except OSError as e:
            s.close()
            if ticks_diff(ticks_ms(), start) >= timeout_ms:
                raise TransferError("io", "tcp_port: cannot connect to %s:%d (%s)" % (host, port, e))
            sleep_ms(20)
    s.setblocking(False)
    return TcpPort(s)
