"""`time` for the qemu test firmware: MicroPython's qemu port has no time module
(MICROPY_PY_TIME is 0 there) and QuecPython always has one, so the test firmware freezes this
stand-in. The clock is simulated: every reading advances it by 1 ms and sleep_ms(n) by n ms,
so timeouts expire as on a device, without the test waiting for them. Wraps like
MicroPython's ticks (period 2**30 on 32-bit ports).
"""

_PERIOD = 1 << 30
_now = 0


def ticks_ms():
    global _now
    _now = (_now + 1) % _PERIOD
    return _now


def ticks_add(ticks, delta):
    return (ticks + delta) % _PERIOD


def ticks_diff(end, start):
    return (end - start + _PERIOD // 2) % _PERIOD - _PERIOD // 2


def sleep_ms(ms):
    global _now
    _now = (_now + ms) % _PERIOD


def sleep(seconds):
    sleep_ms(int(seconds * 1000))
