"""The platform's firmware download server, for the Qth emulator (CPython, loopback only).

Serves the files of one directory over HTTP/1.1 with `Range` (206 + Content-Range), counts
the body bytes it sends, and can be told to cut connections: `cuts=[30000, 5000]` closes the
first response after 30000 body bytes and the second after 5000 (then serves normally).

    server = FileServer(root, cuts=[30000]).start()
    server.url("fw.bin")  -> "http://127.0.0.1:PORT/fw.bin"
    server.body_bytes     -> body bytes sent so far, over all responses
    server.requests       -> [(path, range_start), ...]
    server.stop()

Run as a script: `python3 fileserver.py ROOT [--cut N]...` prints `listening PORT`.
"""

import argparse
import os
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_RANGE = re.compile(r"bytes=(\d+)-(\d*)$")


class FileServer:
    def __init__(self, root, cuts=(), host="127.0.0.1", port=0):
        self.root = os.path.abspath(root)
        self.cuts = list(cuts)
        self.body_bytes = 0
        self.requests = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer((host, port), _handler(self))
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]

    def url(self, name):
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
            path = os.path.normpath(os.path.join(server.root, self.path.lstrip("/")))
            if not path.startswith(server.root + os.sep) or not os.path.isfile(path):
                self._reply(404, b"not found\n")
                return
            size = os.path.getsize(path)
            start, end, status = 0, size - 1, 200
            m = _RANGE.match(self.headers.get("Range", ""))
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
            self.send_header("Content-Length", str(end - start + 1))
            self.send_header("Accept-Ranges", "bytes")
            if status == 206:
                self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, size))
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            self._body(path, start, end - start + 1, server._next_cut())

        def _body(self, path, start, length, cut):
            with open(path, "rb") as f:
                f.seek(start)
                left = length if cut is None else min(length, cut)
                while left:
                    chunk = f.read(min(left, 8192))
                    if not chunk:
                        break
                    try:
                        self.wfile.write(chunk)
                        self.wfile.flush()
                    except OSError:
                        return
                    server._count(len(chunk))
                    left -= len(chunk)
            if cut is not None and cut < length:
                self.connection.shutdown(2)  # the cut: the client sees a short body

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
