"""Parity, checked: the sessions the seeded Rust tests record (src/trace.rs, written by
`cargo test` to build/traces/) replayed on `_qsota`, on `qsota.pure` and on `qsota.pure` on
the 32-bit interpreter (conftest.py: "pure32"), which must return the same actions, frames
and stats at every step; and each sender's data phase allocates nothing per block."""

import pytest

from conftest import BACKENDS, PURE32, ROOT, WITH_32

TRACES = ROOT / "build" / "traces"

# The recordings the Rust tests make (src/{ymodem,link,stm32,smp}/tests.rs): a missing file
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
    "link-clean": 1500,
    "link-lossy": 20000,
    "link-hopeless": 50000,
    "link-mcu-reset": 10000,
    "link-new-send": 20000,
    "link-other-image": 20000,
    "link-wrong-image": 300,
    "link-truncated": 30,
    "stm32-sizes": 1200,
    "stm32-read-protected": 15,
    "stm32-read-back": 100,
    "mcuboot-seeded-faults": 20000,
}


def test_every_recording_exists_and_nothing_else():
    if not TRACES.is_dir():
        pytest.fail("no traces in %s: run `cargo test` first" % TRACES, pytrace=False)
    found = {p.stem for p in TRACES.glob("*.jsonl")}
    assert found == set(EXPECTED)


@pytest.mark.parametrize("backend", WITH_32)
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_trace_replays_identically(mp, backend, name):
    path = TRACES / (name + ".jsonl")
    if not path.exists():
        pytest.fail("missing trace %s: run `cargo test` first" % path, pytrace=False)
    code = "import json, replay\nprint(json.dumps(replay.replay(%r)))\n" % str(path)
    result = mp.json(code, backend, timeout=600)
    assert result["mismatch"] is None, result
    assert result["sessions"] >= 1
    assert result["steps"] >= EXPECTED[name], result


def test_a_changed_frame_is_caught(mp, tmp_path):
    """The replay can fail: one bit of one recorded frame changed gives a mismatch there."""
    lines = (TRACES / "ymodem-lost-acks.jsonl").read_text().splitlines()
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


# One recording per protocol with a session of 60 blocks or more. On the 32-bit interpreter
# (31-bit small ints, as on the module) two pure senders still make long ints per frame:
# issue 25's sweep.
LONG_INTS = {
    "link-mcu-reset": "pure/link.py: the frames' CRC-32 (crc32, _put32, _u32) is a long int on a "
    "31-bit port",
    "stm32-sizes": "pure/stm32.py _complete: `(now - self._mark) & 0xFFFFFFFF`, a long-int "
    "operation per answered command on a 31-bit port",
}


@pytest.mark.parametrize("backend", WITH_32)
@pytest.mark.parametrize(
    "name", ["ymodem-wrap", "link-mcu-reset", "stm32-sizes", "mcuboot-seeded-faults"]
)
def test_senders_allocate_nothing_per_block(mp, backend, name, request):
    if backend == PURE32 and name in LONG_INTS:
        request.applymarker(pytest.mark.xfail(strict=True, reason=LONG_INTS[name]))
    path = TRACES / (name + ".jsonl")
    code = "import json, replay\nprint(json.dumps(replay.alloc_per_block(%r)))\n" % str(path)
    result = mp.json(code, backend)
    assert result["per_block"] == 0, result
