"""Parity, checked: the sessions the seeded Rust tests record (src/trace.rs, written by
`cargo test` to build/traces/) replayed on `_qsota`, on `qsota.pure` and on `qsota.pure` on
the 32-bit interpreter ("pure32"), which must return the same actions, frames and stats at
every step; and each sender's data phase allocates nothing per block. Where a recording is
missing, the core's tests are run first to make it (`cargo test -p qsota --lib`)."""

import subprocess

import pytest

from support.micropython import BACKENDS, PURE32, ROOT, WITH_32

TRACES = ROOT / "build" / "traces"

# The recordings the Rust tests make (src/{ymodem,native,stm32,mcuboot}/tests.rs): a missing file
# means a test stopped recording, which must not pass unnoticed.
EXPECTED = {
    "ymodem-clean": 350,
    "ymodem-block-sizes": 50,
    "ymodem-wrap": 1000,
    "ymodem-lost-acks": 500,
    "ymodem-padding-probe": 20,
    "ymodem-lost-and-corrupt": 100,
    "ymodem-seeded-faults": 9000,
    "ymodem-restart-256": 3000,
    "ymodem-deferred": 150,
    "ymodem-deferred-check": 40,
    "native-clean": 1500,
    "native-lossy": 20000,
    "native-hopeless": 50000,
    "native-mcu-reset": 10000,
    "native-new-send": 20000,
    "native-other-image": 20000,
    "native-wrong-image": 300,
    "native-truncated": 30,
    "native-deferred": 3000,
    "native-deferred-check": 200,
    "native-delta": 600,
    "native-delta-streamed": 3000,
    "stm32-sizes": 1200,
    "stm32-read-protected": 15,
    "stm32-read-back": 100,
    "mcuboot-seeded-faults": 20000,
}
# The delta applier's sessions (src/delta/tests.rs) replay on qsota.pure.delta through
# tests/mp/replay_delta.py (and on pure32); `_qsota` has no delta binding yet (issue 20,
# phase 2).
DELTA = {
    "delta-edits": 10000,
    "delta-damage": 2000,
    "delta-faults": 100,
}
EXPECTED.update(DELTA)
CASES = [
    (name, backend)
    for name in sorted(EXPECTED)
    for backend in WITH_32
    if name not in DELTA or backend != "native"
]


def _replay_code(name, path):
    module = "replay_delta" if name in DELTA else "replay"
    return "import json, %s\nprint(json.dumps(%s.replay(%r)))\n" % (module, module, str(path))


@pytest.fixture(scope="module")
def traces():
    """build/traces, recorded now by the core's tests if any expected file is missing."""
    if not all((TRACES / (name + ".jsonl")).exists() for name in EXPECTED):
        run = subprocess.run(["cargo", "test", "-q", "-p", "qsota", "--lib"], cwd=ROOT,
                             capture_output=True, text=True)
        if run.returncode != 0:
            why = run.stdout[-3000:] + run.stderr[-3000:]
            pytest.fail("cargo test -p qsota --lib failed:\n" + why, pytrace=False)
    return TRACES


def test_every_recording_exists_and_nothing_else(traces):
    found = {p.stem for p in traces.glob("*.jsonl")}
    assert found == set(EXPECTED)


@pytest.mark.parametrize("name,backend", CASES)
def test_trace_replays_identically(mp, traces, backend, name):
    path = traces / (name + ".jsonl")
    if not path.exists():
        pytest.fail("missing trace %s: the core's tests did not record it" % path, pytrace=False)
    result = mp.json(_replay_code(name, path), backend, timeout=600)
    assert result["mismatch"] is None, result
    assert result["sessions"] >= 1
    assert result["steps"] >= EXPECTED[name], result


def test_a_changed_frame_is_caught(mp, traces, tmp_path):
    """The replay can fail: one bit of one recorded frame changed gives a mismatch there."""
    lines = (traces / "ymodem-lost-acks.jsonl").read_text().splitlines()
    i = next(i for i, line in enumerate(lines) if line.startswith('["p", ') and ', 1, ' in line)
    head, frame = lines[i].rsplit(', "', 1)
    lines[i] = head + ', "' + ("1" if frame[0] == "0" else "0") + frame[1:]
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n")
    code = "import json, replay\nprint(json.dumps(replay.replay(%r)))\n" % str(bad)
    for backend in BACKENDS:
        result = mp.json(code, backend)
        assert result["mismatch"] is not None, result
        heads = sum(1 for line in lines[: i + 1] if line.startswith("{"))
        assert result["mismatch"]["step"] == i + 1 - heads, result


# One recording per protocol with a session of 60 blocks or more, on each backend and on the
# 32-bit interpreter (31-bit small ints, as on the module). There binascii.crc32's result is a
# long int once it reaches 2**30 (three times in four): where the port has binascii.crc32
# (this unix port, custom firmware), the pure native sender's frames cost that int each, the
# data frame's and its ACK's (a long int is 32 bytes here). Stock QuecPython has no
# binascii.crc32: the last test replays without it, and nothing may be allocated.
BINASCII_LONG_INTS = {"native-mcu-reset": 2 * 32}
NATIVE_WITHOUT_BINASCII = "import qsota.pure.native as n\nn._crc32 = None\n"


def _alloc_per_block(mp, traces, name, backend, prelude=""):
    path = traces / (name + ".jsonl")
    code = prelude + "import json, replay\nprint(json.dumps(replay.alloc_per_block(%r)))\n"
    return mp.json(code % str(path), backend)


@pytest.mark.parametrize("backend", WITH_32)
@pytest.mark.parametrize(
    "name", ["ymodem-wrap", "native-mcu-reset", "stm32-sizes", "mcuboot-seeded-faults"]
)
def test_senders_allocate_nothing_per_block(mp, traces, backend, name):
    result = _alloc_per_block(mp, traces, name, backend)
    bound = BINASCII_LONG_INTS.get(name, 0) if backend == PURE32 else 0
    assert result["per_block"] <= bound, result


def test_the_pure_native_sender_allocates_nothing_per_block_on_stock_quecpython(mp, traces):
    """31-bit small ints and no binascii.crc32: the frames' CRC-32 stays in 24- and 8-bit
    parts and goes into the frame as bytes (qsota.pure.native._crc_of)."""
    result = _alloc_per_block(mp, traces, "native-mcu-reset", PURE32, NATIVE_WITHOUT_BINASCII)
    assert result["per_block"] == 0, result


def test_a_changed_delta_write_is_caught(mp, traces, tmp_path):
    """The delta replay can fail: one bit of one recorded write changed gives a mismatch."""
    lines = (traces / "delta-edits.jsonl").read_text().splitlines()
    i = next(i for i, line in enumerate(lines) if line.startswith('["w", '))
    lines[i] = lines[i][:8] + ("1" if lines[i][8] == "0" else "0") + lines[i][9:]
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n")
    result = mp.json(_replay_code("delta-edits", bad), "pure")
    assert result["mismatch"] is not None and result["mismatch"]["what"] == "push", result
