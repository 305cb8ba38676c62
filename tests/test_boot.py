"""The nRF51 reference bootloader (boot/, docs/bootloader.md) on qemu-system-arm -M microbit
(tests/support/nrf51.py): `qsota send --protocol native` and the agent (unix port, both backends)
update the application, full images at three sizes (qsota send also delta packages: a delta
and a compressed full image, applied by the bootloader; the agent a diff package), and the new application reports its
version after the reset that installs it. Power cuts at seeded instants (tests/support/nrf51_cuts.py):
after every cut the MCU runs the old or the new application and the next update completes.

QSOTA_BOOT_CUTS=N runs N times the seeded cuts (./build.sh fuzz runs more); each scenario
writes its counts by phase to build/boot/cuts-<scenario>.json.
"""

import json
import os
import random
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from support.micropython import BACKENDS, ROOT
from support.nrf51 import (APP, JOURNAL, OUT, PAGE, SLOT, Board, app_image, delta_package,
                   factory_flash, missing, new_version, send)
from support.nrf51_cuts import Updater, around_compaction, choose, compaction, cut_at, cut_flash, recover

sys.path.insert(0, str(ROOT / "tools" / "qth_emu"))

from scenario import Setup  # noqa: E402

# Every test here runs qemu: ./build.sh check leaves them out.
pytestmark = pytest.mark.heavy

OLD, NEW = "1_0_0", "2_0_0"
# The application alone (about 1 KB), and padded to 24 KiB and 100 KiB.
SIZES = (None, 24 * 1024, 100 * 1024)
SCALE = int(os.environ.get("QSOTA_BOOT_CUTS", "1"))
# Boards recovering from cuts at once (each a qemu, mostly waiting on the line).
WORKERS = 3


@pytest.fixture(scope="module", autouse=True)
def built():
    why = missing()
    if why:
        pytest.fail(why, pytrace=False)


def installed(board, image, version, since=0):
    """The board runs `version`, and its application area holds `image`."""
    board.wait_for("app " + version, since, timeout=60)
    assert board.ask("version?", "version ") == version
    assert board.flash()[APP : APP + len(image)] == image


@pytest.mark.parametrize("size", SIZES, ids=["app", "24k", "100k"])
def test_send_updates_the_application(size, tmp_path):
    """qsota send's first OPEN reaches the application, which resets into the bootloader;
    the repeated OPEN starts the transfer."""
    image = app_image(NEW, size)
    with Board(factory_flash(app_image(OLD))) as board:
        board.wait_for("app " + OLD)
        start = board.mark()
        status, stats, err = send(board.port, image, tmp_path)
        assert status == 0, err
        assert stats["bytes"] == len(image) and stats["resumed_from"] == 0
        installed(board, image, NEW, start)
        assert board.resets == 2  # into the bootloader, then to install


@pytest.mark.parametrize("size", SIZES, ids=["app", "24k", "100k"])
@pytest.mark.parametrize("kind", ["delta", "compressed"])
def test_send_applies_a_package_to_the_application(kind, size, tmp_path):
    """A delta against the running application, and a compressed full image (a patch
    against the empty base): the bootloader applies it into the slot, reads the target back
    and installs it."""
    base = app_image(OLD, size)
    target = new_version(base, NEW)
    package = delta_package(base if kind == "delta" else b"", target, tmp_path)
    if kind == "delta":
        assert len(package) < 400 + len(target) // 20, len(package)
    with Board(factory_flash(base)) as board:
        board.wait_for("app " + OLD)
        start = board.mark()
        status, stats, err = send(board.port, package, tmp_path)
        assert status == 0, err
        assert stats["bytes"] == len(package)
        installed(board, target, NEW, start)


MCU_VERSION = """
def mcu_version(comp):
    # The application's answer to 'version?', once the bootloader has installed it.
    port = qsota.tcp_port('127.0.0.1', MCU_PORT)
    got = b''
    try:
        for _ in range(200):
            port.write(b'version?\\n')
            utime.sleep_ms(100)
            while port.any():
                got += port.read(64)
            at = got.find(b'version ')
            end = got.find(b'\\n', at)
            if at >= 0 and end > at:
                return got[at + 8:end].decode()
    finally:
        port.close()


if __name__ == '__main__':"""


def agent_script(options=""):
    """Quectel's SOTA example with the agent on the board: native protocol, and the version
    read back from the new application."""
    script = (ROOT / "demo" / "sota_example.py").read_text()
    script = script.replace("workdir='sota')", "workdir='sota', backoff_ms=50, "
                            "protocol='native', read_version=mcu_version%s)" % options)
    return script.replace("\nif __name__ == '__main__':", MCU_VERSION)


@pytest.mark.parametrize("size", SIZES, ids=["app", "24k", "100k"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_agent_updates_the_application(backend, size, tmp_path):
    image = app_image(NEW, size)
    setup = Setup(tmp_path, image=image, old_image=b"")
    script = "import qsota_backend\nqsota_backend.use(%r)\n" % backend + agent_script()
    with Board(factory_flash(app_image(OLD))) as board:
        board.wait_for("app " + OLD)
        result = setup.run(script, setup.package(target=NEW), mcu_port=board.port,
                           path=[ROOT / "tests" / "mp"], timeout_s=180)
        assert result.returncode == 0 and "Traceback" not in result.stdout, result.stdout
        assert result.platform["reported"]["STM32"] == NEW, result.stdout
        assert result.platform["results"] == [["STM32", True]]
        installed(board, image, NEW)


@pytest.mark.parametrize("backend", BACKENDS)
def test_agent_sends_a_diff_package_the_bootloader_applies(backend, tmp_path):
    """The platform's diff package for the running version (100 KiB): with
    mcu_applies_diffs=True the agent sends it as it is (the native protocol's delta OPEN), and
    the bootloader checks the base, applies it, reads the target back and installs it."""
    base = app_image(OLD, 100 * 1024)
    target = new_version(base, NEW)
    package = delta_package(base, target, tmp_path)
    setup = Setup(tmp_path, image=package, old_image=b"")
    script = ("import qsota_backend\nqsota_backend.use(%r)\n" % backend
              + agent_script(", mcu_applies_diffs=True"))
    with Board(factory_flash(base)) as board:
        board.wait_for("app " + OLD)
        result = setup.run(script, setup.package(target=NEW, kind="diff", source=OLD),
                           mcu_port=board.port, path=[ROOT / "tests" / "mp"], timeout_s=180)
        assert result.returncode == 0 and "Traceback" not in result.stdout, result.stdout
        assert result.platform["reported"]["STM32"] == NEW, result.stdout
        assert result.platform["results"] == [["STM32", True]]
        installed(board, target, NEW)


def test_without_an_application_the_bootloader_waits(tmp_path):
    """A board with the bootloader alone (erased application area) waits for an update."""
    with Board(factory_flash(b"")) as board:
        board.wait_for("qsota-boot: ready")
        status, _, err = send(board.port, app_image(NEW), tmp_path)
        assert status == 0, err
        installed(board, app_image(NEW), NEW)


def test_an_image_larger_than_the_slot_is_refused(tmp_path):
    too_big = app_image(NEW, SLOT - APP + 4)
    with Board(factory_flash(app_image(OLD))) as board:
        status, stats, _ = send(board.port, too_big, tmp_path)
        assert status == 15 and stats["class"] == "rejected", stats  # ERROR SIZE
        board.power_on(board.cut())
        board.wait_for("app " + OLD)
        assert board.ask("version?", "version ") == OLD


def test_a_modelled_cut_is_what_qemu_does(tmp_path):
    """cut_flash's words programmed from the dump before an operation equal qemu's own
    flash after the bootloader programmed them (the model behind every cut in a write)."""
    updater = Updater(factory_flash(app_image(OLD)), app_image(NEW, 3000), NEW, tmp_path)
    ops, saved = updater.run(dumps=lambda ops: len(ops[-1].words) >= 4)
    n = max(k for k in saved if k != "end")
    _, real = updater.run(stop=(n, 3))
    assert real[n] == cut_flash(saved[n], ops[n - 1], 3, False, None)


def test_a_copy_that_reads_back_wrong_is_copied_again(tmp_path):
    """A flash fault in the install (a word of the first page changed after its copy): the
    read-back catches it, the vector table and the journal are erased (nothing starts the
    broken copy), the bootloader waits; the next power-up copies again."""
    image = app_image(NEW, 3000)
    updater = Updater(factory_flash(app_image(OLD)), image, NEW, tmp_path)
    ops, _ = updater.run()
    second_page = next(i for i, op in enumerate(ops) if op.addr == APP + PAGE) + 1
    at = next(i for i in range(8, PAGE, 4) if any(image[i : i + 4]))
    fault = (second_page, APP + at, b"\0\0\0\0")
    _, saved = updater.run(fault=fault, until="qsota-boot: ready")
    erased = b"\xff" * PAGE
    assert saved["end"][APP : APP + PAGE] == erased
    assert saved["end"][JOURNAL : JOURNAL + PAGE] == erased
    with Board(saved["end"]) as board:
        installed(board, image, NEW)


def scenario(name, tmp_path):
    """The flash a scenario starts from, the image it sends, the versions before and after,
    its cuts per phase (times QSOTA_BOOT_CUTS), and what the application area holds after
    it (the image itself, unless a delta package is sent)."""
    factory = factory_flash(app_image(OLD))
    if name == "delta":
        # A delta of the running application: its base reads and applied writes ("apply").
        base = app_image(OLD, 3000)
        target = new_version(base, NEW)
        package = delta_package(base, target, tmp_path)
        counts = {"apply": 40, "read-back": 10, "install": 20, "erase": 10}
        return factory_flash(base), package, OLD, NEW, counts, target
    if name == "factory":
        counts = {"receive": 45, "read-back": 15, "install": 25, "erase": 15}
        return factory, app_image(NEW, 3000), OLD, NEW, counts, None
    # "updated": the board after an update, its journal and record in use; the next image
    # is smaller (2 pages) than the installed one.
    with Board(factory) as board:
        board.wait_for("app " + OLD)
        assert send(board.port, app_image(NEW, 3000), tmp_path)[0] == 0
        board.wait_for("app " + NEW, timeout=30)
        start = board.flash()
    counts = {"receive": 45, "read-back": 15, "install": 25, "erase": 15}
    return start, app_image(OLD, 2000, seed=1), NEW, OLD, counts, None


@pytest.mark.parametrize("name", ["factory", "updated", "delta"])
def test_power_cuts(name, tmp_path):
    start, image, old, new, counts, target = scenario(name, tmp_path)
    updater = Updater(start, image, new, tmp_path)
    ops, _ = updater.run()
    rng = random.Random(name)
    cuts = [choose(ops, rng, p) for p, k in counts.items() for _ in range(k * SCALE)]
    cut_all(name, updater, ops, cuts, old, target)


def test_power_cuts_in_the_record_compaction(tmp_path):
    """A 60 KiB image fills the receiver's one-page record (57 entries) at its 57th frame,
    which then erases the page and writes it anew: cuts before and in that erase and in the
    three writes after it (a torn one is taken as missing, so the download resumes before
    the frame that was cut, or at the sector the record last vouched for)."""
    image = app_image(NEW, 60 * 1024)
    updater = Updater(factory_flash(app_image(OLD)), image, NEW, tmp_path)
    ops, _ = updater.run(watch=around_compaction)
    n = compaction(ops)
    assert n is not None, "the record was never compacted"
    rng = random.Random("compaction")
    places = [(n, False)] + [(n, True)] * 3 + [(n + 1, None)] * 4 + [(n + 2, None), (n + 3, None)]
    cuts = [cut_at(ops, at, rng, "compaction", torn) for at, torn in places * SCALE]
    cut_all("compaction", updater, ops, cuts, OLD, watch=around_compaction)


def cut_all(name, updater, ops, cuts, old, target=None, **run):
    """Cuts the power at each of `cuts` of the update whose operations are `ops`; each must
    leave a board that starts the old or the new application (the old one before COMMITTED,
    the new one from the install on) and completes the next update. Writes the counts."""
    new = updater.version
    image = updater.image
    again, saved = updater.run(dumps={c.n for c in cuts}, **run)
    assert again == ops, "the bootloader's flash operations differ between two runs"

    def attempt(cut):
        flash = cut_flash(saved[cut.n], ops[cut.n - 1], cut.words, cut.torn,
                          random.Random(cut.seed))
        try:
            booted, stats = recover(flash, image, new, old, updater.tmpdir, target)
            return cut, booted, stats["resumed_from"], None
        except Exception as e:  # noqa: BLE001 (reported per cut below)
            return cut, None, None, "%s: %s" % (type(e).__name__, e)

    with ThreadPoolExecutor(WORKERS) as pool:
        results = list(pool.map(attempt, cuts))
    report = {
        "operations": len(ops),
        "cuts": dict(Counter(c.phase for c, *_ in results)),
        "torn": sum(c.torn for c, *_ in results),
        "booted": dict(Counter("%s %s" % (c.phase, b) for c, b, _, e in results if not e)),
        "resumed": sum(1 for _, _, r, e in results if not e and r),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / ("cuts-%s.json" % name)).write_text(json.dumps(report, indent=1) + "\n")
    expected = {"receive": old, "apply": old, "read-back": old, "compaction": old,
                "install": new}
    failed = ["%r: %s" % (c, e or "booted %s" % b) for c, b, _, e in results
              if e or b != expected.get(c.phase, b)]
    assert not failed, "%d of %d cuts broke the update:\n%s" % (
        len(failed), len(results), "\n".join(failed[:10]))
