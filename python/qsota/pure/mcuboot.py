"""qsota.pure.mcuboot: `_qsota.McubootSender` in Python, for firmware without the C module.

A line-for-line port of the Rust client of MCUboot's serial recovery (src/mcuboot/mod.rs, whose
module doc explains the steps; the framing and the CBOR are qsota.pure.console and
qsota.pure.cbor, as console.rs and cbor.rs): same frames, same
decisions, same stats and messages. The tests compare the frames of both backends byte for
byte. Nothing is allocated per chunk: frames are built and encoded in the driver's buffer,
answers are decoded into one preallocated buffer and read in place.
"""

from ..codes import DONE, SEND
from ..rules import MCUBOOT
from .args import parse
from .cbor import Reader, head, text
from .console import HEADER, WRAP, Decoder, encode, encoded_len
from .sender import Sender, _after, _now, _reached, _received, _taken

_DEFAULT_BUF = 2048
_MIN_BUF = 128
_FALLBACK_BUF = 512
_RC_NOT_SUPPORTED = 8
_RC_INVALID = 3
_RESET_TRIES = 2

# Steps (src/mcuboot `Step`); the phase is the step, or _FAILED.
_ENTER = 0
_BOOT = 1
_PARAMS = 2
_PROBE = 3
_UPLOAD = 4
_LIST = 5
_RESET = 6
_DONE = 7
_FAILED = 8

# Requests: (op, group, id, body).
_REQ_ENTER = (2, 0, 5, b"\xa1\x69boot_mode\x01")
_REQ_PARAMS = (0, 0, 6, b"\xa0")
_REQ_LIST = (0, 1, 0, b"\xa0")
_REQ_RESET = (2, 0, 5, b"\xa0")


class McubootSender(Sender):
    """A sans-IO client of MCUboot's serial recovery for one image (see qsota.transfer)."""

    def __init__(self, *args, **kw):
        (size, sha256, hash, image, buf_size, enter, resume, reset, timeout_ms,
         erase_timeout_ms, boot_ms, retries) = parse(MCUBOOT, args, kw)
        super().__init__(retries)
        self._size = size
        self._sha = sha256
        self._hash = hash
        self._image = image
        self._cap = buf_size or _DEFAULT_BUF
        self._buf_opt = buf_size
        self._enter = enter
        self._resume = resume
        self._reset = reset
        self._timeout = timeout_ms
        self._erase_timeout = erase_timeout_ms
        self._boot_ms = boot_ms
        self.frame_size = encoded_len(self._cap)
        self._phase = _ENTER if enter else _PARAMS
        # The request in the frame buffer: op, group, id, sequence number (ints: no tuple
        # per request).
        self._op = self._group = self._id = 0
        self._seq = 0
        self._e = 0
        self._send = True
        self._framed = 0  # line length of the framed request, 0: none
        self._off = 0
        self._len = 0
        self._buf = 0
        self._complete = False
        self._restarted = False
        self._decoder = Decoder()
        self._reader = Reader(self._decoder.buf)
        self._listed_hash = bytearray(32)
        self._prefix = bytearray(96)
        # Stats beyond the base class's.
        self._s_chunks = 0
        self._s_resumed = 0
        self._s_resent = 0
        self._s_chunk = 0
        self._s_rc = 0
        self._s_step = self._phase
        self._s_listed = False
        # The last answer (src/mcuboot `Answer`).
        self._a_rc = 0
        self._a_off = -1
        self._a_buf = -1
        self._a_listed = False
        self._a_hash = -1  # where the listed hash is in the decoder's buffer, -1: none

    @property
    def block(self):
        return self._s_chunks

    def stats(self):
        h = None
        if self._s_listed:
            h = "".join("%02x" % b for b in self._listed_hash)
        return self._stats(
            chunks=self._s_chunks,
            resumed_from=self._s_resumed,
            resent_bytes=self._s_resent,
            buf_size=self._buf,
            chunk=self._s_chunk,
            step=self._s_step,
            rc=self._s_rc,
            hash=h,
        )

    def _fail_with(self, code):
        self._phase = _FAILED
        self._halt(code)

    def _begin(self, step):
        self._phase = step
        self._s_step = step
        self._framed = 0
        self._filled = -1
        self._send = True
        self._tries = 0
        self._heard = False

    def _done(self):
        self._phase = _DONE
        self._s_step = _DONE

    def _upload_from(self, off):
        self._off = off
        self._begin(_UPLOAD)

    def _prefix_len(self, off, n):
        """Writes the upload prefix for (off, n data bytes) into self._prefix (see
        src/mcuboot `prefix`); returns its length."""
        p = self._prefix
        at = head(p, 0, 5, 5 if off == 0 else 2)
        if off == 0:
            at = text(p, at, b"image")
            at = head(p, at, 0, self._image)
            at = text(p, at, b"len")
            at = head(p, at, 0, self._size)
        at = text(p, at, b"off")
        at = head(p, at, 0, off)
        if off == 0:
            at = text(p, at, b"sha")
            at = head(p, at, 2, 32)
            for b in self._sha:
                p[at] = b
                at += 1
        at = text(p, at, b"data")
        return head(p, at, 2, n)

    def _chunk_len(self, off):
        room = self._buf - WRAP - HEADER - (self._prefix_len(off, 0) - 1)
        if room <= 24:
            n = room - 1
        elif room <= 257:
            n = room - 2
        else:
            n = room - 3
        return min(n, self._size - off)

    def _place(self, op, group, ident, body_len):
        """A new request: returns where its body goes; its line length is left in _e (no
        tuple per request)."""
        raw = WRAP + HEADER + body_len
        e = encoded_len(raw)
        self._e = e
        self._seq = (self._seq + 1) & 0xFF
        self._op, self._group, self._id = op, group, ident
        return e - raw + 2

    def _header(self, frame, at, body_len):
        group = self._group
        frame[at] = self._op | 8
        frame[at + 1] = 0
        frame[at + 2] = body_len >> 8
        frame[at + 3] = body_len & 0xFF
        frame[at + 4] = group >> 8
        frame[at + 5] = group & 0xFF
        frame[at + 6] = self._seq
        frame[at + 7] = self._id

    def _small(self, frame, req):
        op, group, ident, body = req
        at = self._place(op, group, ident, len(body))
        e = self._e
        self._header(frame, at, len(body))
        at += HEADER
        for b in body:
            frame[at] = b
            at += 1
        return encode(frame, e, HEADER + len(body))

    def _upload(self, frame):
        n = self._prefix_len(self._off, self._len)
        body = n + self._len
        at = self._place(2, 1, 1, body)
        e = self._e
        self._header(frame, at, body)
        at += HEADER
        p = self._prefix
        for i in range(n):
            frame[at + i] = p[i]
        return encode(frame, e, HEADER + body)

    def _data_at(self, off, n):
        k = self._prefix_len(off, n)
        raw = WRAP + HEADER + k + n
        return encoded_len(raw) - raw + 2 + HEADER + k

    def _transmit(self, now_ms, frame):
        step = self._phase
        n = self._framed
        if not n:
            if step == _ENTER:
                n = self._small(frame, _REQ_ENTER)
            elif step == _PARAMS:
                n = self._small(frame, _REQ_PARAMS)
            elif step == _LIST:
                n = self._small(frame, _REQ_LIST)
            elif step == _RESET:
                n = self._small(frame, _REQ_RESET)
            else:
                if step == _PROBE:
                    self._off, self._len = self._size, 0
                elif self._filled < 0:
                    k = self._chunk_len(self._off)
                    self._len = k
                    return self._read(1, self._off, self._data_at(self._off, k), k)
                self._filled = -1
                n = self._upload(frame)
        self._framed = n
        self._send = False
        self._s_frames += 1
        self._s_line += n
        slow = step == _LIST or (step == _UPLOAD and self._off == 0)
        self._deadline = _after(now_ms, self._erase_timeout if slow else self._timeout)
        self.length = n
        return SEND

    def _poll(self, now_ms, frame):
        while True:
            phase = self._phase
            if phase == _FAILED:
                return self._failed()
            if phase == _DONE:
                return DONE
            if len(frame) < self.frame_size or self._reading >= 0:
                self._fail_with("usage")
                continue
            if self._send:
                return self._transmit(now_ms, frame)
            if not _reached(now_ms, self._deadline):
                return self._wait(self._deadline)
            if phase == _BOOT:
                self._decoder.reset()
                self._begin(_PARAMS)
            elif phase == _RESET and self._tries + 1 >= _RESET_TRIES:
                self._done()
            else:
                self._retry()

    def receive(self, now_ms, data, n=None):
        now_ms = _now(now_ms)
        d = self._decoder
        data = _received(data)
        for i in range(_taken(data, n)):
            k = d.byte(data[i])
            if not k:
                continue
            phase = self._phase
            if not self._framed or self._send or phase == _BOOT or phase >= _DONE:
                continue
            if self._parse(d.buf, k):
                self._answer(now_ms)

    def _parse(self, buf, k):
        """Reads the packet buf[2:2 + k] into the _a_ fields if it answers the request
        that is out (src/mcuboot `parse`)."""
        if (
            buf[2] & 7 != self._op + 1
            or (buf[6] << 8) | buf[7] != self._group
            or buf[8] != self._seq
            or buf[9] != self._id
            or HEADER + ((buf[4] << 8) | buf[5]) != k
        ):
            return False
        self._a_rc, self._a_off, self._a_buf = 0, -1, -1
        self._a_listed, self._a_hash = False, -1
        r = self._reader
        r.at_(buf, 2 + HEADER, 2 + k)
        left = r.enter(5)
        if left is None:
            return False
        while r.more(left):
            left -= 1
            key = r.key()
            if key is None:
                return False
            if not key:
                ok = r.skip()
            elif r.is_key(b"rc"):
                v = r.int()
                ok = v is not None
                if ok:
                    self._a_rc = v
            elif r.is_key(b"err"):
                ok = self._parse_err(r)
            elif r.is_key(b"off") or r.is_key(b"buf_size"):
                which = r.is_key(b"off")
                ok = r.head() and r.major == 0
                if ok:
                    if which:
                        self._a_off = r.arg
                    else:
                        self._a_buf = r.arg
            elif r.is_key(b"images"):
                ok = self._parse_images(r)
            else:
                ok = r.skip()
            if not ok:
                return False
        return True

    def _parse_err(self, r):
        left = r.enter(5)
        if left is None:
            return False
        while r.more(left):
            left -= 1
            key = r.key()
            if key is None:
                return False
            if key and r.is_key(b"rc"):
                v = r.int()
                if v is None:
                    return False
                self._a_rc = v
            elif not r.skip():
                return False
        return True

    def _parse_images(self, r):
        left = r.enter(4)
        if left is None:
            return False
        while r.more(left):
            left -= 1
            n = r.enter(5)
            if n is None:
                return False
            img, slot, hash_at = 0, -1, -1
            while r.more(n):
                n -= 1
                key = r.key()
                if key is None:
                    return False
                if key and (r.is_key(b"image") or r.is_key(b"slot")):
                    which = r.is_key(b"image")
                    if not r.head() or r.major != 0:
                        return False
                    if which:
                        img = r.arg
                    else:
                        slot = r.arg
                elif key and r.is_key(b"hash"):
                    if not r.head() or r.major != 2:
                        return False
                    hash_at = r.at if r.arg == 32 else -1
                elif not r.skip():
                    return False
            if img == self._image and slot == 0:
                self._a_listed = True
                self._a_hash = hash_at
        return True

    def _answer(self, now_ms):
        step = self._phase
        self._heard = True
        rc = self._a_rc
        if rc != 0 and not (step == _PARAMS and rc == _RC_NOT_SUPPORTED):
            self._s_rc = rc
            if step == _UPLOAD and rc == _RC_INVALID and self._may_restart():
                return
            self._fail_with("rejected")
            return
        if step == _ENTER:
            self._phase = _BOOT
            self._s_step = _BOOT
            self._send = False
            self._deadline = _after(now_ms, self._boot_ms)
        elif step == _PARAMS:
            cap = self._cap
            if self._a_buf >= 0:
                self._buf = min(cap, self._a_buf)
            elif self._buf_opt:
                self._buf = cap
            else:
                self._buf = _FALLBACK_BUF
            if self._buf < _MIN_BUF:
                self._fail_with("protocol")
                return
            self._s_chunk = min(self._chunk_len(1), self._size)
            if self._resume:
                self._begin(_PROBE)
            else:
                self._upload_from(0)
        elif step == _PROBE or step == _UPLOAD:
            self._offset(self._a_off)
        elif step == _LIST:
            at = self._a_hash
            if self._a_listed and (at < 0 or self._same_hash(at)):
                self._s_listed = True
                if at >= 0:
                    buf = self._decoder.buf
                    for i in range(32):
                        self._listed_hash[i] = buf[at + i]
                if self._reset:
                    self._begin(_RESET)
                else:
                    self._done()
            elif not self._may_restart():
                self._fail_with("rejected")
        elif step == _RESET:
            self._done()

    def _same_hash(self, at):
        buf, h = self._decoder.buf, self._hash
        for i in range(32):
            if buf[at + i] != h[i]:
                return False
        return True

    def _may_restart(self):
        if self._restarted or not (self._complete or self._s_resumed > 0):
            return False
        self._restarted = True
        self._s_retries += 1
        self._upload_from(0)
        return True

    def _offset(self, off):
        if off < 0 or off > self._size:
            self._fail_with("protocol")
            return
        self._s_bytes = off
        if self._phase == _PROBE:
            if off == self._size:
                self._complete = True
                self._begin(_LIST)
            else:
                self._s_resumed = off
                self._upload_from(off)
            return
        sent_to = self._off + self._len
        if off <= self._off:
            self._s_resent += sent_to - min(off, sent_to)
            if not self._retry():
                return
            tries = self._tries
            self._upload_from(off)
            self._tries = tries
            return
        self._s_chunks += 1
        if sent_to > off:
            self._s_resent += sent_to - off
        if off == self._size:
            self._begin(_LIST)
        else:
            self._upload_from(off)


