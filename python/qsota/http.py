"""qsota.http: a small HTTP/1.1 GET client for resumable firmware downloads.

http:// and https:// (TLS with the checks the firmware can do: qsota.https), Basic auth from
`user:password@` in the URL, redirects (301, 302, 303, 307, 308; at most 5; between http and
https; with `ca`/`pin` the body must come over https, from a server that passed them), `Range` with
`If-Range`, and bodies as servers send them: `Content-Length`, chunked (bounded size lines,
trailers read and dropped) or until the connection closes. QuecPython's `request` module
exists on the device, but a resumable download needs control over the headers and over how
the body is read: here it is read with `readinto` into the caller's buffer, so the download
loop allocates nothing per chunk (also for chunked bodies and over TLS).
"""

try:
    import socket
except ImportError:
    import usocket as socket
try:
    from binascii import b2a_base64
except ImportError:
    from ubinascii import b2a_base64

from qsota import https

_REDIRECTS = (301, 302, 303, 307, 308)
_MAX_REDIRECTS = 5
_LINE = 2048  # longest header or trailer line
_CHUNK_LINE = 256  # longest chunk-size line (hex size and extensions)
_MAX_LINES = 100  # most header lines, and most trailer lines
_NO_TLS = ([], [])


class HttpError(Exception):
    """The server answered, but not with the body asked for. `.status` is the HTTP status
    (0 when the answer was not HTTP or a TLS check failed); `.retry` says whether asking
    again may help."""

    def __init__(self, status, message, retry=False):
        super().__init__(message)
        self.status = status
        self.retry = retry


def _unquote(text):
    """Percent-decoding of the URL's user information (ASCII: the URL was checked)."""
    out = bytearray()
    i = 0
    while i < len(text):
        if text[i] == "%" and i + 2 < len(text):
            try:
                out.append(int(text[i + 1 : i + 3], 16))
                i += 3
                continue
            except ValueError:
                pass
        out.append(ord(text[i]))
        i += 1
    return bytes(out)


def redact(url):
    """`url` without the password of its user information, for logs and messages."""
    if not isinstance(url, str):
        return repr(url)
    sep = url.find("://") + 3
    end = len(url)
    for c in "/?#":
        k = url.find(c, sep)
        if 0 <= k < end:
            end = k
    at = url.rfind("@", sep, end)
    return url if at < 0 else url[:sep] + "***" + url[at:]


class Url:
    """An http(s) URL: `scheme`, `host`, `port`, `hostport` (the Host header), `path` (with
    the query, never the fragment) and `auth` (the Basic credentials, or None)."""

    def __init__(self, url):
        if not isinstance(url, str):
            raise TypeError("url: expected str, got %s" % type(url).__name__)
        for c in url:
            if not " " < c < "\x7f":
                why = "spaces, control or non-ASCII characters"
                raise ValueError("url: %s in %r" % (why, redact(url)))
        sep = url.find("://")
        self.scheme = url[:sep].lower() if sep > 0 else ""
        if self.scheme not in ("http", "https"):
            raise ValueError("url: expected an http:// or https:// URL, got %r" % redact(url))
        rest = url[sep + 3 :]
        hash_ = rest.find("#")
        if hash_ >= 0:
            rest = rest[:hash_]  # the fragment is the client's, never sent
        end = len(rest)
        for c in "/?":
            k = rest.find(c)
            if 0 <= k < end:
                end = k
        authority, path = rest[:end], rest[end:]
        self.path = "/" + path if not path.startswith("/") else path
        self.auth = None
        at = authority.rfind("@")
        if at >= 0:
            self.auth = b2a_base64(_unquote(authority[:at])).strip().decode()
            authority = authority[at + 1 :]
        self.hostport = authority
        port = ""
        if authority.startswith("["):
            close = authority.find("]")
            host = authority[1:close] if close > 0 else ""
            after = authority[close + 1 :] if close > 0 else "x"
            if after:
                if not after.startswith(":"):
                    host = ""
                port = after[1:]
        else:
            colon = authority.find(":")
            host = authority if colon < 0 else authority[:colon]
            port = "" if colon < 0 else authority[colon + 1 :]
        default = 443 if self.scheme == "https" else 80
        try:
            self.port = int(port) if port else default
        except ValueError:
            raise ValueError("url: bad port in %r" % redact(url))
        if not host or not 0 < self.port < 65536:
            raise ValueError("url: bad host or port in %r" % redact(url))
        self.host = host
        self.url = url
        self.safe = "%s://%s%s" % (self.scheme, self.hostport, self.path)  # no credentials

    def join(self, location):
        """The absolute URL a redirect's Location names (RFC 3986 reference resolution, for
        the forms servers send)."""
        if "://" in location.split("?", 1)[0]:
            return location
        base = "%s://%s" % (self.scheme, self.hostport)
        if location.startswith("//"):
            return self.scheme + ":" + location
        if location.startswith("/"):
            return base + location
        path = self.path.split("?", 1)[0]
        if location.startswith("?"):
            return base + path + location
        return base + path[: path.rfind("/") + 1] + location


def parse_url(url):
    """The Url of `url`; TypeError/ValueError naming `url` when it is not one."""
    return Url(url)


class Response:
    """A response body being read. `offset` is where the body starts in the file (the Range
    start the server honoured, else 0); `total` is the file's full size, None if unknown;
    `length` the body length, None when chunked or until the connection closes; `etag` and
    `last_modified` the validators (str or None); `status` 200 or 206. `raw` is the TCP
    socket under `sock` (itself without TLS) and `timeout_s` its timeout: a read that must
    not wait makes it non-blocking for a while (see `readinto`)."""

    def __init__(self, sock, status, headers, start, raw=None, timeout_s=None):
        self._sock = sock
        self._raw = raw
        self._timeout_s = timeout_s
        self._waits = True  # whether reads of `raw` block (with its timeout)
        self.status = status
        self.etag = _text(headers.get(b"etag"))
        self.last_modified = _text(headers.get(b"last-modified"))
        coding = headers.get(b"transfer-encoding", b"identity").lower()
        codings = [c.strip() for c in coding.split(b",") if c.strip() != b"identity"]
        if codings not in ([], [b"chunked"]):
            raise HttpError(status, "transfer encoding %r is not supported" % coding.decode())
        self.chunked = bool(codings)
        content = headers.get(b"content-encoding", b"identity").lower()
        if content != b"identity":
            # we never ask for one (the digests are over the file, not a compressed form)
            raise HttpError(status, "content encoding %r is not supported" % content.decode())
        length = None if self.chunked else _int_header(headers, b"content-length")
        if status == 206:
            first, last, total = _content_range(headers)
            if first != start:
                raise HttpError(206, "asked for byte %d, the server sent from %d" % (start, first))
            if length is not None and length != last - first + 1:
                why = "Content-Length %d disagrees with Content-Range %d-%d" % (length, first, last)
                raise HttpError(206, why)
            if not self.chunked:
                length = last - first + 1
            self.offset, self.total = first, total
        else:
            self.offset, self.total = 0, length
        self.length = self.remaining = length
        self._chunk_left = 0  # bytes left in the current chunk
        self._chunks = 0  # chunks started
        self._eof = False
        self._one = bytearray(1) if self.chunked else None
        self._line = bytearray(_LINE) if self.chunked else None

    def readinto(self, buf, wait=True):
        """Fills `buf` (or what is left of the body or of the current chunk); returns the
        count, 0 at the end of the body. With wait=False it takes only what has arrived
        (None: nothing yet), so that a streamed update reads the network between frames
        to the MCU; a chunk's size line is still read whole (its few bytes come with the
        data). Raises OSError when the connection drops or times out before the end of the
        body, HttpError for a malformed chunked body."""
        if self.chunked:
            if self._chunk_left == 0:
                if self._eof:
                    return 0
                self._chunk_left = self._next_chunk()
                if self._chunk_left == 0:
                    self._eof = True
                    return 0
            n = self._read(buf, min(len(buf), self._chunk_left), wait)
            if n is None:
                return None
            if n == 0:
                raise OSError(104, "connection closed inside a chunk")
            self._chunk_left -= n
            return n
        want = len(buf)
        if self.remaining is not None:
            if self.remaining == 0:
                return 0
            if self.remaining < want:
                want = self.remaining
        n = self._read(buf, want, wait)
        if n is None:
            return None
        if self.remaining is not None:
            if n == 0:
                raise OSError(104, "connection closed with %d body bytes missing" % self.remaining)
            self.remaining -= n
        return n

    def _read(self, buf, want, wait):
        """At most `want` bytes into `buf`: all of them (wait), or what has arrived (None:
        nothing; a non-blocking socket's readinto says so with None)."""
        self._wait(wait)
        n = self._sock.readinto(buf, want)
        return 0 if n is None and wait else n

    def _wait(self, wait):
        """Makes reads of the socket block (with its timeout) or not."""
        if wait != self._waits and self._raw is not None:
            self._raw.settimeout(self._timeout_s if wait else 0)
            self._waits = wait

    def _byte(self):
        if not self._sock.readinto(self._one, 1):
            raise OSError(104, "connection closed in a chunk header")
        return self._one[0]

    def _read_line(self, limit):
        """Reads one line into self._line byte by byte (no allocation); returns its length
        without the line end."""
        n = 0
        while True:
            c = self._byte()
            if c == 10:  # LF
                return n - 1 if n and self._line[n - 1] == 13 else n
            if n >= limit:
                raise HttpError(self.status, "chunk header or trailer line too long")
            self._line[n] = c
            n += 1

    def _next_chunk(self):
        """The next chunk's size (after the previous chunk's CRLF); at the last chunk (size
        0) the trailers are read and dropped."""
        self._wait(True)  # a size line is read whole
        if self._chunks:
            c = self._byte()
            if c == 13:
                c = self._byte()
            if c != 10:
                raise HttpError(self.status, "chunk data not followed by CRLF")
        self._chunks += 1
        n = self._read_line(_CHUNK_LINE)
        size = digits = 0
        line = self._line
        for i in range(n):
            c = line[i]
            if c in (0x3B, 0x20, 0x09):  # ';' (extensions), space, tab
                break
            c |= 0x20  # lower case
            if 48 <= c <= 57:
                d = c - 48
            elif 97 <= c <= 102:
                d = c - 87
            else:
                raise HttpError(self.status, "bad chunk size line")
            digits += 1
            if digits > 7:  # 256 MiB: over any image, and a small int on 32-bit ports
                raise HttpError(self.status, "chunk size too large")
            size = (size << 4) | d
        if not digits:
            raise HttpError(self.status, "bad chunk size line")
        if size == 0:
            for _ in range(_MAX_LINES):
                if self._read_line(_LINE) == 0:
                    return 0
            raise HttpError(self.status, "too many trailer lines")
        return size

    def close(self):
        self._sock.close()


def _text(value):
    return None if value is None else value.decode()


def _header_line(sock):
    line = sock.readline(_LINE + 1)  # bounded: a line without an end must not fill the heap
    if not line:
        raise OSError(104, "connection closed in the response header")
    if len(line) > _LINE:
        raise HttpError(0, "response header line too long")
    return line


def _connect(u, timeout_s):
    """A socket connected to the first of the host's addresses that answers (a host name
    may resolve to an IPv6 address first where the server listens on IPv4 only)."""
    error = OSError(113, "no address for %s" % u.host)  # EHOSTUNREACH
    infos = socket.getaddrinfo(u.host, u.port)
    for ai in [ai for ai in infos if ai[1] == socket.SOCK_STREAM] or infos[:1]:
        sock = socket.socket(ai[0], socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout_s)
            sock.connect(ai[-1])
            return sock
        except OSError as e:
            sock.close()
            error = e
    raise error


def _request(u, start, if_range, timeout_s, tls):
    """(socket, TCP socket under it, status, headers)."""
    sock = raw = _connect(u, timeout_s)
    try:
        if u.scheme == "https":
            try:
                sock = https.wrap(sock, u.host, tls)
            except https.TlsError as e:
                raise HttpError(0, "TLS: %s" % e)
        req = "GET %s HTTP/1.1\r\nHost: %s\r\n" % (u.path, u.hostport)
        req += "User-Agent: qsota\r\nAccept-Encoding: identity\r\nConnection: close\r\n"
        if u.auth:
            req += "Authorization: Basic %s\r\n" % u.auth
        if start:
            req += "Range: bytes=%d-\r\n" % start
            if if_range:
                req += "If-Range: %s\r\n" % if_range
        sock.write(req.encode() + b"\r\n")
        status_line = _header_line(sock).split(None, 2)
        if len(status_line) < 2 or not status_line[0].startswith(b"HTTP/"):
            raise HttpError(0, "not an HTTP response from %s" % u.hostport)
        try:
            status = int(status_line[1])
        except ValueError:
            raise HttpError(0, "bad HTTP status line from %s" % u.hostport)
        headers = {}
        for _ in range(_MAX_LINES):
            line = _header_line(sock)
            if line in (b"\r\n", b"\n"):
                return sock, raw, status, headers
            colon = line.find(b":")
            if colon > 0:
                name, value = line[:colon].strip().lower(), line[colon + 1 :].strip()
                if name == b"content-length" and headers.get(name, value) != value:
                    raise HttpError(status, "conflicting Content-Length headers")
                headers[name] = value
        raise HttpError(0, "too many response header lines")
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
        n = -1
    if n < 0:
        raise HttpError(0, "bad %s header: %r" % (name.decode(), value))
    return n


def _content_range(headers):
    """(first, last, total) from `Content-Range: bytes first-last/total` (total None if
    '*'); HttpError when absent or inconsistent."""
    value = headers.get(b"content-range", b"")
    try:
        unit, rng = value.split(b" ", 1)
        span, total = rng.split(b"/", 1)
        first, last = span.split(b"-", 1)
        first, last = int(first), int(last)
        total = None if total == b"*" else int(total)
    except ValueError:
        raise HttpError(206, "bad Content-Range header: %r" % value)
    if unit != b"bytes" or not 0 <= first <= last or total is not None and last >= total:
        raise HttpError(206, "bad Content-Range header: %r" % value)
    return first, last, total


def get(url, start=0, timeout_s=30, tls=_NO_TLS, if_range=None):
    """GETs `url` from byte `start` (a Range request when start > 0, with `If-Range:
    if_range` when given: an ETag or a Last-Modified date). Returns a Response.

    `tls` is `qsota.https.config(ca, pin)`. Raises HttpError for an answer that is not the
    body (404, 416, 500, a failed TLS check, ...; `.retry` is set for 5xx), ValueError for
    a URL that is not http(s)://, OSError for network failures (connect, timeout, reset).
    """
    for _ in range(_MAX_REDIRECTS + 1):
        u = Url(url)
        sock, raw, status, headers = _request(u, start, if_range, timeout_s, tls)
        if status in _REDIRECTS and b"location" in headers:
            sock.close()
            url = u.join(headers[b"location"].decode())
            try:
                Url(url)
            except ValueError as e:
                raise HttpError(status, "bad redirect from %s: %s" % (u.safe, e))
            continue
        try:
            if u.scheme == "http" and https.authenticated(tls):
                # a plain hop may redirect to https; a body must come from a checked server
                raise HttpError(0, "refusing the body from %s: ca/pin ask for https" % u.safe)
            if status not in (200, 206):
                raise HttpError(status, "HTTP %d for %s" % (status, u.safe), retry=status >= 500)
            return Response(sock, status, headers, start, raw, timeout_s)
        except BaseException:
            sock.close()
            raise
    raise HttpError(0, "too many redirects for %s" % redact(url))
