"""The simulator on its own, with lrzsz's `sb` as the sender (through socat): a cross-check
of both personalities against a real YMODEM implementation, and of the helper in support/mcu.py."""

import hashlib
import re
import shlex
import shutil
import subprocess

import pytest

from support.mcu import Mcu, McuError, binary

# A fast MCU: instant flash, 4 KiB sectors; the line at 921600 baud.
FAST = dict(baud=921600, flash_scale=0, sector_size="4K", flash_size="512K")

pytestmark = pytest.mark.skipif(
    not (shutil.which("sb") and shutil.which("socat")), reason="needs lrzsz and socat"
)


def image(size, salt=0):
    return bytes((i * 7 + i // 251 + salt) & 0xFF for i in range(size))


def sb(port, path, timeout=60):
    """Sends `path` with `sb -k` (1 KiB blocks) over TCP; returns sb's exit status (socat's
    own may be 1 when the MCU still talks after sb has gone)."""
    # A script, so that socat's address syntax leaves the file name alone.
    script = path.parent / "sb.sh"
    script.write_text('sb -k -- {}; echo "sb-status=$?" >&2\n'.format(shlex.quote(path.name)))
    run = subprocess.run(
        ["socat", "TCP:127.0.0.1:{}".format(port), "EXEC:sh sb.sh"],
        cwd=path.parent, capture_output=True, timeout=timeout,
    )
    status = re.search(rb"sb-status=(\d+)", run.stderr)
    assert status, run.stderr
    return int(status.group(1))


def send(tmp_path, data, name="fw.bin", **opts):
    path = tmp_path / name
    path.write_bytes(data)
    with Mcu(**dict(FAST, **opts)) as sim:
        status = sb(sim.port, path)
        return status, sim.summary(), sim.image()


def check_new(summary, got, data, name="fw.bin"):
    assert summary["result"] == "ok", summary
    assert summary["app_state"] == "new"
    assert summary["name"] == name
    assert summary["size"] == summary["bytes"] == len(data)
    assert summary["sha256"] == hashlib.sha256(data).hexdigest()
    assert got == data


@pytest.mark.heavy
@pytest.mark.parametrize("size", [0, 1, 127, 128, 129, 1023, 1024, 1025, 300 * 1024])
def test_sb_to_spec(tmp_path, size):
    data = image(size, size)
    status, summary, got = send(tmp_path, data, personality="spec")
    assert status == 0
    check_new(summary, got, data)


@pytest.mark.heavy
@pytest.mark.parametrize("size", [1, 1025, 300 * 1024])
def test_sb_to_stm32_iap(tmp_path, size):
    data = image(size, 1)
    status, summary, got = send(tmp_path, data, personality="stm32-iap")
    assert status == 0
    check_new(summary, got, data)
    # sb waits for a `C` after the EOT's ACK; ST sends one only after its 1 s timeout.
    assert summary["errors"] == 1


@pytest.mark.heavy
def test_name_with_spaces(tmp_path):
    data = image(3000)
    status, summary, got = send(tmp_path, data, name="new fw v2.bin", personality="spec")
    assert status == 0
    check_new(summary, got, data, name="new fw v2.bin")


@pytest.mark.heavy
def test_lost_ack_spec_recovers_st_makes_sb_give_up(tmp_path):
    """ST NAKs the block it already has, so a plain sender retries it until it gives up;
    a receiver by the book ACKs the duplicate."""
    data = image(20000, 2)
    status, summary, got = send(tmp_path, data, personality="spec", drop_ack=[5])
    assert status == 0
    check_new(summary, got, data)
    assert summary["faults"]["dropped_acks"] == [5]
    assert summary["retries"] == 1

    status, summary, _ = send(tmp_path, data, personality="stm32-iap", drop_ack=[5])
    assert status != 0
    assert summary["result"] == "cancelled", "sb gave up with CAN CAN"
    assert summary["app_state"] == "partial"
    assert summary["blocks"] == 5
    assert summary["retries"] >= 5
    assert summary["sha256"] != hashlib.sha256(data).hexdigest()


@pytest.mark.heavy
def test_failed_update_is_reported_as_such(tmp_path):
    """A reset mid-transfer leaves a partial image, and sb cannot resume it."""
    data = image(40000, 3)
    status, summary, _ = send(tmp_path, data, personality="stm32-iap", reset_at=8192)
    assert status != 0
    assert summary["faults"]["resets"] == 1
    assert summary["result"] == "cancelled", "sb gave up with CAN CAN"
    assert summary["app_state"] == "partial"


def test_bad_options_are_refused_with_the_option_named():
    for args, word in [
        (["--personality", "xmodem"], "--personality"),
        (["--baud", "0"], "--baud"),
        (["--drop-rate", "2"], "--drop-rate"),
        (["--flash-size", "100K"], "--flash-size"),
        (["--bogus", "1"], "--bogus"),
    ]:
        run = subprocess.run(
            [str(binary()), "--listen", "127.0.0.1:0", *args], capture_output=True, timeout=10
        )
        assert run.returncode == 2
        assert word in run.stderr.decode(), run.stderr
    with pytest.raises(McuError, match="unknown option"):
        Mcu(bogus=1)


def test_summary_times_out_and_the_process_is_killed():
    with Mcu(**FAST) as sim:
        with pytest.raises(McuError, match="did not finish"):
            sim.summary(timeout=0.5)
        assert sim._proc.poll() is not None
