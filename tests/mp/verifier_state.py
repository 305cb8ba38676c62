"""tests/test_verifier_state.py: a Verifier's state exported and restored (JSON).

    verifier_state export        -> the states after each SPLIT of IMAGE, per crc_variant
    verifier_state finish FILE   -> restores each state of FILE (JSON: hex, as `export`
                                    printed them), feeds the rest of IMAGE, prints md5,
                                    sha256 and the CRCs (a file: the unix port dies on a
                                    long argument)
    verifier_state refusals      -> what export() and restore() refuse, and how
"""

import json
import sys

import qsota
from outcome import attempt, plain

IMAGE = bytes((i * 7 + i // 13) & 0xFF for i in range(1000))
SPLITS = (0, 1, 55, 63, 64, 65, 127, 128, 999, 1000)
VARIANTS = ("auto", "mpeg2", "iso-hdlc")


def unhex(text):
    return bytes(int(text[i : i + 2], 16) for i in range(0, len(text), 2))


def cases():
    for variant in VARIANTS:
        for split in SPLITS:
            yield variant, split


def export():
    out = []
    for variant, split in cases():
        v = qsota.Verifier(crc_variant=variant, resumable=True)
        v.update(IMAGE[:split])
        out.append(plain(v.export()))
    return out


def finish(states):
    out = []
    for (variant, split), state in zip(cases(), states):
        v = qsota.Verifier(crc_variant=variant, resumable=True)
        v.restore(unhex(state))
        v.update(IMAGE[split:])
        crc = [v.crc32(x) for x in ("mpeg2", "iso-hdlc") if variant in ("auto", x)]
        out.append([variant, split, plain(v.md5()), plain(v.sha256()), crc])
    return out


def sealed(state):
    """`state` with its check value made right again (a damage the check cannot see)."""
    v = qsota.Verifier(crc_variant="iso-hdlc")
    v.update(state[:136])
    crc = v.crc32()
    return state[:136] + bytes((crc >> (8 * i)) & 0xFF for i in range(4))


def refusals():
    v = qsota.Verifier(resumable=True)
    v.update(IMAGE[:100])
    good = v.export()
    later = bytearray(good)
    later[4] = 2
    padded = bytearray(good)
    padded[72 + 40] = 1  # past the 36 bytes of the partial block
    flipped = bytearray(good)
    flipped[20] ^= 4

    def fresh(**kw):
        return qsota.Verifier(resumable=True, **kw)

    def used():
        u = fresh()
        u.update(b"x")
        return u

    def final():
        u = fresh()
        u.check()
        return u

    return [
        attempt(lambda: qsota.Verifier().export()),
        attempt(lambda: qsota.Verifier().restore(good)),
        attempt(lambda: final().export()),
        attempt(lambda: fresh().restore("x" * 140)),
        attempt(lambda: fresh().restore(12)),
        attempt(lambda: fresh().restore(good[:-1])),
        attempt(lambda: fresh().restore(good + b"\0")),
        attempt(lambda: used().restore(good)),
        attempt(lambda: final().restore(good)),
        attempt(lambda: fresh().restore(bytes(flipped))),
        attempt(lambda: fresh().restore(sealed(bytes(later)))),
        attempt(lambda: fresh().restore(sealed(bytes(padded)))),
        attempt(lambda: fresh(crc_variant="mpeg2").restore(good)),
        attempt(lambda: qsota.Verifier(keys=[bytes(32)], resumable=True)),
        attempt(lambda: qsota.Verifier(None, None, None, None, None, True)),
        # a refused state leaves the verifier fresh: a good one restores after it
        attempt(lambda: restore_after(bytes(flipped), good)),
        # memoryview and bytearray states are taken as bytes are
        attempt(lambda: fresh().restore(memoryview(bytearray(good)))),
    ]


def restore_after(bad, good):
    v = qsota.Verifier(resumable=True)
    try:
        v.restore(bad)
    except ValueError:
        pass
    v.restore(good)
    return v.export() == good


mode = sys.argv[1]
if mode == "export":
    print(json.dumps(export()))
elif mode == "finish":
    with open(sys.argv[2]) as f:
        print(json.dumps(finish(json.load(f))))
else:
    print(json.dumps(refusals()))
