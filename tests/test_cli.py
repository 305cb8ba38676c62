"""The host command `qsota` (tools/qsota-cli) against the simulator through a real pty: socat
bridges qsota-mcu's TCP to a /dev/pts path, so qsota opens it as a serial port (termios,
serialport's code path) exactly as it opens /dev/ttyUSB0."""

import hashlib
import json
import shutil
import signal
import subprocess
import time
import zlib
from contextlib import contextmanager

import pytest

from support.mcu import Mcu, binary, pty_bridge
from support.stm32_peers import stm32flash, tool

pytestmark = pytest.mark.skipif(not shutil.which("socat"), reason="needs socat")

# A fast MCU: instant flash, 4 KiB sectors, a 4200-byte receive ring (the native window).
FAST = dict(baud=921600, flash_scale=0, sector_size="4K", flash_size="512K", fifo=4200)


def image(size, salt=0):
    return bytes((i * 7 + i // 251 + salt) & 0xFF for i in range(size))


def qsota(*args, timeout=120):
    """Runs `qsota ARGS`; (exit status, the --json line as a dict or None, stderr)."""
    run = subprocess.run(
        [str(binary("qsota", "QSOTA_CLI", "qsota-cli")), *map(str, args)],
        capture_output=True, text=True, timeout=timeout,
    )
    lines = run.stdout.strip().splitlines()
    return run.returncode, json.loads(lines[-1]) if lines else None, run.stderr


class Ended:
    """The simulator (`sim`) and what it ended with: `summary` and `image`, set when
    `pty_mcu` exits (or call `sim.summary()` to wait for a session that ends by itself)."""

    def __init__(self, sim):
        self.sim = sim


@contextmanager
def pty_mcu(tmp_path, **opts):
    """A simulator behind a pty (`mcu.pty_bridge`): yields (the pty's path, an `Ended`); on
    exit the line is hung up and the simulator's summary and image are kept in the `Ended`."""
    with Mcu(**dict(FAST, **opts)) as sim:
        ended = Ended(sim)
        with pty_bridge(sim.port, tmp_path / "ttyMCU") as tty:
            yield tty, ended
        ended.summary = sim.summary()
        ended.image = sim.image()


def send(tmp_path, data, *args, **opts):
    path = tmp_path / "fw.bin"
    path.write_bytes(data)
    with pty_mcu(tmp_path, **opts) as (tty, sim):
        status, stats, err = qsota("send", path, "--port", tty, "--baud", 921600, "--json", *args)
    return status, stats, err, sim.summary, sim.image


def check_new(summary, got, data):
    assert summary["result"] == "ok", summary
    assert summary["app_state"] == "new"
    assert summary["sha256"] == hashlib.sha256(data).hexdigest()
    assert got == data


@pytest.mark.parametrize("personality,protocol", [
    ("spec", "ymodem"), ("stm32-iap", "ymodem"), ("native", "native"),
])
def test_each_protocol_through_a_pty(tmp_path, personality, protocol):
    data = image(70_000, 1)
    status, stats, err, summary, got = send(
        tmp_path, data, "--protocol", protocol, personality=personality,
    )
    assert status == 0, err
    check_new(summary, got, data)
    assert stats["result"] == "ok"
    assert stats["protocol"] == protocol
    assert stats["bytes"] == stats["size"] == len(data)
    assert stats["sha256"] == hashlib.sha256(data).hexdigest()
    assert stats["port"].endswith("ttyMCU")
    assert 0 < stats["line_efficiency"] <= 1.0
    assert "sent fw.bin (70000 bytes) with " + protocol in err


def test_verified_digests_pass_and_are_reported(tmp_path):
    data = image(5000, 2)
    md5 = hashlib.md5(data).hexdigest()
    crc = "0x%08x" % zlib.crc32(data)
    status, stats, err, summary, got = send(
        tmp_path, data, "--md5", md5.upper(), "--crc", crc, "--size", 5000, personality="spec",
    )
    assert status == 0, err
    check_new(summary, got, data)


def test_wrong_digests_are_refused_before_the_port_is_opened(tmp_path):
    data = image(5000, 3)
    path = tmp_path / "fw.bin"
    path.write_bytes(data)
    # The port does not exist: a verify failure (3), not a port failure (5), means the
    # image was checked first.
    status, stats, err = qsota("send", path, "--port", tmp_path / "none", "--md5", "0" * 32,
                               "--json")
    assert status == 3, err
    assert stats["class"] == "verify"
    assert "md5: expected " + "0" * 32 + ", got " + hashlib.md5(data).hexdigest() in err
    # A real MCU behind a pty hears nothing.
    with pty_mcu(tmp_path, personality="spec") as (tty, sim):
        status, _, err = qsota("send", path, "--port", tty, "--crc", "1234", "--size", 4999)
        assert status == 3, err
        assert "crc: expected 1234, got mpeg2=0x" in err and "size: expected 4999" in err
        status, _, err = qsota("send", path, "--port", tty, "--sha256", "ab" * 31)
        assert status == 2, "a malformed digest is a usage error"
        assert "--sha256: expected 64 hex digits, got 62" in err
    summary = sim.summary
    assert summary["line"]["to_mcu"] == 0, summary
    assert summary["app_state"] == "old"


def test_a_missing_port_and_a_port_that_is_not_a_tty(tmp_path):
    path = tmp_path / "fw.bin"
    path.write_bytes(image(100))
    status, stats, err = qsota("send", path, "--port", tmp_path / "ttyNONE", "--json")
    assert status == 5, err
    assert stats == {"result": "error", "class": "port", "message": stats["message"]}
    assert "no such port" in err and "ttyNONE" in err
    for not_tty in (tmp_path / "plain", "/dev/null"):
        (tmp_path / "plain").write_bytes(b"")
        status, _, err = qsota("send", path, "--port", not_tty)
        assert status == 5, err
        assert "not a serial port" in err and str(not_tty) in err
    status, _, err = qsota("send", tmp_path / "nothing.bin", "--port", "/dev/null")
    assert status == 4, "an unreadable image comes first"
    status, _, err = qsota("send", path)
    assert status == 2 and "--port" in err


def test_sigint_aborts_native_and_the_next_send_resumes(tmp_path):
    """Ctrl-C: qsota sends ABORT and exits 130; probe then sees how much the MCU holds, and
    the next send continues from there."""
    data = image(128 * 1024, 4)
    path = tmp_path / "fw.bin"
    path.write_bytes(data)
    args = ["--port", None, "--baud", 115200, "--protocol", "native", "--component", "mcu",
            "--image-version", "2.0", "--json"]
    with pty_mcu(tmp_path, personality="native", baud=115200) as (tty, sim):
        args[1] = tty
        cmd = [str(binary("qsota", "QSOTA_CLI", "qsota-cli")), "send", str(path)]
        first = subprocess.Popen(cmd + [str(a) for a in args], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        time.sleep(3)  # 128 KiB take 11.4 s at 115200
        first.send_signal(signal.SIGINT)
        out, err = first.communicate(timeout=30)
        assert first.returncode == 130, err
        stopped = json.loads(out)
        assert stopped["class"] == "interrupted"
        assert "interrupted; the receiver was told to stop" in err
        assert 0 < stopped["bytes"] < len(data)

        status, probed, err = qsota("probe", path, *args)
        assert status == 0, err
        assert probed["window"] >= 1 and probed["payload"] == 1024
        # Frames in flight may land after the ABORT; a resume goes back to the start of a
        # 4 KiB sector it must erase again.
        slack = (probed["window"] + 4) * 1024
        assert stopped["bytes"] - slack <= probed["resume"] <= stopped["bytes"] + slack
        assert probed["resume"] > 0
        assert "a send resumes there" in err

        status, resumed, err = qsota(*["send", path] + args)
        assert status == 0, err
        assert resumed["resumed_from"] == probed["resume"]
        assert resumed["bytes"] == len(data)
        assert "resumed from %d" % probed["resume"] in err
    check_new(sim.summary, sim.image, data)


def test_sigint_cancels_ymodem_at_the_receiver(tmp_path):
    """Ctrl-C while ST's IAP erases for the header (6.4 s here): it reads no byte meanwhile
    (its polled USART holds one), so the CANs must wait for its ACK, or it never sees CA CA
    and waits for blocks forever."""
    data = image(20_000, 5)
    path = tmp_path / "fw.bin"
    path.write_bytes(data)
    with pty_mcu(tmp_path, personality="stm32-iap", baud=115200, flash_scale=1, erase_ms=50,
                 fifo=None) as (tty, sim):
        first = subprocess.Popen(
            [str(binary("qsota", "QSOTA_CLI", "qsota-cli")), "send", str(path), "--port",
             str(tty), "--baud", "115200"], stderr=subprocess.PIPE, text=True)
        time.sleep(2.5)  # ST asks after 1 s; the erase lasts until 7.5 s
        first.send_signal(signal.SIGINT)
        _, err = first.communicate(timeout=30)
        assert first.returncode == 130, err
        # ST's IAP ends its session on CA CA: the simulator exits by itself.
        summary = sim.sim.summary(timeout=30)
    assert summary["result"] == "cancelled", summary
    assert summary["app_state"] == "erased"


def test_a_receiver_that_refuses_the_image(tmp_path):
    data = image(100_000, 6)
    status, stats, err, summary, _ = send(
        tmp_path, data, "--protocol", "native", personality="native", flash_size="64K",
    )
    assert status == 15, err
    assert stats["class"] == "rejected" and stats["receiver_error"] == 2
    assert "the receiver refused the image (size)" in err
    assert summary["app_state"] == "old"


def test_probe_ymodem_listens_and_changes_nothing(tmp_path):
    with pty_mcu(tmp_path, personality="stm32-iap") as (tty, sim):
        status, found, err = qsota("probe", "--port", tty, "--listen-ms", 2500, "--json")
        assert status == 0, err
        assert found["crc_requests"] >= 1
        assert "Waiting for the file to be sent" in found["text"]
    assert sim.summary["app_state"] == "old"
    with pty_mcu(tmp_path, personality="native") as (tty, sim):
        status, found, err = qsota("probe", "--port", tty, "--listen-ms", 300, "--json")
        assert status == 10, "a native receiver says nothing unasked"
        assert found["class"] == "timeout"
        status, _, err = qsota("probe", "--port", tty, "--protocol", "native")
        assert status == 2 and "needs IMAGE" in err


def test_verify_says_what_the_verifier_finds(tmp_path):
    data = image(3000, 7)
    path = tmp_path / "fw.bin"
    path.write_bytes(data)
    status, found, err = qsota("verify", path, "--crc", str(zlib.crc32(data)), "--json")
    assert status == 0, err
    assert found["md5"] == hashlib.md5(data).hexdigest()
    assert found["sha256"] == hashlib.sha256(data).hexdigest()
    assert found["crc32"]["iso-hdlc"] == "0x%08x" % zlib.crc32(data)
    assert found["crc_matched"] == "iso-hdlc" and found["ok"] is True
    # Pinned to MPEG-2, the zlib CRC does not count, and only MPEG-2 is computed.
    status, found, err = qsota("verify", path, "--crc", "0x%08x" % zlib.crc32(data),
                               "--crc-variant", "mpeg2", "--md5", "f" * 32, "--json")
    assert status == 3
    assert list(found["crc32"]) == ["mpeg2"]
    assert found["problems"][0].startswith("md5: expected " + "f" * 32)
    assert found["problems"][1].startswith("crc: expected 0x")
    status, _, err = qsota("verify", path, "--crc-variant", "crc16")
    assert status == 2 and "--crc-variant" in err


# ST's ROM bootloader (AN3155) on an STM32F4's sector map; a pty has no parity (8N1 there,
# the simulator paces 8E1 anyway).
ROM = dict(personality="stm32-rom", baud=460800, flash_scale=0.1, sector_size=None,
           flash_size=None, fifo=None)


@pytest.mark.heavy
def test_stm32_rom_gets_the_same_flash_from_qsota_and_stm32flash(tmp_path):
    if not tool("stm32flash"):
        pytest.fail("stm32flash is not installed (./build.sh installs it)", pytrace=False)
    data = image(70_001, 8)
    path = tmp_path / "fw.bin"
    path.write_bytes(data)
    with Mcu(**{k: v for k, v in ROM.items() if v is not None}) as sim:
        rc, out, _, _ = stm32flash(sim.port, path, 460800)
        theirs, their_flash = sim.summary(timeout=120), sim.image()
    assert rc == 0, out
    with pty_mcu(tmp_path, **ROM) as (tty, sim):
        status, stats, err = qsota("send", path, "--port", tty, "--baud", 460800, "--protocol",
                                   "stm32", "--parity", "none", "--json")
    assert status == 0, err
    ours, our_flash = sim.summary, sim.image
    for s in (theirs, ours):
        assert s["result"] == "ok" and s["app_state"] == "new", s
        assert s["flash"]["erases"] == 5, "sectors 0 to 4 only"
    assert our_flash == their_flash and our_flash[: len(data)] == data
    assert ours["sha256"] == theirs["sha256"]
    assert stats["pid"] == 0x413 and stats["verified"] == len(data) and stats["went"] is True
    # The data phase is the write pass (the read-back is not the line's data), at 8E1.
    assert stats["data_ms"] == stats["write_ms"] and 0 < stats["line_efficiency"] <= 1.0


def test_probe_stm32_reads_pid_and_version_and_erases_nothing(tmp_path):
    path = tmp_path / "fw.bin"
    path.write_bytes(image(2 << 20))
    with pty_mcu(tmp_path, **ROM) as (tty, sim):
        status, found, err = qsota("probe", "--port", tty, "--baud", 460800, "--protocol",
                                   "stm32", "--json")
        assert status == 0, err
        assert (found["pid"], found["version"], found["erase_cmd"]) == (0x413, 0x31, 0x44)
        assert "ROM bootloader 3.1, PID 0x413, Extended Erase 0x44; flash 1024 KiB" in err
        status, found, err = qsota("probe", path, "--port", tty, "--baud", 460800,
                                   "--protocol", "stm32", "--json")
        assert status == 0, err
        assert found["image_fits"] is False and "does not fit" in err
    assert sim.summary["flash"]["erases"] == 0 and sim.summary["app_state"] == "old"


# The module's VerifyError for an image (argv[1]) checked with one key (argv[2]).
MODULE_VERDICT = """import sys, qsota
v = qsota.Verifier(keys=[open(sys.argv[2], "rb").read()])
v.update(open(sys.argv[1], "rb").read())
try:
    v.check()
except qsota.VerifyError as e:
    print(e)
"""


def test_key_requires_an_mcuboot_image_signed_by_it(tmp_path, mp):
    """--key: the Verifier's signature check (imgtool makes the keys and the image), whose
    refusals read as the module's, word for word: the core's texts."""
    from support.signing import make_key, sign

    if not shutil.which("imgtool"):
        pytest.fail("imgtool is not installed (./build.sh installs it)", pytrace=False)
    ours = make_key(tmp_path / "ours.pem")
    other = make_key(tmp_path / "other.pem")
    (tmp_path / "ours.raw").write_bytes(ours)
    (tmp_path / "other.raw").write_bytes(other)
    der = tmp_path / "ours.der"  # make_key left imgtool's DER SubjectPublicKeyInfo there
    signed = tmp_path / "app.signed.bin"
    signed.write_bytes(sign(tmp_path, tmp_path / "ours.pem", image(9000, 9)))
    for key in (tmp_path / "ours.raw", der):
        status, found, err = qsota("verify", signed, "--key", key, "--json")
        assert status == 0, err
        assert found["ok"] is True
    status, found, err = qsota("verify", signed, "--key", tmp_path / "other.raw", "--json")
    assert status == 3
    # The first 4 bytes of the key hash in the image (our key's).
    said = "key: signed with a key not in keys (key hash %s...)" % (
        hashlib.sha256(der.read_bytes()).hexdigest()[:8])
    assert found["problems"] == [said]
    plain = tmp_path / "plain.bin"
    plain.write_bytes(image(9000, 9))
    status, _, err = qsota("send", plain, "--port", "/dev/null", "--key", tmp_path / "ours.raw")
    assert status == 3, "refused before the port is opened"
    first = int.from_bytes(plain.read_bytes()[:4], "little")
    magic = "image: bad magic 0x%08x (not an MCUboot image)" % first
    assert "qsota: " + magic in err
    for backend in ("native", "pure"):
        for path, key, text in ((signed, "other.raw", said), (plain, "ours.raw", magic)):
            out = mp.run(MODULE_VERDICT, backend, args=[path, tmp_path / key])
            assert out.strip() == text, backend
    status, _, err = qsota("verify", signed, "--key", tmp_path / "ours.pem")
    assert status == 2 and "--key" in err and "expected a raw 32-byte Ed25519 key" in err


@pytest.mark.heavy
def test_mcuboot_in_qemu_over_tcp(tmp_path):
    """The real MCUboot (the smpclient sdist's serial-recovery build in qemu, its UART on a
    TCP chardev): enter recovery, upload, MCUboot lists exactly this image (smpclient's
    view); probe then shows the list smpclient shows and finds the whole image there."""
    from support.mcuboot_qemu import FIXTURES, RECOVERY, Qemu, missing, peer, tlv_hash

    if missing():
        pytest.fail(missing(), pytrace=False)
    path = FIXTURES / (RECOVERY + ".signed.bin")
    data = path.read_bytes()
    with Qemu(RECOVERY) as q:
        tcp = "127.0.0.1:%d" % q.port
        status, stats, err = qsota("send", path, "--tcp", tcp, "--protocol", "mcuboot",
                                   "--enter", "--no-reset", "--json", timeout=300)
        assert status == 0, err
        assert stats["bytes"] == len(data) and stats["rc"] == 0 and stats["buf_size"] == 1024
        assert stats["hash"] == tlv_hash(data)
        listed = peer(q.port, "list")
        assert listed == [{"slot": 0, "hash": tlv_hash(data), "version": "0.0.0"}]
        status, found, err = qsota("probe", path, "--tcp", tcp, "--protocol", "mcuboot",
                                   "--json")
        assert status == 0, err
        assert (found["buf_size"], found["resume"], found["listed"]) == (1024, len(data), True)
        mine = [{k: e[k] for k in ("slot", "hash", "version")} for e in found["images"]]
        assert mine == listed, found
        assert "slot 0: version 0.0.0, hash %s" % tlv_hash(data)[:16] in err
        assert "is listed; it holds the whole image" in err
        # Without IMAGE: the list alone.
        status, found, err = qsota("probe", "--tcp", tcp, "--protocol", "mcuboot", "--json")
        assert status == 0, err
        assert "resume" not in found and found["images"][0]["hash"] == tlv_hash(data)
    # Not an MCUboot image: refused before the line is opened.
    plain = tmp_path / "plain.bin"
    plain.write_bytes(image(1000))
    status, _, err = qsota("send", plain, "--port", "/dev/null", "--protocol", "mcuboot")
    assert status == 14 and "not a signed MCUboot image" in err


def test_an_empty_image_and_a_diff_package_are_refused_as_the_module_refuses_them(tmp_path):
    """The core's rules (qsota::source), as qsota.send's: exit 14 (source) before the port is
    opened, unless --allow-empty or --mcu-applies-diffs says so; a native receiver refuses an
    empty image itself (a guard against any sender)."""
    empty, patch = tmp_path / "empty.bin", tmp_path / "patch.bin"
    empty.write_bytes(b"")
    patch.write_bytes(b"BSDIFF40" + image(3000))
    status, stats, err = qsota("send", empty, "--port", tmp_path / "none", "--json")
    assert status == 14, err
    assert stats["class"] == "source"
    assert ("qsota: source: the image is empty (0 bytes): refused (--allow-empty sends it)"
            in err)
    status, stats, err = qsota("send", patch, "--port", tmp_path / "none", "--json")
    assert status == 14, err
    assert stats["message"] == (
        "source: the image is a diff package (bsdiff), not an application: qsota cannot apply "
        "it and the MCU would store it as one: refused (--mcu-applies-diffs sends it as it is)")
    with pty_mcu(tmp_path, personality="spec") as (tty, sim):
        status, stats, err = qsota("send", patch, "--port", tty, "--baud", 921600,
                                   "--mcu-applies-diffs", "--json")
        assert status == 0, err
    assert sim.image == patch.read_bytes()
    with pty_mcu(tmp_path, personality="native") as (tty, sim):
        status, stats, err = qsota("send", empty, "--port", tty, "--baud", 921600,
                                   "--protocol", "native", "--allow-empty", "--json")
        assert status == 15, err
        assert "the receiver refused the image (size)" in err
    assert sim.summary["app_state"] == "old"


def test_what_nothing_checks_is_said_and_success_says_ok(tmp_path):
    path = tmp_path / "fw.bin"
    path.write_bytes(image(2000, 3))
    status, found, err = qsota("verify", path, "--json")
    assert status == 0, err
    assert found["result"] == "ok" and found["checked"] == []
    assert "NOT verified: nothing was checked (no --md5, --sha256, --crc, --size or --key)" in err
    status, found, err = qsota("verify", path, "--size", 2000, "--json")
    assert status == 0 and found["checked"] == ["size"] and "\nok: size" in err
    with pty_mcu(tmp_path, personality="spec") as (tty, sim):
        status, stats, err = qsota("send", path, "--port", tty, "--baud", 921600, "--json")
        assert status == 0, err
        assert stats["result"] == "ok" and stats["checked"] == []
        assert "qsota: NOT verified: nothing was checked" in err
        assert "sending it unverified" in err
    with pty_mcu(tmp_path, personality="stm32-iap") as (tty, sim):
        status, found, err = qsota("probe", "--port", tty, "--listen-ms", 1500, "--json")
        assert status == 0 and found["result"] == "ok", err


def test_a_line_efficiency_above_one_says_baud_is_wrong(tmp_path):
    path = tmp_path / "fw.bin"
    path.write_bytes(image(60_000, 4))
    with pty_mcu(tmp_path, personality="native") as (tty, sim):  # a 921600-baud line
        status, stats, err = qsota("send", path, "--port", tty, "--baud", 115200,
                                   "--protocol", "native", "--json")
    assert status == 0, err
    assert stats["line_efficiency"] > 1
    assert "(above 1: the line is faster than --baud 115200 says; give its real rate)" in err


def test_a_busy_port_is_reported_as_busy(tmp_path):
    import fcntl

    path = tmp_path / "fw.bin"
    path.write_bytes(image(100))
    with pty_mcu(tmp_path, personality="spec") as (tty, sim):
        with open(tty, "rb") as held:
            fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as another serial program does
            status, stats, err = qsota("send", path, "--port", tty, "--json")
    assert status == 5, err
    assert stats["class"] == "port"
    assert "busy: another program has the port open" in err and "no such port" not in err


def test_sigint_into_the_rom_bootloader_says_what_the_mcu_holds(tmp_path):
    """AN3155 has no abort: Ctrl-C stops the sender between frames, and the message says that
    the MCU holds a partly written image (pages erased, never started)."""
    path = tmp_path / "fw.bin"
    path.write_bytes(image(200_000, 6))
    with pty_mcu(tmp_path, **dict(ROM, baud=115200)) as (tty, sim):
        first = subprocess.Popen(
            [str(binary("qsota", "QSOTA_CLI", "qsota-cli")), "send", str(path), "--port", str(tty),
             "--baud", "115200", "--protocol", "stm32", "--parity", "none", "--json"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(4)  # the erase takes 0.3 s, the write pass 20 s
        first.send_signal(signal.SIGINT)
        out, err = first.communicate(timeout=30)
    assert first.returncode == 130, err
    assert json.loads(out)["class"] == "interrupted"
    assert "stm32: interrupted; AN3155 has no abort, the ROM waits for its next command; the " \
        "MCU holds a partly written image (" in err
    assert "unverified, never started)" in err
    assert sim.summary["app_state"] != "old" and sim.summary["result"] != "ok"


def test_send_help_lists_each_option_under_its_heading():
    text = subprocess.run([str(binary("qsota", "QSOTA_CLI", "qsota-cli")), "send", "--help"],
                          capture_output=True, text=True, check=True).stdout
    heading = None
    under = {}
    for line in text.splitlines():
        if line and not line.startswith(" ") and line.endswith(":"):
            heading = line[:-1]
        elif line.strip().startswith("--"):
            under[line.split()[0].rstrip(",")] = heading
    assert under["--json"] == "Output"
    assert under["--md5"] == under["--key"] == "Expected image"
    assert under["--allow-empty"] == under["--mcu-applies-diffs"] == "Refused unless told"
    assert under["--no-reset"] == "MCUboot serial recovery"


def test_ymodem_at_9600_baud_into_st_iap(tmp_path):
    """The core picks 128-byte blocks at 9600 baud (a 1K packet outlasts ST's 1 s packet
    timeout); a baud at which no block fits is refused before the port is opened."""
    data = image(1500, 9)
    path = tmp_path / "fw.bin"
    path.write_bytes(data)
    with pty_mcu(tmp_path, personality="stm32-iap", baud=9600, flash_scale=0) as (tty, sim):
        status, stats, err = qsota("send", path, "--port", tty, "--baud", 9600, "--json")
    assert status == 0, err
    assert stats["blocks"] == 12 and sim.summary["app_state"] == "new"
    assert sim.image[: len(data)] == data
    status, _, err = qsota("send", path, "--port", tmp_path / "none", "--baud", 1200)
    assert status == 2, err
    assert "--baud 1200: YMODEM needs at least 1774" in err


def test_stm32_recovers_when_answers_come_late(tmp_path):
    """The core's recovery through a pty, with the ROM's answers 20 to 40 ms late and one
    NACKed block write (issue 19 item 7)."""
    data = image(3000, 10)
    path = tmp_path / "fw.bin"
    path.write_bytes(data)
    late = dict(ROM, reply_latency="20-40", nack_write=3, seed=5)
    with pty_mcu(tmp_path, **late) as (tty, sim):
        status, stats, err = qsota("send", path, "--port", tty, "--baud", 460800, "--protocol",
                                   "stm32", "--parity", "none", "--json")
    assert status == 0, err
    assert stats["retries"] >= 1 and stats["went"] is True
    assert sim.summary["result"] == "ok" and sim.image[: len(data)] == data
