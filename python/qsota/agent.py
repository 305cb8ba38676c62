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
on disk for a resume. This module is the wiring (Qth's callbacks, the policy, progress and
log); one update's steps are qsota.update's.

The work runs in its own thread (`_thread`): Qth calls the script's callbacks from the SDK's
event thread, and a download plus an MCU transfer takes minutes, during which that thread
must stay free (MQTT keep-alive, further events).
"""

try:
    import os
except ImportError:  # MicroPython 1.13 (legacy QuecPython) has only the u-names
    import uos as os

import qsota

CHUNK = 4096  # the download buffer's default size
# The first Agent's download buffer (of the default size), taken before the modules below are
# loaded: loading them leaves the heap in small holes, where a later bytearray(4096) can fail
# with most of the heap free (bench/arm/ram.py on a 160 KiB heap: 96 KB free, no 3 KB hole).
_spare = bytearray(CHUNK)

from qsota import https, protocols  # noqa: E402
from qsota.update import AgentError, Update, int_or_none  # noqa: E402, F401 (agent.AgentError)

try:
    import _thread
except ImportError:
    _thread = None

MAX_FILE = 100 * 1024 * 1024  # the platform's limit per file


def setMcuVer(Qth, comp_no, version, infoCb, resultCb, port=None, **options):
    """Declares the MCU component to the platform (as `Qth.setMcuVer` does) and handles its
    SOTA updates. `port` is the UART to the MCU's bootloader (anything `qsota.send` takes) or
    a callable returning one, opened for each transfer. Options: see `Agent`. Returns the
    Agent."""
    agent = Agent(Qth, comp_no, version, infoCb, resultCb, port, **options)
    agent.start()
    return agent


def _buffer(n):
    """A bytearray(n) for an Agent: the spare one (allocated at import) if it has that size
    and no Agent took it yet."""
    global _spare
    buf = _spare
    if buf is None or len(buf) != n:
        return bytearray(n)
    _spare = None
    return buf


def _log_print(msg):
    print("[qsota]", msg)


def default_policy(plan, device):
    """(ok, reason) for one otaPlan tuple (compType, compId, srcVer, dstVer, minPower,
    diskSpace, minSignal) against `device` ({'battery', 'signal', 'free'}, None = unknown)."""
    checks = (("battery", 4, "minPower"), ("free", 5, "diskSpace"), ("signal", 6, "minSignal"))
    for key, index, name in checks:
        need = int_or_none(plan[index], name) if len(plan) > index else None
        have = device.get(key)
        if need and have is not None and have < need:
            return False, "%s %s is below the plan's %s %d" % (key, have, name, need)
    return True, "meets the plan's minimums"


def _check_stream(stream, protocol, keys):
    """The `stream` option against the protocol and keys (ValueError now, not at an update)."""
    if stream not in (True, False, "auto"):
        raise ValueError("stream: expected True, False or 'auto', got %r" % (stream,))
    if stream is not True:
        return
    if protocol.stream is None:
        raise ValueError(
            "stream: protocol %r cannot stream (a failed final check could not be withheld "
            "from the MCU)" % protocol.name
        )
    if keys is not None:
        raise ValueError(
            "stream: a signed image is checked and sent from a stored download only (keys)"
        )


class Agent:
    """The SOTA agent for one MCU component.

    Options (keyword arguments of `setMcuVer`):
      protocol='ymodem'     'ymodem', 'native', 'stm32' or 'mcuboot' (qsota.send; stm32: ST's
                            ROM bootloader, pins in send_options: boot0=, nrst=)
      send_options=None     dict of extra `qsota.send` options (baud, timeouts, ...)
      name=None             file name sent to the MCU (default '<comp>_<version>.bin')
      workdir='/usr/sota'   where the download is kept (created if missing; not the
                            package's own /usr/qsota/)
      progress=None         progress(comp_no, step, percent); steps: plan, download,
                            transfer, complete, failed
      on_failure=None       on_failure(comp_no, error) when an update fails, before the
                            platform hears it: error is an AgentError (.stage, .code, str());
                            also kept as agent.last_error (None after a success)
      log=print             log(message) for one line per event; None for silence
      policy=None           True (plan minimums vs `device()`) or policy(plan, device) ->
                            (ok, reason); needs `events`
      events=None           the dict the script gave Qth.setEventCb (for the policy)
      device=None           device() -> {'battery', 'signal', 'free'} (None = unknown);
                            'free' defaults to os.statvfs(workdir)
      read_version=None     read_version(comp_no) -> the version the MCU runs after the
                            transfer (reported instead of the target version)
      crc_variant='auto'    'auto', 'mpeg2' or 'iso-hdlc' (see qsota.Verifier)
      ca=None               CA certificate(s) for https (DER/PEM bytes or a path, or a list)
      pin=None              SHA-256 pin(s) of the server's certificate or public key (hex)
      allow_unverified=False  accept an image nothing checks (no md5, crc, fileSize or keys)
      allow_empty=False     accept a 0-byte image
      mcu_applies_diffs=False  send a diff package (a patch) as it is, for an MCU whose own
                            bootloader applies it (else a diff is refused before the MCU)
      keys=None             the product's Ed25519 public keys (raw 32 bytes each): only an
                            MCUboot image signed by one of them reaches the MCU (its body
                            only, unless the MCU runs MCUboot: qsota.image)
      max_size=100 MB       refuse larger files (the platform's limit)
      retries=5             download attempts in a row without progress
      backoff_ms=1000       first pause between attempts (doubles, at most 30 s)
      timeout_s=30          network timeout per read
      chunk=4096            download buffer (allocated once; the first default one at import)
      stream='auto'         send the image into the MCU as it downloads, keeping nothing but
                            a record under 1 KB (docs/agent.md, "Stream mode"): 'auto'
                            streams with the native protocol when the image does not fit
                            the free space; True whenever the protocol can (native, and
                            ymodem at the risk of an MCU left in its bootloader by a failed
                            download); False never
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
        workdir="/usr/sota",
        progress=None,
        on_failure=None,
        log=_log_print,
        policy=None,
        events=None,
        device=None,
        read_version=None,
        crc_variant="auto",
        ca=None,
        pin=None,
        allow_unverified=False,
        allow_empty=False,
        mcu_applies_diffs=False,
        keys=None,
        max_size=MAX_FILE,
        retries=5,
        backoff_ms=1000,
        timeout_s=30,
        chunk=CHUNK,
        thread=True,
        stream="auto",
    ):
        for arg, value in (("comp_no", comp_no), ("version", version), ("workdir", workdir)):
            if not isinstance(value, str) or not value:
                raise TypeError("%s: expected a non-empty str, got %r" % (arg, value))
        for arg, value in (("infoCb", infoCb), ("resultCb", resultCb)):
            if not callable(value):
                raise TypeError("%s: expected a callable, got %s" % (arg, type(value).__name__))
        for arg, value in (
            ("progress", progress),
            ("on_failure", on_failure),
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
        if protocols.find(protocol) is None:
            names = [repr(p.name) for p in protocols.PROTOCOLS]
            raise ValueError(
                "protocol: expected %s or %s, got %r" % (", ".join(names[:-1]), names[-1], protocol)
            )
        if keys is not None:
            qsota.Verifier(keys=keys)  # TypeError/ValueError now, not at the first update
        _check_stream(stream, protocols.find(protocol), keys)
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
        self.failure_cb = on_failure
        self.last_error = None
        self.log_cb = log
        self.policy = policy
        self.events = events
        self.device_cb = device
        self.read_version = read_version
        self.crc_variant = crc_variant
        self.tls = https.config(ca, pin)
        self.allow_unverified = bool(allow_unverified)
        self.allow_empty = bool(allow_empty)
        self.mcu_applies_diffs = bool(mcu_applies_diffs)
        self.plan_source = None  # the source version of the last plan the policy saw
        self._warned_tls = False
        self.keys = keys
        self.max_size = max_size
        self.retries = retries
        self.backoff_ms = backoff_ms
        self.timeout_s = timeout_s
        self.thread = thread and _thread is not None
        self.stream = stream
        self.buf = _buffer(chunk)
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
        if step != self._last_step or percent // 10 != self._last_decile:
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

    def can_stream(self):
        """Whether an update may stream (with 'auto', one whose image does not fit)."""
        if self.stream is True:
            return True  # __init__ checked the protocol and keys
        p = protocols.find(self.protocol)
        return self.stream == "auto" and p.stream == "auto" and self.keys is None

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
        plan = None
        if isinstance(plans, (list, tuple)):
            for p in plans:
                if isinstance(p, (list, tuple)) and len(p) > 1 and p[1] == self.comp_no:
                    plan = p
                    break
        if plan is None or len(plan) != 7:
            # not a list of (compType, compId, srcVer, dstVer, minPower, diskSpace, minSignal)
            why = "no plan for %s" % self.comp_no if plan is None else "malformed"
            self._log("otaPlan %r: %s, handed to the script unchecked" % (plans, why))
            plan = None
        else:
            self._log("plan %s -> %s" % (plan[2], plan[3]))
            self.plan_source = plan[2]
        if plan is not None:
            self._step("plan", 0)
            device = self._device()
            if self.can_stream():
                device["free"] = None  # a stream needs no room for the image: not checked
            try:
                ok, why = self.policy(plan, device)
            except Exception as e:
                ok, why = False, "policy failed: %r" % (e,)
            self._log("policy: %s" % why)
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
            self._failed(AgentError("plan", "no thread for the update (%r)" % (e,)), "plan")
            self.busy = False
            self._report(self.version)

    def _on_result(self, comp_no, result):
        self._log("platform result: %s" % (result,))
        if result:
            self._step("complete", 100)
        self._call_script(self.result_cb, (comp_no, result))

    # -- one update ----------------------------------------------------------------------

    def _update(self, args):
        job = Update(self)
        try:
            job.run(args)
            self.last_error = None
        except Exception as e:
            self._failed(e, job.stage)
        finally:
            self.version = job.reported
            self.busy = False
            self._log("reporting version %s" % job.reported)
            self._report(job.reported)

    def _failed(self, e, stage):
        """An update failed with `e` (in `stage` unless it says): the log line, the
        progress step, `last_error` and the script's on_failure, all before the platform is
        told."""
        if not isinstance(e, AgentError):
            stage = getattr(e, "stage", "verify" if isinstance(e, qsota.VerifyError) else stage)
            e = AgentError(stage, str(e))
        self.last_error = e
        self._log("update failed (%s): %s" % (e.stage, e))
        self._step("failed", 0)
        if self.failure_cb is not None:
            self._call_script(self.failure_cb, (self.comp_no, e))
