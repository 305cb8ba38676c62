"""qsota.send(protocol='mcuboot') against the real MCUboot: the serial-recovery fixtures of the
smpclient 7.3.0 sdist in qemu mps2-an385 (tests/support/mcuboot_qemu.py), on both backends, with
smpclient as the independent witness of what the slot holds (MCUboot's image list, asked
before any reset: a qemu reset re-applies the fixture's own image, so booting after it
proves nothing about an upload). Plus faults (a seeded lossy relay, a module restart mid
upload, an image signed with another key, an MCU that never enters recovery), identical
frames from both backends and clear errors.

An upload of a fixture image (132 KB) takes 30 to 60 s in qemu, so each test shares one boot
between several cases, in the order they depend on.
"""

import json
import socket
import subprocess
import sys
import threading

import pytest
from support.micropython import PRELUDE, ROOT
from support.mcuboot_qemu import (FIXTURES, OLD_RECOVERY, RECOVERY, Qemu, Relay, missing, peer,
                          resign, tlv_hash)

sys.path.insert(0, str(ROOT / "tools" / "qth_emu"))

@pytest.fixture(scope="module", autouse=True)
def fixtures_present():
    why = missing()
    if why:
        pytest.fail(why, pytrace=False)


def send(mp, backend, port, path, timeout=300, **options):
    """qsota.send of `path` to `port` in MicroPython: {"ok", "stats"} or {"ok", "code",
    "message"}; {"exit": status} if the script stopped (stop_at)."""
    code = PRELUDE.format(backend) + "import mcuboot_send\n"  # tests/mp/mcuboot_send.py
    proc = subprocess.run([mp.binary, "-c", code, str(port), json.dumps(options), str(path)],
                          env=mp.env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        return {"exit": proc.returncode, "stderr": proc.stderr}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def image(name):
    path = FIXTURES / (name + ".signed.bin")
    return path, path.read_bytes()


def assert_accepted(st, data, buf_size):
    """MCUboot took every chunk (no error; retransmissions only after a timeout of the
    loaded host, answered like any other), in requests filled to the buffer."""
    assert (st["bytes"], st["rc"], st["buf_size"]) == (len(data), 0, buf_size), st
    assert st["retries"] <= 2 and st["resent_bytes"] < len(data) // 50, st
    # MCUboot may write up to its flash alignment (8) less than a chunk and ask for the rest.
    most = len(data) // (st["chunk"] - 8) + 2 + st["retries"]
    assert len(data) // st["chunk"] <= st["chunks"] <= most, st


def assert_uploaded(result, data, port, buf_size):
    """MCUboot took every chunk and lists exactly this image (smpclient's view)."""
    assert result["ok"], result
    st = result["stats"]
    assert_accepted(st, data, buf_size)
    assert st["hash"] == tlv_hash(data)
    assert peer(port, "list") == [{"slot": 0, "hash": tlv_hash(data), "version": "0.0.0"}]


@pytest.mark.heavy
def test_upload_into_mcuboot_without_params_on_both_backends(mp):
    """Zephyr 4.4.0's MCUboot has no `params`: 512 bytes (its default) is used, or less when
    capped. Each backend uploads another build, so the listed hash proves the upload; the
    second one then resets the MCU, which runs an application again (see the module doc)."""
    old = image(OLD_RECOVERY % 512)[1]
    with Qemu(OLD_RECOVERY % 512) as q:
        assert peer(q.port, "list")[0]["hash"] == tlv_hash(old)
        path, data = image(OLD_RECOVERY % 1024)
        r = send(mp, "native", q.port, path, enter=True, reset=False, buf_size=400)
        assert_uploaded(r, data, q.port, 400)
        assert r["stats"]["chunk"] == 400 - 26  # SMP header, CBOR keys, length, CRC

        path, data = image(OLD_RECOVERY % 2048)
        r = send(mp, "pure", q.port, path)
        assert r["ok"], r
        st = r["stats"]
        assert_accepted(st, data, 512)
        assert st["chunk"] == 486 and st["hash"] == tlv_hash(data)
        assert st["step"] == 7  # done, after the reset
        assert peer(q.port, "echo")["ok"]


@pytest.mark.heavy
def test_params_a_refused_image_gpio_entry_and_a_verified_resend(mp, tmp_path):
    """MCUboot with `params` (1024): an application that is not MCUboot, an image signed with
    another key (MCUboot must not take it; the old application is gone, as in any recovery
    upload), the fixture's image entered by GPIO (fake pins: the MCU is in recovery already)
    after that refused upload, then the same image again: verified from MCUboot's list
    without a byte of upload."""
    path, data = image(RECOVERY)
    foreign = tmp_path / "foreign.bin"
    foreign_data = resign(data, foreign, tmp_path / "k.pem")
    with Qemu(RECOVERY) as q:
        app = peer(q.port, "list")
        # No `enter`: the application's own SMP server answers; nothing may count as done.
        r = send(mp, "native", q.port, foreign, timeout_ms=2000)
        assert not r["ok"] and r["code"] == "rejected", r
        assert peer(q.port, "list")[0]["hash"] == app[0]["hash"]

        r = send(mp, "native", q.port, foreign, enter=True)
        assert not r["ok"] and r["code"] == "rejected", r
        assert "(list; MCUboot does not list the image as valid: bad signature" in r["message"]
        assert peer(q.port, "list") == []
        assert foreign_data != data

        # MCUboot still holds the refused upload (its size and offset, in RAM): the probe
        # continues from there, MCUboot refuses the first chunk past that image's size
        # (rc 3), and the upload starts over from 0.
        r = send(mp, "pure", q.port, path, pins=True, boot_ms=50, reset=False)
        assert r["ok"], r
        st = r["stats"]
        assert (st["resumed_from"], st["rc"], st["bytes"], st["buf_size"]) == (
            len(foreign_data), 3, len(data), 1024), st
        assert st["hash"] == tlv_hash(data)
        assert peer(q.port, "list") == [{"slot": 0, "hash": tlv_hash(data), "version": "0.0.0"}]
        assert r["pins"] == [["boot", 0], ["reset", 0], ["reset", 1], ["boot", 1]]

        r = send(mp, "native", q.port, path)
        assert r["ok"], r
        st = r["stats"]
        assert (st["frames"], st["chunks"], st["hash"]) == (4, 0, tlv_hash(data))  # params, probe, list, reset
        assert peer(q.port, "echo")["ok"]


@pytest.mark.heavy
def test_a_restarted_module_continues_from_mcuboots_offset(mp):
    path, data = image(OLD_RECOVERY % 1024)
    with Qemu(OLD_RECOVERY % 512) as q:
        r = send(mp, "native", q.port, path, enter=True, stop_at=len(data) * 2 // 5)
        assert r.get("exit") == 3, r
        r = send(mp, "pure", q.port, path, reset=False)
        assert r["ok"], r
        st = r["stats"]
        assert len(data) * 2 // 5 - 512 < st["resumed_from"] < len(data) // 2, st
        assert st["line_bytes"] < (len(data) - st["resumed_from"]) * 1.5
        assert peer(q.port, "list")[0]["hash"] == tlv_hash(data)


FAULT_SEEDS = (1, 2)


@pytest.mark.heavy
def test_a_lossy_line_never_yields_a_wrong_image(mp):
    """A relay drops or flips bytes both ways (seeded, 1 in 2500 each): MCUboot drops damaged
    requests, qsota drops damaged answers, retransmits after its timeout and follows the
    offset MCUboot answers. Each backend uploads a different build, in full."""
    runs = []
    with Qemu(OLD_RECOVERY % 512) as q:
        for seed, (backend, other) in zip(FAULT_SEEDS, (("native", 1024), ("pure", 2048))):
            path, data = image(OLD_RECOVERY % other)
            relay = Relay(q.port, seed, drop=2e-4, flip=2e-4)
            try:
                r = send(mp, backend, relay.port, path, enter=seed == 1, resume=False,
                         reset=False, timeout_ms=500, retries=20, boot_ms=2000)
            finally:
                relay.close()
            runs.append((backend, relay.faults, r.get("stats", r)))
            assert r["ok"], r
            assert relay.faults > 0 and r["stats"]["retries"] > 0, (relay.faults, r)
            assert r["stats"]["hash"] == tlv_hash(data)
            assert peer(q.port, "list")[0]["hash"] == tlv_hash(data)
    print("lossy line runs:", [(b, f, s["retries"]) for b, f, s in runs])


def test_an_mcu_that_never_enters_recovery_times_out(mp, tmp_path, backend):
    """Nothing answers (no bootloader on the line): a clean timeout naming the step."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def silent():
        conn = server.accept()[0]
        while conn.recv(4096):
            pass
        conn.close()

    threading.Thread(target=silent, daemon=True).start()
    path, _ = image(RECOVERY)
    try:
        r = send(mp, backend, server.getsockname()[1], path, timeout_ms=100, retries=2)
    finally:
        server.close()
    assert r == {"ok": False, "code": "timeout", "message": "mcuboot: the receiver did not "
                 "answer (params) (block 0, 0 of %d bytes acknowledged)" % path.stat().st_size}


@pytest.mark.heavy
def test_the_agent_reports_failure_for_an_image_mcuboot_refuses(tmp_path):
    from scenario import Setup

    script = (ROOT / "demo" / "sota_example.py").read_text().replace(
        "workdir='sota')",
        "workdir='sota', backoff_ms=50, protocol='mcuboot', send_options={'enter': True})")
    data = image(RECOVERY)[1]
    foreign = resign(data, tmp_path / "f.bin", tmp_path / "k.pem", body_len=4096)
    setup = Setup(tmp_path / "run", image=foreign, old_image=b"unused")
    with Qemu(RECOVERY) as q:
        result = setup.run(script.replace("MCU_PORT", str(q.port)), setup.package(),
                           timeout_s=120)
        assert peer(q.port, "list") == []
    assert result.returncode == 0 and "Traceback" not in result.stdout, result.stdout
    assert result.platform["reported"]["STM32"] == "1_0_0"
    assert result.platform["results"] == [["STM32", False]]
    failed = [l for l in result.stdout.splitlines() if "update failed" in l]
    assert len(failed) == 1 and "MCU transfer failed (rejected)" in failed[0], result.stdout


# Both backends through one scripted session against a small MicroPython model of MCUboot
# (answers built with qsota.pure's console framing and CBOR reader): every action and frame
# must match.


def test_both_backends_make_identical_frames(mp):
    lines = mp.run("import mcuboot_session", backend=None).strip().splitlines()
    assert len(lines) == 2
    for line in lines:
        same, steps, end, _ = json.loads(line)
        assert same, line
        assert steps > 30 and end[:3] == ["end", 4, None], line
        assert end[3]["retries"] >= 3 and end[3]["bytes"] == 256 * 9 + 4, line


def test_bad_arguments_raise_clear_errors(mp, tmp_path, backend):
    path, data = image(RECOVERY)
    lines = mp.run("import mcuboot_bad_arguments", backend=backend,
                   args=[tmp_path / "plain.bin", path]).strip().splitlines()
    assert lines == [
        "ValueError  size: must be 1 to 4294967295",
        "ValueError  size: must be 1 to 4294967295",
        "TypeError  sha256: expected bytes, got str",
        "ValueError  hash: must be 32 bytes",
        "ValueError  image: must be 0 to 255",
        "ValueError  buf_size: must be 0 or 128 to 65535",
        "ValueError  timeout_ms: must be 1 to 2147483647",
        "TypeError  retries: expected int, got bool",
        "2801 702",
        "TransferError source mcuboot: the source is not a signed MCUboot image (no image header)",
        "TypeError  boot_pin, reset_pin: give both to enter recovery by GPIO",
        "TypeError  boot_pin: expected a Pin (write() or value()) or a callable, got int",
        "TransferError timeout mcuboot: the receiver did not answer (params) (block 0, 0 of %d "
        "bytes acknowledged)" % len(data),
    ], lines
