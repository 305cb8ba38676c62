"""qsota.update: one SOTA update as `qsota.agent` runs it, after the platform's sotaInfo:
download the file (resuming with HTTP Range) through a Verifier, refuse it unless something
checked it, send it (or the body of a signed image) to the MCU with `qsota.send`, and check
the version the MCU then runs; or, in stream mode, send it as it downloads (qsota.update_stream,
checked before the MCU commits it). A diff package (esp_delta_ota's magic) is applied on the
module to the kept copy of the image the MCU runs (`<workdir>/<comp>.img`, kept after each
success): once into `<comp>.img.new`, proving its digest, then sent from that file and
renamed over the old copy; where the workdir has no room for it, applied to prove it, then
again while it streams to the MCU (qsota.delta), and no copy is kept. The agent (Qth wiring,
progress, the report to the platform) is in qsota.agent; what it knows of each protocol is
its record in qsota.protocols.
"""

try:
    import os
except ImportError:  # MicroPython 1.13 (legacy QuecPython) has only the u-names
    import uos as os

import qsota
from qsota import http, https, protocols
from qsota.download import Download, percent, remove
from qsota.errors import AgentError, DeltaError
from qsota.source import patch_format, refusal, sha256_of

# What the log and the script hear when the module cannot apply a diff package.
FULL = "publish a full package"


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
        self.patch = None  # the download's patch format (qsota.source.patch_format)
        self.rebuilt = None  # a diff package's target: (size, SHA-256), once proven
        self.written = False  # that target is in <comp>.img.new (the workdir had room)
        self.mcu_checks = False  # the MCU applies the diff package and checks its signature
        self.receiver_checks = False  # the MCU checks every image's signature (_receiver_checks)

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
        path = None  # a streamed image is not on the module
        try:
            if self._streams(size):
                self._stream(target, url, size, md5, crc)
            else:
                try:
                    path, sha256, signed = self._download(target, url, size, md5, crc)
                except Exception as e:
                    # The platform gave no fileSize and the file does not fit: stream it.
                    if getattr(e, "stage", None) != "space" or size is not None:
                        raise
                    if not self._streams(size, True):
                        raise
                    self.agent._log("%s: streaming it instead" % e)
                    self._stream(target, url, size, md5, crc)
                else:
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
        except Exception:
            remove(self._path(".img.new"))
            raise
        self._keep(path)
        remove(self._path(".part"), self._path(".json"))

    def _path(self, ext):
        return "%s/%s%s" % (self.agent.workdir, self.agent.comp_no, ext)

    def _checks(self, md5, crc, size):
        """What checks the image: the names of the expected values that are known."""
        given = (("md5", md5), ("crc", crc), ("size", size), ("signature", self.agent.keys))
        return [name for name, value in given if value not in (None, "")]

    def _prepare(self, url, md5, crc, size):
        """What every download does first: refuses an image nothing would check, warns once
        of an unauthenticated https server, makes the workdir. Returns the checks."""
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
        return checks

    def _verifier(self, md5, crc, size, resumable=False):
        a = self.agent
        return qsota.Verifier(
            md5=md5 or None,
            crc=None if crc == "" else crc,
            size=size,
            crc_variant=a.crc_variant,
            keys=a.keys,
            resumable=resumable,
        )

    def _download(self, target, url, size, md5, crc):
        """Downloads into <workdir>/<comp>.part through a Verifier (qsota.download); returns
        the path, the file's SHA-256 (the native protocol's OPEN carries it: no second read)
        and, with keys, the verified image's header fields."""
        a = self.agent
        checks = self._prepare(url, md5, crc, size)

        def new_verifier():
            return self._verifier(md5, crc, size)

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
            applied = self._applied(d.part, n)
            self.receiver_checks = self._receiver_checks()
            self.mcu_checks = self.patch == "esp_delta_ota" and self.receiver_checks
            if not applied:
                self._refuse(d.part, n)
            if a.keys is not None and (applied or self.mcu_checks):
                # keys= is for the image the package gives, not the package (a patch)
                verifier = qsota.verify_file(d.part, md5 or None, None, None if crc == "" else
                                             crc, size, a.buf, a.crc_variant)
            verifier.check()
            if (applied or self.mcu_checks) and "signature" in checks:
                checks.remove("signature")  # the package's result's, below or on the MCU
            if checks:
                crc_note = " (crc %s)" % verifier.crc_matched if "crc" in checks else ""
                a._log("download verified: %d bytes, %s%s" % (n, ", ".join(checks), crc_note))
            elif applied:
                a._log("download: a diff package of %d bytes, its result checked below" % n)
            elif self.mcu_checks:
                a._log("download: a diff package of %d bytes, its result's signature checked "
                       "by the MCU" % n)
            else:
                a._log("download NOT verified (allow_unverified): %d bytes" % n)
            sha256 = verifier.sha256()
            if applied:
                verifier = self._rebuild(d.part)
                sha256 = self.rebuilt[1]
        except Exception:
            remove(d.part, d.meta)  # a wrong image (or a diff package that fails) is not kept
            raise
        signed = verifier.image if verifier is not None else None
        if signed is not None:
            a._log(
                "signature verified: key %d, image version %s" % (signed["key"], signed["version"])
            )
        return d.part, sha256, signed

    def _applied(self, path, n):
        """Whether the download is a diff package the module applies (esp_delta_ota's magic,
        and mcu_applies_diffs not set); notes the download's patch format."""
        if n:
            with open(path, "rb") as f:
                self.patch = patch_format(f.read(16))
        return self.patch == "esp_delta_ota" and not self.agent.mcu_applies_diffs

    def _receiver_checks(self):
        """Whether the MCU is a signature-checking receiver for every image: keys= and
        mcu_applies_diffs on a protocol that carries packages (native). A diff package's
        result is checked there alone (OPEN's DELTA and SIGNED flags); a full package goes
        as the whole signed container (SIGNED), checked here first and there again, so that
        the application area always holds a container, the next diff package's base. A
        receiver built without the check refuses the flag before anything is erased. Other
        protocols' bootloaders cannot be asked: keys= refuses a diff package there."""
        a = self.agent
        protocol = protocols.find(a.protocol)
        return (a.mcu_applies_diffs and a.keys is not None and protocol is not None
                and protocol.packages)

    def _rebuild(self, package):
        """Proves the diff package's target before anything reaches the MCU: the kept image
        is the package's base (its SHA-256), the plan's source version is the one reported,
        and the result has the extension's SHA-256 and, with keys=, a valid signature. The
        result goes to <comp>.img.new as it is proven where the workdir has room for it
        (`qsota.delta.Copy`). Sets `rebuilt` and `written`; returns the keys= Verifier (or None)."""
        a = self.agent
        base = self._path(".img")
        why = self._base_problem(package, base)
        if why is not None:
            raise AgentError("verify", "diff package: %s: %s" % (why, FULL))
        verifier = qsota.Verifier(keys=a.keys) if a.keys is not None else None
        copy = t = None
        from qsota import delta  # only a diff package needs it (the heap of the agent's import)

        try:
            t = delta.Target(base, package, check_base=True, out=verifier)
            free = a._device()["free"]
            if free is None or free >= t.size + len(a.buf):
                copy = delta.Copy(self._path(".img.new"))
            self.rebuilt = t.prove(copy, a.buf)
            if verifier is not None:
                verifier.check()
            self.written = copy is not None and copy.close()
        except (DeltaError, qsota.VerifyError) as e:
            raise AgentError("verify", "diff package: %s: %s" % (e, FULL))
        finally:
            if t is not None:
                t.close()
            if copy is not None and not self.written:
                copy.discard()
        a._log("diff package applies to the kept image: %d bytes, SHA-256 %s" % (
            self.rebuilt[0], _hex(self.rebuilt[1][:8])))
        return verifier

    def _base_problem(self, package, base):
        """Why the package cannot be applied here, or None."""
        a = self.agent
        if a.plan_source is not None and a.plan_source != a.version:
            return "made for version %s, the MCU runs %s" % (a.plan_source, a.version)
        from qsota import delta  # only a diff package needs it

        try:
            want, ext = delta.header(package)
        except DeltaError as e:
            return str(e)
        if ext is None and a.keys is None:
            return "no target digest (a package made for ESP) and no keys= to check the result"
        try:
            with open(base, "rb") as f:
                have = sha256_of(f, None)
        except OSError:
            return "no copy of the image the MCU runs (%s) to apply it to" % base
        if have != want:
            return "made for the base with SHA-256 %s, the kept image (%s) is %s" % (
                _hex(want[:8]), base, _hex(have[:8]))
        return None

    def _keep(self, path):
        """Keeps the image the MCU now runs as `<comp>.img`, the next diff package's base:
        the download itself (renamed), or a diff package's target, written next to it as it
        was proven, renamed over the old copy (never a half-written base). Where there was no
        room for it, or the MCU applied a patch itself, the old copy goes (it is no longer the
        MCU's) and the next update needs a full package."""
        a = self.agent
        kept, new = self._path(".img"), self._path(".img.new")
        if path is None:
            why = "it was streamed: the image is not on the module"
        elif self.rebuilt is None and self.patch is not None:
            why = "the MCU applied the patch: its image is not on the module"
        elif self.rebuilt is not None and not self.written:
            why = "no room for it in %s" % a.workdir
        else:
            try:
                _replace(new if self.written else path, kept)
                return
            except OSError as e:
                why = str(e)
        remove(kept, new)
        a._log("not keeping the installed image (%s): the next diff package cannot apply, "
               "a full package can" % why)

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

    def _open_port(self):
        """The agent's port, opened if it is a callable; and whether it was."""
        port = self.agent.port
        if callable(port) and not callable(getattr(port, "write", None)):
            return port(), True
        return port, False

    def _transfer(self, path, target, sha256, signed, port=None):
        """Sends the file at `path` (or a qsota.stream.Stream, whose image is checked at its
        end: sha256 None) to the MCU over `port` (None: the agent's, opened for it)."""
        a = self.agent
        protocol = protocols.find(a.protocol)
        options = dict(a.send_options)
        if a.allow_empty:
            options["allow_empty"] = True
        if a.mcu_applies_diffs:
            options["mcu_applies_diffs"] = True
        if self.receiver_checks:
            options["require_signature"] = True
        whole = protocol.container or self.receiver_checks  # a signed image goes as it is
        name = a.name or "%s_%s.bin" % (a.comp_no, target)
        if sha256 is None:
            options["deferred"] = True
        elif protocol.sha256:
            options["sha256"] = sha256
        if protocol.identity:
            options.update(component=a.comp_no, version=target)
        opened = False
        if port is None:
            port, opened = self._open_port()
        a._step("transfer", 0)

        def progress(offset, size):
            if size:
                a._step("transfer", percent(offset, size))

        source = path
        try:
            if self.written:
                source = self._path(".img.new")
            elif self.rebuilt is not None:
                from qsota import delta  # only a diff package needs it

                source = delta.Target(self._path(".img"), path, name)
            if signed is not None and not whole:
                source = self._body(source, signed, name)
                if protocol.sha256 and self.rebuilt is None:
                    options["sha256"] = signed["body_sha256"]  # the download pass computed it
                else:
                    options.pop("sha256", None)  # the file's: the sender computes the body's
            stats = qsota.send(
                port, source, protocol=a.protocol, name=name, progress=progress, **options
            )
        except qsota.TransferError as e:
            raise AgentError("transfer", "MCU transfer failed (%s): %s" % (e.code, e), e.code)
        finally:
            if opened and callable(getattr(port, "close", None)):
                port.close()
            if source is not path and not isinstance(source, str):
                source.close()  # what this opened (a Target, a body), not a stream
        a._step("transfer", 100)
        if signed is not None and not whole:
            a._log("sent the body of the signed image (%d bytes)" % signed["img_size"])
        if self.mcu_checks:
            a._log("the MCU applied the diff package and checked its result's signature")
        elif self.receiver_checks:
            a._log("sent the signed container; the MCU checked its signature")
        a._log(
            "sent %d bytes in %d ms, %d retries"
            % (stats.get("bytes", 0), stats.get("elapsed_ms", 0), stats.get("retries", 0))
        )

    def _body(self, source, signed, name):
        """The body of the signed image `source` (a path or an open file), for a bootloader
        that takes a raw application."""
        from qsota import image  # only a signed image needs it

        try:
            return image.body(source, signed, name)
        except ValueError as e:
            raise AgentError("verify", str(e))

    # -- stream mode (docs/agent.md, "Stream mode") ----------------------------------------

    def _streams(self, size, too_big=False):
        """Whether this update streams: with stream=True whenever the protocol can; with
        'auto' a protocol that keeps the MCU's firmware until a verified commit, for an image
        that does not fit the free space (`too_big`: the download found that out)."""
        a = self.agent
        if not a.can_stream():
            return False
        if a.stream is True or too_big:
            return True
        free = a._device()["free"]
        return size is not None and free is not None and size > free

    def _stream(self, target, url, size, md5, crc):
        """Sends the image to the MCU as it downloads (qsota.update_stream, loaded only for
        an update that streams)."""
        from qsota.update_stream import stream

        stream(self, target, url, size, md5, crc)


def _replace(src, dst):
    """Renames `src` over `dst`: one step where the filesystem replaces (littlefs, POSIX),
    else (FAT refuses an existing name) `dst` is removed first."""
    try:
        os.rename(src, dst)
    except OSError:
        remove(dst)
        os.rename(src, dst)


def _hex(b):
    return "".join("%02x" % x for x in b)
