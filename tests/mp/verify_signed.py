"""tests/test_image.py: verify_file with keys on each image (argv: the buffer size, the keys
in hex, then path=indices of the trusted keys for each image; JSON rows)."""

from outcome import attempt
import json, sys, qsota

def check(path, keys, **kw):
    def run():
        v = qsota.verify_file(path, keys=keys, buf=bytearray(BUF), **kw)
        image = v.image
        if image is not None:  # JSON has no bytes
            image["body_sha256"] = "".join("%02x" % b for b in image["body_sha256"])
        return [image, v.hexdigest('sha256')]
    return attempt(run)

BUF = int(sys.argv[1])
keys = [bytes.fromhex(k) for k in sys.argv[2].split(',')]
rows = []
for arg in sys.argv[3:]:
    path, chosen = arg.split('=')
    rows.append(check(path, [keys[int(i)] for i in chosen.split(',')] if chosen else None))
print(json.dumps(rows))
