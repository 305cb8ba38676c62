"""tests/test_rules.py: how each backend binds the senders' constructor arguments (one outcome
per call, as JSON)."""

import json, qsota
calls = (
    ("YmodemSender", ("fw.bin",), {}),
    ("YmodemSender", ("fw.bin", 10, 1024, 1, 1, 1, 1, 1, 0, False, 9), {}),
    ("YmodemSender", ("fw.bin", 10), {"name": "x"}),
    ("YmodemSender", (), {"bogus": 1}),
    ("YmodemSender", (), {"size": 1, "name": b"a"}),
    ("NativeSender", (10,), {}),
    ("NativeSender", (10, bytes(32), "c", "v", 0, 1000, 3, 0), {}),
    ("Stm32Sender", (), {"size": 256, "go": False, "address": 0x08004000}),
    ("McubootSender", (10, bytes(32)), {"enter": 1}),
    ("McubootSender", (10, memoryview(bytes(32)), bytearray(32)), {"reset": []}),
)
out = []
for name, args, kw in calls:
    try:
        getattr(qsota, name)(*args, **kw)
        out.append("ok")
    except Exception as e:
        out.append("%s: %s" % (type(e).__name__, e))
print(json.dumps(out))
