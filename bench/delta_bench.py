"""Delta packages (issue 20): for each real pair of the smpclient sdist's Zephyr mps2-an385
builds (scripts/mcuboot.sh fetches them), the bytes on the air for a full image, a `qsota
delta` package (heatshrink 8/7, crle, none) and detools' own patches, zlib -9 of the whole
image, the line seconds those take at 115200 and 921600 baud (10 bits a byte, no protocol
overhead), and the apply cost: host time per MB of output for the Rust core (`qsota delta
--apply`, base hash included) and for the pure twin (qsota.pure.delta on the unix
MicroPython).

`native`: what `qsota send --protocol native` really puts on the line and takes, into the
MCU simulator (qsota-mcu, the delta receiver, the old image as its application, instant
flash: the line alone) at 115200 and 921600 baud: the full image, and the package sent as
a delta (the MCU applies it; for the empty base, the compressed full image). line_bytes
counts the framing, OPEN and COMMIT; seconds are the sender's, OPEN to DONE.

`module_ms_per_mb`: the module's CPU for a diff package it applies itself (qsota.delta, the agent's path
for ymodem, stm32 and mcuboot): the proving pass (`delta.check`: base hash, apply, target
hash) and the sending pass (a `Target` read in 1 KiB blocks as qsota.send reads it), with
the core's applier (`_qsota.DeltaPackage`, the native backend) and the pure one on the
64-bit unix MicroPython, and the pure one on the 32-bit.
"""

import io
import json
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from support.mcu import Mcu  # noqa: E402
QSOTA = ROOT / "target" / "release" / "qsota"
FIXTURES = ROOT / "build" / "mcuboot-fixtures"
MP32 = ROOT / "build" / "unix32" / "micropython"
ZEPHYR = "zephyr_4.4.0_smp_server_0eae053d_mps2_an385_serial_recovery_%s.signed.bin"
PAIRS = {
    "buf400->buf512 (same version)": (ZEPHYR % "buf400", ZEPHYR % "buf512"),
    "f33aa2bc->4.4.0 (cross version)": (
        "zephyr_f33aa2bc4a43_smp_server_27c54835_mps2_an385_serial_recovery.signed.bin",
        ZEPHYR % "buf512",
    ),
    "empty->buf512 (full image)": (None, ZEPHYR % "buf512"),
}
BAUDS = (115200, 921600)
REPEAT = 5

PURE = """
import sys, time
from qsota.pure.delta import Package
class Out:
    def write(self, b):
        pass
base_path, size, pkg_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
data = open(pkg_path, "rb").read()
best = None
for _ in range(%d):
    with open(base_path, "rb") as base:
        p = Package(base, size, Out())
        t = time.ticks_us()
        p.push(data)
        n = p.finish()[0]
        dt = time.ticks_diff(time.ticks_us(), t)
    best = dt if best is None or dt < best else best
print(n, best)
"""


MODULE = """
import sys, time
import qsota
from qsota import delta
base_path, pkg_path = sys.argv[1], sys.argv[2]
qsota.use_backend(sys.argv[3])
buf = bytearray(1024)
check = send = None
for _ in range(%d):
    t = time.ticks_us()
    delta.check(base_path, pkg_path)
    dt = time.ticks_diff(time.ticks_us(), t)
    check = dt if check is None or dt < check else check
    t = time.ticks_us()
    f = delta.Target(base_path, pkg_path)
    while f.readinto(buf):
        pass
    f.close()
    dt = time.ticks_diff(time.ticks_us(), t)
    send = dt if send is None or dt < send else send
print(check, send)
"""


def _qsota(*args):
    proc = subprocess.run([str(QSOTA), *map(str, args)], capture_output=True, text=True, check=True)
    return proc.stdout


def _detools(old, new, compression):
    import detools

    out = io.BytesIO()
    detools.create_patch(io.BytesIO(old), io.BytesIO(new), out, compression=compression)
    return len(out.getvalue())


def _native(path, base_path, baud):
    """`qsota send --protocol native` of `path` into the simulator running `base_path`:
    (bytes on the line, seconds)."""
    with Mcu(personality="native", baud=baud, flash_scale=0, sector_size="4K",
             flash_size="512K", fifo=4200, app=base_path) as sim:
        out = _qsota("send", "--tcp", "127.0.0.1:%d" % sim.port, "--protocol", "native",
                     "--baud", baud, "--json", path)
        summary = sim.summary()
    if summary["result"] != "ok":
        raise RuntimeError("native send of %s: %s" % (path, summary))
    stats = json.loads(out.strip().splitlines()[-1])
    return stats["line_bytes"], round(stats["elapsed_ms"] / 1000, 2)


def _pair(d, name, old_name, new_name, micropython):
    old = (FIXTURES / old_name).read_bytes() if old_name else b""
    new = (FIXTURES / new_name).read_bytes()
    (d / "old").write_bytes(old)
    (d / "new").write_bytes(new)
    sizes = {"full": len(new), "zlib-9": len(zlib.compress(new, 9))}
    for c in ("heatshrink", "crle", "none"):
        _qsota("delta", d / "old", d / "new", "-o", d / ("pkg." + c), "--compression", c)
        sizes["qsota-" + c] = (d / ("pkg." + c)).stat().st_size
        try:
            sizes["detools-" + c] = _detools(old, new, c)
        except ImportError:
            pass
    pkg = d / "pkg.heatshrink"
    core_us = min(
        json.loads(_qsota("delta", "--apply", pkg, "--base", d / "old", "-o", d / "out", "--json"))["apply_us"]
        for _ in range(REPEAT)
    )
    script = d / "pure.py"
    script.write_text(PURE % REPEAT)
    env = {"MICROPYPATH": str(ROOT / "python")}
    out = subprocess.run(
        [micropython, str(script), str(d / "old"), str(len(old)), str(pkg)],
        capture_output=True, text=True, env=env, check=True,
    ).stdout.split()
    pure_us = int(out[1])
    mb = len(new) / 1e6
    module = {}
    (d / "module.py").write_text(MODULE % 2)
    for label, binary, backend in (("native", micropython, "native"), ("pure", micropython, "pure"),
                                   ("pure32", MP32, "pure")):
        if old_name is None or not Path(binary).exists():
            continue  # the module applies a diff to the kept image, never a full one
        check_us, send_us = map(int, subprocess.run(
            [binary, "-X", "heapsize=4M", str(d / "module.py"), str(d / "old"), str(pkg), backend],
            capture_output=True, text=True, env=env, check=True).stdout.split())
        module[label] = {"check": round(check_us / 1e3 / mb), "send": round(send_us / 1e3 / mb)}
    row = {
        "pair": name,
        "bytes": sizes,
        "line_s": {
            str(b): {k: round(sizes[k] * 10 / b, 2) for k in ("full", "zlib-9", "qsota-heatshrink")}
            for b in BAUDS
        },
        "apply_ms_per_mb": {"core": round(core_us / 1e3 / mb, 1), "pure": round(pure_us / 1e3 / mb, 1)},
        "native": {
            str(b): {k: _native(f, d / "old", b) for k, f in (("full", d / "new"), ("delta", pkg))}
            for b in BAUDS
        },
        "module_ms_per_mb": module,
    }
    for b, sends in row["native"].items():
        print("  native at %6s baud: full %7d bytes %6.2f s, delta %7d bytes %6.2f s"
              % (b, sends["full"][0], sends["full"][1], sends["delta"][0], sends["delta"][1]))
    print(
        "%-33s full %7d  qsota hs %6d (%4.1f%%) crle %6d none %6d | detools hs %s crle %s none %s"
        " | zlib-9 %6d | apply core %5.1f ms/MB, pure %6.0f ms/MB"
        % (
            name, sizes["full"], sizes["qsota-heatshrink"], 100.0 * sizes["qsota-heatshrink"] / len(new),
            sizes["qsota-crle"], sizes["qsota-none"], sizes.get("detools-heatshrink"),
            sizes.get("detools-crle"), sizes.get("detools-none"), sizes["zlib-9"],
            row["apply_ms_per_mb"]["core"], row["apply_ms_per_mb"]["pure"],
        )
    )
    for label, cost in sorted(module.items()):
        print("%-33s module apply (%s backend): prove %d ms/MB, send %d ms/MB"
              % ("", label, cost["check"], cost["send"]))
    return row


def run(micropython):
    if not QSOTA.exists() or not FIXTURES.is_dir():
        print("no %s or %s: run ./build.sh bench" % (QSOTA, FIXTURES))
        return {}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, (old, new) in PAIRS.items():
            rows.append(_pair(Path(tmp), name, old, new, micropython))
    return {"delta": rows}
