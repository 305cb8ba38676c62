"""Verification throughput: MD5 + SHA-256 + CRC-32 of one image, on the unix port.

Rates are MB/s (10**6 bytes per second), each the best of RUNS rounds; each round measures
MicroPython's rates and then the reference's, so that the machine's load, which changes over
a run, weighs on both alike:
- native:    one pass through `_qsota.Verifier(crc_variant='mpeg2')`: MD5, SHA-256 and one
             CRC-32, the same work as the reference;
- native_auto: the same with crc_variant='auto' (the default), which computes both CRC-32
             variants;
- pure:      one pass through `qsota.pure.Verifier(crc_variant='mpeg2')` (on a smaller image:
             it is slow);
- builtin:   MicroPython's own hashlib.md5, hashlib.sha256 and binascii.crc32, one pass
             each, combined as 1 / (1/md5 + 1/sha256 + 1/crc);
- reference: CPython's hashlib (OpenSSL) md5 and sha256 and zlib.crc32, combined alike;
and the MicroPython heap bytes one `update()` allocates, per backend.
"""

import hashlib
import json
import os
import subprocess
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BLOCK = 16384  # bytes per update(), like a download chunk or a file read
NATIVE_BYTES = 64 << 20
PURE_BYTES = 1 << 20
RUNS = 5

TARGETS = {"native_vs_reference": 0.85, "native_auto_vs_reference": 0.85,
           "native_vs_builtin": 3.0, "native_vs_pure": 20.0}

MICROPYTHON_SIDE = """
import gc, json, sys, time
import _qsota, qsota.pure

BLOCK, NATIVE_BYTES, PURE_BYTES, RUNS = [int(a) for a in sys.argv[1:]]
buf = bytearray(BLOCK)
for i in range(BLOCK):
    buf[i] = (i * 7 + 3) & 0xFF

def best_rate(fn, total):
    best = 0
    for _ in range(RUNS):
        gc.collect()
        start = time.ticks_us()
        fn(total // BLOCK)
        us = time.ticks_diff(time.ticks_us(), start)
        best = max(best, total / us)  # bytes per microsecond = MB/s
    return best

def verifier(cls, variant="mpeg2"):
    def run(blocks):
        v = cls(crc_variant=variant)
        for _ in range(blocks):
            v.update(buf)
        v.check()
    return run

def builtin_hash(name):
    import hashlib
    new = getattr(hashlib, name, None)
    if new is None:
        return None
    def run(blocks):
        h = new()
        for _ in range(blocks):
            h.update(buf)
        h.digest()
    return run

def builtin_crc32():
    import binascii
    crc32 = getattr(binascii, "crc32", None)
    if crc32 is None:
        return None
    def run(blocks):
        crc = 0
        for _ in range(blocks):
            crc = crc32(buf, crc)
    return run

def alloc_per_update(cls, n=1000):
    v = cls()
    v.update(buf)  # anything lazy happens on the first call
    gc.collect()
    before = gc.mem_alloc()
    for _ in range(n):
        v.update(buf)
    return (gc.mem_alloc() - before) / n

builtins = {}
for name, fn in (("md5", builtin_hash("md5")), ("sha256", builtin_hash("sha256")),
                 ("crc32", builtin_crc32())):
    builtins[name] = None if fn is None else best_rate(fn, NATIVE_BYTES)
print(json.dumps({
    "native": best_rate(verifier(_qsota.Verifier), NATIVE_BYTES),
    "native_auto": best_rate(verifier(_qsota.Verifier, "auto"), NATIVE_BYTES),
    "pure": best_rate(verifier(qsota.pure.Verifier), PURE_BYTES),
    "builtin": builtins,
    "alloc_native": alloc_per_update(_qsota.Verifier),
    "alloc_pure": alloc_per_update(qsota.pure.Verifier),
}))
"""


def combined(rates):
    """The rate of doing every pass in turn: 1 / (sum of 1/rate)."""
    if any(r is None for r in rates):
        return None
    return 1 / sum(1 / r for r in rates)


def reference_rates():
    """CPython's rates on the same block size and amount of data (one round)."""
    buf = bytes((i * 7 + 3) & 0xFF for i in range(BLOCK))
    blocks = NATIVE_BYTES // BLOCK

    def best(fn):
        start = time.perf_counter()
        fn()
        return blocks * BLOCK / (time.perf_counter() - start) / 1e6

    def hash_pass(name):
        def run():
            h = hashlib.new(name)
            for _ in range(blocks):
                h.update(buf)
            h.digest()

        return run

    def crc_pass():
        crc = 0
        for _ in range(blocks):
            crc = zlib.crc32(buf, crc)

    return {"md5": best(hash_pass("md5")), "sha256": best(hash_pass("sha256")),
            "crc32": best(crc_pass)}


def micropython_rates(micropython):
    """MicroPython's rates and allocations (one round)."""
    env = dict(os.environ, MICROPYPATH=str(ROOT / "python"))
    args = [str(a) for a in (BLOCK, NATIVE_BYTES, PURE_BYTES, 1)]
    proc = subprocess.run(
        [micropython, "-c", MICROPYTHON_SIDE, *args],
        env=env, capture_output=True, text=True, timeout=600,
    )
    if proc.returncode != 0:
        raise RuntimeError("MicroPython benchmark failed:\n" + proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def best_of(rounds):
    """Each figure's largest over the rounds (dicts of them, nested; None where missing): a
    rate's best, an allocation's worst."""
    first = rounds[0]
    if isinstance(first, dict):
        return {k: best_of([r[k] for r in rounds]) for k in first}
    if first is None:
        return None
    return max(rounds)


def run(micropython):
    """Measures everything; returns {"verify": {...}} and prints a table."""
    mp_rounds, reference_rounds = [], []
    for _ in range(RUNS):
        mp_rounds.append(micropython_rates(micropython))
        reference_rounds.append(reference_rates())
    mp = best_of(mp_rounds)
    reference = best_of(reference_rounds)
    builtin = combined(list(mp["builtin"].values()))
    ref = combined(list(reference.values()))
    native = mp["native"]
    result = {
        "native_mbps": round(native, 1),
        "native_auto_mbps": round(mp["native_auto"], 1),
        "pure_mbps": round(mp["pure"], 2),
        "builtin_mbps": None if builtin is None else round(builtin, 1),
        "reference_mbps": round(ref, 1),
        "alloc_bytes_per_update": mp["alloc_native"],
        "alloc_bytes_per_update_pure": mp["alloc_pure"],
        "builtin_parts_mbps": {k: v and round(v, 1) for k, v in mp["builtin"].items()},
        "reference_parts_mbps": {k: round(v, 1) for k, v in reference.items()},
        "native_vs_reference": round(native / ref, 2),
        "native_auto_vs_reference": round(mp["native_auto"] / ref, 2),
        "native_vs_builtin": None if builtin is None else round(native / builtin, 2),
        "native_vs_pure": round(native / mp["pure"], 1),
        "targets": TARGETS,
        "block_bytes": BLOCK,
    }
    print_table(result)
    return {"verify": result}


def print_table(r):
    def target(key):
        have, want = r[key], TARGETS[key]
        if have is None:
            return "n/a"
        return "%5.2fx (target >= %gx: %s)" % (have, want, "met" if have >= want else "MISSED")

    print("verify: MD5 + SHA-256 + CRC-32, MB/s, %d-byte blocks, best of %d alternating rounds"
          % (BLOCK, RUNS))
    print("  _qsota (one pass)            %8.1f" % r["native_mbps"])
    print("  _qsota, both CRC variants    %8.1f" % r["native_auto_mbps"])
    print("  qsota.pure (one pass)        %8.2f" % r["pure_mbps"])
    parts = ", ".join("%s %s" % kv for kv in r["builtin_parts_mbps"].items())
    print("  MicroPython built-ins        %8s   (%s)" % (r["builtin_mbps"], parts))
    parts = ", ".join("%s %s" % kv for kv in r["reference_parts_mbps"].items())
    print("  CPython/OpenSSL/zlib         %8.1f   (%s)" % (r["reference_mbps"], parts))
    print("  native / reference   " + target("native_vs_reference"))
    print("  auto / reference     " + target("native_auto_vs_reference"))
    print("  native / built-ins   " + target("native_vs_builtin"))
    print("  native / pure        " + target("native_vs_pure"))
    print("  heap bytes per update(): native %g, pure %g"
          % (r["alloc_bytes_per_update"], r["alloc_bytes_per_update_pure"]))
