"""Differential fuzzing of the argument checks: the same seeded random calls (tests/mp/argfuzz.py)
on `_qsota` and on `qsota.pure` must raise the same exception type with the same message."""

import json

import pytest

SEEDS = range(16)
CALLS = 500


@pytest.mark.parametrize("seed", SEEDS)
def test_both_backends_answer_random_arguments_alike(mp, seed):
    # A line per case: one JSON text of all 500 needs a block of ~80 KB, which a 1 MB heap
    # that the fuzzed calls fragmented may not have.
    code = ("import json, argfuzz\nfor case in argfuzz.cases(%d, %d):\n"
            "    print(json.dumps(case))\n" % (seed, CALLS))
    native, pure = ([json.loads(line) for line in mp.run(code, b).splitlines()]
                    for b in ("native", "pure"))
    assert len(native) == len(pure)
    differ = [(n[0], n[1], p[1]) for n, p in zip(native, pure) if n != p]
    assert not differ, "\n".join("%s\n  native: %s\n  pure:   %s" % d for d in differ[:10])
    # The fuzzing reaches past the constructors and into the errors, not only one of them.
    outcomes = [o for _, o in native]
    assert sum(o == "ok" for o in outcomes) > CALLS // 4
    assert sum(o.startswith("TypeError") for o in outcomes) > 10
    assert sum(o.startswith("ValueError") for o in outcomes) > 10
