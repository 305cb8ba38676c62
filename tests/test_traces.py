"""Parity, checked: the sessions the seeded Rust tests record (src/trace.rs, written by
`cargo test` to build/traces/) replayed on `_qsota` and on `qsota.pure`, which must return the
same actions, frames and stats at every step."""

import pytest

from conftest import BACKENDS, ROOT

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
# The delta applier's sessions (src/delta/tests.rs) replay on qsota.pure.delta through
# tests/mp/replay_delta.py; `_qsota` has no delta binding yet (issue 20, phase 2).
DELTA = {
    "delta-edits": 10000,
    "delta-damage": 2000,
    "delta-faults": 100,
}
EXPECTED.update(DELTA)
CASES = [
    (name, backend)
    for name in sorted(EXPECTED)
    for backend in BACKENDS
    if name not in DELTA or backend == "pure"
]


def _replay_code(name, path):
    module = "replay_delta" if name in DELTA else "replay"
    return "import json, %s\nprint(json.dumps(%s.replay(%r)))\n" % (module, module, str(path))


def test_every_recording_exists_and_nothing_else():
    if not TRACES.is_dir():
        pytest.fail("no traces in %s: run `cargo test` first" % TRACES, pytrace=False)
    found = {p.stem for p in TRACES.glob("*.jsonl")}
    assert found == set(EXPECTED)


@pytest.mark.parametrize("name,backend", CASES)
def test_trace_replays_identically(mp, backend, name):
    path = TRACES / (name + ".jsonl")
    if not path.exists():
        pytest.fail("missing trace %s: run `cargo test` first" % path, pytrace=False)
    result = mp.json(_replay_code(name, path), backend, timeout=600)
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


def test_a_changed_delta_write_is_caught(mp, tmp_path):
    """The delta replay can fail: one bit of one recorded write changed gives a mismatch."""
    lines = (TRACES / "delta-edits.jsonl").read_text().splitlines()
    i = next(i for i, line in enumerate(lines) if line.startswith('["w", '))
    lines[i] = lines[i][:8] + ("1" if lines[i][8] == "0" else "0") + lines[i][9:]
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n")
    result = mp.json(_replay_code("delta-edits", bad), "pure")
    assert result["mismatch"] is not None and result["mismatch"]["what"] == "push", result
