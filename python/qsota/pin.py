"""qsota.pin: the one shape of a pin that `qsota.send` drives (the stm32 protocol's `boot0`,
`nrst`; mcuboot's `boot_pin`, `reset_pin`): QuecPython's `machine.Pin` (`write(v)`),
MicroPython's `machine.Pin` (`value(v)`), or any callable `f(v)`, with v 0 or 1."""


def setter(what, pin):
    """The function that sets `pin` (the option `what`) to 0 or 1, None for None."""
    if pin is None:
        return None
    for name in ("write", "value"):
        f = getattr(pin, name, None)
        if callable(f):
            return f
    if callable(pin):
        return pin
    raise TypeError(
        "%s: expected a Pin (write() or value()) or a callable, got %s" % (what, type(pin).__name__)
    )
