"""Download throughput over loopback: qsota.download on the unix port against the test file
server (CPython http.server, tools/qth_emu/fileserver.py), http and https (TLS 1.2: Debian's
mbedTLS 2.28 client has no 1.3; the chain verified against a trustme CA, ECDSA P-256),
with the image verified in the same pass (MD5 + SHA-256 + CRC-32/MPEG-2) by the native
`_qsota.Verifier` or by `qsota.pure`, in one run.

Each row: MB/s (10**6 bytes per wall second inside MicroPython, best of a few runs) and the
MicroPython process's CPU seconds (user + system, from the kernel) per MB, the agent's
default 4 KiB buffer. The pure rows use a smaller file: pure Python hashing is slow. On a
module the radio, not the CPU, sets the rate; the CPU seconds per MB say what a download
costs the rest of the script.
"""

import hashlib
import json
import os
import resource
import ssl
import subprocess
import sys
import tempfile
from pathlib import Path

import trustme

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools" / "qth_emu"))

from fileserver import FileServer  # noqa: E402

SIZES = {"native": 16 << 20, "pure": 1 << 20}
RUNS = 3
CHUNK = 4096

MICROPYTHON_SIDE = """
import json, sys, time
import qsota_backend
qsota_backend.use(sys.argv[1])
import qsota
from qsota import https
from qsota.download import Download

url, work, ca, md5 = sys.argv[2:6]
conf = https.config(ca if ca != "-" else None)
d = Download(work + "/fw", bytearray(%d), lambda m: None, lambda p: None, tls=conf)
start = time.ticks_us()
v, n = d.run(url, ["bench"], None, lambda: qsota.Verifier(md5=md5, crc_variant="mpeg2"))
v.check()
us = time.ticks_diff(time.ticks_us(), start)
print(json.dumps({"bytes": n, "us": us}))
""" % CHUNK


def _one(micropython, backend, url, work, ca, md5):
    env = dict(
        os.environ,
        MICROPYPATH=os.pathsep.join([str(ROOT / "python"), str(ROOT / "tests" / "mp")]),
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(
        [micropython, "-c", MICROPYTHON_SIDE, backend, url, work, ca, md5],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError("MicroPython download failed:\n" + proc.stderr + proc.stdout)
    for name in os.listdir(work):
        os.unlink(os.path.join(work, name))
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return out["bytes"], out["us"] / 1e6, cpu


def run(micropython):
    """Measures every row; returns {"download": [...]} and prints a table."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "www").mkdir()
        (tmp / "work").mkdir()
        ca = trustme.CA()
        ca_der = tmp / "ca.der"
        ca_der.write_bytes(ssl.PEM_cert_to_DER_cert(ca.cert_pem.bytes().decode()))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ca.issue_cert("localhost").configure_cert(ctx)
        for backend, size in SIZES.items():
            data = os.urandom(size)
            name = "%s.bin" % backend
            (tmp / "www" / name).write_bytes(data)
            md5 = hashlib.md5(data).hexdigest()
            for scheme, tls, ca_arg in (("http", None, "-"), ("https", ctx, str(ca_der))):
                server = FileServer(tmp / "www", tls=tls).start()
                try:
                    best = None
                    for _ in range(RUNS):
                        n, seconds, cpu = _one(
                            micropython, backend, server.url(name), str(tmp / "work"), ca_arg, md5
                        )
                        if best is None or seconds < best[1]:
                            best = (n, seconds, cpu)
                finally:
                    server.stop()
                n, seconds, cpu = best
                rows.append(
                    {
                        "scheme": scheme,
                        "backend": backend,
                        "bytes": n,
                        "seconds": round(seconds, 3),
                        "mbps": round(n / seconds / 1e6, 2),
                        "cpu_s_per_mb": round(cpu / (n / 1e6), 4),
                        "chunk_bytes": CHUNK,
                    }
                )
    print_table(rows)
    return {"download": rows}


def print_table(rows):
    print("download over loopback, verified in the same pass (%d-byte buffer)" % CHUNK)
    print("  scheme  verify   MB        MB/s   CPU s/MB")
    for r in rows:
        print(
            "  %-6s  %-6s %6.1f %10.2f %10.4f"
            % (r["scheme"], r["backend"], r["bytes"] / 1e6, r["mbps"], r["cpu_s_per_mb"])
        )


if __name__ == "__main__":
    run(os.environ.get("QSOTA_MICROPYTHON", str(ROOT / "build" / "unix" / "micropython")))
