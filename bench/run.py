"""./build.sh bench: runs every benchmark and writes one JSON file.

    python3 bench/run.py build/bench.json      (MicroPython: $QSOTA_MICROPYTHON)

Each bench/<name>_bench.py defines run(micropython) -> dict: it measures, prints its own
table, and returns its top-level sections (e.g. {"verify": {...}}), merged here into the
JSON (a list, such as "transfer", is extended by each benchmark that returns one).
Benchmarks report numbers and targets; they never fail on a missed target.
"""

import importlib
import json
import os
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
DEFAULT_MICROPYTHON = BENCH.parent / "build" / "unix" / "micropython"


def main(out):
    micropython = os.environ.get("QSOTA_MICROPYTHON", str(DEFAULT_MICROPYTHON))
    sys.path.insert(0, str(BENCH))
    results = {}
    for path in sorted(BENCH.glob("*_bench.py")):
        print("== %s" % path.stem)
        for key, value in importlib.import_module(path.stem).run(micropython).items():
            if isinstance(value, list) and isinstance(results.get(key), list):
                results[key] += value
            else:
                results[key] = value
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(results, indent=2) + "\n")
    print("wrote %s" % out)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python3 bench/run.py OUT.json")
    main(sys.argv[1])
