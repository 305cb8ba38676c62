"""qsota.pure: the classes of the `_qsota` C module in Python, with the same API, results
and messages, for firmware built without the module. `qsota` binds them when `_qsota` is
missing; the tests run every case on both.
"""

from .native import NativeSender
from .mcuboot import McubootSender
from .stm32 import Stm32Sender
from .verify import Verifier, VerifyError
from .image import tlv_hash
from .ymodem import YmodemSender
