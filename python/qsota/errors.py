"""qsota.errors: `TransferError`, what `qsota.send` raises, in a module of its own so that
the modules the driver uses (qsota.mcuboot, qsota.tcpport) raise it without importing the
driver (qsota.transfer); `AgentError`, so that an update's steps in modules of their own
(qsota.update_stream) raise it without importing qsota.update; `DeltaError`."""


class TransferError(Exception):
    """A transfer failed: `.code` is one of timeout, cancelled, retries, protocol, source,
    rejected, usage, io; the message says what happened and where."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


class AgentError(Exception):
    """One update failed. `.stage` is plan, download, space, verify, transfer or mcu (every
    failure is reported with one of these); `.code` is the TransferError code when the MCU
    transfer failed (timeout, cancelled, retries, protocol, source, rejected, usage, io),
    else None; str() is the message the log shows."""

    def __init__(self, stage, message, code=None):
        super().__init__(message)
        self.stage = stage
        self.code = code


class DeltaError(ValueError):
    """A delta patch or package cannot be applied; `code` (qsota.codes.DELTA_FAULTS) says
    why. Here so that both backends raise this one class (the `_qsota` module imports it)."""

    def __init__(self, code):
        from .codes import DELTA_FAULTS

        super().__init__("%s: %s" % (code, DELTA_FAULTS[code]))
        self.code = code
