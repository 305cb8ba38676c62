"""Power cuts of the nRF51 bootloader at seeded instants (tests/test_boot.py), on the boards of
tests/nrf51.py.

The update under test: the bootloader waiting (the application asked for it), `qsota send`
of the new image, DONE, the reset, the install at the next boot, the new application. Its
flash operations are the bootloader's calls of nvmc_erase_page, nvmc_program (one write: a
frame, a record entry, a journal word, a page copy) and nvmc_read; qemu's gdbstub stops the
CPU at their entry (tests/gdbstub.py). From a given flash and image they form the same
sequence in every run (the sender's retransmissions and timing change none of them):
`Updater.run` records it, and saves the flash before the operations it is asked to; a
second run must record the same sequence.

A cut: the flash before operation `n`, with `words` of its words programmed if it programs
(the driver programs them in address order: `cut_flash` applies them to the saved flash,
which `test_a_modelled_cut_is_what_qemu_does` checks against qemu running them); `torn`: the
step then in progress was half done when the power went. qemu erases a page and programs a
word at once, so a torn one is modelled too: a page erase leaves random bits of the page set
to 1, a word a random subset of its 0 bits programmed. Between two operations the flash does
not change, so these are all the states a cut can leave (in qemu's model of the flash). The
board is then powered up on that flash (`recover`).

The phase of an operation comes from the traced sequence: `install` writes the application
area or the journal; `read-back` is the commit's reading of the slot (the reads after the
last slot write); `receive` the rest of the slot's and the record's erases and writes. In
a delta update (the trace reads the application area before the install: the base) those
are `apply`, as are the reads of the base.
"""

import subprocess
import threading
import time
from collections import namedtuple

from .gdbstub import Gdb
from .nrf51 import APP, ENTER, JOURNAL, META, OUT, PAGE, RAM_SIZE, SLOT, Board, send
from .qemu_link import BoardError, connect_unix

OPS = ("nvmc_erase_page", "nvmc_program", "nvmc_read")
# An operation: its function, the flash address, and for nvmc_program its words that are not
# all ones (those it skips), as (address, value) pairs.
Op = namedtuple("Op", "name addr words")
# `seed` tells apart cuts at the same place (their torn bits differ).
Cut = namedtuple("Cut", "phase n words torn seed")


def symbols():
    """The bootloader's NVMC functions: {name: address of the first instruction}."""
    out = subprocess.run(["arm-none-eabi-nm", str(OUT / "bootloader.elf")], capture_output=True,
                         text=True, check=True).stdout
    found = {}
    for line in out.splitlines():
        addr, _, name = line.split()
        if name.startswith("nvmc_"):
            found[name] = int(addr, 16) & ~1
    return found


def waiting_ram():
    """RAM as the application leaves it when it asks for the bootloader."""
    return bytes(RAM_SIZE - 8) + ENTER


def _installs(op):
    return op.name != "nvmc_read" and (APP <= op.addr < SLOT or op.addr >= JOURNAL)


def phase(ops, i):
    """The phase of operation `i` of a traced update (see the module doc)."""
    op = ops[i]
    install = next((j for j, o in enumerate(ops) if _installs(o)), len(ops))
    in_app = APP <= op.addr < SLOT
    delta = any(o.name == "nvmc_read" and APP <= o.addr < SLOT for o in ops[:install])
    if in_app and op.name == "nvmc_read" and i < install:
        return "apply"  # a read of the base
    if in_app or op.addr >= JOURNAL:
        return "install"
    last_slot_write = max(j for j, o in enumerate(ops)
                          if o.name == "nvmc_program" and SLOT <= o.addr < META)
    if op.name == "nvmc_read":
        return "read-back" if SLOT <= op.addr < META and i > last_slot_write else None
    return "apply" if delta else "receive"


def choose(ops, rng, wanted):
    """A cut in phase `wanted` ('receive', 'apply', 'read-back', 'install' or 'erase'), drawn with `rng`
    from the traced operations."""
    if wanted == "erase":
        picks = [i for i, o in enumerate(ops) if o.name == "nvmc_erase_page"]
    else:
        picks = [i for i in range(len(ops)) if phase(ops, i) == wanted]
    torn = True if wanted == "erase" else None  # erases always torn, the others at random
    return cut_at(ops, rng.choice(picks) + 1, rng, wanted, torn)


def cut_at(ops, n, rng, phase, torn=None):
    """A cut at operation `n`, its words and tearing drawn with `rng` (unless `torn`)."""
    op = ops[n - 1]
    words = rng.randrange(len(op.words)) if op.words else 0
    if torn is None or op.name == "nvmc_read":
        torn = op.name != "nvmc_read" and rng.random() < 0.5
    return Cut(phase, n, words, torn, rng.getrandbits(32))


def compaction(ops):
    """Where the receiver's record was full and rewritten: the operation number of the second
    erase of the record's page (the first starts the record), or None."""
    metas = [i for i, op in enumerate(ops) if op.name == "nvmc_erase_page" and op.addr == META]
    return metas[1] + 1 if len(metas) > 1 else None


def around_compaction(ops):
    """For `Updater.run(watch=)`: page erases only (a long image is quick to run through),
    and the record's writes right after its compaction (header, entry, ERASED)."""
    n = compaction(ops)
    if n is not None and len(ops) - n < 3:
        return {"nvmc_erase_page", "nvmc_program"}
    return {"nvmc_erase_page"}


class Updater:
    """Runs an update on a board under the gdbstub, stopping at the bootloader's operations
    (`names`: a subset of OPS)."""

    def __init__(self, flash, image, version, tmpdir, names=OPS):
        self.flash, self.image, self.version, self.tmpdir = flash, image, version, tmpdir
        self.addrs = symbols()
        self.names = {self.addrs[n]: n for n in names}

    def _connect(self, board, names):
        gdb = Gdb(connect_unix(board.gdb_path, 30, "qemu's gdbstub"))
        for name in names:
            gdb.breakpoint(self.addrs[name])
        gdb.resume()
        return gdb

    def _arm(self, gdb, armed, wanted):
        """Changes the breakpoints from the operations `armed` to those `wanted`."""
        for name in armed - wanted:
            gdb.remove(self.addrs[name])
        for name in wanted - armed:
            gdb.breakpoint(self.addrs[name])

    def _op(self, gdb, name, regs):
        if name != "nvmc_program":
            return Op(name, regs[0], ())
        data = gdb.memory(regs[1], regs[2])
        words = [(regs[0] + i, int.from_bytes(data[i : i + 4], "little"))
                 for i in range(0, len(data), 4)]
        return Op(name, regs[0], tuple(w for w in words if w[1] != 0xFFFFFFFF))

    def run(self, dumps=(), stop=None, fault=None, until=None, watch=None, timeout=120):
        """Runs the update to its end (`until`: what the MCU says last, by default the new
        application's banner): its operations, and the flash before each operation whose
        number (from 1) is in `dumps`, as {n: flash}, and at the end as {"end": flash}.
        `dumps` may be a callable instead, which decides from the operations so far.
        `stop=(n, words)`: qemu's own power cut after operation n (an nvmc_program)
        programmed `words` words, as {n: flash} (the check of `cut_flash`).
        `fault=(n, addr, data)`: before operation n, `data` is written at `addr`, as a flash
        that does not hold what was programmed. `watch(ops)`: the operations (names) to
        stop at next, after those so far (by default all of the updater's)."""
        until = (until or "app " + self.version).encode()
        board = Board(self.flash, ram=waiting_ram(), gdb=True)
        sent = {}
        sender = threading.Thread(target=lambda: sent.update(
            result=send(board.port, self.image, self.tmpdir, timeout=timeout)), daemon=True)
        saved = {}
        try:
            armed = set(watch([]) if watch else self.names.values())
            gdb = self._connect(board, armed)
            sender.start()
            ops, since_reset = [], 0
            end = time.monotonic() + timeout
            while True:
                if time.monotonic() > end:
                    raise BoardError("the update did not end in %d s" % timeout)
                reply = gdb.stopped(0.2)
                if reply is None:
                    if not sender.is_alive() and board.line.transcript.find(
                            until, since_reset) >= 0:
                        saved["end"] = board.flash()
                        return ops, saved
                    continue
                regs = gdb.registers()
                name = self.names.get(regs[15])
                if name is None:
                    if board.qmp.command("query-status")["status"] != "shutdown":
                        raise BoardError("the CPU stopped at %#x (%r)" % (regs[15], reply))
                    gdb.close()
                    board.warm_reset()
                    since_reset = board.mark()
                    gdb = self._connect(board, armed)
                    continue
                ops.append(self._op(gdb, name, regs))
                if fault is not None and len(ops) == fault[0]:
                    gdb.write(fault[1], fault[2])
                if stop is not None and len(ops) == stop[0]:
                    return ops, {stop[0]: self._partial(board, gdb, regs[15], stop[1])}
                if dumps(ops) if callable(dumps) else len(ops) in dumps:
                    saved[len(ops)] = board.flash()
                wanted = set(watch(ops)) if watch else armed
                self._arm(gdb, armed - {name}, wanted - {name})
                if name not in wanted:
                    gdb.remove(regs[15])
                gdb.resume(regs[15] if name in wanted else None)
                armed = wanted
        finally:
            board.close()
            sender.join(timeout=timeout)


    def _partial(self, board, gdb, at, words):
        word = self.addrs["nvmc_program_word"]
        gdb.breakpoint(word)
        gdb.resume(at)
        for n in range(words + 1):
            if gdb.stopped(10) is None or gdb.registers()[15] != word:
                raise BoardError("nvmc_program ended before word %d" % n)
            if n < words:
                gdb.resume(word)
        return board.cut()


def cut_flash(before, op, words, torn, rng):
    """The flash a cut leaves: `before` (the flash before `op`) with `op`'s first `words`
    words programmed and, if `torn`, its next step half done (see the module doc)."""
    flash = bytearray(before)
    for addr, value in op.words[:words]:
        old = int.from_bytes(flash[addr : addr + 4], "little")
        flash[addr : addr + 4] = (old & value).to_bytes(4, "little")
    if torn and op.name == "nvmc_erase_page":
        for at in range(op.addr, op.addr + PAGE):
            flash[at] |= rng.getrandbits(8)
    elif torn and words < len(op.words):
        addr, value = op.words[words]
        old = int.from_bytes(flash[addr : addr + 4], "little")
        flash[addr : addr + 4] = (old & (value | rng.getrandbits(32))).to_bytes(4, "little")
    return bytes(flash)


def recover(flash, image, version, old, tmpdir, target=None):
    """Powers up on `flash` (what a cut left): the old or the new application must run; then
    the update again, which must complete. Returns the version it booted and the sender's
    stats. `target`: `image` is a delta package that makes it; once the new application
    runs it is the package's result, and the package applies no more (its base is gone)."""
    target = image if target is None else target
    with Board(flash) as board:
        board.wait_for("app ", timeout=30)
        booted = board.ask("version?", "version ")
        if booted not in (old, version):
            raise BoardError("after the cut the MCU runs %r" % booted)
        if target is not image and booted == version:
            if board.flash()[APP : APP + len(target)] != target:
                raise BoardError("the application area does not hold the delta's target")
            return booted, {"resumed_from": 0}
        start = board.mark()
        board.ask("enter bootloader", "entering bootloader")
        board.wait_for("qsota-boot: ready", start)
        status, stats, err = send(board.port, image, tmpdir)
        if status != 0:
            raise BoardError("the update after the cut failed (%d): %s" % (status, err[-500:]))
        board.wait_for("app " + version, start, timeout=30)
        now = board.ask("version?", "version ")
        if now != version:
            raise BoardError("after the update the MCU runs %r" % now)
        if board.flash()[APP : APP + len(target)] != target:
            raise BoardError("the application area does not hold the image")
        return booted, stats
