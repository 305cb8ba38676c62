"""qsota.send(protocol='native') on both backends against the real native receiver in the MCU
simulator (`qsota-mcu --personality native`): clean transfers, seeded line faults, an MCU
reset mid-transfer, a module-side restart that resumes, a different image that starts from
zero, a wrong or truncated image that is never committed, identical frames from both
backends, and clear errors for bad arguments. The Rust tests (src/native/tests.rs) add the
protocol's own matrix: lossy/reordering lines, power cuts at every flash operation."""

import hashlib
import json

import pytest
from support.micropython import BACKENDS, PRELUDE, WITH_32
from support.mcu import Mcu
from support.transfer_runs import ERRORS, SESSION, Transfer, fault_runs, image, line_faults

# A fast line and instant flash keep runs short; the window is what a 4200-byte FIFO (the
# bootloader's DMA ring) holds, 4 frames, plus the pipelined receiver's second frame buffer.
WINDOW = 5 * 1024
STM32F4 = dict(personality="native", baud=921600, flash_scale=0, fifo=4200)
NATIVE = dict(STM32F4, sector_size="2K", flash_size="256K")
FAULT_SEEDS = 15


def native(mp, backend, path, mcu_options=NATIVE, **send_options):
    """A native send into a new simulator."""
    return Transfer(mp, backend, path, mcu_options, protocol="native", component="mcu",
                    version="2.0", **send_options)


def run(mp, backend, path, **send_options):
    """One native send into the NATIVE simulator: (result, summary)."""
    return native(mp, backend, path, **send_options).result()


def committed(summary, data):
    """The MCU holds exactly `data`, committed (read back and matched)."""
    return (
        summary["result"] == "ok"
        and summary["size"] == len(data)
        and summary["sha256"] == hashlib.sha256(data).hexdigest()
    )


@pytest.mark.parametrize("backend", WITH_32)
@pytest.mark.parametrize("size", (1, 1024, 1025, 70_001))
def test_clean_transfers(mp, tmp_path, backend, size):
    """A line that loses nothing carries the image with the protocol's framing. The line is
    real time: a host that stalls the sender past its adaptive timeout (seen under a load of
    7 on two cores) makes it resend, which costs line bytes but must not cost correctness,
    so what is resent is accounted for rather than forbidden."""
    path, data = image(tmp_path, size)
    result, summary = run(mp, backend, path)
    assert result["ok"], (result, summary)
    faults = summary["faults"]
    assert faults["bitflips"] == faults["dropped"] == faults["overruns"] == 0, faults
    assert faults["reply_bitflips"] == faults["reply_dropped"] == 0, faults
    stats = result["stats"]
    assert stats["bytes"] == size
    assert (stats["window"], stats["payload"]) == (5, 1024)
    # Every DATA frame carries new bytes unless it is a resend; 14 bytes of framing per
    # frame, plus OPEN and COMMIT (repeated only by a retry).
    frames = (size + 1023) // 1024
    resent = stats["resent_bytes"]
    assert frames <= stats["frames"] <= frames + (resent + 1023) // 1024 + stats["retries"]
    # A timeout of OPEN or COMMIT, or one answered by the receiver's `next` at the end of
    # what was sent, is a retry that resends no DATA: only the converse holds.
    if stats["retries"] == 0:
        assert (stats["frames"], resent) == (frames, 0), stats
    overhead = 14 * stats["frames"] + 70 * (1 + stats["retries"])
    assert stats["line_bytes"] <= size + resent + overhead
    assert committed(summary, data), summary


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_empty_image_is_refused_by_the_receiver(mp, tmp_path, backend):
    """qsota.send refuses 0 bytes unless allow_empty=True; the receiver refuses them anyway
    (ERROR size), so that no sender can commit an MCU without an application."""
    path, _ = image(tmp_path, 0)
    result, summary = run(mp, backend, path, allow_empty=True)
    assert not result["ok"] and result["code"] == "rejected", result
    assert "the receiver refused the image (size)" in result["message"]
    assert summary["app_state"] == "old"


@pytest.mark.parametrize("buffers, fifo, window", ((1, 256, 1), (2, 256, 2), (1, 4200, 4)))
def test_the_window_follows_the_fifo_and_the_receivers_buffers(mp, tmp_path, buffers, fifo,
                                                               window):
    # Real flash times (the STM32F4's 4.1 ms per KiB): the pipelined receiver programs in
    # chunks while the next frame arrives into its 256-byte FIFO.
    path, data = image(tmp_path, 20_000)
    options = dict(NATIVE, flash_scale=1, erase_ms=5, fifo=fifo, rx_buffers=buffers)
    result, summary = native(mp, "native", path, options).result()
    assert result["ok"], (result, summary)
    assert result["stats"]["window"] == window
    assert committed(summary, data), summary


def test_stm32f4_sectors(mp, tmp_path):
    # The default flash: STM32F4 sectors of 16 to 128 KiB; the record in the last (128 KiB).
    path, data = image(tmp_path, 200_000)
    result, summary = native(mp, "native", path, STM32F4).result()
    assert result["ok"], (result, summary)
    assert committed(summary, data), summary


@pytest.mark.heavy
def test_seeded_line_faults_end_exact_or_in_a_clean_error(mp, tmp_path):
    cases = [(backend, seed) for backend in BACKENDS for seed in range(FAULT_SEEDS)]

    def start(case):
        backend, seed = case
        path, data = image(tmp_path / ("%s-%d" % case), 20_000 + seed * 1500, seed=seed)
        options = dict(NATIVE, **line_faults(seed, reply_factor=5))
        return native(mp, backend, path, options, rto_ms=300), data

    def check(result, summary, data):
        if result["ok"]:
            assert committed(summary, data), (result, summary)
        else:
            assert result["code"] in ("timeout", "retries"), result
            assert summary["result"] != "ok", summary
            assert summary["app_state"] == "old", summary

    outcomes = fault_runs(cases, start, check)
    print("native seeded fault runs:", len(cases), outcomes)
    # Go-back-N recovers from these rates: every run must get through.
    assert outcomes["exact"] == len(cases), outcomes


def test_an_mcu_reset_resumes_and_resends_at_most_one_window(mp, tmp_path, backend):
    path, data = image(tmp_path, 100_000)
    result, summary = native(mp, backend, path, dict(NATIVE, reset_at=50_000)).result()
    assert result["ok"], (result, summary)
    assert summary["faults"]["resets"] == 1
    assert 0 < result["stats"]["resent_bytes"] <= WINDOW, result
    assert committed(summary, data), summary


# Two sends on one connection: the first stops at half way (the module's script dies: an
# exception from `progress`), the second is a fresh `qsota.send` of `second`.


def restart(mp, backend, first, second):
    with Mcu(**NATIVE) as mcu:
        out = mp.run("import native_restart", backend, args=[mcu.port, first, second],
                     timeout=60)
        return json.loads(out.strip().splitlines()[-1]), mcu.summary()


def test_a_module_restart_resumes_from_the_receivers_offset(mp, tmp_path, backend):
    path, data = image(tmp_path, 100_000)
    result, summary = restart(mp, backend, path, path)
    assert result["ok"], (result, summary)
    stopped, stats = result["stopped"], result["stats"]
    assert stopped >= 50_000
    # Everything the first send had sent, less at most the window in flight, was kept.
    assert stopped - WINDOW <= stats["resumed_from"] <= stopped, result
    assert stats["resent_bytes"] == 0
    assert stats["bytes"] == len(data)
    assert committed(summary, data), summary


def test_a_different_image_after_an_interruption_starts_from_zero(mp, tmp_path, backend):
    old, _ = image(tmp_path, 60_000, "old.bin", seed=1)
    new, data = image(tmp_path, 60_000, "new.bin", seed=2)
    result, summary = restart(mp, backend, old, new)
    assert result["ok"], (result, summary)
    assert result["stopped"] >= 30_000
    assert result["stats"]["resumed_from"] == 0
    assert committed(summary, data), summary


def test_a_wrong_image_is_refused_and_never_committed(mp, tmp_path, backend):
    path, data = image(tmp_path, 30_000)
    wrong = hashlib.sha256(data + b"x").hexdigest()
    result, summary = run(mp, backend, path, sha256=wrong)
    assert not result["ok"], result
    assert result["code"] == "rejected"
    assert "refused the image (digest)" in result["message"], result
    assert summary["result"] != "ok", summary
    assert summary["app_state"] == "old", summary  # the running application was never touched


def test_a_truncated_source_fails_and_nothing_is_committed(mp, tmp_path, backend):
    path, data = image(tmp_path, 30_000)
    with Mcu(**NATIVE) as mcu:
        result = mp.json("import native_truncated", backend=backend,
                         args=[50_000, 30_000, path, mcu.port], timeout=60)
        summary = mcu.summary()
    assert result["code"] == "source", result
    assert summary["result"] != "ok" and summary["bytes"] <= 30_000, summary
    assert summary["app_state"] == "old", summary


# Scripted sessions (SESSION) of a native sender: `native_session(cls, **opts)` runs one with
# ANSWERS, which a script defines after this, built with `answer` and `le`.
NATIVE_SESSION = SESSION + """
import _qsota
from qsota.pure import native
IMAGE = bytes(range(256)) * 13 + b"tail"

def answer(kind, payload):
    f = bytearray(64)
    f[6:6 + len(payload)] = payload
    return bytes(f[:native._seal(f, kind, len(payload), {})])

def le(v, n=4):
    return bytes((v >> (8 * i)) & 255 for i in range(n))

def native_session(cls, **opts):
    s = cls(len(IMAGE), hashlib.sha256(IMAGE).digest(), b"mcu", "2.0", **opts)
    return session(s, IMAGE, ANSWERS, 300)
"""

# One scripted session, the same on both backends: every action and every frame must match.
SCRIPT = NATIVE_SESSION + """
ACCEPT = answer(0x81, b"\\x01\\x00" + le(1024, 2) + le(2, 2) + le(50, 2) + le(0))
# Answers after successive frames; None: silence (the sender's timeout passes).
ANSWERS = [ACCEPT, None, answer(0x82, le(1024)), answer(0x83, le(1024)), None,
           answer(0x85, b"\\x05" + le(0)), ACCEPT[:9], ACCEPT[9:] + answer(0x82, le(2048)),
           answer(0x82, le(3072)), answer(0x82, le(len(IMAGE))), None,
           answer(0x84, le(len(IMAGE)))]

for opts in ({"rto_ms": 100}, {"rto_ms": 30, "retries": 1, "open_timeout_ms": 500}):
    compare(native_session(_qsota.NativeSender, **opts), native_session(native.NativeSender, **opts))
"""


def test_both_backends_make_identical_frames(mp):
    lines = mp.run(SCRIPT, backend=None).strip().splitlines()
    assert len(lines) == 2
    (same, steps, end, _), (same2, steps2, end2, _) = map(json.loads, lines)
    assert same and same2, lines
    assert steps > 15 and steps2 > 5
    assert end[:3] == ["end", 4, None], end  # DONE after a NAK, a timeout and a reset
    assert end[3]["reopens"] == 1 and end[3]["resent_bytes"] > 0, end
    assert end2[:3] == ["end", 5, "retries"], end2


# The adaptive timer (rto_ms 0, the default) on both backends: the same frames, the same
# waits (its timeouts), the same final timeout, through losses and a silence at the end.
ADAPTIVE = NATIVE_SESSION + """
def accept(resume):
    return answer(0x81, b"\\x01\\x00" + le(1024, 2) + le(1, 2) + le(40, 2) + le(resume))

# Window 1: OPEN, DATA 0, DATA 1 lost (a timeout, a probe), DATA 1, 2, DATA 3 lost, COMMIT.
ANSWERS = [accept(0), answer(0x82, le(1024)), None, accept(1024), answer(0x82, le(2048)),
           answer(0x82, le(3072)), None, accept(3072), answer(0x82, le(len(IMAGE))),
           answer(0x84, le(len(IMAGE)))]

for opts in ({}, {"baud": 9600}):
    compare(native_session(_qsota.NativeSender, **opts), native_session(native.NativeSender, **opts))
"""


def test_both_backends_run_the_adaptive_timer_alike(mp):
    lines = mp.run(ADAPTIVE, backend=None).strip().splitlines()
    assert len(lines) == 2
    (same, _, end, _), (same2, _, end2, _) = map(json.loads, lines)
    assert same and same2, lines
    assert end[:3] == ["end", 4, None] and end2[:3] == ["end", 4, None], lines
    assert end[3]["retries"] == end2[3]["retries"] == 2, lines
    # The timeout followed the 3 ms round trips (doubled by the last loss); at 9600 baud a
    # frame takes 1082 ms on the line, more than the longest timeout (busy_ms 40 + 1000).
    assert 3 < end[3]["rto_ms"] < 100, end
    assert end2[3]["rto_ms"] == 1040, end2


BAD = ERRORS + """
sha = b"\\x00" * 32
err(lambda: qsota.send(Port(), "{path}", protocol="native", sha256="00"))
err(lambda: qsota.send(Port(), "{path}", protocol="native", sha256="zz" * 32))
err(lambda: qsota.send(Port(), "{path}", protocol="native", component="c" * 33))
err(lambda: qsota.send(Port(), "{path}", protocol="native", open_timeout_ms=50))
err(lambda: qsota.NativeSender(-1, sha))
err(lambda: qsota.NativeSender(1 << 32, sha))
err(lambda: qsota.NativeSender(True, sha))
err(lambda: qsota.NativeSender(1, "00" * 32))
err(lambda: qsota.NativeSender(1, sha, version=3))
err(lambda: qsota.NativeSender(1, sha, rto_ms=-5))
err(lambda: qsota.NativeSender(1, sha, open_timeout_ms=0))
err(lambda: qsota.NativeSender(1, sha, retries=256))
err(lambda: qsota.NativeSender(1, sha, delta=5))
err(lambda: qsota.NativeSender(1, sha, delta=b"\\x10\\xde\\xcd\\xfc"))
err(lambda: qsota.NativeSender(1, sha, delta=bytes(70)))
err(lambda: qsota.NativeSender(1, sha, delta=b"\\x10\\xde\\xcd\\xfc" + bytes(66)))
err(lambda: qsota.NativeSender(1, sha, delta=b"\\x10\\xde\\xcd\\xfc" + bytes(32) + b"QSD1" + bytes(24)))
s = qsota.NativeSender(1, sha)
err(lambda: s.poll(0, b"x" * 2000))
err(lambda: s.receive(0, "text"))
err(lambda: s.receive(0, b"abc", 4))
err(lambda: s.receive(0, b"abc", -1))
err(lambda: s.receive(0, b"abc", "2"))
err(lambda: s.receive(0, b"abc", 0))
small = bytearray(100)  # too small for a frame: the sender gives up, ABORT goes out
print([s.poll(0, small) for _ in range(4)], s.error)
"""


def test_bad_arguments_raise_clear_errors(mp, tmp_path, backend):
    code = BAD.format(path=tmp_path / "ten.bin")
    lines = mp.run(code, backend=backend).strip().splitlines()
    assert lines == [
        "ValueError  sha256: must be 32 bytes",
        "ValueError  sha256: expected 64 hex digits",
        "ValueError  component: must be at most 32 bytes",
        "TransferError timeout native: the receiver did not answer (block 0, 0 of 10 bytes "
        "acknowledged)",
        "ValueError  size: must be 0 to 4294967295",
        "ValueError  size: must be 0 to 4294967295",
        "TypeError  size: expected int, got bool",
        "TypeError  sha256: expected bytes, got str",
        "TypeError  version: expected str or bytes, got int",
        "ValueError  rto_ms: must be 0 to 2147483647",
        "ValueError  open_timeout_ms: must be 1 to 2147483647",
        "ValueError  retries: must be 0 to 255",
        "TypeError  delta: expected bytes, got int",
        "ValueError  delta: truncated: the patch or package ended before the target was complete",
        "ValueError  delta: magic: not a delta package (magic)",
        "ValueError  delta: no_extension: a package made for ESP: without qsota's extension the "
        "target cannot be checked",
        "ValueError  delta: truncated: the patch or package ended before the target was complete",
        "TypeError  frame: expected a writable buffer of bytes, got bytes",
        "TypeError  data: expected a bytes-like object, got str",
        "ValueError  n: must be 0..len(data)",
        "ValueError  n: must be 0..len(data)",
        "TypeError  n: expected int, got str",
        "no error",
        "[1, 5, 5, 5] usage",
    ], lines
