# ARM benchmark: qsota.download's loop, instructions per image byte (bench/arm_bench.py runs
# it). A 32 KiB image over plain HTTP from a fake socket, stored in a file of
# tests/arm/frozen/ramfs.py (at /usr, as on a module) and verified on the way by the Verifier
# the agent makes (md5 and crc given, 'auto'); what the socket and the file system do (C on
# a module) is metered and taken off. heap_per_block: bytes left for the collector per 4 KiB
# chunk, from the 2nd to the 6th (the collector off meanwhile).
import io
import os
import sys

import _qsota
import fakes
import insn
import ramfs
from insn import METER

SIZE = 32768
CHUNK = 4096
image = insn.image(SIZE)


fakes.HttpSocket.body = image
sys.modules["socket"] = fakes.SocketModule


class File(io.IOBase):
    """A ramfs file, its work metered."""

    def __init__(self, f):
        self.f = f

    def write(self, buf):
        METER.start()
        n = self.f.write(buf)
        METER.stop()
        return n

    def readinto(self, buf, n=None):
        METER.start()
        n = self.f.readinto(buf, n)
        METER.stop()
        return n

    def read(self, n=-1):
        return self.f.read(n)

    def seek(self, offset, whence=0):
        return self.f.seek(offset, whence)

    def close(self):
        pass

    def ioctl(self, req, arg):
        return 0

    def __enter__(self):
        return self

    def __exit__(self, kind, value, trace):
        pass


class FS(ramfs.RamFS):
    def open(self, path, mode):
        return File(ramfs.RamFS.open(self, path, mode))


os.mount(FS(only="-"), "/usr")  # no host files: only what is written

import qsota  # noqa: E402 (after the fake socket)
import qsota.pure  # noqa: E402
from qsota.download import Download  # noqa: E402

v = _qsota.Verifier(crc_variant="mpeg2")
v.update(image)
MD5, CRC = v.hexdigest("md5"), v.crc32()
marks = insn.Marks()


def download():
    for name in ("/usr/fw.part", "/usr/fw.json"):
        try:
            os.remove(name)
        except OSError:
            pass
    d = Download("/usr/fw", bytearray(CHUNK), lambda m: None, marks.mark)
    verifier, n = d.run("http://example.com/fw.bin", ["2.0", MD5, str(CRC)], SIZE,
                        lambda: qsota.Verifier(md5=MD5, crc=CRC, size=SIZE))
    verifier.check()
    return verifier


for backend in (_qsota, qsota.pure):
    qsota._use(backend)
    n, (heap, allocated), verifier = insn.transfer(download, marks)
    insn.report("download", {"backend": "native" if backend is _qsota else "pure",
                             "insn_per_byte": n / SIZE, "crc": verifier.crc_matched,
                             "heap_per_block": heap, "alloc_per_block": allocated})
