"""Parity, checked: the sessions the seeded Rust tests record (src/trace.rs, written by
`cargo test` to build/traces/) replayed on `_qsota` and on `qsota.pure`, which must return the
same actions, frames and stats at every step. Where a recording is missing, the core's tests
are run first to make it (`cargo test -p qsota --lib`)."""

import subprocess

import pytest

from support.micropython import BACKENDS, ROOT

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
    "native-clean": 1500,
    "native-lossy": 20000,
    "native-hopeless": 50000,
    "native-mcu-reset": 10000,
    "native-new-send": 20000,
    "native-other-image": 20000,
    "native-wrong-image": 300,
    "native-truncated": 30,
    "stm32-sizes": 1200,
    "stm32-read-protected": 15,
    "stm32-read-back": 100,
    "mcuboot-seeded-faults": 20000,
}


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


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_trace_replays_identically(mp, traces, backend, name):
    path = traces / (name + ".jsonl")
    if not path.exists():
        pytest.fail("missing trace %s: the core's tests did not record it" % path, pytrace=False)
    code = "import json, replay\nprint(json.dumps(replay.replay(%r)))\n" % str(path)
    result = mp.json(code, backend, timeout=600)
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
