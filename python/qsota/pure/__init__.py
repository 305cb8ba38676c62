"""qsota.pure: the classes of the `_qsota` C module in Python, with the same API, results
and messages, for firmware built without the module. `qsota` binds them when `_qsota` is
missing; the tests run every case on both.

Each sender's module (and what it alone needs: MCUboot's CBOR and console framing, ...) is
imported when its class is first asked for (PEP 562's module `__getattr__`, in MicroPython
since 1.12), so that a product that speaks one protocol keeps only that one in RAM.
"""

from .._lazy import submodule
from .verify import Verifier, VerifyError


def __getattr__(name):
    if name == "YmodemSender":
        from .ymodem import YmodemSender as cls
    elif name == "NativeSender":
        from .native import NativeSender as cls
    elif name == "Stm32Sender":
        from .stm32 import Stm32Sender as cls
    elif name == "McubootSender":
        from .mcuboot import McubootSender as cls
    elif name == "tlv_hash":
        from .image import tlv_hash as cls
    else:
        return submodule(globals(), name)
    globals()[name] = cls
    return cls
