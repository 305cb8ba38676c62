# ARM benchmark: RAM on the qemu firmware (its 160 KiB heap). bench/arm_bench.py runs it once
# per trial, with a first line that sets WHAT and FILL: it allocates FILL bytes first, then
#   WHAT = "import SOURCE BACKEND": imports qsota (bound to BACKEND: native or pure) and
#          qsota.agent, from SOURCE: frozen (the firmware's), mpy (the device bundle,
#          build/dist/mpy-v6) or py (the sources), both read from a file system as from a
#          module's /usr (tests/arm/frozen/ramfs.py);
#   WHAT = "update BACKEND": after those imports (from the bundle), one whole update by the
#          agent: a 32 KiB image downloaded over HTTP (fake socket) into /usr, verified (md5
#          and crc, 'auto') and sent by YMODEM to a fake MCU.
# It reports whether that fitted and the heap it kept; the host finds the largest FILL that
# fits: the peak is what was free less that (less 12 bytes a block: a block of 256 bytes
# takes 272 of the heap).
import gc
import sys

import _qsota
import fakes
import insn
import ramfs

what = WHAT.split()  # noqa: F821 (set by the host)
ramfs.mount(only="py/" if what[0] == "import" and what[1] == "py" else "mpy-v6/")
if what[0] == "update" or what[1] != "frozen":
    sys.path.insert(0, "/mpy-v6" if what[0] == "update" or what[1] == "mpy" else "/py")
backend = what[-1]
LOG = None


def imports():
    import qsota

    if backend == "pure":
        qsota.use_backend("pure")
    import qsota.agent  # noqa: F401


def update():
    import os

    import qsota.agent

    size = 32768
    image = insn.image(size)
    v = _qsota.Verifier(crc_variant="mpeg2")
    v.update(image)
    fakes.HttpSocket.body = image
    os.mkdir("/usr")
    qth = fakes.Qth()
    agent = qsota.agent.setMcuVer(qth, "MCU", "1.0", lambda *a: None, lambda *a: None,
                                  port=fakes.Ymodem(), thread=False, log=LOG)
    qth.info_cb("MCU", "2.0", "http://example.com/fw.bin", v.hexdigest("md5"), v.crc32())
    if qth.version != "2.0":  # the agent failed it: short of heap, it reports a failure
        raise MemoryError
    return agent


sys.modules["socket"] = fakes.SocketModule
if what[0] == "update":
    imports()
gc.collect()
fill = [None] * (FILL // 256)  # noqa: F821 (set by the host)
free = gc.mem_free()
used = gc.mem_alloc()
try:
    # In 256-byte blocks: one block of FILL bytes would measure the largest hole instead.
    for i in range(len(fill)):
        fill[i] = bytearray(256)
    if what[0] == "update":
        kept = update()
    else:
        imports()
    ok = True
except MemoryError:
    ok = False
fill = None
gc.collect()
insn.report("ram_trial", {"ok": ok, "free": free, "used": used, "kept": gc.mem_alloc() - used})
