"""qsota.stream: the image as it downloads, read by `qsota.send` as it reads a file (docs/agent.md,
"Stream mode"). Nothing is kept on the module's file system but a record under 1 KB.

    s = Stream(url, ident, size, new_verifier, log, record=workdir + "/STM32.stream", ...)
    s.open()                               # the first response: the file's size, validators
    qsota.send(port, s, protocol="native", identity=s.identity(), ...)
    s.finish()                             # success: the record goes

The body goes into a ring of `window` bytes (16 KB by default) and through the verifier once,
in order, as it arrives. The driver reads the image from the ring (`seek`, `readinto`); what
it reads again (a retransmission) comes from the ring too, as long as it is within the last
half window before the furthest read (`retain`); the other half is read ahead. A read below
what the ring holds (an MCU that resumes from an earlier offset) continues the download with
`Range` from there, and those bytes are not verified again. While the sender waits for the
MCU the driver calls `idle(us)`, which reads what the network has brought meanwhile without
blocking: download and transfer overlap.

A dropped connection continues with Range and If-Range from the next byte, up to `retries`
attempts without progress (pausing `backoff_ms`, 2x, 4x ... at most 30 s). Every `window`
bytes the verifier's state goes to `record` (JSON: the image's identity, the server's
validators, the offset, the image's first 70 bytes (`magic`) and the state,
qsota.Verifier.export), so that after a reboot the stream continues from there, or from
the MCU's offset where that is lower (the ring waits for the first read): a byte is
downloaded at most once, plus at most a window per interruption (what had been downloaded
beyond that point). A server
whose file changed (another ETag or Last-Modified, or the whole file for an If-Range) ends
the stream with StreamRestart once bytes reached the MCU, which starts the update over: the
stream's identity (what the MCU resumes by) then differs.
"""

try:
    import json
    import os
except ImportError:  # MicroPython 1.13 (legacy QuecPython) has only the u-names
    import ujson as json
    import uos as os

try:
    from binascii import hexlify, unhexlify
except ImportError:
    from ubinascii import hexlify, unhexlify

from qsota import http
from qsota.clock import sleep_ms, ticks_diff, ticks_ms
from qsota.download import DownloadError, changed, if_range, percent, remove
# The image's head kept: what tells a patch format, and a delta package's OPEN fields.
from qsota.source import DELTA_HEAD as MAGIC

WINDOW = 16384
# The longest pause between attempts, and between looks at a silent socket while idle.
_MAX_PAUSE_MS = 30000
_POLL_MS = 2


def _copier():
    """copy(dst, src): copies the memoryview `src` into the writable memoryview `dst` of the
    same length: by slice assignment where the firmware has it (MICROPY_PY_ARRAY_SLICE_ASSIGN),
    else byte by byte."""
    b = bytearray(2)
    try:
        memoryview(b)[0:1] = b"x"
        if b[0] == 120:
            def copy(dst, src):
                dst[:] = src
            return copy
    except (TypeError, NotImplementedError):
        pass

    def copy(dst, src):
        for i in range(len(src)):
            dst[i] = src[i]
    return copy


_copy = _copier()


class StreamRestart(Exception):
    """The server's file is not the one the stream began with: start the update over."""


class Stream:
    """The image at `url` (the platform's `ident`, a JSON-able list, and `size`, its fileSize
    or None) as a readable, seekable source. `new_verifier()` makes a resumable Verifier for
    it. Options: `tls` (qsota.https.config), `retries`, `backoff_ms`, `timeout_s`, `max_size`,
    `window`, `record` (the path of the resume record, None for none). `log(msg)` gets a line
    per event, `step(percent)` the download's progress.

    Counters for the caller: `downloaded` (body bytes received), `again` (those received
    more than once: after an interruption, or for an MCU that resumed behind the ring),
    `connections`.
    """

    def __init__(self, url, ident, size, new_verifier, log, step=None, tls=http._NO_TLS,
                 retries=5, backoff_ms=1000, timeout_s=30, max_size=100 * 1024 * 1024,
                 window=WINDOW, record=None):
        self.url, self.ident, self.size = url, ident, size
        self.new_verifier = new_verifier
        self.log, self.step = log, step
        self.tls, self.retries, self.backoff_ms = tls, retries, backoff_ms
        self.timeout_s, self.max_size = timeout_s, max_size
        self.ring = bytearray(window)
        self.mv = memoryview(self.ring)
        self.window = window
        self.retain = window // 2
        self.record = record
        self.downloaded = self.again = self.connections = 0
        self.resp = None
        self.views = {}  # the ring's memoryviews the driver's reads use, by (start, length)
        self.scratch = None  # for bytes a server that ignores Range sends again
        self.failures = 0
        self.retry_at = None  # ticks before which no new connection is tried
        self.read_pos = 0  # the driver's position
        self.started = False  # bytes went to the MCU: a changed file restarts the update
        self.failed_check = None  # the VerifyError of a final check that failed
        self._reset()

    def _reset(self):
        """From byte 0 of a file not seen yet."""
        self.verifier = self.new_verifier()
        self.total = self.size
        self.etag = self.last_modified = None
        self.have = 0  # bytes fed to the verifier
        self.first = b""  # the image's first MAGIC bytes (what `magic` answers)
        self.saved = 0  # the offset of the last record
        self._rewind(0)

    def _rewind(self, offset):
        """The ring emptied; the download continues at `offset` (a new request)."""
        self._drop()
        self.pos = self.base = self.need = offset

    # -- the record --------------------------------------------------------------------

    def _load(self):
        """Continues from the record of the same image, if there is one."""
        try:
            with open(self.record) as f:
                saved = json.load(f)
            if saved["id"] != self.ident or saved["size"] != self.size:
                raise ValueError
            v = self.new_verifier()
            v.restore(unhexlify(saved["state"]))
            if v.size != saved["offset"]:
                raise ValueError
            self.verifier = v
            self.total, self.etag = saved["total"], saved["etag"]
            self.last_modified = saved["last_modified"]
            self.have = self.saved = v.size
            self.first = unhexlify(saved["first"])
            if len(self.first) != min(MAGIC, self.have):
                raise ValueError
            self._rewind(self.have)
            self.log("resuming a streamed download at byte %d" % self.have)
        except (OSError, ValueError, KeyError, TypeError):
            remove(self.record)

    def _save(self):
        if self.record is None:
            return
        saved = {
            "id": self.ident,
            "size": self.size,
            "total": self.total,
            "etag": self.etag,
            "last_modified": self.last_modified,
            "offset": self.have,
            "first": hexlify(self.first).decode(),
            "state": hexlify(self.verifier.export()).decode(),
        }
        tmp = self.record + ".tmp"
        try:
            with open(tmp, "w") as f:
                json.dump(saved, f)
            os.rename(tmp, self.record)  # the old record stands until the new one is whole
        except OSError as e:
            raise DownloadError("download", "cannot write %s (%s)" % (self.record, e))
        self.saved = self.have

    def finish(self):
        """The update is over (for good): the record goes."""
        self._drop()
        if self.record is not None:
            remove(self.record, self.record + ".tmp")

    # -- what the update needs -----------------------------------------------------------

    def open(self):
        """The first response: from then on the file's size and validators are known. A
        record of the same image (the same platform identity and, on the server, the same
        file) is continued."""
        if self.record is not None:
            self._load()
        if self.total is None or self.pos < self.total:
            while not self._attempt(self._connect, True):
                sleep_ms(max(0, ticks_diff(self.retry_at, ticks_ms())))
        self._save()

    def identity(self):
        """32 bytes that name this image and this file on the server (what the native
        protocol's receiver resumes by, until the image's SHA-256 is known): the SHA-256 of
        the platform's identity, the size and the server's validator."""
        try:
            from hashlib import sha256
        except ImportError:
            from uhashlib import sha256
        text = "qsota stream 1\n%s\n%d\n%s" % (
            "\n".join(str(x) for x in self.ident), self.total, self.etag or self.last_modified
        )
        return sha256(text.encode()).digest()

    def magic(self):
        """The image's first MAGIC bytes (fewer if it is shorter), kept from the download and
        in the record: what tells a patch format and a delta package's OPEN fields
        (qsota.source.head_of) without reading the image from byte 0 again, which a resumed
        stream would download again."""
        end = min(MAGIC, self.total)
        while self.have < end:
            self._fill(True, end)
        return self.first

    def digest(self):
        """After the last byte: the final check (VerifyError on a mismatch) and the image's
        SHA-256. Downloads what the verifier has not seen yet (a record older than the MCU's
        progress)."""
        self.need = self.total
        while self.have < self.total:
            self._fill(True, self.total)
        try:
            self.verifier.check()
        except ValueError as e:
            self.failed_check = e  # for the caller: the image's fault, not the MCU's
            raise
        return self.verifier.sha256()

    # -- the file the driver reads -------------------------------------------------------

    def seek(self, offset, whence=0):
        if whence == 2:
            return self.total
        self.read_pos = offset
        return offset

    def readinto(self, buf):
        """Reads image bytes at the position into `buf` (a memoryview), waiting for the
        download where it has not brought them yet."""
        at = self.read_pos
        n = min(len(buf), self.total - at)
        if n <= 0:
            return 0
        self.started = True
        self.need = max(self.need, at - self.retain)
        if at < self.base:
            self.log("the MCU resumes at byte %d, behind the %d bytes held" % (at, self.window))
            self._rewind(at)
        while self.pos < at + n:
            self._fill(True, at + n)
        first = at % self.window
        k = min(n, self.window - first)
        _copy(buf if k == len(buf) else buf[:k], self._view(first, k))
        if k < n:
            _copy(buf[k:n], self._view(0, n - k))
        self.read_pos = at + n
        return n

    def _view(self, start, length):
        """ring[start:start + length] as a memoryview, kept: the driver reads frames at the
        same few places of the ring (a bounded cache, for the odd offsets of a resume)."""
        key = start * 65536 + length
        v = self.views.get(key)
        if v is None:
            if len(self.views) >= 64:
                self.views = {}
            v = self.views[key] = self.mv[start : start + length]
        return v

    def idle(self, us):
        """Spends about `us` microseconds taking what the network has brought into the ring
        (the driver's waits for the MCU), without waiting for more."""
        start = ticks_ms()
        ms = (us + 999) // 1000
        # Resumed from a record, the ring waits for the first read: the MCU may resume behind
        # the record, and what was read ahead of it would be dropped and downloaded again.
        ahead = self.started or self.base == 0
        while True:
            busy = ahead and self.pos < self.total and self._room() > 0
            got = self._fill(False, self.total) if busy else None
            left = ms - ticks_diff(ticks_ms(), start)
            if left <= 0:
                return
            if not got:
                sleep_ms(min(left, _POLL_MS) if busy else left)

    def close(self):
        self._drop()

    # -- the download --------------------------------------------------------------------

    def _room(self):
        """Bytes the ring can take without dropping one the driver may read again."""
        return self.need + self.window - self.pos

    def _drop(self):
        if self.resp is not None:
            self.resp.close()
            self.resp = None

    def _fill(self, wait, until):
        """Reads into the ring at `pos`: with `wait`, up to `until` (connecting and pausing
        between attempts as needed); else what has arrived (None: nothing now, or a pause
        between attempts is not over). Returns the count."""
        if self.resp is None:
            if self.retry_at is not None:
                left = ticks_diff(self.retry_at, ticks_ms())
                if left > 0:
                    if not wait:
                        return None
                    sleep_ms(left)
            if not self._attempt(self._connect, False):
                return None
        first = self.pos % self.window
        n = min(self._room(), self.window - first, self.total - self.pos)
        if wait:
            n = min(n, until - self.pos)
        got = self._attempt(self.resp.readinto, self.mv[first : first + n], wait)
        if got:
            self._took(first, got)
        return got

    def _attempt(self, f, *args):
        """f(*args), a network step: a failure closes the connection and schedules the next
        attempt (DownloadError after `retries` in a row without progress)."""
        try:
            got = f(*args)
            if got == 0 and self.resp is not None and self.pos < self.total:
                raise OSError(104, "the body ended at byte %d of %d" % (self.pos, self.total))
            return got
        except (OSError, http.HttpError) as e:
            self._drop()
            if isinstance(e, http.HttpError) and not e.retry:
                raise DownloadError("download", str(e))
            self.failures += 1
            if self.failures > self.retries:
                raise DownloadError(
                    "download",
                    "gave up at byte %d after %d attempts: %s" % (self.pos, self.failures, e),
                )
            pause = min(self.backoff_ms << (self.failures - 1), _MAX_PAUSE_MS)
            self.retry_at = ticks_ms() + pause
            self.log("download interrupted at byte %d (%s); retry in %d ms" % (self.pos, e, pause))
            return None

    def _took(self, first, n):
        """`n` bytes arrived at ring position `first` (file offset `pos`)."""
        end = self.pos + n
        self.downloaded += n
        if self.pos < self.have:
            self.again += min(end, self.have) - self.pos
        if end > self.have:
            skip = self.have - self.pos if self.have > self.pos else 0
            if self.have < MAGIC:
                k = min(n, skip + MAGIC - self.have)
                self.first += bytes(self.mv[first + skip : first + k])
            self.verifier.update(self.mv[first + skip : first + n])
            self.have = end
            if self.step is not None:
                self.step(percent(end, self.total))
        self.pos = end
        if end - self.base > self.window:
            self.base = end - self.window
        self.failures = 0
        self.retry_at = None
        if self.have - self.saved >= self.window or self.have == self.total:
            self._save()

    def _connect(self, first=False):
        """A request for the file from `pos`; the response's headers checked against what is
        known of the file. Returns True."""
        self.connections += 1
        sent = if_range(self.etag, self.last_modified) if self.pos else None
        resp = http.get(self.url, self.pos, self.timeout_s, self.tls, sent)
        try:
            why = changed(resp, sent, self.etag, self.last_modified, self.total, self.size)
            if why is not None:
                if self.started or not first:
                    raise StreamRestart(why)
                self.log("%s: starting over from byte 0" % why)
                self._reset()
                if resp.status != 200:
                    resp.close()
                    return self._connect(True)
            self._accept(resp)
            skip = self.pos - resp.offset  # > 0: the server ignored Range (sent from 0)
            if skip and self.scratch is None:
                self.scratch = bytearray(256)
            while skip > 0:
                k = resp.readinto(self.scratch if skip >= 256 else memoryview(self.scratch)[:skip])
                if not k:
                    raise OSError(104, "body ended before the resume offset")
                self.downloaded += k
                self.again += k
                skip -= k
        except BaseException:
            resp.close()
            raise
        self.resp = resp
        return True

    def _accept(self, resp):
        """The size and validators `resp` gives, checked."""
        total = resp.total
        if total is None and self.total is None:
            raise DownloadError("download", "the server gives no size: the stream needs one")
        if total is not None and self.total is not None and total != self.total:
            raise DownloadError(
                "download", "size: expected %d bytes, the server has %d" % (self.total, total)
            )
        if self.total is None:
            self.total = total
        if self.total > self.max_size:
            raise DownloadError(
                "space",
                "the file is %d bytes, over the %d-byte limit" % (self.total, self.max_size),
            )
        self.etag = resp.etag or self.etag
        self.last_modified = resp.last_modified or self.last_modified

