"""qsota.download: one firmware file fetched into a kept `.part`, verified in the same pass.

    d = Download(workdir + "/STM32", buf, log, step, tls=https.config(ca, pin), ...)
    verifier, nbytes = d.run(url, ident, size, new_verifier)

The body is streamed into `<path>.part` and through the verifier (one preallocated buffer,
`readinto`, nothing allocated per chunk). A dropped connection resumes with `Range` from the
last byte stored, sent with `If-Range` (the kept ETag, else Last-Modified), up to `retries`
attempts in a row without progress: an attempt that stored bytes before it failed starts
the count and the backoff over, so a link that keeps making progress finishes. `<path>.json` records the image's identity, the
platform's size and the server's validators, so that a later run (after a reboot, or at the
platform's next offer) resumes only the same file: a file replaced on the server (another
validator or size, or a 200 to an If-Range) restarts from zero instead of splicing two files,
and so does a 416 or a kept part that disagrees with the platform's size.

What is kept after a failure: the part and its record only after an interrupted download
with bytes stored (the connection dropped or timed out); any other failure (a check, the
size, the space, an HTTP or TLS refusal) removes both, and no empty part is ever left.
"""

try:
    import json
    import os
except ImportError:  # MicroPython 1.13 (legacy QuecPython) has only the u-names
    import ujson as json
    import uos as os

from qsota import http
from qsota.clock import sleep_ms
from qsota.verify import kept_in


class DownloadError(Exception):
    """The download failed. `.stage` is download, space or verify; `.keep` says whether the
    kept part may be resumed later."""

    def __init__(self, stage, message, keep=False):
        super().__init__(message)
        self.stage = stage
        self.keep = keep


def percent(done, total):
    """done * 100 // total without a big int (32-bit ports: small ints end at 2**30)."""
    if total < 1 << 20:
        return done * 100 // total
    return min(100, done // (total // 100))


def remove(*paths):
    """Removes each file of `paths` that exists."""
    for p in paths:
        try:
            os.remove(p)
        except OSError:
            pass


class _Restart(Exception):
    """The server's file is not the kept one: start over from byte 0."""


def changed(resp, sent, etag, last_modified, total, size):
    """Why `resp`, the answer to a request for the rest of a file whose validators (`etag`,
    `last_modified`) and `total` were kept, sent with the If-Range validator `sent`, is
    another file; None when it is the same. A size the platform gave (`size`) is checked
    apart: a total that differs from it is an error, not another file."""
    why = None
    if resp.etag and etag and resp.etag != etag:
        why = "the file's ETag changed"
    elif resp.last_modified and last_modified and not (resp.etag and etag):
        if resp.last_modified != last_modified:
            why = "the file's Last-Modified changed"
    if resp.total is not None and total is not None and resp.total != total and size is None:
        why = why or "the file's size changed"
    if resp.status == 200 and sent and sent not in (resp.etag, resp.last_modified):
        why = why or "the server sent the whole file for an If-Range"
    return why


def if_range(etag, last_modified):
    """The validator for If-Range: a strong ETag, else the Last-Modified date."""
    if etag and not etag.startswith("W/"):
        return etag
    return last_modified


class Download:
    """Options: `tls` (qsota.https.config), `retries`, `backoff_ms`, `timeout_s`,
    `max_size`, `free` (a callable returning the free bytes, or None). `log(msg)` gets one
    line per event, `step(percent)` is called per chunk."""

    def __init__(
        self,
        path,
        buf,
        log,
        step,
        tls=http._NO_TLS,
        retries=5,
        backoff_ms=1000,
        timeout_s=30,
        max_size=100 * 1024 * 1024,
        free=None,
    ):
        self.part, self.meta = path + ".part", path + ".json"
        self.buf, self.mv = buf, memoryview(buf)
        self.log, self.step = log, step
        self.tls = tls
        self.retries, self.backoff_ms, self.timeout_s = retries, backoff_ms, timeout_s
        self.max_size, self.free = max_size, free

    def run(self, url, ident, size, new_verifier):
        """Downloads `url` (the image `ident`, a JSON-able list; `size` the platform's size or
        None) and returns (verifier, bytes). Raises DownloadError; `verifier.check()` is left
        to the caller."""
        self.url, self.ident, self.size = url, ident, size
        self.new_verifier = new_verifier
        self.f = None
        try:
            if size is not None:
                self._check_limit(size)  # before a Verifier, which takes no size over 32 bits
            self._resume()
            if self.total is not None:
                self._check_size(self.total, self.offset)
            self.f = open(self.part, "ab")
            self._fetch()
            if self.total is not None and self.offset != self.total:
                raise DownloadError(
                    "verify", "size: expected %d bytes, got %d" % (self.total, self.offset)
                )
        except Exception as e:
            if self.f is not None:
                self.f.close()
                self.f = None
            keep = getattr(e, "keep", False) and self.offset > 0
            if not keep:
                remove(self.part, self.meta)
            if isinstance(e, OSError):
                raise DownloadError("download", "cannot store the download (%s)" % e)
            raise
        self.f.close()
        return self.verifier, self.offset

    # -- the kept part ---------------------------------------------------------------

    def _resume(self):
        """Continues a kept part of the same image (read once through the verifier, so it
        still sees every byte exactly once), else starts from zero."""
        self.verifier, self.offset, self.total = self._new_verifier(), 0, self.size
        self.etag = self.last_modified = None
        try:
            with open(self.meta) as f:
                saved = json.load(f)
            if saved.get("id") != self.ident or saved.get("size") != self.size:
                raise ValueError
            limit = self.size if self.size is not None else saved.get("total") or self.max_size
            if os.stat(self.part)[6] > limit:
                raise ValueError
            with open(self.part, "rb") as f:
                while True:
                    n = f.readinto(self.buf)
                    if not n:
                        break
                    self.verifier.update(self.mv if n == len(self.buf) else self.mv[:n])
                    self.offset += n
            self.etag, self.last_modified = saved.get("etag"), saved.get("last_modified")
            self.total = self.size if self.size is not None else saved.get("total")
            if self.offset:
                self.log("resuming a kept download at byte %d" % self.offset)
            return
        except (OSError, ValueError, KeyError, AttributeError, TypeError):
            pass
        self.verifier, self.offset, self.total = self._new_verifier(), 0, self.size
        remove(self.part, self.meta)

    def _new_verifier(self):
        """The caller's verifier for the part (which holds every byte it is fed)."""
        return kept_in(self.new_verifier(), self.part)

    def _save_meta(self):
        record = {
            "id": self.ident,
            "size": self.size,
            "total": self.total,
            "etag": self.etag,
            "last_modified": self.last_modified,
        }
        try:
            with open(self.meta, "w") as f:
                json.dump(record, f)
        except OSError as e:
            raise DownloadError("download", "cannot write %s (%s)" % (self.meta, e))

    def _start_over(self, why):
        self.log("%s: starting over from byte 0" % why)
        self.f.close()
        self.f = open(self.part, "wb")
        self.verifier, self.offset, self.total = self._new_verifier(), 0, self.size
        self.etag = self.last_modified = None

    # -- checks ----------------------------------------------------------------------

    def _check_limit(self, total):
        if total > self.max_size:
            raise DownloadError(
                "space", "the file is %d bytes, over the %d-byte limit" % (total, self.max_size)
            )

    def _check_size(self, total, have):
        self._check_limit(total)
        free = self.free() if self.free is not None else None
        if free is not None and total - have > free:
            raise DownloadError(
                "space", "the file needs %d more bytes, %d are free" % (total - have, free)
            )

    def _accept(self, resp):
        """Checks a response's headers against what is kept. Raises _Restart when the
        server's file is another one than the kept part's; returns the bytes to skip."""
        if self.offset:
            why = changed(
                resp, self._if_range(), self.etag, self.last_modified, self.total, self.size
            )
            if why:
                raise _Restart(why)
        if resp.total is not None and resp.total != self.total:
            if self.total is not None:
                raise DownloadError(
                    "download",
                    "size: expected %d bytes, the server has %d" % (self.total, resp.total),
                )
            self._check_size(resp.total, self.offset)
        if self.total is None:
            self.total = resp.total
        self.etag = resp.etag or self.etag
        self.last_modified = resp.last_modified or self.last_modified
        self._save_meta()
        return self.offset - resp.offset  # > 0: the server ignored Range (sent from 0)

    def _if_range(self):
        return if_range(self.etag, self.last_modified)

    # -- the loop ----------------------------------------------------------------------

    def _fetch(self):
        failures = 0
        restarts = 0
        while self.total is None or self.offset < self.total:
            resp = None
            begin = self.offset
            try:
                try:
                    resp = http.get(
                        self.url, self.offset, self.timeout_s, self.tls, self._if_range()
                    )
                    skip = self._accept(resp)
                except (_Restart, http.HttpError) as e:
                    restart = isinstance(e, _Restart) or e.status == 416 and self.offset
                    if not restart:
                        raise
                    why = str(e) if isinstance(e, _Restart) else "HTTP 416 at byte %d" % self.offset
                    if restarts:
                        raise DownloadError("download", "%s, again after starting over" % why)
                    restarts += 1
                    self._start_over(why)
                    if resp is not None and resp.status == 200 and not resp.offset:
                        skip = self._accept(resp)  # this body is the new file from byte 0
                    else:
                        continue
                self._skip(resp, skip)
                self._body(resp)
                failures = 0
            except (OSError, http.HttpError) as e:
                if resp is not None:  # closed before the pause, not after
                    resp.close()
                    resp = None
                if isinstance(e, http.HttpError) and not e.retry:
                    raise DownloadError("download", str(e))
                if self.offset > begin:
                    failures = 0  # a cut after progress: the count and the backoff start over
                failures += 1
                if failures > self.retries:
                    raise DownloadError(
                        "download",
                        "gave up at byte %d after %d attempts: %s" % (self.offset, failures, e),
                        keep=True,
                    )
                pause = min(self.backoff_ms << (failures - 1), 30000)
                self.log(
                    "download interrupted at byte %d (%s); retry in %d ms" % (self.offset, e, pause)
                )
                sleep_ms(pause)
            finally:  # also on DownloadError/VerifyError from the body: no socket left open
                if resp is not None:
                    resp.close()

    def _body(self, resp):
        """Streams one response body into the part and the verifier. A body without a
        length that ends at once counts as a failure (else the loop would ask again at once,
        forever)."""
        begin = self.offset
        limit = self.max_size if self.total is None else self.total
        while True:
            n = resp.readinto(self.buf)
            if not n:
                break
            if self.offset + n > limit:
                raise DownloadError("download", "the server sent more than %d bytes" % limit)
            view = self.mv if n == len(self.buf) else self.mv[:n]
            self.verifier.update(view)
            try:
                self.f.write(view)
            except OSError as e:
                raise DownloadError("download", "cannot write the download (%s)" % e)
            self.offset += n
            if self.total:
                self.step(percent(self.offset, self.total))
        if self.total is None:
            self.total = self.offset  # no length given: the body ran until the server closed
        elif self.offset == begin and self.offset < self.total:
            raise OSError(104, "the server sent no bytes from byte %d" % self.offset)

    def _skip(self, resp, n):
        """Discards n body bytes (a server that ignored Range sent the file from 0)."""
        while n > 0:
            k = resp.readinto(self.mv if n >= len(self.buf) else self.mv[:n])
            if not k:
                raise OSError(104, "body ended before the resume offset")
            n -= k
