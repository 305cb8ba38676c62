"""tests/test_mcuboot.py: McubootSender's and qsota.send's refusals of bad arguments (argv: a
file to write, a signed image)."""

import sys

import qsota
from errs import Port, err

PATH = sys.argv[1]
IMAGE = sys.argv[2]
with open(PATH, "wb") as f:
    f.write(b"x" * 100)
S = qsota.McubootSender
d = b"d" * 32
err(lambda: S(0, d, d))
err(lambda: S(1 << 32, d, d))
err(lambda: S(10, "d" * 32, d))
err(lambda: S(10, d, d[:31]))
err(lambda: S(10, d, d, image=256))
err(lambda: S(10, d, d, buf_size=127))
err(lambda: S(10, d, d, timeout_ms=0))
err(lambda: S(10, d, d, retries=True))
print(S(10, d, d).frame_size, S(10, d, d, buf_size=512).frame_size)
err(lambda: qsota.send(Port(), PATH, protocol="mcuboot"))
err(lambda: qsota.send(Port(), IMAGE, protocol="mcuboot", boot_pin=Port()))
err(lambda: qsota.send(Port(), IMAGE, protocol="mcuboot", boot_pin=1, reset_pin=2))
err(lambda: qsota.send(Port(), IMAGE, protocol="mcuboot", timeout_ms=20, retries=1))
