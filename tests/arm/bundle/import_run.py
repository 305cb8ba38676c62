# The device bundle (./build.sh dist, build/dist/mpy-v6) on the emulated ARM: its .mpy files,
# loaded from a file system as from a module's /usr (not the package frozen in this firmware),
# import and run: verification vectors and a YMODEM transfer on the pure backend, whose
# modules are then all the bundle's. Run by tests/arm/run.py --load build/dist/mpy-v6.
import sys

import ramfs
from check import eq, ok

ramfs.mount()
sys.path.insert(0, "/mpy-v6")
import qsota  # noqa: E402
import qsota.pure  # noqa: E402

eq(qsota.__file__, "/mpy-v6/qsota/__init__.mpy", "qsota comes from the bundle")
qsota.use_backend("pure")
v = qsota.Verifier(md5="25f9e794323b453885f5181f1b624d0b", crc="0x0376E6E7", size=9)
v.update(b"123456789")
eq(v.check(), True, "pure Verifier from the bundle")
eq(v.crc32("iso-hdlc"), 0xCBF43926, "iso-hdlc")

import io  # noqa: E402

import fakes  # noqa: E402

image = bytes(range(256)) * 12
rx = fakes.Ymodem()
stats = qsota.send(rx, io.BytesIO(image), name="fw.bin")
eq(stats["bytes"], len(image), "YMODEM send from the bundle")
loaded = sorted(m.__file__ for m in (sys.modules[n] for n in sys.modules if n.startswith("qsota")))
eq([f for f in loaded if not f.startswith("/mpy-v6/")], [], "every qsota module is the bundle's")
eq("/mpy-v6/qsota/pure/ymodem.mpy" in loaded, True, "the YMODEM sender was loaded")
eq("/mpy-v6/qsota/pure/smp.mpy" in loaded, False, "MCUboot's sender was not")
ok()
