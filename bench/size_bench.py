"""The footprint on the real targets (`./build.sh size`, scripts/cross.sh) in the benchmark
record: build/size.json as written by cross_size, one entry per artifact, e.g.
{"module-cortex-a5": {"text": ..., "data": ..., "bss": ..., "code": ..., "rodata": ...,
"crc_tables": ...}, "context-verifier": {"ram": 512}, ...}.
"""

import json
from pathlib import Path

SIZE_JSON = Path(__file__).resolve().parent.parent / "build" / "size.json"


def run(micropython):
    if not SIZE_JSON.exists():
        print("no %s: run ./build.sh size" % SIZE_JSON)
        return {}
    sizes = json.loads(SIZE_JSON.read_text())
    for name, fields in sorted(sizes.items()):
        print("%-22s %s" % (name, " ".join("%s=%d" % kv for kv in sorted(fields.items()))))
    return {"size": sizes}
