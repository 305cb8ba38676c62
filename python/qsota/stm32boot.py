"""qsota.stm32boot: puts an STM32 into its ROM system bootloader before
`qsota.send(..., protocol='stm32', boot0=..., nrst=...)` and makes the next reset run the
application.

`boot0` and `nrst` are pins as `qsota.pin` takes them (a Pin with `write(v)` or `value(v)`,
or a callable `f(v)`), wired to the MCU's BOOT0 and NRST (NRST active low, driven open-drain or through a transistor that
keeps the level; `nrst_active=1` if the wiring inverts it). Either may be None: then the
caller (or a button) has already put the MCU into its bootloader.

The sequence (AN2606: BOOT0 is latched as the reset ends): BOOT0 high; NRST asserted for
`reset_ms` (10); released; `boot_ms` (100) for the ROM to start; then BOOT0 low again, so
that whatever happens next (Go, a failure, a power cycle) the next reset boots from flash.
After a failure that followed an erase, that flash holds no complete application: a
reset then runs a broken image (parts with an empty-flash check start their bootloader).
"""

from .clock import sleep_ms
from .pin import setter


_DEFAULTS = (("boot0", None), ("nrst", None), ("nrst_active", 0), ("reset_ms", 10), ("boot_ms", 100))


def take(options):
    """Removes the pin options from `options` (the rest goes to the sender) and checks
    them; returns what `enter` needs."""
    got = [options.pop(name, default) for name, default in _DEFAULTS]
    for name, value in zip(("nrst_active", "reset_ms", "boot_ms"), got[2:]):
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 60000:
            raise ValueError("%s: must be an int from 0 to 60000" % name)
    if got[2] not in (0, 1):
        raise ValueError("nrst_active: must be 0 or 1")
    return setter("boot0", got[0]), setter("nrst", got[1]), got[2], got[3], got[4]


def enter(boot0, nrst, nrst_active, reset_ms, boot_ms):
    """Resets the MCU into its ROM bootloader (see the module doc); a no-op without pins."""
    if boot0 is not None:
        boot0(1)
    if nrst is not None:
        nrst(nrst_active)
        sleep_ms(reset_ms)
        nrst(1 - nrst_active)
        sleep_ms(boot_ms)
    if boot0 is not None:
        boot0(0)
