# Signed MCUboot images on the emulated ARM: an image made by `imgtool sign` (Ed25519, with a
# protected security counter; the throwaway private key was deleted after signing) checked by
# _qsota (ed25519-compact built for ARMv7-A) and by qsota.pure, which must agree on the
# verdict and the message of each refusal. Run by tests/arm/run.py.
import qsota
import qsota.pure
from check import eq, ok, raises

def unhex(text):
    return bytes(int(text[i : i + 2], 16) for i in range(0, len(text), 2))


KEY = unhex("91a6bd1ea0806def8414506e4b2a5cf8141ed390b8ee49d8c284a7e6b773f275")
IMAGE = unhex(
    "3db8f3960000000020000c00c8000000000000000301040001000000000000006ea687766eacfb9cf05e915f"
    "fceb6244aa5177230732a72f55ffd6dd5e8338ad50baa50136809c568653b6805174b6761ddbf6e5cd8acd9a"
    "d744b014e298825547abe48dfefbb6eff8c6dc9d76a439b30f25780a6cce6abac36d0761a0ba5e2b674a17b4"
    "c42c3bf290a4b773548286f355e29db917a42e6ca6733b2885181e2b2c5eee3c163a240da90e671c6fa4e621"
    "3bd99a81b36529dfdf1b80eca919b1fdda5126975f3c36106a9732c601a73db0e6db3762c7e422ca8d1800bf"
    "2abb23e30502071ab8a940eb08690c005000040005000000076990001000200002aa61db14e9027792d1e0e7"
    "e4b8a08f49349db6e86bffd277c7db3f05a15ff3010020007fc693ce96c92a327f8b1682de4d0f068f6523e2"
    "09f248b90ae40b32b48a813724004000767fd9abcae88f05b0fd3d5274213e0d88786278015da1408a939e8b"
    "947a2113aee645901f71a70d2e9a34f47ba9801e9c738fe692ca933813a00072d63d5902"
)
BODY_AT, BODY_LEN = 32, 200


def checked(m, data, keys, piece):
    v = m.Verifier(keys=keys)
    view = memoryview(data)
    for at in range(0, len(data), piece):
        v.update(view[at : at + piece])
    return v


def tampered(at):
    data = bytearray(IMAGE)
    data[at] ^= 1
    return bytes(data)


CASES = (
    (tampered(BODY_AT + 50), "hash: the SHA-256 TLV does not match the image"),
    (tampered(len(IMAGE) - 1), "signature: the Ed25519 signature does not verify"),
    (IMAGE[:-1], "tlv: truncated TLV area"),
    (IMAGE + b"x", "image: 1 bytes after the TLV area"),
)
messages = {}
for name, m in (("native", qsota), ("pure", qsota.pure)):
    for piece in (1, 5, 64, len(IMAGE)):
        v = checked(m, IMAGE, [bytes(32), KEY], piece)
        eq(v.check(), True, name + " signed image in pieces of %d" % piece)
        info = v.image
        eq((info["key"], info["version"], info["hdr_size"], info["img_size"]),
           (1, "3.1.4+1", BODY_AT, BODY_LEN), name + " image fields")
    got = []
    for data, word in CASES:
        v = checked(m, data, [KEY], 7)
        got.append(raises(m.VerifyError, v.check, name, word))
    v = checked(m, IMAGE, [bytes(31) + b"x"], 64)
    got.append(raises(m.VerifyError, v.check, name + " other key", "key: signed with a key not in keys"))
    messages[name] = got
eq(messages["native"], messages["pure"], "the same messages on both backends")
ok()
