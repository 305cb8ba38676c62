"""qsota.agent: the drop-in SOTA agent for QuecPython scripts that use Quectel's `Qth` SDK.

The script's line

    Qth.setMcuVer('STM32', '1_0_0', App_sotaInfoCb, App_sotaResultCb)

becomes

    qsota.agent.setMcuVer(Qth, 'STM32', '1_0_0', App_sotaInfoCb, App_sotaResultCb, port=uart)

and the agent does the rest: when the platform sends the firmware info, the script's own
callback is called first with exactly Qth's arguments, then the agent downloads the file
(resuming with HTTP Range), verifies it on the fly, sends it to the MCU with `qsota.send` and
reports the new version with `Qth.setMcuVer`, so the platform judges success. On any failure it
reports the version the MCU had, so the platform judges failure and the script's result
callback sees False. See docs/agent.md for the options, the progress steps and what is kept
on disk for a resume.

The work runs in its own thread (`_thread`): Qth calls the script's callbacks from the SDK's
event thread, and a download plus an MCU transfer takes minutes, during which that thread
must stay free (MQTT keep-alive, further events).
"""

try:
    import json
    import os
except ImportError:  # MicroPython 1.13 (legacy QuecPython) has only the u-names
    import ujson as json
    import uos as os

import qsota
from qsota import http

try:
    import _thread
except ImportError:
    _thread = None

try:
    from time import sleep_ms as _sleep_ms
except ImportError:
    from utime import sleep_ms as _sleep_ms

MAX_FILE = 100 * 1024 * 1024  # the platform's limit per file
STEPS = ("plan", "download", "transfer", "complete", "failed")


class AgentError(Exception):
    """One update failed. `.stage` is plan, download, space, verify, transfer or mcu."""

    def __init__(self, stage, message):
        super().__init__(message)
        self.stage = stage


def setMcuVer(Qth, comp_no, version, infoCb, resultCb, port=None, **options):
    """Declares the MCU component to the platform (as `Qth.setMcuVer` does) and handles its
    SOTA updates. `port` is the UART to the MCU's bootloader (anything `qsota.send` takes) or
    a callable returning one, opened for each transfer. Options: see `Agent`. Returns the
    Agent."""
    agent = Agent(Qth, comp_no, version, infoCb, resultCb, port, **options)
    agent.start()
    return agent


def _log_print(msg):
    print("[qsota]", msg)


def _int_or_none(value, what):
    if value is None or value == "":
        return None
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise AgentError("plan", "%s: expected a number, got %r" % (what, value))
    if n < 0:
        raise AgentError("plan", "%s: must not be negative, got %r" % (what, value))
    return n


def _percent(done, total):
    """done * 100 // total without a big int (32-bit ports: small ints end at 2**30)."""
    if total < 1 << 20:
        return done * 100 // total
    return min(100, done // (total // 100))


def default_policy(plan, device):
    """(ok, reason) for one otaPlan tuple (compType, compId, srcVer, dstVer, minPower,
    diskSpace, minSignal) against `device` ({'battery', 'signal', 'free'}, None = unknown)."""
    checks = (("battery", 4, "minPower"), ("free", 5, "diskSpace"), ("signal", 6, "minSignal"))
    for key, index, name in checks:
        need = _int_or_none(plan[index], name) if len(plan) > index else None
        have = device.get(key)
        if need and have is not None and have < need:
            return False, "%s %s is below the plan's %s %d" % (key, have, name, need)
    return True, "meets the plan's minimums"


class Agent:
    """The SOTA agent for one MCU component.

    Options (keyword arguments of `setMcuVer`):
      protocol='ymodem'     'ymodem', 'native' or 'stm32' (qsota.send; stm32: ST's ROM
                            bootloader, pins in send_options: boot0=, nrst=)
      send_options=None     dict of extra `qsota.send` options (baud, timeouts, ...)
      name=None             file name sent to the MCU (default '<comp>_<version>.bin')
      workdir='/usr/qsota'  where the download is kept (created if missing)
      progress=None         progress(comp_no, step, percent); steps: plan, download,
                            transfer, complete, failed
      log=print             log(message) for one line per event; None for silence
      policy=None           True (plan minimums vs `device()`) or policy(plan, device) ->
                            (ok, reason); needs `events`
      events=None           the dict the script gave Qth.setEventCb (for the policy)
      device=None           device() -> {'battery', 'signal', 'free'} (None = unknown);
                            'free' defaults to os.statvfs(workdir)
      read_version=None     read_version(comp_no) -> the version the MCU runs after the
                            transfer (reported instead of the target version)
      crc_variant='auto'    'auto', 'mpeg2' or 'iso-hdlc' (see qsota.Verifier)
      max_size=100 MB       refuse larger files (the platform's limit)
      retries=5             download attempts in a row without progress
      backoff_ms=1000       first pause between attempts (doubles, at most 30 s)
      timeout_s=30          network timeout per read
      chunk=4096            download buffer (allocated once)
      thread=True           run each update in its own thread (_thread)
    """

    def __init__(
        self,
        Qth,
        comp_no,
        version,
        infoCb,
        resultCb,
        port,
        protocol="ymodem",
        send_options=None,
        name=None,
        workdir="/usr/qsota",
        progress=None,
        log=_log_print,
        policy=None,
        events=None,
        device=None,
        read_version=None,
        crc_variant="auto",
        max_size=MAX_FILE,
        retries=5,
        backoff_ms=1000,
        timeout_s=30,
        chunk=4096,
        thread=True,
    ):
        for arg, value in (("comp_no", comp_no), ("version", version), ("workdir", workdir)):
            if not isinstance(value, str) or not value:
                raise TypeError("%s: expected a non-empty str, got %r" % (arg, value))
        for arg, value in (("infoCb", infoCb), ("resultCb", resultCb)):
            if not callable(value):
                raise TypeError("%s: expected a callable, got %s" % (arg, type(value).__name__))
        for arg, value in (
            ("progress", progress),
            ("log", log),
            ("device", device),
            ("read_version", read_version),
        ):
            if value is not None and not callable(value):
                raise TypeError(
                    "%s: expected a callable or None, got %s" % (arg, type(value).__name__)
                )
        if port is None:
            raise TypeError("port: the UART to the MCU (or a callable returning one) is required")
        if protocol not in ("ymodem", "native", "stm32"):
            raise ValueError(
                "protocol: expected 'ymodem', 'native' or 'stm32', got %r" % (protocol,)
            )
        if policy is True:
            policy = default_policy
        if policy is not None:
            if not callable(policy):
                raise TypeError(
                    "policy: expected True or a callable, got %s" % type(policy).__name__
                )
            if not isinstance(events, dict):
                raise TypeError("events: the policy needs the dict given to Qth.setEventCb")
        for arg, value in (
            ("max_size", max_size),
            ("retries", retries),
            ("backoff_ms", backoff_ms),
            ("timeout_s", timeout_s),
            ("chunk", chunk),
        ):
            if not isinstance(value, int) or value < 0 or (arg == "chunk" and value < 512):
                raise ValueError("%s: bad value %r" % (arg, value))
        self.Qth = Qth
        self.comp_no = comp_no
        self.version = version
        self.info_cb = infoCb
        self.result_cb = resultCb
        self.port = port
        self.protocol = protocol
        self.send_options = send_options or {}
        self.name = name
        self.workdir = workdir.rstrip("/") or "/"
        self.progress_cb = progress
        self.log_cb = log
        self.policy = policy
        self.events = events
        self.device_cb = device
        self.read_version = read_version
        self.crc_variant = crc_variant
        self.max_size = max_size
        self.retries = retries
        self.backoff_ms = backoff_ms
        self.timeout_s = timeout_s
        self.thread = thread and _thread is not None
        self.buf = bytearray(chunk)
        self.mv = memoryview(self.buf)
        self.busy = False
        self.lock = _thread.allocate_lock() if _thread else None
        self._last_step = self._last_decile = None

    # -- wiring --------------------------------------------------------------------------

    def start(self):
        """Registers with Qth: the component's version and, with a policy, the plan hook."""
        if self.policy is not None:
            events = dict(self.events)
            ota = dict(events.get("ota") or {})
            self.plan_cb = ota.get("otaPlan")
            ota["otaPlan"] = self._on_plan
            events["ota"] = ota
            self.Qth.setEventCb(events)
        self._report(self.version)

    def _report(self, version):
        self.Qth.setMcuVer(self.comp_no, version, self._on_info, self._on_result)

    def _log(self, msg):
        if self.log_cb is not None:
            self.log_cb("%s: %s" % (self.comp_no, msg))

    def _step(self, step, percent):
        """Progress: a log line per step and per 10%, the callback on every call. Called per
        chunk: allocates nothing unless it logs."""
        if step is not self._last_step or percent // 10 != self._last_decile:
            self._last_step, self._last_decile = step, percent // 10
            self._log("%s %d%%" % (step, percent))
        if self.progress_cb is not None:
            try:
                self.progress_cb(self.comp_no, step, percent)
            except Exception as e:
                self._log("progress callback raised %r" % (e,))

    def _call_script(self, cb, args):
        try:
            cb(*args)
        except Exception as e:
            self._log("the script's callback raised %r" % (e,))

    def _device(self):
        state = {"battery": None, "signal": None, "free": None}
        if self.device_cb is not None:
            state.update(self.device_cb())
        if state["free"] is None:
            try:
                st = os.statvfs(self.workdir)
                state["free"] = st[1] * st[4]
            except OSError:
                pass
        return state

    # -- Qth callbacks (called on the SDK's thread) --------------------------------------

    def _on_plan(self, plans):
        ours = [p for p in plans if len(p) > 1 and p[1] == self.comp_no]
        if ours:
            self._step("plan", 0)
            try:
                ok, why = self.policy(ours[0], self._device())
            except Exception as e:
                ok, why = False, "policy failed: %r" % (e,)
            self._log("plan %s -> %s: %s" % (ours[0][2], ours[0][3], why))
            if not ok:
                self._log("refusing the plan (otaAction(0))")
                self.Qth.otaAction(0)
                return
        if self.plan_cb is not None:
            self._call_script(self.plan_cb, (plans,))
        else:
            self.Qth.otaAction(1)

    def _on_info(self, *args):
        self._call_script(self.info_cb, args)
        if len(args) not in (5, 6) or args[0] != self.comp_no:
            self._log("ignoring sotaInfo%r" % (args,))
            return
        if self.lock:
            self.lock.acquire()
        busy, self.busy = self.busy, True
        if self.lock:
            self.lock.release()
        if busy:
            self._log("an update is already running; ignoring this sotaInfo")
            return
        if not self.thread:
            self._update(args)
            return
        try:
            old = _thread.stack_size(32 * 1024)
            try:
                _thread.start_new_thread(self._update, (args,))
            finally:
                _thread.stack_size(old)
        except Exception as e:  # no thread: the platform must still hear of the failure
            self._log("update failed (thread): %r" % (e,))
            self.busy = False
            self._report(self.version)

    def _on_result(self, comp_no, result):
        self._log("platform result: %s" % (result,))
        if result:
            self._step("complete", 100)
        self._call_script(self.result_cb, (comp_no, result))

    # -- one update ----------------------------------------------------------------------

    def _update(self, args):
        if len(args) == 6:
            comp, target, url, size, md5, crc = args
        else:
            comp, target, url, md5, crc = args
            size = None
        reported = self.version
        try:
            self._step("plan", 0)
            self._log("update %s -> %s from %s" % (self.version, target, url))
            size = _int_or_none(size, "fileSize")
            path, sha256 = self._download(target, url, size, md5, crc)
            self._transfer(path, target, sha256)
            reported = target
            if self.read_version is not None:
                reported = self.read_version(comp)
                if reported != target:
                    raise AgentError(
                        "mcu", "the MCU runs %r after the update, not %r" % (reported, target)
                    )
            self._remove(self._path(".part"), self._path(".json"))
        except Exception as e:
            stage = getattr(e, "stage", "verify" if isinstance(e, qsota.VerifyError) else "error")
            self._log("update failed (%s): %s" % (stage, e))
            self._step("failed", 0)
        finally:
            self.version = reported
            self.busy = False
            self._log("reporting version %s" % reported)
            self._report(reported)

    def _path(self, ext):
        return "%s/%s%s" % (self.workdir, self.comp_no, ext)

    def _remove(self, *paths):
        for p in paths:
            try:
                os.remove(p)
            except OSError:
                pass

    def _check_size(self, total, have):
        if total > self.max_size:
            raise AgentError(
                "space", "the file is %d bytes, over the %d-byte limit" % (total, self.max_size)
            )
        free = self._device()["free"]
        if free is not None and total - have > free:
            raise AgentError(
                "space", "the file needs %d more bytes, %d are free" % (total - have, free)
            )

    def _download(self, target, url, size, md5, crc):
        """Downloads into <workdir>/<comp>.part through a Verifier; returns the path and
        the file's SHA-256 (the native protocol's OPEN carries it: no second read)."""
        try:
            os.mkdir(self.workdir)
        except OSError:
            pass
        verifier = qsota.Verifier(
            md5=md5 or None, crc=None if crc == "" else crc, size=size, crc_variant=self.crc_variant
        )
        part, meta = self._path(".part"), self._path(".json")
        ident = [target, md5, str(crc)]
        offset, total = self._resume(part, meta, ident, size, verifier)
        try:
            if total is not None:
                self._check_size(total, offset)
            try:
                f = open(part, "ab")
            except OSError as e:
                raise AgentError("download", "cannot write %s (%s)" % (part, e))
            try:
                offset, total = self._fetch(url, f, verifier, offset, total, meta, ident)
            finally:
                f.close()
            if total is not None and offset != total:
                # A kept file longer than the image (no expected value may catch it).
                raise AgentError("verify", "size: expected %d bytes, got %d" % (total, offset))
            verifier.check()
        except Exception as e:
            # A wrong or refused image is not kept; an interrupted download is, for a resume.
            if isinstance(e, qsota.VerifyError) or getattr(e, "stage", None) in ("space", "verify"):
                self._remove(part, meta)
            raise
        self._log(
            "download verified: %d bytes%s"
            % (offset, ", crc %s" % verifier.crc_matched if crc not in (None, "") else "")
        )
        return part, verifier.sha256()

    def _resume(self, part, meta, ident, size, verifier):
        """(offset, total) to continue from. A partial file left by an earlier run (e.g. before
        a reboot) of the same image is read once through the verifier, so that it still sees
        every byte exactly once; anything else starts from zero."""
        try:
            with open(meta) as f:
                saved = json.load(f)
            if saved.get("id") != ident:
                raise ValueError
            offset = 0
            with open(part, "rb") as f:
                while True:
                    n = f.readinto(self.buf)
                    if not n:
                        break
                    verifier.update(self.mv if n == len(self.buf) else self.mv[:n])
                    offset += n
            self._log("resuming a kept download at byte %d" % offset)
            return offset, saved.get("size") or size
        except (OSError, ValueError, KeyError, AttributeError):
            pass
        self._remove(part)
        self._save_meta(meta, ident, size)
        return 0, size

    def _save_meta(self, meta, ident, size):
        try:
            with open(meta, "w") as f:
                json.dump({"id": ident, "size": size}, f)
        except OSError as e:
            raise AgentError("download", "cannot write %s (%s)" % (meta, e))

    def _fetch(self, url, f, verifier, offset, total, meta, ident):
        """Streams url from `offset` into f and the verifier, resuming after dropped
        connections; returns (bytes, total)."""
        failures = 0
        while total is None or offset < total:
            resp = None
            try:
                resp = http.get(url, offset, self.timeout_s)
                if resp.total is not None and resp.total != total:
                    if total is not None:
                        raise AgentError(
                            "download",
                            "size: expected %d bytes, the server has %d" % (total, resp.total),
                        )
                    total = resp.total
                    self._check_size(total, offset)
                    self._save_meta(meta, ident, total)
                self._skip(resp, offset - resp.offset)
                begin = offset
                while True:
                    n = resp.readinto(self.buf)
                    if not n:
                        break
                    if offset + n > (self.max_size if total is None else total):
                        raise AgentError(
                            "download",
                            "the server sent more than %d bytes" % (total or self.max_size),
                        )
                    view = self.mv if n == len(self.buf) else self.mv[:n]
                    verifier.update(view)
                    try:
                        f.write(view)
                    except OSError as e:
                        raise AgentError("download", "cannot write the download (%s)" % e)
                    offset += n
                    failures = 0
                    if total:
                        self._step("download", _percent(offset, total))
                if total is None:
                    total = offset  # no length given: the body ran until the server closed
                elif offset == begin and offset < total:
                    # A body without Content-Length that ends at once: counts as a failure,
                    # or the loop would ask again at once, forever.
                    raise OSError(104, "the server sent no bytes from byte %d" % offset)
            except (OSError, http.HttpError) as e:
                if resp is not None:  # closed before the pause, not after
                    resp.close()
                    resp = None
                if isinstance(e, http.HttpError) and not e.retry:
                    raise AgentError("download", str(e))
                failures += 1
                if failures > self.retries:
                    raise AgentError(
                        "download",
                        "gave up at byte %d after %d attempts: %s" % (offset, failures, e),
                    )
                pause = min(self.backoff_ms << (failures - 1), 30000)
                self._log(
                    "download interrupted at byte %d (%s); retry in %d ms" % (offset, e, pause)
                )
                _sleep_ms(pause)
            finally:  # also on AgentError/VerifyError from the body: no socket left open
                if resp is not None:
                    resp.close()
        return offset, total

    def _skip(self, resp, n):
        """Discards n body bytes (a server that ignored Range sent the file from 0)."""
        while n > 0:
            k = resp.readinto(self.mv if n >= len(self.buf) else self.mv[:n])
            if not k:
                raise OSError(104, "body ended before the resume offset")
            n -= k

    def _transfer(self, path, target, sha256):
        options = dict(self.send_options)
        if self.protocol == "native":
            options.update(sha256=sha256, component=self.comp_no, version=target)
        port, opened = self.port, False
        if callable(port) and not callable(getattr(port, "write", None)):
            port, opened = port(), True
        name = self.name or "%s_%s.bin" % (self.comp_no, target)
        self._step("transfer", 0)

        def progress(offset, size):
            if size:
                self._step("transfer", _percent(offset, size))

        try:
            stats = qsota.send(
                port, path, protocol=self.protocol, name=name, progress=progress, **options
            )
        except qsota.TransferError as e:
            raise AgentError("transfer", "MCU transfer failed (%s): %s" % (e.code, e))
        finally:
            if opened and callable(getattr(port, "close", None)):
                port.close()
        self._step("transfer", 100)
        self._log(
            "sent %d bytes in %d ms, %d retries"
            % (stats.get("bytes", 0), stats.get("elapsed_ms", 0), stats.get("retries", 0))
        )
