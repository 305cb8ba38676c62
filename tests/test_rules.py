"""The senders' argument rules are written once (python/qsota/rules.py): the C module reads
them from cmodule/rules.h, which must be what scripts/rules_h.py writes from them, and both
backends bind arguments alike (tests/test_arg_parity.py fuzzes the checks themselves)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_committed_rules_header_is_what_the_generator_writes():
    generated = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "rules_h.py")],
        check=True, capture_output=True, text=True,
    ).stdout
    committed = (ROOT / "cmodule" / "rules.h").read_text()
    assert committed == generated, "cmodule/rules.h is stale: run scripts/rules_h.py --write"


BINDING = """
import json, qsota
calls = (
    ("YmodemSender", ("fw.bin",), {}),
    ("YmodemSender", ("fw.bin", 10, 1024, 1, 1, 1, 1, 1, 0, 9), {}),
    ("YmodemSender", ("fw.bin", 10), {"name": "x"}),
    ("YmodemSender", (), {"bogus": 1}),
    ("YmodemSender", (), {"size": 1, "name": b"a"}),
    ("LinkSender", (10,), {}),
    ("LinkSender", (10, bytes(32), "c", "v", 0, 1000, 3, 0), {}),
    ("Stm32Sender", (), {"size": 256, "go": False, "address": 0x08004000}),
    ("SmpSender", (10, bytes(32)), {"enter": 1}),
    ("SmpSender", (10, memoryview(bytes(32)), bytearray(32)), {"reset": []}),
)
out = []
for name, args, kw in calls:
    try:
        getattr(qsota, name)(*args, **kw)
        out.append("ok")
    except Exception as e:
        out.append("%s: %s" % (type(e).__name__, e))
print(json.dumps(out))
"""


def test_both_backends_bind_arguments_alike(mp):
    got = mp.both(BINDING)
    assert got == [
        "TypeError: 'size' argument required",
        "TypeError: extra positional arguments given",
        "TypeError: extra keyword arguments given",
        "TypeError: unexpected keyword argument 'bogus'",
        "ok",
        "TypeError: 'sha256' argument required",
        "ok",
        "ok",
        "TypeError: 'hash' argument required",
        "ok",
    ]
