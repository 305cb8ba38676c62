"""tests/test_rules.py: the Verifier's constructor and methods refusing bad arguments (JSON)."""

import json, qsota
calls = (
    lambda: qsota.Verifier(md5="0" * 31),
    lambda: qsota.Verifier(sha256=b"g" * 64),
    lambda: qsota.Verifier(md5=1),
    lambda: qsota.Verifier(crc="12x"),
    lambda: qsota.Verifier(crc=1 << 32),
    lambda: qsota.Verifier(crc=1.5),
    lambda: qsota.Verifier(size=True),
    lambda: qsota.Verifier(size=-1),
    lambda: qsota.Verifier(crc_variant="crc16"),
    lambda: qsota.Verifier(None, None, None, None, None, []),
    lambda: qsota.Verifier(size=1, bogus=1),
    lambda: qsota.Verifier(md5="0" * 31, size=-1),
    lambda: qsota.Verifier().update("text"),
    lambda: qsota.Verifier().hexdigest(1),
    lambda: qsota.Verifier().hexdigest("sha1"),
    lambda: qsota.Verifier().crc32("auto"),
    lambda: qsota.Verifier(None, None, "0x1", 0, None).crc32(),
    lambda: qsota.Verifier(keys=[bytes(32)] * 5),
    lambda: qsota.Verifier(keys=[bytes(32), 1]),
    lambda: qsota.Verifier(keys=[bytes(31)]),
    lambda: qsota.Verifier(keys=bytes(32)),
)
out = []
for f in calls:
    try:
        f()
        out.append("ok")
    except Exception as e:
        out.append("%s: %s" % (type(e).__name__, e))
print(json.dumps(out))
