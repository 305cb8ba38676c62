"""The product on a stock module: the pure path at module speed, in instructions per byte.

Runs bench/arm/*.py on the project's qemu firmware (build/arm/qemu/firmware.elf, as
`./build.sh test-arm` builds it: MicroPython 1.25, sabrelite, Cortex-A9 in ARM mode, -Os,
`_qsota` and the package frozen, the port's default 160 KiB heap) under
`qemu-system-arm -icount shift=0`, where virtual time advances 1 ns per guest instruction;
the scripts read the MPCore global timer (bench/arm/insn.py). Instruction counts are the
emulator's, exact and repeatable; a module's own CPU differs in instructions per clock.

Sections (each row per backend: `native` is _qsota, `pure` qsota.pure):
- verify: instructions per image byte for each Verifier mode (16 KiB in 4 KiB updates);
  pure as on a stock module (qsota.pure.md5, no binascii.crc32), and with a C md5 in its place
  (_qsota's, which also does SHA-256 and a CRC: an upper bound of a C md5's cost); `kept`:
  'auto' when the bytes are also in a file (the download's part, verify_file), so that
  ISO-HDLC is computed only when MPEG-2 does not match. heap_per_update: bytes left for the
  collector per update (gc.mem_alloc with the collector off).
- parts: the pure MD5 and each pure CRC alone, MicroPython's C SHA-256.
- send: sender plus qsota.send's driver per payload byte, through a fake port whose own work
  is taken off (bench/arm/send.py); heap_per_block per data frame.
- download: qsota.download's loop through a fake socket into a file, with the Verifier the
  agent makes (md5 + crc, 'auto'), per byte; heap_per_block per 4 KiB chunk.
- delta: the module applying a diff package itself (qsota.delta: the agent's path for ymodem,
  stm32 and mcuboot), per output byte: the proving pass (base hash, apply, target hash) and
  the sending pass (a Target read in 1 KiB blocks), on bench/delta_bench.py's real Zephyr
  mps2-an385 diff pairs (132,472-byte images, heatshrink 8/7 packages by `qsota delta`,
  in the board's ramfs outside the heap; bench/arm/delta.py); heap: bytes a pass allocates.
- loops: the per-byte loops that bound the pure senders (CRC-16, XOR, copy, compare, base64)
  in instructions per iteration, with their bytecodes: the floor of a pure sender's cost.
- stream peak heap: stream mode (qsota.stream into a fake native receiver, 64 KiB from a fake
  HTTP socket, the default 16 KiB window) per backend: the peak live heap above the start,
  against issue 22's target (the window + 8 KiB; bench/arm/stream.py).
- ram: heap kept by `import qsota.agent` per backend, its peak while importing, and the peak
  of a whole update (bench/arm/ram.py).
Derived, at 500 MHz and IPC 0.5 (250 M instructions per second, a Cortex-A5 class module):
kB/s (10**3 bytes) the path alone could do, and its CPU share at 115200 baud (11,520 payload
bytes/s at most), 921600 baud and a 100 kB/s Cat-1 download.

`./build.sh bench arm` runs this alone (and updates the `arm` key of build/bench.json).
QSOTA_BENCH_BEFORE=REV also runs the scripts on the package of git revision REV, loaded from
files (tests/arm/frozen/ramfs.py) ahead of the frozen one, and prints both side by side.
Benchmarks report; they never fail on a missed target.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "arm"))
import run as arm  # noqa: E402

FIRMWARE = ROOT / "build" / "arm" / "qemu" / "firmware.elf"
MPY_CROSS = next((ROOT / "build" / "src").glob("micropython-1.25.0*/mpy-cross/build/mpy-cross"), None)
SCRIPTS = ("verify", "send", "download", "delta", "loops", "stream")
DIST = ROOT / "build" / "dist" / "mpy-v6"
# What bench/arm/ram.py measures: the heap `import qsota.agent` keeps and its peak, from each
# source and on each backend, and the peak of a whole update.
RAM = ("import frozen native", "import frozen pure", "import mpy native", "import mpy pure",
       "import py native", "import py pure", "update native", "update pure")
RAM_STEP = 256  # the peak's resolution, bytes
INSN_PER_S = 500e6 * 0.5
RATES = (("115200", 11520), ("921600", 92160), ("cat1", 100000))
TARGETS = {
    "pure Verifier() default mode, pure MD5": 4000,
    "pure Verifier() default mode, C md5": 1000,
    "pure sender + driver": 400,
    "native sender + driver": 100,
    "heap per block": 0,
}


def before_files(rev):
    """The package at git revision `rev`, compiled by the tree's mpy-cross (compiling .py
    would not fit the heap), as {path: bytes} for ramfs under before/."""
    names = subprocess.run(
        ["git", "-C", str(ROOT), "ls-tree", "-r", "--name-only", rev, "python/qsota"],
        capture_output=True, text=True, check=True,
    ).stdout.split()
    files = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            if not name.endswith(".py"):
                continue
            src = Path(tmp) / name
            src.parent.mkdir(parents=True, exist_ok=True)
            src.write_bytes(subprocess.run(["git", "-C", str(ROOT), "show", "%s:%s" % (rev, name)],
                                           capture_output=True, check=True).stdout)
            rel = name[len("python/"):-3] + ".mpy"
            (Path(tmp) / rel).parent.mkdir(parents=True, exist_ok=True)
            subprocess.run([str(MPY_CROSS), "-s", rel[:-4] + ".py", "-o", str(Path(tmp) / rel),
                            str(src)], check=True)
            files["before/" + rel] = (Path(tmp) / rel).read_bytes()
    return files


def delta_files():
    """bench/delta_bench.py's real diff pairs as {"delta/<pair>/base" and "/pkg": bytes}
    for bench/arm/delta.py (none without the fixtures or the qsota command)."""
    import delta_bench

    files = {}
    if not delta_bench.QSOTA.exists() or not delta_bench.FIXTURES.is_dir():
        print("arm delta: no %s or %s: skipped" % (delta_bench.QSOTA, delta_bench.FIXTURES))
        return files
    with tempfile.TemporaryDirectory() as tmp:
        for name, (old, new) in delta_bench.PAIRS.items():
            if old is None:
                continue  # the module applies a diff to the kept image, never a full one
            pair = "delta/%s/" % name.split(" (")[0]
            pkg = Path(tmp) / "pkg"
            subprocess.run([str(delta_bench.QSOTA), "delta", str(delta_bench.FIXTURES / old),
                            str(delta_bench.FIXTURES / new), "-o", str(pkg)], check=True,
                           capture_output=True)
            files[pair + "base"] = (delta_bench.FIXTURES / old).read_bytes()
            files[pair + "pkg"] = pkg.read_bytes()
    return files


def run_scripts(board, prelude=b"", before=False):
    """Runs every script; returns {section: [rows]}. On the package of QSOTA_BENCH_BEFORE
    (`before`) a script that fails is reported and skipped: an older revision may lack what
    it measures (qsota.stream), or leave it too little heap (loops' fragmented heap)."""
    out = {}
    for name in SCRIPTS:
        source = (ROOT / "bench" / "arm" / (name + ".py")).read_bytes()
        text, err = board.run(prelude + source)
        if err and before:
            print("arm before: bench/arm/%s.py failed there (%s): skipped"
                  % (name, err.strip().splitlines()[-1]))
            continue
        if err:
            raise RuntimeError("bench/arm/%s.py failed:\n%s%s" % (name, text[-2000:], err))
        for line in text.splitlines():
            if line.startswith("BENCH "):
                row = json.loads(line[6:])
                out.setdefault(row.pop("name"), []).append(row)
    return out


def ram_trial(board, what, fill):
    source = ("WHAT = %r\nFILL = %d\n" % (what, fill)).encode()
    text, err = board.run(source + (ROOT / "bench" / "arm" / "ram.py").read_bytes())
    if err:
        raise RuntimeError("bench/arm/ram.py (%s, %d) failed:\n%s%s" % (what, fill, text, err))
    for line in text.splitlines():
        if line.startswith("BENCH "):
            return json.loads(line[6:])
    raise RuntimeError("bench/arm/ram.py (%s) reported nothing:\n%s" % (what, text))


def ram(board):
    """Per RAM case: the heap kept, and the peak (the free heap less the largest block that
    can be held during it, found by bisection, one soft reset per trial)."""
    rows = []
    board.timeout = 60  # a trial takes seconds
    for what in RAM:
        first = ram_trial(board, what, 0)
        row = {"what": what, "fits": first["ok"], "kept": first["kept"],
               "used_before": first["used"]}
        if first["ok"]:
            lo, hi = 0, first["free"] // RAM_STEP  # lo fits; hi does not (nothing left)
            while hi - lo > 1:
                mid = (lo + hi) // 2
                try:
                    fits = ram_trial(board, what, mid * RAM_STEP)["ok"]
                except TimeoutError:  # seen once under heap pressure: counts as not fitting
                    board.close()
                    board.__init__(board.firmware, files=board.files, icount=True, timeout=60)
                    fits = False
                    row["timeouts"] = row.get("timeouts", 0) + 1
                if fits:
                    lo = mid
                else:
                    hi = mid
            row["peak"] = first["free"] - lo * (RAM_STEP + 16)  # a block's heap
        rows.append(row)
    return rows


def derive(rows):
    for row in rows:
        n = row.get("insn_per_byte")
        if n:
            row["kb_s"] = round(INSN_PER_S / n / 1000, 1)
            row["cpu_share"] = {k: round(rate * n / INSN_PER_S, 3) for k, rate in RATES}


def run(micropython=None):
    if not FIRMWARE.exists():
        raise RuntimeError("%s is missing (./build.sh test-arm builds it)" % FIRMWARE)
    if not DIST.exists():
        raise RuntimeError("%s is missing (./build.sh dist builds it)" % DIST)
    before = os.environ.get("QSOTA_BENCH_BEFORE")
    files = dict(arm.folder(str(DIST)))
    for src in (ROOT / "python" / "qsota").rglob("*.py"):
        files["py/" + src.relative_to(ROOT / "python").as_posix()] = src.read_bytes()
    if before:
        files.update(before_files(before))
    files.update(delta_files())
    board = arm.Board(str(FIRMWARE), files=files, icount=True, timeout=900)
    try:
        result = run_scripts(board)
        result["ram"] = ram(board)
        if before:
            prelude = b"import ramfs, sys\nramfs.mount(only='before/')\nsys.path.insert(0, '/before')\n"
            result["before"] = run_scripts(board, prelude, before=True)
            result["before"]["rev"] = before
    finally:
        board.close()
    for rows in [result] + ([result["before"]] if before else []):
        for key, value in rows.items():
            if isinstance(value, list):
                derive(value)
    result["clock"] = {"mhz": 500, "ipc": 0.5, "rates_bytes_per_s": dict(RATES)}
    result["targets"] = TARGETS
    print_table(result)
    return {"arm": result}


def _key(row):
    return tuple((k, v) for k, v in sorted(row.items()) if isinstance(v, str) and k != "error")


def print_table(r):
    old = r.get("before", {})
    print("ARM: instructions per payload byte on the emulated Cortex-A9 (qemu -icount);")
    print("kB/s and CPU share at 500 MHz x IPC 0.5 beside 115200 / 921600 baud and a 100 kB/s")
    print("download" + (" (before: git %s)" % old["rev"] if old else ""))
    for section in ("verify", "parts", "send", "download", "delta"):
        rows = r.get(section, [])
        if not rows:
            continue
        was = {_key(row): row for row in old.get(section, [])}
        print("  %s" % section)
        for row in rows:
            label = " ".join(v for k, v in sorted(row.items()) if isinstance(v, str))
            if "insn_per_byte" not in row:
                print("    %-36s" % label[:36])
                continue
            share = row.get("cpu_share", {})
            prior = was.get(_key(row), {}).get("insn_per_byte")
            print("    %-36s %8.0f %8s  %7.1f kB/s  %5.1f%% %6.1f%% %6.1f%%  heap %s" % (
                label[:36], row["insn_per_byte"], "(%.0f)" % prior if prior else "",
                row.get("kb_s", 0), 100 * share.get("115200", 0), 100 * share.get("921600", 0),
                100 * share.get("cat1", 0),
                row.get("heap_per_block", row.get("heap_per_update", row.get("heap", "-")))))
    if r.get("loops"):
        print("  loops (instructions per iteration, bytecodes, per bytecode; per call)")
    for row in r.get("loops", []):
        codes = row.get("bytecodes")
        if "insn_per_call" in row:
            print("    %-44s %6.0f per call" % (row["loop"][:44], row["insn_per_call"]))
            continue
        print("    %-44s %6.0f %4s %6s" % (row["loop"][:44], row["insn_per_byte"], codes or "",
                                         "%.0f" % (row["insn_per_byte"] / codes) if codes else ""))
    for row in r.get("stream", []):
        print("  stream peak heap %-6s %6d B (target <= %d: %s)" % (
            row["backend"], row["peak_heap"], row["target"],
            "met" if row["peak_heap"] <= row["target"] else "MISSED"))
    for row in r.get("ram", []):
        print("  ram %s" % json.dumps(row))


if __name__ == "__main__":
    out = ROOT / "build" / "bench.json"
    data = json.loads(out.read_text()) if out.exists() else {}
    data.update(run())
    out.write_text(json.dumps(data, indent=2) + "\n")
    print("wrote %s (arm)" % out)
