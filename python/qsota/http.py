"""qsota.http: a small HTTP/1.1 GET client with `Range`, for resumable firmware downloads.

http:// only (no TLS): QuecPython's `request` module exists on the device, but a resumable
download needs control over `Range` and over how the body is read. The body is read with
`readinto` into the caller's buffer, so the download loop allocates nothing per chunk.
Redirects (301, 302, 303, 307, 308) to http:// URLs are followed, at most 3.
"""

try:
    import socket
except ImportError:
    import usocket as socket

_REDIRECTS = (301, 302, 303, 307, 308)


class HttpError(Exception):
    """The server answered, but not with the body asked for. `.status` is the HTTP status
    (0 when the answer was not HTTP); `.retry` says whether asking again may help."""

    def __init__(self, status, message, retry=False):
        super().__init__(message)
        self.status = status
        self.retry = retry


def parse_url(url):
    """(host, port, path) of an http:// URL; ValueError naming `url` otherwise."""
    if not isinstance(url, str):
        raise TypeError("url: expected str, got %s" % type(url).__name__)
    if url.startswith("https://"):
        raise ValueError("url: only http:// is supported, got %r" % url)
    if not url.startswith("http://"):
        raise ValueError("url: expected an http:// URL, got %r" % url)
    rest = url[7:]
    slash = rest.find("/")
    hostport, path = (rest, "/") if slash < 0 else (rest[:slash], rest[slash:])
    host, port = hostport, 80
    colon = hostport.rfind(":")
    if colon >= 0 and "]" not in hostport[colon:]:
        host = hostport[:colon]
        try:
            port = int(hostport[colon + 1 :])
        except ValueError:
            raise ValueError("url: bad port in %r" % url)
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host or not 0 < port < 65536:
        raise ValueError("url: bad host or port in %r" % url)
    return host, port, path


class Response:
    """A response body being read. `offset` is where the body starts in the file (the Range
    start the server honoured, else 0); `total` is the file's full size, None if unknown;
    `length` the body length, None when the body runs until the connection closes."""

    def __init__(self, sock, status, offset, length, total):
        self._sock = sock
        self.status = status
        self.offset = offset
        self.length = length
        self.total = total
        self.remaining = length

    def readinto(self, buf):
        """Fills `buf` (or what is left of the body); returns the count (less than asked only
        when the connection ended), 0 at the end of the body. Raises OSError when the
        connection drops or times out before the end of the body."""
        want = len(buf)
        if self.remaining is not None:
            if self.remaining == 0:
                return 0
            if self.remaining < want:
                want = self.remaining
        n = self._sock.readinto(buf, want) or 0
        if self.remaining is not None:
            if n == 0:
                raise OSError(104, "connection closed with %d body bytes missing" % self.remaining)
            self.remaining -= n
        return n

    def close(self):
        self._sock.close()


def _header_line(sock):
    line = sock.readline(2049)  # bounded: a line without an end must not fill the heap
    if not line:
        raise OSError(104, "connection closed in the response header")
    if len(line) > 2048:
        raise HttpError(0, "response header line too long")
    return line


def _request(url, start, timeout_s):
    host, port, path = parse_url(url)
    addr = socket.getaddrinfo(host, port)[0][-1]
    sock = socket.socket()
    try:
        sock.settimeout(timeout_s)
        sock.connect(addr)
        hostname = host if port == 80 else "%s:%d" % (host, port)
        req = "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: qsota\r\nConnection: close\r\n" % (
            path,
            hostname,
        )
        if start:
            req += "Range: bytes=%d-\r\n" % start
        sock.write(req.encode() + b"\r\n")
        status_line = _header_line(sock).split(None, 2)
        if len(status_line) < 2 or not status_line[0].startswith(b"HTTP/"):
            raise HttpError(0, "not an HTTP response from %s:%d" % (host, port))
        try:
            status = int(status_line[1])
        except ValueError:
            raise HttpError(0, "bad HTTP status line from %s:%d" % (host, port))
        headers = {}
        while True:
            line = _header_line(sock)
            if line in (b"\r\n", b"\n"):
                break
            colon = line.find(b":")
            if colon > 0:
                headers[line[:colon].strip().lower()] = line[colon + 1 :].strip()
        return sock, status, headers
    except BaseException:
        sock.close()
        raise


def _int_header(headers, name):
    value = headers.get(name)
    if value is None:
        return None
    try:
        n = int(value)
    except ValueError:
        raise HttpError(0, "bad %s header: %r" % (name.decode(), value))
    if n < 0:
        raise HttpError(0, "bad %s header: %r" % (name.decode(), value))
    return n


def _content_range(headers):
    """(first, total) from `Content-Range: bytes first-last/total` (total None if '*')."""
    value = headers.get(b"content-range", b"")
    try:
        unit, rng = value.split(b" ", 1)
        span, total = rng.split(b"/", 1)
        first = int(span.split(b"-", 1)[0])
        total = None if total == b"*" else int(total)
    except ValueError:
        raise HttpError(206, "bad Content-Range header: %r" % value)
    if unit != b"bytes":
        raise HttpError(206, "bad Content-Range unit: %r" % value)
    return first, total


def get(url, start=0, timeout_s=30):
    """GETs `url` from byte `start` (a Range request when start > 0). Returns a Response.

    Raises HttpError for an answer that is not the body (404, 500, ...; `.retry` is set for
    5xx and 416-free transient cases), ValueError for a URL that is not http://, OSError for
    network failures (connect, timeout, reset).
    """
    for _ in range(4):
        sock, status, headers = _request(url, start, timeout_s)
        if status in _REDIRECTS and b"location" in headers:
            sock.close()
            location = headers[b"location"].decode()
            if location.startswith("//"):  # same scheme, another server
                location = "http:" + location
            elif location.startswith("/"):  # relative to this server
                location = url[: url.index("/", 7)] + location if "/" in url[7:] else url + location
            url = location
            continue
        try:
            if headers.get(b"transfer-encoding", b"identity").lower() != b"identity":
                raise HttpError(status, "chunked transfer encoding is not supported")
            length = _int_header(headers, b"content-length")
            if status == 206:
                offset, total = _content_range(headers)
                if offset != start:
                    raise HttpError(206, "asked for byte %d, server sent from %d" % (start, offset))
            elif status == 200:
                offset, total = 0, length
            else:
                raise HttpError(status, "HTTP %d for %s" % (status, url), retry=status >= 500)
        except BaseException:
            sock.close()
            raise
        return Response(sock, status, offset, length, total)
    raise HttpError(0, "too many redirects for %s" % url)
