"""qsota: verify MCU firmware images on a QuecPython module and send them to the MCU.

The classes come from one backend: the `_qsota` C module when the firmware has it (fast, no
allocation per block), else `qsota.pure`, the same API in Python. `NATIVE` says which.
`qsota.pure` is imported only when it is the backend (or when a script imports it), so a
firmware with `_qsota` spends no RAM on it. The agent (Qth wiring) is `import qsota.agent`.
"""

from . import _bound
from ._lazy import submodule
from .errors import TransferError
from .transfer import send
from .verify import verify_file


def tcp_port(host, port, timeout_ms=5000):
    """A UART-like port over TCP to `host:port`, for tests and the simulator
    (qsota.tcpport, imported only here)."""
    from .tcpport import tcp_port

    return tcp_port(host, port, timeout_ms)


def use_backend(name):
    """Binds qsota to the backend `name`: 'native' (the `_qsota` C module; ImportError on a
    firmware without it) or 'pure' (`qsota.pure`, e.g. to compare the two on one firmware).
    Objects made before the call keep their backend."""
    if not isinstance(name, str):
        raise TypeError("name: expected str, got %s" % type(name).__name__)
    if name == "native":
        import _qsota as backend
    elif name == "pure":
        from . import pure as backend
    else:
        raise ValueError("name: expected 'native' or 'pure', got %r" % (name,))
    _use(backend)


def _use(backend):
    """Binds `backend`'s classes (the `_qsota` module or `qsota.pure`) to this package."""
    global NATIVE, Verifier, VerifyError
    _bound.backend = backend
    NATIVE = backend.__name__ == "_qsota"
    Verifier = backend.Verifier
    VerifyError = backend.VerifyError


# The names before issue 24 gave each protocol one name, kept for scripts that use them.
_ALIASES = {"LinkSender": "NativeSender", "SmpSender": "McubootSender"}


def __getattr__(name):
    """The senders, taken from the backend when asked for: qsota.pure imports a protocol's
    module only then; else a submodule (qsota._lazy)."""
    name = _ALIASES.get(name, name)
    if name in ("YmodemSender", "NativeSender", "Stm32Sender", "McubootSender"):
        return getattr(_bound.backend, name)
    return submodule(globals(), name)


try:
    import _qsota as _backend
except ImportError:
    from . import pure as _backend
_use(_backend)
