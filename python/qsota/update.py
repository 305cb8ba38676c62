"""qsota.update: one SOTA update as `qsota.agent` runs it, after the platform's sotaInfo:
download the file (resuming with HTTP Range) through a Verifier, refuse it unless something
checked it, send it (or the body of a signed image) to the MCU with `qsota.send`, and check
the version the MCU then runs. The agent (Qth wiring, progress, the report to the platform)
is in qsota.agent; what it knows of each protocol is its record in qsota.protocols.
"""

try:
    import os
except ImportError:  # MicroPython 1.13 (legacy QuecPython) has only the u-names
    import uos as os

import qsota
from qsota import http, https, protocols
from qsota import image as _image
from qsota.download import Download, percent, remove
from qsota.source import refusal


class AgentError(Exception):
    """One update failed. `.stage` is plan, download, space, verify, transfer or mcu (every
    failure is reported with one of these); `.code` is the TransferError code when the MCU
    transfer failed (timeout, cancelled, retries, protocol, source, rejected, usage, io),
    else None; str() is the message the log shows."""

    def __init__(self, stage, message, code=None):
        super().__init__(message)
        self.stage = stage
        self.code = code


def int_or_none(value, what):
    """A platform's number (an int or its text; None or "" for none), never negative."""
    if value is None or value == "":
        return None
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise AgentError("plan", "%s: expected a number, got %r" % (what, value))
    if n < 0:
        raise AgentError("plan", "%s: must not be negative, got %r" % (what, value))
    return n


class Update:
    """One update for `agent` (a qsota.agent.Agent: its options, `_log`, `_step`, `_device`).
    `stage` is the step it is in; `reported` the version the agent reports when it ends, how
    ever it ends: the version the MCU had until the transfer succeeded."""

    def __init__(self, agent):
        self.agent = agent
        self.stage = "plan"
        self.reported = agent.version

    def run(self, args):
        """The update for the sotaInfo arguments `args` (5 or 6 of them); raises on failure."""
        a = self.agent
        if len(args) == 6:
            comp, target, url, size, md5, crc = args
        else:
            comp, target, url, md5, crc = args
            size = None
        a._step("plan", 0)
        a._log("update %s -> %s from %s" % (a.version, target, http.redact(url)))
        size = int_or_none(size, "fileSize")
        self.stage = "download"
        path, sha256, signed = self._download(target, url, size, md5, crc)
        self.stage = "transfer"
        self._transfer(path, target, sha256, signed)
        self.reported = target
        if a.read_version is not None:
            self.stage = "mcu"
            self.reported = a.read_version(comp)
            if self.reported != target:
                raise AgentError(
                    "mcu", "the MCU runs %r after the update, not %r" % (self.reported, target)
                )
        remove(self._path(".part"), self._path(".json"))

    def _path(self, ext):
        return "%s/%s%s" % (self.agent.workdir, self.agent.comp_no, ext)

    def _checks(self, md5, crc, size):
        """What checks the image: the names of the expected values that are known."""
        given = (("md5", md5), ("crc", crc), ("size", size), ("signature", self.agent.keys))
        return [name for name, value in given if value not in (None, "")]

    def _download(self, target, url, size, md5, crc):
        """Downloads into <workdir>/<comp>.part through a Verifier (qsota.download); returns
        the path, the file's SHA-256 (the native protocol's OPEN carries it: no second read)
        and, with keys, the verified image's header fields."""
        a = self.agent
        checks = self._checks(md5, crc, size)
        if not checks and not a.allow_unverified:
            raise AgentError(
                "verify",
                "nothing would check this image (no md5, crc, fileSize or keys): refused "
                "(allow_unverified=True accepts it)",
            )
        if url[:8].lower() == "https://" and not https.authenticated(a.tls):
            if not a._warned_tls:
                a._warned_tls = True
                a._log("https without ca or pin: encrypted, but the server is not authenticated")
        try:
            os.mkdir(a.workdir)
        except OSError:
            pass

        def new_verifier():
            return qsota.Verifier(
                md5=md5 or None,
                crc=None if crc == "" else crc,
                size=size,
                crc_variant=a.crc_variant,
                keys=a.keys,
            )

        def free():
            return a._device()["free"]

        d = Download(
            "%s/%s" % (a.workdir, a.comp_no),
            a.buf,
            a._log,
            self._download_step,
            tls=a.tls,
            retries=a.retries,
            backoff_ms=a.backoff_ms,
            timeout_s=a.timeout_s,
            max_size=a.max_size,
            free=free,
        )
        verifier, n = d.run(url, [target, md5, str(crc)], size, new_verifier)
        try:
            self._refuse(d.part, n)
            verifier.check()
        except Exception:
            remove(d.part, d.meta)  # a wrong image is not kept
            raise
        if checks:
            crc_note = " (crc %s)" % verifier.crc_matched if "crc" in checks else ""
            a._log("download verified: %d bytes, %s%s" % (n, ", ".join(checks), crc_note))
        else:
            a._log("download NOT verified (allow_unverified): %d bytes" % n)
        signed = verifier.image
        if signed is not None:
            a._log(
                "signature verified: key %d, image version %s" % (signed["key"], signed["version"])
            )
        return d.part, verifier.sha256(), signed

    def _refuse(self, path, n):
        """Refuses what qsota.send would (qsota.source.refusal): an empty image, a diff
        package, unless the agent's option of the same name allows it. Here, so that the
        platform hears why before anything reaches the MCU."""
        a = self.agent
        with open(path, "rb") as f:
            refused = refusal(f, n, a.allow_empty, a.mcu_applies_diffs)
        if refused is not None:
            if a.plan_source and n:
                refused += " (the plan's source version: %s)" % a.plan_source
            raise AgentError("verify", refused)

    def _download_step(self, pct):
        self.agent._step("download", pct)

    def _transfer(self, path, target, sha256, signed):
        a = self.agent
        protocol = protocols.find(a.protocol)
        options = dict(a.send_options)
        if a.allow_empty:
            options["allow_empty"] = True
        if a.mcu_applies_diffs:
            options["mcu_applies_diffs"] = True
        name = a.name or "%s_%s.bin" % (a.comp_no, target)
        if protocol.sha256:
            options["sha256"] = sha256
        if protocol.identity:
            options.update(component=a.comp_no, version=target)
        port, opened = a.port, False
        if callable(port) and not callable(getattr(port, "write", None)):
            port, opened = port(), True
        a._step("transfer", 0)

        def progress(offset, size):
            if size:
                a._step("transfer", percent(offset, size))

        source = path
        try:
            if signed is not None and not protocol.container:
                source = self._body(path, signed, name)
                options.pop("sha256", None)  # the file's: the sender computes the body's
            stats = qsota.send(
                port, source, protocol=a.protocol, name=name, progress=progress, **options
            )
        except qsota.TransferError as e:
            raise AgentError("transfer", "MCU transfer failed (%s): %s" % (e.code, e), e.code)
        finally:
            if opened and callable(getattr(port, "close", None)):
                port.close()
            if source is not path:
                source.close()
        a._step("transfer", 100)
        if source is not path:
            a._log("sent the body of the signed image (%d bytes)" % signed["img_size"])
        a._log(
            "sent %d bytes in %d ms, %d retries"
            % (stats.get("bytes", 0), stats.get("elapsed_ms", 0), stats.get("retries", 0))
        )

    def _body(self, path, signed, name):
        """The body of the signed image at `path`, for a bootloader that takes a raw
        application."""
        try:
            return _image.body(path, signed, name)
        except ValueError as e:
            raise AgentError("verify", str(e))
