"""qsota: verify MCU firmware images on a QuecPython module and send them to the MCU.

The classes come from one backend: the `_qsota` C module when the firmware has it (fast, no
allocation per block), else `qsota.pure`, the same API in Python. `NATIVE` says which.
`qsota.pure` is imported only when it is the backend (or when a script imports it), so a
firmware with `_qsota` spends no RAM on it. The agent (Qth wiring) is `import qsota.agent`.
"""

from .transfer import TransferError, send, tcp_port
from .verify import verify_file


def _use(backend):
    """Binds `backend`'s classes (the `_qsota` module or `qsota.pure`) to this package.

    Called once below; tests call it to force `qsota.pure`.
    """
    global NATIVE, Verifier, VerifyError, YmodemSender, LinkSender, Stm32Sender
    NATIVE = backend.__name__ == "_qsota"
    Verifier = backend.Verifier
    VerifyError = backend.VerifyError
    LinkSender = backend.LinkSender
    YmodemSender = backend.YmodemSender
    Stm32Sender = backend.Stm32Sender


try:
    import _qsota as _backend
except ImportError:
    from . import pure as _backend
_use(_backend)
