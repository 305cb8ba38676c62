"""tests/test_rules.py: the senders' methods refusing bad arguments, on the bound backend
(JSON)."""

import json, qsota
s = qsota.Stm32Sender(256)
calls = (
    (s.poll, ("soon", bytearray(300))),
    (s.poll, (0, b"frame")),
    (s.receive, (0, "text")),
    (s.receive, (0, b"abc", 4)),
    (s.receive, (0, b"abc", 1.5)),
    (s.provide, (-1,)),
)
out = []
for f, args in calls:
    try:
        f(*args)
        out.append("ok")
    except Exception as e:
        out.append("%s: %s" % (type(e).__name__, e))
print(json.dumps(out))
