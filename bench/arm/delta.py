# ARM benchmark: the module applying a diff package itself (qsota.delta, the agent's path
# for ymodem, stm32 and mcuboot), instructions per output byte on each backend: the proving
# pass (delta.check: the base's SHA-256, the apply, the target's) and the sending pass (a
# delta.Target read in 1 KiB blocks, as qsota.send reads it). The pairs are
# bench/arm_bench.py's: each /usr/delta/<pair>/ holds `base` and `pkg` (heatshrink 8/7, made
# by `qsota delta`), in tests/arm/frozen/ramfs.py, outside the heap as a module's flash
# files are. heap: bytes a pass allocates (all of it garbage once the pass ends).
import os

import _qsota
import insn
import qsota
import qsota.pure
import ramfs
from qsota import delta

ramfs.mount("/usr", only="delta/")
buf = bytearray(1024)


def prove(base, pkg):
    return delta.check(base, pkg)[0]


def send(base, pkg):
    t = delta.Target(base, pkg)
    while t.readinto(buf):
        pass
    t.close()
    return t.size


for pair in sorted(os.listdir("/usr/delta")):
    base, pkg = "/usr/delta/%s/base" % pair, "/usr/delta/%s/pkg" % pair
    for backend in (_qsota, qsota.pure):
        qsota._use(backend)
        for name, fn in (("prove", prove), ("send", send)):
            size = fn(base, pkg)  # first use: what is made once
            n = insn.count(fn, base, pkg)
            _, allocated = insn.alloc(fn, base, pkg)
            insn.report("delta", {"backend": "native" if backend is _qsota else "pure",
                                  "pair": pair, "pass": name, "bytes": size,
                                  "package": os.stat(pkg)[6], "insn_per_byte": n / size,
                                  "heap": allocated})
