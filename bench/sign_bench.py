"""Signed images (Verifier(keys=...)): what checking the signature costs, on the unix port.

An image signed by `imgtool sign` with a throwaway Ed25519 key made here, on both backends,
all in one run (best of a few runs each):
- check_ms: `check()` of a verifier that has seen the whole image: the Ed25519 verify (the
  pure backend's self-test ran when its first verifier was made);
- native pass: one Verifier pass over a 4 MB image with keys= and without (the parser's
  cost inside the pass; the image hash is a snapshot of the SHA-256 the Verifier computes
  anyway, so the two should be equal);
- pure pass: one qsota.pure.Verifier pass over a 256 KB image, and the time keys= adds to
  it, measured alone (qsota.pure.image.SignedImage over the same blocks: the parser and
  its second SHA-256; the pass itself is too noisy on a shared machine to show it).
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from support import signing  # noqa: E402

RUNS = 5
BLOCK = 16384

MICROPYTHON_SIDE = """
import gc, json, sys, time
import _qsota, qsota.pure, qsota.verify

RUNS = int(sys.argv[1])
key = bytes.fromhex(sys.argv[2])
buf = bytearray(%d)

def feed(cls, path, keys):
    # A new cls(keys=keys) (or cls()) that has seen the file.
    v = cls(keys=keys) if keys else cls()
    qsota.verify.feed(v, path, buf)
    return v

def best_ms(fn):
    best = None
    for _ in range(RUNS):
        gc.collect()
        start = time.ticks_us()
        fn()
        us = time.ticks_diff(time.ticks_us(), start)
        best = us if best is None else min(best, us)
    return best / 1000

def check_ms(cls, path):
    times = []
    for _ in range(RUNS):
        v = feed(cls, path, [key])
        start = time.ticks_us()
        assert v.check()
        times.append(time.ticks_diff(time.ticks_us(), start))
    return min(times) / 1000, max(times) / 1000

def parser_ms(path):
    from qsota.pure.image import SignedImage
    return best_ms(lambda: feed(SignedImage, path, [key]))

def passes(cls, path):
    plain = best_ms(lambda: feed(cls, path, None).check())
    if cls is _qsota.Verifier:
        return plain, best_ms(lambda: feed(cls, path, [key]).check())
    return plain, plain + parser_ms(path)

out = {}
for name, cls in (("native", _qsota.Verifier), ("pure", qsota.pure.Verifier)):
    small = sys.argv[3]
    large = sys.argv[4] if name == "native" else sys.argv[5]
    out[name] = {"check_ms": check_ms(cls, small), "pass_ms": passes(cls, large)}
print(json.dumps(out))
""" % BLOCK


def run(micropython):
    """Measures everything; returns {"sign": {...}} and prints a table."""
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        key = signing.make_key(d / "bench.pem")
        paths = []
        for n in (64 << 10, 4 << 20, 256 << 10):
            data = bytes((i * 7 + 3) & 0xFF for i in range(n))
            path = d / ("image%d.bin" % n)
            path.write_bytes(signing.sign(d, d / "bench.pem", data, "-S", 8 << 20))
            paths.append(str(path))
        env = dict(os.environ, MICROPYPATH=str(ROOT / "python"))
        proc = subprocess.run(
            [micropython, "-c", MICROPYTHON_SIDE, str(RUNS), key.hex(), *paths],
            env=env, capture_output=True, text=True, timeout=600,
        )
    if proc.returncode != 0:
        raise RuntimeError("MicroPython benchmark failed:\n" + proc.stderr)
    mp = json.loads(proc.stdout.strip().splitlines()[-1])
    result = {}
    for name, sizes in (("native", 4 << 20), ("pure", 256 << 10)):
        first, last = mp[name]["check_ms"]
        plain, signed = mp[name]["pass_ms"]
        result[name] = {
            "check_ms": round(first, 3),
            "check_ms_worst": round(last, 3),
            "pass_bytes": sizes,
            "pass_ms_plain": round(plain, 2),
            "pass_ms_signed": round(signed, 2),
            "pass_overhead": round(signed / plain, 3),
        }
    result["runs"] = RUNS
    print_table(result)
    return {"sign": result}


def print_table(r):
    print("sign: Ed25519-signed MCUboot image (imgtool), unix port, best of %d" % r["runs"])
    for name in ("native", "pure"):
        x = r[name]
        print("  %-6s check() %9.3f ms (worst %.3f)   one pass of %d KB: %.2f ms plain, "
              "%.2f ms with keys= (x%.3f)"
              % (name, x["check_ms"], x["check_ms_worst"], x["pass_bytes"] >> 10,
                 x["pass_ms_plain"], x["pass_ms_signed"], x["pass_overhead"]))
