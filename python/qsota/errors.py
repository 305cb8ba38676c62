"""qsota.errors: `TransferError`, what `qsota.send` raises, in a module of its own so that
the modules the driver uses (qsota.mcuboot, qsota.tcpport) raise it without importing the
driver (qsota.transfer)."""


class TransferError(Exception):
    """A transfer failed: `.code` is one of timeout, cancelled, retries, protocol, source,
    rejected, usage, io; the message says what happened and where."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
