"""qsota.stream.Stream on build/unix/micropython, both backends, against the test file server
(tools/qth_emu/fileserver.py): read as a sender reads it (tests/mp/stream_read.py: frames in
order, go-backs within the ring, an MCU that resumes behind it), across cut connections, a
file that changes on the server, and a module that stops midway and starts again from its
record, and sent into the MCU simulator's native receiver as it downloads (committed only
after its final check). Each byte read must be the file's, every byte is downloaded once plus
what the counters say was downloaded again, and those stay within the bounds docs/agent.md
states.
"""

import hashlib
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools" / "qth_emu"))

from fileserver import FileServer  # noqa: E402
from support.mcu import Mcu  # noqa: E402
from support.relay import Relay  # noqa: E402

SIZE = 100 * 1024 + 77
IMAGE = random.Random(21).randbytes(SIZE)
OTHER = random.Random(22).randbytes(SIZE)
MD5 = hashlib.md5(IMAGE).hexdigest()
WINDOW = 8192
# The TCP buffers each way (tests/mp/small_tcp.py on the client: 4096, which Linux doubles;
# the same here): what the server counts beyond what the stream read is at most their sum.
SNDBUF = 4096
IN_FLIGHT = 4 * 8192


@pytest.fixture
def www(tmp_path):
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "fw.bin").write_bytes(IMAGE)
    return tmp_path


def read(mp, backend, www, server, record="-", seed=1, start=0, stop="-", jump="-"):
    out = www / "mcu.bin"
    if not out.exists():
        out.write_bytes(bytes(SIZE))
    args = [server.url("fw.bin"), out, record, SIZE, MD5, WINDOW, seed, start, stop, jump]
    return mp.json("import stream_read", backend, args=args)


def test_frames_read_in_any_order_are_the_files(mp, backend, www):
    server = FileServer(www / "www", sndbuf=SNDBUF).start()
    try:
        got = read(mp, backend, www, server)
    finally:
        server.stop()
    assert "error" not in got, got
    assert got["sha256"] == hashlib.sha256(IMAGE).hexdigest()
    assert (www / "mcu.bin").read_bytes() == IMAGE
    assert got["downloaded"] == server.body_bytes == SIZE and got["again"] == 0
    assert got["connections"] == 1


def test_cut_connections_continue_with_range(mp, backend, www):
    server = FileServer(www / "www", cuts=[30000, 5000, 20000], sndbuf=SNDBUF).start()
    try:
        got = read(mp, backend, www, server)
    finally:
        server.stop()
    assert "error" not in got, got
    assert (www / "mcu.bin").read_bytes() == IMAGE
    assert got["downloaded"] == server.body_bytes == SIZE, got
    assert got["connections"] == 4
    assert [r for _, r in server.requests] == [0, 30000, 35000, 55000]


def test_an_mcu_resuming_behind_the_ring_downloads_again_from_there(mp, backend, www):
    server = FileServer(www / "www", sndbuf=SNDBUF).start()
    try:
        got = read(mp, backend, www, server, seed=0, jump="61440:20480")
    finally:
        server.stop()
    assert "error" not in got, got
    assert (www / "mcu.bin").read_bytes() == IMAGE
    # What the ring no longer held was downloaded again, and not verified twice.
    assert got["again"] == got["downloaded"] - SIZE
    assert got["downloaded"] <= server.body_bytes <= got["downloaded"] + IN_FLIGHT
    assert 61440 - 20480 - WINDOW <= got["again"] <= 61440 - 20480 + WINDOW
    assert [r for _, r in server.requests][-1] == 20480
    assert got["sha256"] == hashlib.sha256(IMAGE).hexdigest()


def test_a_changed_file_restarts(mp, backend, www):
    server = FileServer(www / "www", cuts=[40000], swap=OTHER, sndbuf=SNDBUF).start()
    try:
        got = read(mp, backend, www, server)
    finally:
        server.stop()
    assert got["error"][0] == "StreamRestart", got
    assert "ETag changed" in got["error"][1]


def test_a_stopped_stream_continues_from_its_record(mp, backend, www):
    record = www / "STM32.stream"
    server = FileServer(www / "www", sndbuf=SNDBUF).start()
    try:
        first = read(mp, backend, www, server, record=record, stop=50 * 1024)
        assert "error" not in first and record.exists()
        saved = json.loads(record.read_text())
        assert len(record.read_bytes()) < 1024
        # The MCU acknowledged 49 KiB; the record is at most a window behind what was read.
        second = read(mp, backend, www, server, record=record, start=49 * 1024)
    finally:
        server.stop()
    assert "error" not in second, second
    assert any("resuming a streamed download at byte %d" % saved["offset"] in l
               for l in second["log"])
    assert (www / "mcu.bin").read_bytes() == IMAGE
    assert second["sha256"] == hashlib.sha256(IMAGE).hexdigest()
    # Every byte once, plus at most a window for the stop (and what TCP had in flight).
    assert second["again"] <= WINDOW
    assert SIZE <= server.body_bytes <= SIZE + WINDOW + IN_FLIGHT
    assert not record.exists()


def test_a_damaged_record_starts_over(mp, backend, www):
    record = www / "STM32.stream"
    server = FileServer(www / "www", sndbuf=SNDBUF).start()
    try:
        read(mp, backend, www, server, record=record, stop=50 * 1024)
        saved = json.loads(record.read_text())
        state = bytearray(bytes.fromhex(saved["state"]))
        state[40] ^= 1
        saved["state"] = state.hex()
        record.write_text(json.dumps(saved))
        got = read(mp, backend, www, server, record=record)
    finally:
        server.stop()
    assert "error" not in got, got
    assert not any("resuming" in l for l in got["log"])
    assert got["sha256"] == hashlib.sha256(IMAGE).hexdigest()


# A stream sent as it downloads into the native receiver of the MCU simulator (OPEN's
# DIGEST_AT_COMMIT: the image is named by the stream's identity, and COMMIT carries the
# SHA-256 once the final check passed); or a delta package the receiver applies to its
# application area (`--app`, the base) as it arrives: OPEN's DELTA alone, COMMIT held back
# until the final check passed.
MCU = dict(personality="native", baud=921600, flash_scale=0, fifo=4200, sector_size="2K",
           flash_size="256K")


class Sent:
    """What is served (`body`, its md5) and what the MCU must end with (`target`); `app`,
    the base in the MCU's application area (a delta package's, else None)."""

    def __init__(self, body, target, app=None):
        self.body, self.target, self.app = body, target, app
        self.md5 = hashlib.md5(body).hexdigest()


@pytest.fixture(params=["image", "delta"])
def sent(request, www):
    if request.param == "image":
        return Sent(IMAGE, IMAGE)
    from test_native_delta import edit, firmware, package

    base = firmware(60_000, 3)
    target = edit(base, 4) + random.Random(23).randbytes(24_000)
    body = package(www, base, target, "d").read_bytes()
    (www / "app.bin").write_bytes(base)
    (www / "www" / "fw.bin").write_bytes(body)
    return Sent(body, target, www / "app.bin")


def mcu_options(sent):
    return MCU if sent.app is None else dict(MCU, app=sent.app)


def send(mp, backend, www, server, sent, md5=None):
    with Mcu(**mcu_options(sent)) as mcu:
        got = mp.json("import stream_send", backend, timeout=120,
                      args=[server.url("fw.bin"), len(sent.body), md5 or sent.md5, WINDOW,
                            mcu.port])
        return got, mcu.summary()


def assert_installed(summary, sent):
    assert summary["result"] == "ok", summary
    want = (len(sent.target), hashlib.sha256(sent.target).hexdigest())
    assert (summary["size"], summary["sha256"]) == want, summary


def test_a_stream_is_committed_after_its_final_check(mp, backend, www, sent):
    server = FileServer(www / "www", cuts=[len(sent.body) // 3], sndbuf=SNDBUF).start()
    try:
        got, summary = send(mp, backend, www, server, sent)
    finally:
        server.stop()
    assert got["ok"], got
    assert_installed(summary, sent)
    assert got["downloaded"] == len(sent.body) and got["again"] == 0, got


def test_a_stream_that_fails_its_final_check_is_never_committed(mp, backend, www, sent):
    # One byte differs from what the platform's md5 says (a package's: one of its target
    # digest, which the receiver would see only at COMMIT): every byte reaches the MCU, the
    # check fails before COMMIT, the transfer is aborted and the MCU keeps its firmware.
    bad = bytearray(sent.body)
    bad[5000 if sent.app is None else 62] ^= 1
    (www / "www" / "fw.bin").write_bytes(bytes(bad))
    server = FileServer(www / "www", sndbuf=SNDBUF).start()
    try:
        got, summary = send(mp, backend, www, server, sent)
    finally:
        server.stop()
    assert not got["ok"] and got["code"] == "source", got
    assert "failed its final check" in got["message"] and "md5" in got["message"], got
    assert summary["result"] != "ok" and summary["app_state"] == "old", summary


# A module killed at seeded points (while it downloads, while it sends, just before COMMIT)
# and started again with the same record and the same MCU (tests/support/relay.py: the MCU
# keeps its receiver session, as over a UART). More seeds: QSOTA_KILL_SEEDS=N.
KILL_SEEDS = range(1, 1 + int(os.environ.get("QSOTA_KILL_SEEDS", "2")))


@pytest.mark.parametrize("seed", KILL_SEEDS)
def test_a_killed_module_resumes_and_commits_the_image(mp, backend, www, seed, sent):
    rng, size = random.Random(seed), len(sent.body)
    record = www / "STM32.stream"
    server = FileServer(www / "www", sndbuf=SNDBUF).start()
    command, code = mp.command("import stream_send", backend)
    script = www / "run.py"
    script.write_text(code)
    kills = downloaded = 0
    try:
        with Mcu(**mcu_options(sent)) as mcu:
            with Relay(mcu.port) as relay:
                args = [server.url("fw.bin"), size, sent.md5, WINDOW, relay.port, record]
                for attempt in range(4):
                    # What the MCU will have been sent when the process dies: anywhere from
                    # the first frames to the last (COMMIT comes after about size * 1.02).
                    reach = size if attempt == 0 else size + size // 20
                    kill_at = relay.to_mcu + rng.randrange(2000, reach)
                    last = attempt == 3
                    proc = subprocess.Popen([*command, str(script), *map(str, args)],
                                            env=mp.env, stdout=subprocess.PIPE,
                                            stderr=subprocess.PIPE, text=True)
                    try:
                        while proc.poll() is None:
                            if not last and relay.to_mcu >= kill_at:
                                proc.kill()
                                kills += 1
                                break
                            time.sleep(0.001)
                        out, counts = proc.communicate(timeout=120)
                        downloaded += int(([0] + counts.split())[-1])
                    finally:
                        if proc.poll() is None:
                            proc.kill()
                            proc.wait()
                    if proc.returncode == 0:
                        break
                got = json.loads(out.splitlines()[-1])
            summary = mcu.summary()
    finally:
        server.stop()
    assert kills >= 1  # the first comes before the MCU was sent the whole image
    assert got["ok"], got
    assert_installed(summary, sent)
    assert not record.exists()
    # Every byte once, plus per kill at most a window: what the killed process had downloaded
    # beyond where the next one resumed (the record's offset or the MCU's, the lower). The
    # server also counts what TCP had in flight on the killed connection and on the one a
    # resume behind the record closes.
    assert size <= downloaded <= size + kills * WINDOW, (kills, downloaded, got)
    assert downloaded <= server.body_bytes <= downloaded + kills * 2 * IN_FLIGHT, (kills, got)
