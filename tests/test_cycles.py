"""No file depends on itself through others, in any of the three languages (issue 24):
scripts/cycles.py builds each graph (Python imports, Rust module paths, C symbols by nm
over the objects of the MicroPython build) and lists its cycles."""

import subprocess
import sys

import pytest

from support.micropython import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import cycles  # noqa: E402


@pytest.mark.parametrize("lang", ["python", "rust", "c"])
def test_no_dependency_cycles(lang):
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "cycles.py"), lang],
        capture_output=True, text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert " 0 cycles" in run.stdout


def test_a_cycle_is_found():
    """The finder can fail: a ring of three, a self-loop, and a tree without a cycle."""
    assert cycles.cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles.cycles({"a": {"a"}}) == [["a"]]
    assert cycles.cycles({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []
