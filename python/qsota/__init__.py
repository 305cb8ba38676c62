"""qsota: verify MCU firmware images on a QuecPython module and send them to the MCU.

The classes come from one backend: the `_qsota` C module when the firmware has it (fast, no
allocation per block), else `qsota.pure`, the same API in Python. `NATIVE` says which.
"""

from . import pure
from .verify import verify_file


def _use(backend):
    """Binds `backend`'s classes (the `_qsota` module or `qsota.pure`) to this package.

    Called once below; tests call it to force `qsota.pure`.
    """
    global NATIVE, Verifier, VerifyError, YmodemSender, LinkSender
    NATIVE = backend is not pure
    Verifier = backend.Verifier
    VerifyError = backend.VerifyError
    LinkSender = backend.LinkSender
    YmodemSender = backend.YmodemSender
    # Other classes that both backends provide: bind them here too.


try:
    import _qsota
except ImportError:
    _use(pure)
else:
    _use(_qsota)

# Transfer (qsota.send, qsota.tcp_port, qsota.TransferError): exports below.
from .transfer import TransferError, send, tcp_port

# Agent (Qth wiring): exports below.
# Not imported here, to keep its code out of RAM for scripts that only verify or send:
# scripts use `import qsota.agent` (see docs/agent.md).
