"""Delta packages over the native protocol (OPEN's DELTA flag) into the MCU simulator, whose
application area holds the base (`qsota-mcu --app`): `qsota send` (the host command, through
a pty) and `qsota.send` on both backends send a package made by `qsota delta` (detools'
patch, checked against PyPI detools in test_delta.py): a delta of an edit and a compressed
full image (a patch against the empty base). The MCU ends with the target installed; a
wrong base, a receiver without deltas and a package made for ESP are refused before
anything is erased. The protocol's own matrix (lossy lines, a power cut at every flash
operation, damaged packages) is in src/native/delta_tests.rs."""

import hashlib
import random
import shutil
import subprocess

import pytest
from support.mcu import binary, pty_bridge, Mcu
from support.micropython import BACKENDS
from support.transfer_runs import Transfer

# A fast native MCU: instant flash, 4 KiB sectors, a 4200-byte receive ring.
FAST = dict(personality="native", baud=921600, flash_scale=0, sector_size="4K",
            flash_size="512K", fifo=4200)


def firmware(size, seed):
    """Something shaped like firmware: runs of code-like bytes and repeats."""
    rnd = random.Random(seed)
    out = bytearray()
    while len(out) < size:
        if rnd.random() < 0.6:
            out += bytes(rnd.randrange(256) for _ in range(rnd.randrange(4, 48)))
        else:
            out += out[-rnd.randrange(1, 200):] if out else b"\0"
    return bytes(out[:size])


def edit(base, seed):
    """A new version of `base`: some bytes changed, a block inserted, one removed."""
    rnd = random.Random(seed)
    new = bytearray(base)
    for _ in range(40):
        new[rnd.randrange(len(new))] = rnd.randrange(256)
    at = rnd.randrange(len(new))
    new[at:at] = firmware(700, seed + 1)
    cut = rnd.randrange(len(new) - 500)
    del new[cut:cut + 300]
    return bytes(new)


def package(tmp_path, base, target, name):
    """`qsota delta BASE TARGET -o PKG`: the package's path."""
    old, new, out = (tmp_path / (name + s) for s in (".old", ".new", ".pkg"))
    old.write_bytes(base)
    new.write_bytes(target)
    run = subprocess.run([str(binary("qsota", "QSOTA_CLI", "qsota-cli")), "delta", str(old),
                          str(new), "-o", str(out)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return out


@pytest.fixture(scope="module")
def pair():
    base = firmware(60_000, 3)
    return base, edit(base, 4)


def installed(summary, target):
    return (summary["result"], summary["app_state"], summary["size"], summary["sha256"]) == (
        "ok", "new", len(target), hashlib.sha256(target).hexdigest())


@pytest.mark.skipif(not shutil.which("socat"), reason="needs socat")
@pytest.mark.parametrize("kind", ["delta", "compressed"])
def test_qsota_send_applies_a_package_on_the_mcu(tmp_path, pair, kind):
    base, target = pair
    pkg = package(tmp_path, base if kind == "delta" else b"", target, kind)
    assert pkg.stat().st_size < len(target) // (4 if kind == "delta" else 1)
    (tmp_path / "app.bin").write_bytes(base)
    with Mcu(app=tmp_path / "app.bin", **FAST) as sim:
        with pty_bridge(sim.port, tmp_path / "ttyMCU") as tty:
            run = subprocess.run([str(binary("qsota", "QSOTA_CLI", "qsota-cli")), "send",
                                  str(pkg), "--port", tty, "--baud", "921600",
                                  "--protocol", "native"],
                                 capture_output=True, text=True, timeout=120)
        summary = sim.summary()
    assert run.returncode == 0, run.stderr
    assert installed(summary, target), summary


@pytest.mark.parametrize("backend", BACKENDS)
def test_qsota_send_on_both_backends_sends_a_package_as_a_delta(mp, tmp_path, pair, backend):
    base, target = pair
    pkg = package(tmp_path, base, target, "d")
    (tmp_path / "app.bin").write_bytes(base)
    result, summary = Transfer(mp, backend, pkg, dict(FAST, app=tmp_path / "app.bin"),
                               protocol="native").result()
    assert result["ok"], (result, summary)
    assert result["stats"]["bytes"] == pkg.stat().st_size
    assert installed(summary, target), summary


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", ["wrong base", "no delta"])
def test_a_receiver_that_cannot_apply_it_refuses_and_keeps_its_application(
        mp, tmp_path, pair, backend, case):
    base, target = pair
    pkg = package(tmp_path, base, target, "d")
    app = base if case == "no delta" else edit(base, 9)
    (tmp_path / "app.bin").write_bytes(app)
    opts = dict(FAST, app=tmp_path / "app.bin", delta="no" if case == "no delta" else None)
    result, summary = Transfer(mp, backend, pkg, opts, protocol="native").result()
    assert not result["ok"]
    assert result["code"] == "rejected", result
    assert ("(flags)" if case == "no delta" else "(base)") in result["message"], result
    assert summary["app_state"] == "old", summary
