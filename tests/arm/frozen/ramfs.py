"""A file system in the qemu board's spare RAM, for the ARM tests and benchmarks.

The host's files arrive as an archive that qemu's `-device loader` puts at ARCHIVE (see
tests/arm/run.py: `Board(firmware, files={...})`); files the scripts write go to slots of
FREE. Both lie outside MicroPython's heap, so heap figures are the code's own and not the
files'. Mounted as a user VFS, so `import`, `open`, `os.stat`, `os.remove`... work on it as
on a module's /usr (a file's bytes are read into the heap as LittleFS's would be):

    import ramfs
    ramfs.mount()                        # at "/": the host's files, and room for new ones

Archive: b"QFS1", u32 count, then per file u16 name length, the name, u32 size, the bytes,
padded to 4 (little-endian).
"""

import io
import os

import uctypes

ARCHIVE = 0x14000000
FREE = 0x15000000
SLOT = 0x100000  # bytes per written file
SLOTS = 32
_FILE = 0x8000
_DIR = 0x4000


def _u(mem, at, n):
    v = 0
    for i in range(n - 1, -1, -1):
        v = v << 8 | mem[at + i]
    return v


class RamFile(io.IOBase):
    def __init__(self, entry, pos, writable):
        self.entry = entry  # [memoryview, size, writable]
        self.pos = pos
        self.writable = writable

    def readinto(self, buf, n=None):
        mem, size, _ = self.entry
        n = min(len(buf) if n is None else n, size - self.pos)
        buf[0:n] = mem[self.pos : self.pos + n]
        self.pos += n
        return n

    def read(self, n=-1):
        size = self.entry[1]
        n = size - self.pos if n < 0 else min(n, size - self.pos)
        data = bytes(self.entry[0][self.pos : self.pos + n])
        self.pos += n
        return data

    def write(self, buf):
        mem = self.entry[0]
        n = len(buf)
        if not self.writable or self.pos + n > len(mem):
            raise OSError(28)  # ENOSPC (or a read-only file)
        # Into a view of just those bytes: a slice assignment into the whole slot would move
        # the rest of it (MicroPython moves the tail).
        mem[self.pos : self.pos + n][:] = buf
        self.pos += n
        self.entry[1] = max(self.entry[1], self.pos)
        return n

    def seek(self, offset, whence=0):
        self.pos = max(0, offset + (0, self.pos, self.entry[1])[whence])
        return self.pos

    def tell(self):
        return self.pos

    def flush(self):
        pass

    def close(self):
        pass

    def ioctl(self, req, arg):
        return 0  # close (4), flush (1): nothing to do

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class RamFS:
    """`only`: keep just the host's files whose names start with it (each kept file costs
    some heap)."""

    def __init__(self, only=""):
        self.files = {}  # path -> [memoryview, size, writable]
        self.dirs = {""}
        self.slots = list(range(SLOTS))
        self.slot_of = {}
        mem = uctypes.bytearray_at(ARCHIVE, 8)
        if bytes(mem[0:4]) != b"QFS1":
            return
        count = _u(mem, 4, 4)
        at = ARCHIVE + 8
        for _ in range(count):
            head = uctypes.bytearray_at(at, 2)
            n = _u(head, 0, 2)
            name = bytes(uctypes.bytearray_at(at + 2, n)).decode()
            size = _u(uctypes.bytearray_at(at + 2 + n, 4), 0, 4)
            at += 6 + n
            if name.startswith(only):
                self.files["/" + name] = [memoryview(uctypes.bytearray_at(at, size)), size, False]
                self._parents("/" + name)
            at += (size + 3) & ~3

    def _parents(self, path):
        while "/" in path:
            path = path.rsplit("/", 1)[0]
            self.dirs.add(path)

    def mount(self, readonly, mkfs):
        pass

    def umount(self):
        pass

    def stat(self, path):
        path = path.rstrip("/")
        if path in self.files:
            return (_FILE, 0, 0, 0, 0, 0, self.files[path][1], 0, 0, 0)
        if path in self.dirs:
            return (_DIR, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        raise OSError(2)  # ENOENT

    def statvfs(self, path):
        free = len(self.slots) * SLOT // 4096
        return (4096, 4096, SLOTS * SLOT // 4096, free, free, 0, 0, 0, 0, 255)

    def open(self, path, mode):
        entry = self.files.get(path)
        if "w" in mode or ("a" in mode and entry is None):
            if path.rsplit("/", 1)[0] not in self.dirs:
                raise OSError(2)
            if path not in self.slot_of:
                if not self.slots:
                    raise OSError(28)
                self.slot_of[path] = self.slots.pop()
            mem = uctypes.bytearray_at(FREE + self.slot_of[path] * SLOT, SLOT)
            entry = self.files[path] = [memoryview(mem), 0, True]
        elif entry is None:
            raise OSError(2)
        return RamFile(entry, entry[1] if "a" in mode else 0, entry[2])

    def remove(self, path):
        if path not in self.files:
            raise OSError(2)
        del self.files[path]
        if path in self.slot_of:
            self.slots.append(self.slot_of.pop(path))

    def rename(self, old, new):
        self.files[new] = self.files.pop(old)
        if old in self.slot_of:
            self.slot_of[new] = self.slot_of.pop(old)

    def mkdir(self, path):
        if path in self.dirs or path in self.files:
            raise OSError(17)  # EEXIST
        self.dirs.add(path)

    def ilistdir(self, path):
        prefix = path.rstrip("/") + "/"
        for p in list(self.files) + list(self.dirs):
            name = p[len(prefix) :]
            if p.startswith(prefix) and name and "/" not in name:
                yield (name, _DIR if p in self.dirs else _FILE, 0)


def mount(at="/", only=""):
    """Mounts a RamFS with the host's files (those starting with `only`) at `at`; returns
    it."""
    fs = RamFS(only)
    os.mount(fs, at)
    return fs
