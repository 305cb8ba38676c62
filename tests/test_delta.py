"""Delta packages against their real counterpart, PyPI `detools` (0.53), in both directions:
patches detools makes (every compression qsota applies, several heatshrink windows) give
exactly the target through the Rust core (`qsota delta --apply`) and the pure twin
(qsota.pure.delta on MicroPython); `qsota delta` writes detools' own patch bit for bit inside
its package, which detools applies; the package costs detools' heatshrink patch + 64 bytes.
Pairs: the Zephyr mps2-an385 builds of the smpclient 7.3.0 sdist (scripts/mcuboot.sh) and
synthetic edits."""

import hashlib
import io
import json
import random
import subprocess

import detools  # PyPI detools 0.53 (./build.sh setup installs it)
import pytest

from support.micropython import PURE32, ROOT

QSOTA = ROOT / "target" / "release" / "qsota"
FIXTURES = ROOT / "build" / "mcuboot-fixtures"
ZEPHYR = "zephyr_4.4.0_smp_server_0eae053d_mps2_an385_serial_recovery_%s.signed.bin"
OLD_ZEPHYR = "zephyr_f33aa2bc4a43_smp_server_27c54835_mps2_an385_serial_recovery.signed.bin"

# (detools compression, heatshrink window, lookahead): what detools writes that qsota applies.
SETTINGS = [
    ("none", 0, 0),
    ("crle", 0, 0),
    ("heatshrink", 8, 7),
    ("heatshrink", 8, 4),
    ("heatshrink", 4, 3),
    ("heatshrink", 10, 5),
    ("heatshrink", 12, 6),
]


def _synthetic():
    rnd = random.Random(20)
    base = bytearray()
    while len(base) < 24000:
        if rnd.random() < 0.5:
            base += bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 64)))
        else:
            base += bytes([rnd.randrange(4)]) * rnd.randrange(1, 40)
    base = bytes(base)
    inserted = bytes(rnd.randrange(256) for _ in range(300))
    return {
        "insert": (base, base[:5000] + inserted + base[5000:]),
        "delete": (base, base[:9000] + base[9700:]),
        "move": (base, base[:2000] + base[12000:14000] + base[4000:12000] + base[2000:4000] + base[14000:]),
        "identical": (base, base),
        "empty": (b"", b""),
        "to-empty": (base, b""),
    }


@pytest.fixture(scope="module")
def pairs():
    def z(name):
        path = FIXTURES / name
        if not path.exists():
            pytest.fail("no %s (./build.sh fetches it: scripts/mcuboot.sh)" % path, pytrace=False)
        return path.read_bytes()

    b400, b512 = z(ZEPHYR % "buf400"), z(ZEPHYR % "buf512")
    real = {
        "zephyr-buf400-buf512": (b400, b512),
        "zephyr-f33aa2bc-4.4.0": (z(OLD_ZEPHYR), b512),
        "zephyr-1024-2048": (z(ZEPHYR % "buf1024"), z(ZEPHYR % "buf2048")),
        "zephyr-full": (b"", b512),
    }
    real.update(_synthetic())
    return real


def detools_patch(old, new, compression, window=8, lookahead=7):
    out = io.BytesIO()
    kw = {}
    if compression == "heatshrink":
        kw = dict(heatshrink_window_sz2=window, heatshrink_lookahead_sz2=lookahead)
    detools.create_patch(io.BytesIO(old), io.BytesIO(new), out, compression=compression, **kw)
    return out.getvalue()


def qsota(*args):
    proc = subprocess.run([str(QSOTA), *map(str, args)], capture_output=True, text=True)
    return proc


@pytest.fixture(scope="module")
def files(pairs, tmp_path_factory):
    """Every pair's images and detools' patches in every setting, as files."""
    d = tmp_path_factory.mktemp("delta")
    table = []
    for name, (old, new) in sorted(pairs.items()):
        (d / (name + ".old")).write_bytes(old)
        (d / (name + ".new")).write_bytes(new)
        for compression, window, lookahead in SETTINGS:
            tag = "%s.%s%s" % (name, compression, window or "")
            patch = detools_patch(old, new, compression, window, lookahead)
            (d / (tag + ".patch")).write_bytes(patch)
            table.append((name, tag))
    return d, table


def test_detools_patches_apply_exactly_in_the_core(pairs, files):
    d, table = files
    for name, tag in table:
        out = d / (tag + ".core")
        proc = qsota("delta", "--apply", d / (tag + ".patch"), "--base", d / (name + ".old"), "-o", out, "--json")
        assert proc.returncode == 0, (tag, proc.stderr)
        assert out.read_bytes() == pairs[name][1], tag
        assert json.loads(proc.stdout)["package"] is False


# Applies each (base, patch or package, expected SHA-256) of the manifest: a patch with
# qsota.pure.delta's Patch (the core's C ABI takes packages only), a package with the bound
# backend's applier (qsota.delta: _qsota.DeltaPackage or qsota.pure.delta.Package).
APPLY = """
import sys, json, hashlib
from binascii import hexlify
from qsota.delta import _package_class
from qsota.errors import DeltaError
from qsota.pure.delta import Patch
Package = _package_class()
class Out:
    def __init__(self):
        self.sha = hashlib.sha256()
        self.n = 0
    def write(self, b):
        self.sha.update(b)
        self.n += len(b)
results = []
buf = bytearray(1000)
for base_path, size, patch_path, package in json.load(open(sys.argv[1])):
    out = Out()
    with open(base_path, "rb") as base, open(patch_path, "rb") as f:
        a = (Package if package else Patch)(base, size, out)
        try:
            while True:
                n = f.readinto(buf)
                if not n:
                    break
                a.push(buf, n)
            a.finish()
            results.append([out.n, hexlify(out.sha.digest()).decode()])
        except DeltaError as e:
            results.append(e.code)
print(json.dumps(results))
"""


def _apply(mp, d, runs, backend="pure"):
    manifest = d / "manifest.json"
    manifest.write_text(json.dumps(runs))
    if backend == "both":
        return mp.both(APPLY, args=[manifest], timeout=300)
    return mp.json(APPLY, backend, args=[manifest], timeout=300)


def test_detools_patches_apply_exactly_in_the_pure_twin(mp, pairs, files):
    d, table = files
    runs = [[str(d / (n + ".old")), len(pairs[n][0]), str(d / (t + ".patch")), False] for n, t in table]
    got = _apply(mp, d, runs)
    want = [[len(pairs[n][1]), hashlib.sha256(pairs[n][1]).hexdigest()] for n, t in table]
    assert got == want


@pytest.mark.parametrize("compression", ["heatshrink", "crle", "none"])
def test_qsota_writes_detools_patch_bit_for_bit_and_detools_applies_it(pairs, tmp_path, compression):
    for name, (old, new) in sorted(pairs.items()):
        (tmp_path / "old").write_bytes(old)
        (tmp_path / "new").write_bytes(new)
        proc = qsota("delta", tmp_path / "old", tmp_path / "new", "-o", tmp_path / "pkg", "--compression", compression)
        assert proc.returncode == 0, proc.stderr
        pkg = (tmp_path / "pkg").read_bytes()
        # esp_delta_ota's header with qsota's extension in the reserved bytes.
        assert pkg[:4] == (0xFCCDDE10).to_bytes(4, "little")
        assert pkg[4:36] == hashlib.sha256(old).digest()
        assert pkg[36:40] == b"QSD1"
        assert int.from_bytes(pkg[40:44], "little") == len(old)
        assert pkg[44:64] == hashlib.sha256(new).digest()[:20]
        assert pkg[64:] == detools_patch(old, new, compression), name
        out = io.BytesIO()
        detools.apply_patch(io.BytesIO(old), io.BytesIO(pkg[64:]), out)
        assert out.getvalue() == new, name


def test_a_package_is_detools_heatshrink_patch_plus_64_bytes(pairs, tmp_path):
    for name, (old, new) in sorted(pairs.items()):
        (tmp_path / "old").write_bytes(old)
        (tmp_path / "new").write_bytes(new)
        assert qsota("delta", tmp_path / "old", tmp_path / "new", "-o", tmp_path / "pkg").returncode == 0
        size = (tmp_path / "pkg").stat().st_size
        reference = len(detools_patch(old, new, "heatshrink"))
        assert size <= 1.05 * reference + 64, (name, size, reference)


def test_packages_apply_in_both_backends_and_wrong_ones_are_refused(mp, pairs, tmp_path):
    """A qsota package and one made for ESP (reserved bytes zero) apply in the core (the CLI
    and _qsota.DeltaPackage) and the pure twin; a wrong base, a changed target digest and
    lzma are refused with their fault, the same one on both backends."""
    old, new = pairs["zephyr-f33aa2bc-4.4.0"]
    other = pairs["zephyr-buf400-buf512"][0]
    for name, data in (("old", old), ("new", new), ("other", other)):
        (tmp_path / name).write_bytes(data)
    qsota("delta", tmp_path / "old", tmp_path / "new", "-o", tmp_path / "qsota.pkg")
    assert qsota("delta", tmp_path / "old", tmp_path / "new", "-o", tmp_path / "esp.pkg", "--esp").returncode == 0
    esp = (tmp_path / "esp.pkg").read_bytes()
    assert esp[36:64] == bytes(28)
    bad = bytearray((tmp_path / "qsota.pkg").read_bytes())
    bad[50] ^= 1
    (tmp_path / "digest.pkg").write_bytes(bad)
    (tmp_path / "lzma.patch").write_bytes(detools_patch(old, new, "lzma"))
    cases = [
        ("old", "qsota.pkg", True, "ok"),
        ("old", "esp.pkg", True, "ok"),
        ("other", "qsota.pkg", True, "base_mismatch"),
        ("other", "esp.pkg", True, "base_mismatch"),
        ("old", "digest.pkg", True, "target_mismatch"),
        ("old", "lzma.patch", False, "unsupported"),
    ]
    runs = []
    for i, (base, pkg, package, fault) in enumerate(cases):
        out = tmp_path / ("%d.out" % i)
        proc = qsota("delta", "--apply", tmp_path / pkg, "--base", tmp_path / base, "-o", out)
        if fault == "ok":
            assert proc.returncode == 0, proc.stderr
            assert out.read_bytes() == new
        else:
            assert proc.returncode == 3 and "(%s)" % fault in proc.stderr, proc.stderr
            assert not out.exists()
        data = (tmp_path / base).read_bytes()
        runs.append([str(tmp_path / base), len(data), str(tmp_path / pkg), package])
    got = _apply(mp, tmp_path, runs, "both")
    ok = [len(new), hashlib.sha256(new).hexdigest()]
    assert got == [ok if fault == "ok" else fault for _, _, _, fault in cases]


def test_info_says_what_a_package_holds(pairs, tmp_path):
    old, new = pairs["zephyr-buf400-buf512"]
    (tmp_path / "old").write_bytes(old)
    (tmp_path / "new").write_bytes(new)
    qsota("delta", tmp_path / "old", tmp_path / "new", "-o", tmp_path / "pkg", "--window", "10", "--lookahead", "5")
    proc = qsota("delta", "--info", tmp_path / "pkg", "--json")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["compression"] == "heatshrink" and (info["window"], info["lookahead"]) == (10, 5)
    assert info["target_size"] == len(new) and info["base_size"] == len(old)
    assert info["target_digest"] == hashlib.sha256(new).hexdigest()[:40]


def test_both_backends_name_a_bad_argument_and_a_failing_base_or_target(mp, tmp_path):
    """The same TypeError or ValueError, naming the argument, from _qsota.DeltaPackage and
    qsota.pure.delta.Package; a base or target whose method raises fails the package as
    base_read or write, and the fault is final (raised again by later calls); a
    KeyboardInterrupt in a callback reaches the caller."""
    code = """
import json, io
from qsota.delta import _package_class
from qsota.errors import DeltaError
Package = _package_class()
class Broken:
    def seek(self, at):
        raise OSError(5)
    def write(self, b):
        raise OSError(5)
pkg = open(__import__("sys").argv[1], "rb").read()
out = []
for args, push in [((io.BytesIO(), -1, io.BytesIO()), None), ((io.BytesIO(), 0, io.BytesIO()), ("x", -1)),
                   ((io.BytesIO(), "1", io.BytesIO()), None), ((io.BytesIO(), 0, io.BytesIO()), (b"12", 3)),
                   ((io.BytesIO(), 0, io.BytesIO()), (b"12", True)), ((io.BytesIO(), 0, io.BytesIO()), (b"12", 1, -2)),
                   ((io.BytesIO(), 0, io.BytesIO(), 1 << 30), None), ((io.BytesIO(), 0, io.BytesIO(), 0, -1), None),
                   ((io.BytesIO(), 0, io.BytesIO()), (bytearray(3), 1, 1 << 30)),
                   ((Broken(), 4, io.BytesIO()), (pkg,)), ((io.BytesIO(b"base"), 4, Broken(), 1000, 256, False), (pkg,))]:
    try:
        p = Package(*args)
        p.push(*push)
        out.append("pushed")
    except (TypeError, ValueError) as e:
        out.append([type(e).__name__, str(e), isinstance(e, DeltaError)])
        if isinstance(e, DeltaError):
            try:
                p.finish()
            except DeltaError as e:
                out.append(["again", e.code])
class Interrupting:
    def seek(self, at):
        raise KeyboardInterrupt
try:
    Package(Interrupting(), 4, io.BytesIO()).push(pkg)
    out.append("pushed")
except KeyboardInterrupt:
    out.append("KeyboardInterrupt")
print(json.dumps(out))
"""
    (tmp_path / "old").write_bytes(b"base")
    (tmp_path / "new").write_bytes(b"based on the base " * 20)
    assert qsota("delta", tmp_path / "old", tmp_path / "new", "-o", tmp_path / "pkg").returncode == 0
    assert mp.both(code, args=[tmp_path / "pkg"]) == [
        ["ValueError", "base_size: must be 0 to 1073741823", False],
        ["TypeError", "data: expected a bytes-like object, got str", False],
        ["TypeError", "base_size: expected int, got str", False],
        ["ValueError", "n: must be -1 or 0 to len(data)", False],
        ["TypeError", "n: expected int, got bool", False],
        ["ValueError", "room: must be -1 or 0 to 1073741823", False],
        ["ValueError", "limit: must be 0 to 1073741823", False],
        ["ValueError", "window: must be 0 to 1073741823", False],
        ["ValueError", "room: must be -1 or 0 to 1073741823", False],
        ["DeltaError", "base_read: reading the base failed", True],
        ["again", "base_read"],
        ["DeltaError", "write: writing the target failed", True],
        ["again", "write"],
        "KeyboardInterrupt",
    ]


def test_the_window_is_the_one_the_package_names_allocated_when_its_header_is_in(mp, tmp_path):
    """_qsota.DeltaPackage allocates the heatshrink window the package's header names (2^w
    bytes) once the header is in, none for crle and none: the heap a small package takes is
    about a kilobyte, not the 32 KiB of the largest window. A window over the `window` cap
    is refused (`window`) on both backends, once the header says so."""
    old = random.Random(3).randbytes(4000)
    new = old[:1000] + b"hello world" * 20 + old[1200:]
    (tmp_path / "old").write_bytes(old)
    (tmp_path / "new").write_bytes(new)
    for name, options in (("hs8", ()), ("hs11", ("--window", "11", "--lookahead", "6")),
                          ("crle", ("--compression", "crle")), ("none", ("--compression", "none"))):
        assert qsota("delta", tmp_path / "old", tmp_path / "new", "-o", tmp_path / name,
                     *options).returncode == 0
    code = """
import gc, json, sys
from qsota.delta import _package_class
from qsota.errors import DeltaError
Package = _package_class()
class Out:
    def write(self, b):
        pass
d = sys.argv[1]
out = []
for name, cap in (("hs8", 1 << 15), ("hs11", 1 << 15), ("hs11", 1024), ("crle", 0), ("none", 0)):
    data = open(d + "/" + name, "rb").read()
    with open(d + "/old", "rb") as base:
        gc.collect()
        gc.disable()
        before = gc.mem_alloc()
        p = Package(base, 4000, Out(), window=cap)
        try:
            took = p.push(memoryview(data)[:64])
            p.push(memoryview(data)[64:])
            out.append([name, cap, took, p.finish()[0], gc.mem_alloc() - before])
        except DeltaError as e:
            out.append([name, cap, e.code])
        gc.enable()
print(json.dumps(out))
"""
    heap = {}
    for backend in ("native", "pure"):
        got = mp.json(code, backend, args=[tmp_path])
        for row in got:
            heap[backend, row[0], row[1]] = row[4] if len(row) == 5 else None
        assert [row[:4] for row in got] == [
            ["hs8", 1 << 15, 64, len(new)], ["hs11", 1 << 15, 64, len(new)],
            ["hs11", 1024, "window"], ["crle", 0, 64, len(new)], ["none", 0, 64, len(new)]]
    # the object (the core's context, the glue's stage) and the pushes' views take about a
    # kilobyte with no window (crle, none); heatshrink adds its window: 256 bytes for 8/7,
    # 2 KiB for 11/6 (a little more heap for its pieces' views)
    alone = heap["native", "crle", 0]
    assert alone < 1536 and heap["native", "none", 0] < 1536, heap
    assert 256 <= heap["native", "hs8", 1 << 15] - alone < 512, heap
    assert 2048 <= heap["native", "hs11", 1 << 15] - alone < 2048 + 256, heap


@pytest.mark.parametrize("backend", ["pure", PURE32])
def test_a_pure_apply_allocates_the_same_for_a_six_times_larger_image(mp, tmp_path, backend):
    """A proving pass (delta.check) and a sending pass (a Target read in 1 KiB blocks) of
    the pure applier allocate no more for a 96 KiB image than for a 16 KiB one (heap frames
    freed at once included): nothing per byte, per piece, per push or per block read. It was
    about 80 bytes per output byte on 32 bits (per-byte method calls whose frames MicroPython
    puts on the heap). The edits keep the diff in one chunk: a base read shorter than a piece
    (where a diff chunk starts or ends) still makes one view."""
    rnd = random.Random(4)
    args = []
    for n in (16384, 98304):
        old = bytes(rnd.randrange(256) for _ in range(n))
        new = bytearray(old)
        for at in range(100, n, 5000):
            new[at : at + 8] = bytes(8)
        for name, data in (("old", old), ("new", bytes(new))):
            (tmp_path / ("%d.%s" % (n, name))).write_bytes(data)
        pkg = tmp_path / ("%d.pkg" % n)
        assert qsota("delta", tmp_path / ("%d.old" % n), tmp_path / ("%d.new" % n), "-o", pkg).returncode == 0
        args += [tmp_path / ("%d.old" % n), pkg]
    small, big = mp.json("import delta_alloc", backend, args=args, timeout=300)
    assert (small[2], big[2]) == (16384, 98304)
    for k in (0, 1):  # prove, send
        assert big[k] - small[k] < 256, (backend, small, big)


ROOM_APPLY = """
import sys
from qsota.pure.delta import Patch
old, new, patch = (open(p, "rb").read() for p in sys.argv[1:4])
class Out:
    def __init__(self):
        self.b = bytearray()
    def write(self, d):
        self.b.extend(d)
class Base:
    def seek(self, at):
        self.at = at
    def readinto(self, buf):
        buf[:] = old[self.at : self.at + len(buf)]
        return len(buf)
for room in (256, 300, 700):
    out = Out()
    p = Patch(Base(), len(old), out, 1 << 20, 4096)
    mv, at = memoryview(patch), 0
    while at < len(patch):
        at += p.push(mv[at:], -1, room)
    p.finish()
    print(room, bytes(out.b) == new)
"""


def test_a_pure_crle_patch_pushed_with_a_room_stops_and_resumes_inside_any_segment(mp, tmp_path):
    """A push that runs out of room inside a crle segment of scattered bytes resumes with
    the next byte of the patch (it once repeated the last repeated byte: `malformed`)."""
    rnd = random.Random(1)
    old = bytes(rnd.randrange(256) for _ in range(20000))
    new = bytearray(old)
    for at in range(0, 20000, 700):
        new[at : at + 50] = bytes(rnd.randrange(256) for _ in range(50))
    new = bytes(new) + bytes(rnd.randrange(256) for _ in range(3000))
    for name, data in (("old", old), ("new", new), ("patch", detools_patch(old, new, "crle"))):
        (tmp_path / name).write_bytes(data)
    out = mp.run(ROOM_APPLY, "pure", args=[tmp_path / "old", tmp_path / "new", tmp_path / "patch"])
    assert out.split() == ["256", "True", "300", "True", "700", "True"], out
