# tlv_hash of each file in argv[1:] from its two ends, as qsota.mcuboot reads them (head 256
# bytes, tail from argv's offsets), and of the whole file; then the refusals of bad arguments.
import json
import sys

import qsota
from qsota import _bound

tlv_hash = _bound.backend.tlv_hash


def hexed(h):
    return None if h is None else "".join("%02x" % b for b in h)


out = []
for arg in sys.argv[1:]:
    path, at = arg.rsplit("=", 1)
    at = int(at)
    with open(path, "rb") as f:
        data = f.read()
    out.append([hexed(tlv_hash(data, b"", len(data))),
                hexed(tlv_hash(data[:256], data[at:], at))])
for args in ((b"", b"", -1), ("head", b"", 0), (b"", bytearray(2), 1 << 32), (b"", 5, 0)):
    try:
        tlv_hash(*args)
        out.append("ok")
    except (TypeError, ValueError) as e:
        out.append("%s: %s" % (type(e).__name__, e))
print(json.dumps(out))
