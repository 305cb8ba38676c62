"""qsota.clock: ticks and sleeps for qsota's modules on every firmware (MicroPython 1.13's
`utime` too): `ticks_ms`, `ticks_diff`, `sleep_ms`, and `sleep_us`, the shortest sleep that
does not spin. `qsota.pacing.Pacer` reads them when it is made, so a test can put a fake
clock here (tests/mp/fakeline.py).
"""

try:
    import time
except ImportError:  # MicroPython 1.13
    import utime as time

ticks_ms = time.ticks_ms
ticks_diff = time.ticks_diff
sleep_ms = time.sleep_ms


try:
    from sys import platform as _platform
except ImportError:
    _platform = ""

if _platform in ("linux", "darwin") and hasattr(time, "sleep_us"):
    # The unix port's sleep_ms wakes every 0.5 ms until the time is up (mp_event_wait_ms);
    # its sleep_us is one usleep.
    sleep_us = time.sleep_us
else:
    # On QuecPython sleep_us(n) is sleep_ms(n // 1000) anyway (mp_hal_delay_us in
    # ports/quectel/mphalport.c); elsewhere sleep_us may spin.
    def sleep_us(us):
        sleep_ms((us + 999) // 1000)
