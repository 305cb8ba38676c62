"""qsota.update_stream: one update's steps in stream mode (docs/agent.md, "Stream mode"): the
image goes to the MCU as it downloads (qsota.stream) and is checked before the MCU commits it.
qsota.update imports this module only for an update that streams, so that every import of
qsota.agent does without its bytecode (and, from .py, without compiling it: a 160 KiB heap
could not compile qsota.update with it)."""

from qsota.stream import Stream, StreamRestart
from qsota.errors import AgentError


def stream(update, target, url, size, md5, crc):
    """Sends the image of the qsota.update.Update `update` to the MCU as it downloads,
    resuming from the record <workdir>/<comp>.stream. A file that changes on the server once
    bytes reached the MCU starts the stream over, once per update, on the same port (the same
    bootloader session)."""
    a = update.agent
    checks = update._prepare(url, md5, crc, size)
    a._log("streaming the image into the MCU (checked before it commits: %s)"
           % (", ".join(checks) or "nothing, allow_unverified"))
    port, opened = update._open_port()
    try:
        try:
            _once(update, target, url, size, md5, crc, port)
        except StreamRestart as e:
            a._log("%s: the update starts over" % e)
            try:
                _once(update, target, url, size, md5, crc, port)
            except StreamRestart as e:
                raise AgentError("download", "%s again: giving up" % e)
    finally:
        if opened and callable(getattr(port, "close", None)):
            port.close()


def _once(update, target, url, size, md5, crc, port):
    a = update.agent
    update.stage = "download"
    s = Stream(url, [target, md5, str(crc)], size,
               lambda: update._verifier(md5, crc, size, True), a._log, tls=a.tls,
               retries=a.retries, backoff_ms=a.backoff_ms, timeout_s=a.timeout_s,
               max_size=a.max_size, record=update._path(".stream"))
    try:
        s.open()
        update.stage = "transfer"
        update._transfer(s, target, None, None, port)
    except StreamRestart:
        s.finish()  # another file: its record is worthless
        raise
    except AgentError:
        if s.failed_check is None:
            s.close()  # the record stays: the next attempt resumes from it
            raise
        s.finish()  # a wrong image is not resumed
        raise AgentError("verify", "the streamed image failed its final check (%s); the "
                         "MCU did not commit it" % s.failed_check)
    except BaseException:
        s.close()
        raise
    s.finish()
    a._log("streamed %d bytes: %d downloaded again, %d connections"
           % (s.total, s.again, s.connections))
