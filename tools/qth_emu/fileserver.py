"""The platform's firmware download server, for the Qth emulator (CPython, loopback only).

Serves the files of one directory over HTTP/1.1 with `Range` (206 + Content-Range), `ETag`
(from the content) and `Last-Modified`, honouring `If-Range`; counts the body bytes it sends,
and can be told to cut connections: `cuts=[30000, 5000]` closes the first response after
30000 body bytes and the second after 5000 (then serves normally). Behaviours of real
servers, for the tests:

    tls=ssl_context     HTTPS (the handshake runs in the request's thread)
    chunked=True        Transfer-Encoding: chunked (sizes 1 B to 64 KiB, extensions, trailers)
    auth="user:pw"      Basic authentication required (401 otherwise)
    swap=b"..."         after the first cut, the file is replaced with these bytes
    if_range=False      If-Range ignored (206 from a replaced file)
    ranges=False        Range ignored (200 with the whole file)
    lie=N               Content-Length claims N bytes more than the file has
    redirect="URL"      every request is answered 302 to URL + its path
    rate=N              at most N body bytes per second (per response), in 1 KiB pieces
    sndbuf=N            the socket's send buffer (SO_SNDBUF; Linux doubles it), in 1 KiB
                        pieces: with a small receive buffer on the client, `body_bytes` is
                        then close to what the client read, not what the kernel buffered

    server = FileServer(root, cuts=[30000]).start()
    server.url("fw.bin")  -> "http://127.0.0.1:PORT/fw.bin" (https://localhost:PORT with tls)
    server.body_bytes     -> body bytes sent so far, over all responses
    server.requests       -> [(path, range_start), ...]
    server.headers        -> [{request header: value}, ...]
    server.stop()

Run as a script: `python3 fileserver.py ROOT [--cut N]...` prints `listening PORT`.
"""

import argparse
import base64
import email.utils
import hashlib
import os
import random
import re
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_RANGE = re.compile(r"bytes=(\d+)-(\d*)$")
_CHUNKS = (1, 7, 100, 4096, 8192, 65536)  # chunk sizes a chunked response cycles through


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # a client refusing the certificate, or hanging up at a cut, is what tests ask for
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class FileServer:
    def __init__(
        self,
        root,
        cuts=(),
        host="127.0.0.1",
        port=0,
        tls=None,
        chunked=False,
        auth=None,
        swap=None,
        if_range=True,
        ranges=True,
        lie=0,
        redirect=None,
        rate=None,
        sndbuf=None,
    ):
        self.root = os.path.abspath(root)
        self.cuts = list(cuts)
        self.tls, self.chunked, self.swap = tls, chunked, swap
        self.auth = None if auth is None else "Basic " + base64.b64encode(auth.encode()).decode()
        self.if_range, self.ranges, self.lie, self.redirect = if_range, ranges, lie, redirect
        self.rate, self.sndbuf = rate, sndbuf
        self.body_bytes = 0
        self.requests = []
        self.headers = []
        self._lock = threading.Lock()
        self._httpd = _Server((host, port), _handler(self))
        if tls is not None:
            self._httpd.socket = tls.wrap_socket(
                self._httpd.socket, server_side=True, do_handshake_on_connect=False
            )
        self.port = self._httpd.server_address[1]

    def url(self, name):
        if self.tls is not None:
            return "https://localhost:%d/%s" % (self.port, name)
        return "http://127.0.0.1:%d/%s" % (self.port, name)

    def start(self):
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self._httpd.shutdown()
        self._httpd.server_close()

    def _next_cut(self):
        with self._lock:
            return self.cuts.pop(0) if self.cuts else None

    def _count(self, n):
        with self._lock:
            self.body_bytes += n


def _handler(server):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            if server.sndbuf:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, server.sndbuf)
            server.headers.append(dict(self.headers.items()))
            if server.redirect is not None:
                self.send_response(302)
                self.send_header("Location", server.redirect + self.path)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if server.auth is not None and self.headers.get("Authorization") != server.auth:
                self._reply(401, b"who are you?\n")
                return
            name = self.path.split("?", 1)[0].lstrip("/")
            path = os.path.normpath(os.path.join(server.root, name))
            if not path.startswith(server.root + os.sep) or not os.path.isfile(path):
                self._reply(404, b"not found\n")
                return
            with open(path, "rb") as f:
                etag = '"%s"' % hashlib.sha1(f.read()).hexdigest()[:16]
            modified = email.utils.formatdate(os.path.getmtime(path), usegmt=True)
            size = os.path.getsize(path)
            start, end, status = 0, size - 1, 200
            m = _RANGE.match(self.headers.get("Range", "")) if server.ranges else None
            if_range = self.headers.get("If-Range")
            if m and if_range not in (None, etag, modified) and server.if_range:
                m = None  # the file changed: the whole new file
            if m:
                start = int(m.group(1))
                end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
                if start >= size:
                    self.send_response(416)
                    self.send_header("Content-Range", "bytes */%d" % size)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status = 206
            server.requests.append((self.path, start))
            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream")
            if server.chunked:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Content-Length", str(end - start + 1 + server.lie))
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", modified)
            if status == 206:
                span = "bytes %d-%d/%d" % (start, end, size + server.lie)
                self.send_header("Content-Range", span)
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            cut = server._next_cut()
            self._body(path, start, end - start + 1, cut)
            if cut is not None and server.swap is not None:
                with open(path, "wb") as f:
                    f.write(server.swap)
                server.swap = None

        def _body(self, path, start, length, cut):
            rng = random.Random(start)
            piece = 1024 if server.rate or server.sndbuf else 8192
            began = time.monotonic()
            sent = 0
            with open(path, "rb") as f:
                f.seek(start)
                left = length if cut is None else min(length, cut)
                while left:
                    if server.rate:  # the piece goes when the rate allows it
                        time.sleep(max(0.0, began + sent / server.rate - time.monotonic()))
                    data = f.read(min(left, rng.choice(_CHUNKS) if server.chunked else piece))
                    sent += len(data)
                    if not data:
                        break
                    out = data
                    if server.chunked:
                        ext = b";x=1" if len(data) == 7 else b""
                        out = b"%X%s\r\n%s\r\n" % (len(data), ext, data)
                    try:
                        self.wfile.write(out)
                        self.wfile.flush()
                    except OSError:
                        return
                    server._count(len(data))
                    left -= len(data)
            if cut is not None and cut < length:
                self.connection.shutdown(2)  # the cut: the client sees a short body
            elif server.chunked:
                self.wfile.write(b"0\r\nX-Trailer: done\r\n\r\n")

        def _reply(self, status, body):
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True

    return Handler


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("root")
    p.add_argument("--port", type=int, default=0)
    p.add_argument(
        "--cut", type=int, action="append", default=[], help="cut a response after N bytes"
    )
    a = p.parse_args()
    s = FileServer(a.root, a.cut, port=a.port)
    print("listening %d" % s.port, flush=True)
    s._httpd.serve_forever()


if __name__ == "__main__":
    main()
