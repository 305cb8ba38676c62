"""qsota.Verifier and qsota.verify_file under MicroPython, on both backends.

Every case runs once on `_qsota` and once on `qsota.pure`; the results (digests, CRCs,
exception types and messages) must be identical, and are checked against CPython's hashlib
and zlib or against the expected text. The digest, CRC and expected-value cases also run
`qsota.pure` on the 32-bit interpreter (conftest.py: "pure32"), where CRCs and MD5 words are
long ints, as on the module.
"""

import hashlib
import random
import zlib

import pytest

from support.micropython import PURE32, WITH_32

CHECK = b"123456789"
CHECK_MD5 = "25f9e794323b453885f5181f1b624d0b"
CHECK_SHA256 = "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225"
CHECK_MPEG2 = 0x0376E6E7
CHECK_ISO_HDLC = 0xCBF43926


def _mpeg2_table():
    table = []
    for i in range(256):
        c = i << 24
        for _ in range(8):
            c = ((c << 1) ^ 0x04C11DB7 if c & 0x80000000 else c << 1) & 0xFFFFFFFF
        table.append(c)
    return table


MPEG2_TABLE = _mpeg2_table()


def crc32_mpeg2(data):
    """CRC-32/MPEG-2 (poly 0x04C11DB7, init all ones, not reflected, no final xor)."""
    crc = 0xFFFFFFFF
    for b in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ MPEG2_TABLE[(crc >> 24) ^ b]
    return crc


def test_reference_crc_check_values():
    assert crc32_mpeg2(CHECK) == CHECK_MPEG2
    assert zlib.crc32(CHECK) == CHECK_ISO_HDLC


DIGESTS = """
from outcome import plain
import json, qsota

def digests(*pieces):
    v = qsota.Verifier()
    for p in pieces:
        v.update(p)
    crcs = [v.crc32(), v.crc32('mpeg2'), v.crc32('iso-hdlc')]
    return [v.size] + crcs + [v.hexdigest('md5'), v.hexdigest('sha256')]
"""


def test_rfc1321_fips180_and_crc_check_vectors(mp):
    md5_vectors = [
        (b"", "d41d8cd98f00b204e9800998ecf8427e"),
        (b"a", "0cc175b9c0f1b6a831c399e269772661"),
        (b"abc", "900150983cd24fb0d6963f7d28e17f72"),
        (b"message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
        (b"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"),
        (
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            "d174ab98d277d9f5a5611c2c9f419d9f",
        ),
        (b"1234567890" * 8, "57edf4a22be3c955ac49da2e2107b67a"),
    ]
    sha256_vectors = [
        (b"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
        ),
        (b"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    ]
    inputs = [m for m, _ in md5_vectors] + [m for m, _ in sha256_vectors] + [CHECK]
    code = DIGESTS + "print(json.dumps([digests(m) for m in %r]))\n" % inputs
    got = mp.both(code, pure32=True)
    for (message, want), row in zip(md5_vectors, got):
        assert row[4] == want, message
    for (message, want), row in zip(sha256_vectors, got[len(md5_vectors) :]):
        assert row[5] == want, message
    assert got[-1] == [9, CHECK_MPEG2, CHECK_MPEG2, CHECK_ISO_HDLC, CHECK_MD5, CHECK_SHA256]


def test_million_a_in_uneven_pieces(mp):
    code = DIGESTS + (
        "piece = b'a' * 999\n"
        "print(json.dumps(digests(*([piece] * 1001 + [b'a'] * 1))))\n"
    )
    got = mp.both(code)
    assert got[0] == 1_000_000
    assert got[5] == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"


def test_random_images_match_cpython(mp, tmp_path):
    rng = random.Random(20260101)
    sizes = [0, 1, 55, 56, 63, 64, 65, 4095, 4096, 4097, 65537, rng.randrange(100_000, 200_000)]
    paths, want = [], []
    for i, size in enumerate(sizes):
        data = rng.randbytes(size)
        path = tmp_path / ("image%d.bin" % i)
        path.write_bytes(data)
        paths.append(str(path))
        want.append(
            [
                size,
                crc32_mpeg2(data),
                zlib.crc32(data),
                hashlib.md5(data).hexdigest(),
                hashlib.sha256(data).hexdigest(),
            ]
        )
    code = (
        "import json, sys, qsota\n"
        "rows = []\n"
        "for path in sys.argv[1:]:\n"
        "    v = qsota.verify_file(path)\n"
        "    rows.append([v.size, v.crc32('mpeg2'), v.crc32('iso-hdlc'),\n"
        "                 v.hexdigest('md5'), v.hexdigest('sha256')])\n"
        "print(json.dumps(rows))\n"
    )
    assert mp.both(code, args=paths, pure32=True) == want


def test_any_split_gives_the_same_digests(mp):
    rng = random.Random(7)
    data = rng.randbytes(3000)
    splits = [sorted(rng.sample(range(1, len(data)), k)) for k in (1, 2, 5, 17, 60)]
    splits.append(list(range(1, 200)))  # 1-byte pieces at the start
    code = DIGESTS + (
        "data = %r\n"
        "whole = digests(data)\n"
        "view = memoryview(bytearray(data))\n"
        "rows = []\n"
        "for cuts in %r:\n"
        "    edges = [0] + cuts + [len(data)]\n"
        "    pieces = [view[a:b] for a, b in zip(edges, edges[1:])]\n"
        "    pieces.insert(1, b'')  # an empty update changes nothing\n"
        "    rows.append(digests(*pieces) == whole)\n"
        "rows.append(digests(bytearray(data)) == whole)\n"
        "rows.append(whole)\n"
        "print(json.dumps(rows))\n"
    ) % (data, splits)
    got = mp.both(code, pure32=True)
    assert got[:-1] == [True] * (len(splits) + 1)
    assert got[-1][1] == crc32_mpeg2(data)
    assert got[-1][4] == hashlib.md5(data).hexdigest()


CHECKS = """
from outcome import attempt
import json, qsota

def check(data, **expect):
    v = qsota.Verifier(**expect)
    v.update(data)
    return attempt(v.check) + [v.crc_matched]
"""


def test_every_accepted_crc_form(mp):
    forms = [
        (CHECK_MPEG2, "mpeg2"),
        ("0x0376E6E7", "mpeg2"),
        ("0X0376e6e7", "mpeg2"),
        (b"0x0376e6e7", "mpeg2"),
        ("0376E6E7", "mpeg2"),  # digits only, read as hex
        ("58124007", "mpeg2"),  # the same CRC printed in decimal (AT flow)
        (CHECK_ISO_HDLC, "iso-hdlc"),
        ("CBF43926", "iso-hdlc"),
        ("cbf43926", "iso-hdlc"),
        ("3421780262", "iso-hdlc"),  # decimal
        (b"3421780262", "iso-hdlc"),
        ("0x00000000cbf43926", "iso-hdlc"),  # leading zeros
    ]
    code = CHECKS + "print(json.dumps([check(%r, crc=c) for c, _ in %r]))\n" % (CHECK, forms)
    got = mp.both(code, pure32=True)
    assert got == [["ok", True, variant] for _, variant in forms]


def test_crc_variant_pins_the_match(mp):
    code = CHECKS + (
        "pinned = qsota.Verifier(crc_variant='iso-hdlc')\n"
        "pinned.update(%r)\n"
        "print(json.dumps([[pinned.crc32(), attempt(pinned.crc32, 'mpeg2')],\n"
        "    check(%r, crc=0xCBF43926, crc_variant='iso-hdlc'),\n"
        "    check(%r, crc=0xCBF43926, crc_variant='mpeg2'),\n"
        "    check(%r, crc='58124007', crc_variant='iso-hdlc'),\n"
        "    check(%r, crc='58124007', crc_variant='auto'),\n"
        "    check(%r, crc='58124007', crc_variant=None),\n"
        "]))\n"
    ) % ((CHECK,) * 6)
    got_pinned, *got = mp.both(code, pure32=True)
    assert got == [
        ["ok", True, "iso-hdlc"],
        ["raise", "VerifyError", "crc: expected 0xcbf43926, got mpeg2=0x0376e6e7", None],
        ["raise", "VerifyError", "crc: expected 58124007, got iso-hdlc=0xcbf43926", None],
        ["ok", True, "mpeg2"],
        ["ok", True, "mpeg2"],
    ]
    # Pinned, only that variant is computed: the other is refused, not made up.
    assert got_pinned == [
        0xCBF43926,
        ["raise", "ValueError", "variant: 'mpeg2' is not computed with crc_variant='iso-hdlc'"],
    ]


def test_each_mismatch_is_named(mp):
    zeros32, zeros64 = "0" * 32, "0" * 64
    cases = [
        dict(md5=CHECK_MD5.upper(), sha256=CHECK_SHA256, crc=CHECK_MPEG2, size=9),
        dict(md5=zeros32),
        dict(md5=zeros32.encode()),
        dict(sha256=zeros64),
        dict(crc=1),
        dict(crc="12345678"),
        dict(size=10),
        dict(size=0),
        dict(md5=zeros32, sha256=zeros64, crc="0x1", size=8),
    ]
    code = CHECKS + "print(json.dumps([check(%r, **e) for e in %r]))\n" % (CHECK, cases)
    got = mp.both(code, pure32=True)
    crc_got = "got mpeg2=0x0376e6e7 iso-hdlc=0xcbf43926"
    assert got == [
        ["ok", True, "mpeg2"],
        ["raise", "VerifyError", "md5: expected %s, got %s" % (zeros32, CHECK_MD5), None],
        ["raise", "VerifyError", "md5: expected %s, got %s" % (zeros32, CHECK_MD5), None],
        ["raise", "VerifyError", "sha256: expected %s, got %s" % (zeros64, CHECK_SHA256), None],
        ["raise", "VerifyError", "crc: expected 0x00000001, " + crc_got, None],
        ["raise", "VerifyError", "crc: expected 12345678, " + crc_got, None],
        ["raise", "VerifyError", "size: expected 10, got 9", None],
        ["raise", "VerifyError", "size: expected 0, got 9", None],
        [
            "raise",
            "VerifyError",
            "md5: expected %s, got %s; sha256: expected %s, got %s; crc: expected 0x1, %s; "
            "size: expected 8, got 9" % (zeros32, CHECK_MD5, zeros64, CHECK_SHA256, crc_got),
            None,
        ],
    ]


def test_verify_error_is_a_value_error(mp):
    code = (
        "import json, qsota\n"
        "v = qsota.Verifier(size=1)\n"
        "try:\n"
        "    v.check()\n"
        "except ValueError as e:\n"
        "    print(json.dumps([isinstance(e, qsota.VerifyError), type(e).__name__]))\n"
    )
    assert mp.both(code) == [True, "VerifyError"]


def test_check_and_digests_make_it_final(mp):
    code = (
        "from outcome import attempt\n"
        "import json, qsota\n"
        "rows = []\n"
        "for finish in ('check', 'md5', 'sha256', 'hexdigest', 'crc32'):\n"
        "    v = qsota.Verifier(crc=%d)\n"
        "    v.update(b'123456789')\n"
        "    first = attempt(getattr(v, finish), *(['md5'] if finish == 'hexdigest' else []))\n"
        "    again = attempt(getattr(v, finish), *(['md5'] if finish == 'hexdigest' else []))\n"
        "    rows.append([finish, first == again, attempt(v.update, b'x'), v.size,\n"
        "                 attempt(v.crc32), attempt(v.md5)])\n"
        "v = qsota.Verifier(size=1)\n"
        "rows.append([attempt(v.check), attempt(v.check)])\n"
        "print(json.dumps(rows))\n"
    ) % CHECK_MPEG2
    got = mp.both(code)
    final = ["raise", "ValueError", "update: the verifier is final after check() or a digest"]
    for i, finish in enumerate(("check", "md5", "sha256", "hexdigest", "crc32")):
        assert got[i] == [finish, True, final, 9, ["ok", CHECK_MPEG2], ["ok", CHECK_MD5]]
    mismatch = ["raise", "VerifyError", "size: expected 1, got 0"]
    assert got[-1] == [mismatch, mismatch]


def test_fresh_verifier_state(mp):
    code = (
        "import json, qsota\n"
        "v = qsota.Verifier()\n"
        "print(json.dumps([v.size, v.crc_matched, v.crc32(), v.crc32('iso-hdlc'), v.check(),\n"
        "                  v.crc_matched, v.hexdigest('md5')]))\n"
    )
    got = mp.both(code)
    assert got == [0, None, 0xFFFFFFFF, 0, True, None, hashlib.md5(b"").hexdigest()]


BAD_ARGUMENTS = [
    (dict(md5=1), "TypeError", "md5: expected str or bytes, got int"),
    (dict(md5=bytearray(32)), "TypeError", "md5: expected str or bytes, got bytearray"),
    (dict(md5="a" * 31), "ValueError", "md5: expected 32 hex digits, got 31"),
    (dict(md5="a" * 33), "ValueError", "md5: expected 32 hex digits, got 33"),
    (dict(md5=""), "ValueError", "md5: expected 32 hex digits, got 0"),
    (dict(md5="g" * 32), "ValueError", "md5: expected 32 hex digits, got a non-hex character"),
    (dict(md5="a" * 31 + " "), "ValueError", "md5: expected 32 hex digits, got a non-hex character"),
    (dict(md5="0x" + "a" * 30), "ValueError", "md5: expected 32 hex digits, got a non-hex character"),
    (dict(md5="é" * 16), "ValueError", "md5: expected 32 hex digits, got a non-hex character"),
    (dict(sha256=b"1"), "ValueError", "sha256: expected 64 hex digits, got 1"),
    (dict(sha256=CHECK_MD5), "ValueError", "sha256: expected 64 hex digits, got 32"),
    (dict(sha256=[]), "TypeError", "sha256: expected str or bytes, got list"),
    (dict(crc=-1), "ValueError", "crc: out of range 0..0xffffffff"),
    (dict(crc=2**32), "ValueError", "crc: out of range 0..0xffffffff"),
    (dict(crc=2**100), "ValueError", "crc: out of range 0..0xffffffff"),
    (dict(crc=1.0), "TypeError", "crc: expected int, str or bytes, got float"),
    (dict(crc=True), "TypeError", "crc: expected int, str or bytes, got bool"),
    (dict(crc=""), "ValueError", "crc: not a decimal or hex number"),
    (dict(crc="0x"), "ValueError", "crc: not a decimal or hex number"),
    (dict(crc="-1"), "ValueError", "crc: not a decimal or hex number"),
    (dict(crc=" 12"), "ValueError", "crc: not a decimal or hex number"),
    (dict(crc="12g"), "ValueError", "crc: not a decimal or hex number"),
    (dict(crc="0x1ffffffff"), "ValueError", "crc: out of range 0..0xffffffff"),
    (dict(crc="4294967296"), "ValueError", "crc: out of range 0..0xffffffff"),
    (dict(size=-1), "ValueError", "size: out of range 0..4294967295"),
    (dict(size=2**32), "ValueError", "size: out of range 0..4294967295"),
    (dict(size="9"), "TypeError", "size: expected int, got str"),
    (dict(size=9.0), "TypeError", "size: expected int, got float"),
    (dict(size=False), "TypeError", "size: expected int, got bool"),
    (dict(crc_variant="zlib"), "ValueError", "crc_variant: expected 'auto', 'mpeg2' or 'iso-hdlc'"),
    (dict(crc_variant="MPEG2"), "ValueError", "crc_variant: expected 'auto', 'mpeg2' or 'iso-hdlc'"),
    (dict(crc_variant=1), "TypeError", "crc_variant: expected str, got int"),
    (dict(crc_variant=b"auto"), "TypeError", "crc_variant: expected str, got bytes"),
    # The arguments are checked in signature order: the first bad one is reported.
    (dict(md5="x", size=-1), "ValueError", "md5: expected 32 hex digits, got a non-hex character"),
    (dict(crc="x", size="1"), "ValueError", "crc: not a decimal or hex number"),
]


def test_bad_arguments_name_the_argument(mp):
    code = (
        "from outcome import attempt\n"
        "import json, qsota\n"
        "print(json.dumps([attempt(qsota.Verifier, **kw) for kw in %r]))\n"
    ) % [kw for kw, _, _ in BAD_ARGUMENTS]
    got = mp.both(code)
    assert got == [["raise", kind, message] for _, kind, message in BAD_ARGUMENTS]


def test_random_expected_values_parse_alike(mp):
    # The C module parses with the Rust core (src/hex.rs), qsota.pure in Python: any text
    # must get the same verdict from both, and a CRC that parses must match the same way.
    rng = random.Random(5)
    alphabet = "0123456789" * 4 + "abcdefABCDEF" + "xX -g\u00e9"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 12))) for _ in range(300)]
    texts += [rng.choice(["0x", "0X", ""]) + "%x" % rng.randrange(2**33) for _ in range(100)]
    texts += [str(rng.randrange(2**33)) for _ in range(100)]
    texts += [str(CHECK_MPEG2), "%X" % CHECK_ISO_HDLC]
    digests = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(30, 35))) for _ in range(100)]
    code = CHECKS + (
        "rows = [attempt(check, %r, crc=t) for t in %r]\n"
        "rows += [attempt(qsota.Verifier, md5=t)[:3] for t in %r]\n"
        "print(json.dumps(rows))\n"
    ) % (CHECK, texts, digests)
    got = mp.both(code, pure32=True)
    assert len(got) == len(texts) + len(digests)
    verdicts = {row[1][0] if row[0] == "ok" else row[1] for row in got[: len(texts)]}
    assert verdicts == {"ok", "raise", "ValueError"}  # matched, mismatched, refused


def test_bad_method_arguments(mp):
    code = (
        "from outcome import attempt\n"
        "import json, qsota\n"
        "v = qsota.Verifier()\n"
        "rows = [attempt(v.update, 'text'), attempt(v.update, 1), attempt(v.update, None),\n"
        "        attempt(v.crc32, 'auto'), attempt(v.crc32, 'crc32'), attempt(v.crc32, 0),\n"
        "        attempt(v.hexdigest, 'sha1'), attempt(v.hexdigest, b'md5'), v.size]\n"
        "print(json.dumps(rows))\n"
    )
    assert mp.both(code) == [
        ["raise", "TypeError", "update: expected a bytes-like object, got str"],
        ["raise", "TypeError", "update: expected a bytes-like object, got int"],
        ["raise", "TypeError", "update: expected a bytes-like object, got NoneType"],
        ["raise", "ValueError", "variant: expected 'mpeg2' or 'iso-hdlc'"],
        ["raise", "ValueError", "variant: expected 'mpeg2' or 'iso-hdlc'"],
        ["raise", "TypeError", "variant: expected str, got int"],
        ["raise", "ValueError", "name: expected 'md5' or 'sha256'"],
        ["raise", "TypeError", "name: expected str, got bytes"],
        0,
    ]


def test_wrong_call_shapes_raise_type_error(mp, backend):
    # The messages come from MicroPython's argument parser and differ between a C function
    # and a Python one; the type and the positional form are what the API promises.
    code = (
        "from outcome import attempt\n"
        "import json, qsota\n"
        "v = qsota.Verifier(%r, None, %d, 9, 'mpeg2')\n"
        "v.update(b'123456789')\n"
        "rows = [attempt(v.check), attempt(qsota.Verifier, md4='x')[:2],\n"
        "        attempt(qsota.Verifier, 1, 2, 3, 4, 5, 6)[:2], attempt(v.update)[:2]]\n"
        "print(json.dumps(rows))\n"
    ) % (CHECK_MD5, CHECK_MPEG2)
    got = mp.json(code, backend)
    assert got == [["ok", True], ["raise", "TypeError"], ["raise", "TypeError"], ["raise", "TypeError"]]


def test_other_buffers_are_read_as_bytes(mp):
    code = (
        "import array, json, qsota\n"
        "v = qsota.Verifier(size=9)\n"
        "v.update(array.array('B', b'1234'))\n"
        "v.update(array.array('h', [0x3635, 0x3837]))  # little-endian: b'5678'\n"
        "v.update(memoryview(b'9'))\n"
        "print(json.dumps([v.check(), v.crc32(), v.hexdigest('md5')]))\n"
    )
    assert mp.both(code) == [True, CHECK_MPEG2, CHECK_MD5]


def test_read_only_attributes(mp):
    code = (
        "import json, qsota\n"
        "v = qsota.Verifier()\n"
        "rows = []\n"
        "for name in ('size', 'crc_matched'):\n"
        "    try:\n"
        "        setattr(v, name, 1)\n"
        "        rows.append('set')\n"
        "    except AttributeError:\n"
        "        rows.append('refused')\n"
        "print(json.dumps(rows + [v.size]))\n"
    )
    assert mp.both(code) == ["refused", "refused", 0]


VERIFY_FILE = """
from outcome import attempt, plain
import json, sys, qsota

def summary(v):
    return [v.size, v.crc_matched, v.hexdigest('md5')]

path, missing = sys.argv[1], sys.argv[2]
"""


def test_verify_file(mp, tmp_path):
    data = random.Random(3).randbytes(10_000)
    path = tmp_path / "image.bin"
    path.write_bytes(data)
    md5 = hashlib.md5(data).hexdigest()
    sha256 = hashlib.sha256(data).hexdigest()
    crc = str(crc32_mpeg2(data))  # decimal, as the AT flow prints it
    code = VERIFY_FILE + (
        "rows = [\n"
        "    summary(qsota.verify_file(path, %r, %r, %r, 10000)),\n"
        "    summary(qsota.verify_file(path, md5=%r, crc=%r, buf=bytearray(333))),\n"
        "    summary(qsota.verify_file(path, crc=%d, crc_variant='iso-hdlc', buf=bytearray(1))),\n"
        "    attempt(qsota.verify_file, path, size=9999),\n"
        "    attempt(qsota.verify_file, path, md5='0' * 32, buf=bytearray(10000)),\n"
        "    attempt(qsota.verify_file, path, buf=bytearray(0)),\n"
        "    attempt(qsota.verify_file, path, md5='x'),\n"
        "]\n"
        "try:\n"
        "    qsota.verify_file(missing, md5=%r)\n"
        "    rows.append('no error')\n"
        "except OSError as e:\n"
        "    rows.append(['OSError', e.args[0]])\n"
        "print(json.dumps(rows))\n"
    ) % (md5, sha256, crc, md5.upper(), crc, zlib.crc32(data), md5)
    got = mp.both(code, args=[path, tmp_path / "missing.bin"], pure32=True)
    assert got == [
        [10000, "mpeg2", md5],
        [10000, "mpeg2", md5],
        [10000, "iso-hdlc", md5],
        ["raise", "VerifyError", "size: expected 9999, got 10000"],
        ["raise", "VerifyError", "md5: expected %s, got %s" % ("0" * 32, md5)],
        ["raise", "ValueError", "buf: expected a non-empty bytearray"],
        ["raise", "ValueError", "md5: expected 32 hex digits, got a non-hex character"],
        ["OSError", 2],  # ENOENT
    ]


def test_verify_file_with_auto_finds_either_variant_and_names_both(mp, tmp_path):
    # qsota.pure streams only MPEG-2 here and computes ISO-HDLC from the file when the check
    # needs it (qsota.verify.kept_in): the results must be those of _qsota, which keeps both.
    data = random.Random(5).randbytes(5000)
    path = tmp_path / "image.bin"
    path.write_bytes(data)
    code = VERIFY_FILE + (
        "rows = [\n"
        "    summary(qsota.verify_file(path, crc=%d)),\n"
        "    summary(qsota.verify_file(path, crc=%d)),\n"
        "    attempt(qsota.verify_file, path, crc=1234),\n"
        "]\n"
        "v = qsota.verify_file(path, crc=%d)\n"
        "rows.append([v.crc32('iso-hdlc'), v.crc32('mpeg2'), v.crc32()])\n"
        "print(json.dumps(rows))\n"
    ) % (zlib.crc32(data), crc32_mpeg2(data), crc32_mpeg2(data))
    got = mp.both(code, args=[path, tmp_path / "missing.bin"], pure32=True)
    md5 = hashlib.md5(data).hexdigest()
    mpeg2, iso = crc32_mpeg2(data), zlib.crc32(data)
    assert got == [
        [5000, "iso-hdlc", md5],
        [5000, "mpeg2", md5],
        ["raise", "VerifyError",
         "crc: expected 0x000004d2, got mpeg2=0x%08x iso-hdlc=0x%08x" % (mpeg2, iso)],
        [iso, mpeg2, mpeg2],
    ]


# On the 32-bit interpreter (31-bit small ints, as on the module) the Verifier runs the pure
# MD5 (no hashlib.md5 there).
@pytest.mark.parametrize("backend", WITH_32)
def test_update_allocates_nothing(mp, backend):
    n = 1000 if backend != PURE32 else 50  # the pure MD5 is slow
    per_update, size = mp.json("import verify_alloc", backend, args=[n])
    assert size == 4096 + n * (4096 + 1000)
    assert per_update == 0


def test_pure_md5_update_allocates_nothing_on_31_bit_ints(mp):
    per_update, size = mp.json("import verify_alloc", PURE32, args=[20, "md5"])
    assert per_update == 0


def test_pure_md5_fallback_matches_hashlib(mp):
    data = random.Random(11).randbytes(5000)
    cuts = [0, 1, 64, 65, 130, 1000, 4999, 5000]
    code = (
        "import json\n"
        "from qsota.pure.md5 import md5\n"
        "vectors = [md5(m).digest().hex() for m in (b'', b'abc', b'a' * 55, b'a' * 56, b'a' * 64)]\n"
        "data = %r\n"
        "h = md5()\n"
        "cuts = %r\n"
        "for a, b in zip(cuts, cuts[1:]):\n"
        "    h.update(memoryview(data)[a:b])\n"
        "# The Verifier on a port without hashlib.md5:\n"
        "import qsota.pure.verify\n"
        "qsota.pure.verify._new_md5 = md5\n"
        "v = qsota.pure.Verifier(md5=%r)\n"
        "v.update(%r)\n"
        "print(json.dumps(vectors + [h.digest().hex(), isinstance(v._md5, md5), v.check()]))\n"
    ) % (data, cuts, CHECK_MD5, CHECK)
    want = [hashlib.md5(m).hexdigest() for m in (b"", b"abc", b"a" * 55, b"a" * 56, b"a" * 64)]
    assert mp.json(code, None) == want + [hashlib.md5(data).hexdigest(), True, True]


def test_typed_buffers_are_their_bytes_on_both_backends(mp):
    """Issue 19 item 5: a memoryview over array('H') is 2 bytes an item wherever a class reads
    a buffer (pure counted items and ran the CRC over their values); a frame of wider items
    is refused by both (pure cannot write bytes into it)."""
    out = mp.both("import typed_buffers", pure32=True)
    data = bytes([1, 0, 2, 0, 3, 0]) + b"".join(
        n.to_bytes(2, "little") for n in range(300, 2348))[20:]
    assert out[0] == ["ok", [True, crc32_mpeg2(data), hashlib.md5(data).hexdigest()]]
    assert out[1] == ["ok", 0]
    assert out[3][1] == 133  # the C (in the low byte) started the header block
    assert out[4] == ["ValueError", "n: must be 0..len(data)"]
    assert out[5][0] == "ok"
    assert out[6] == ["TypeError", "frame: expected a writable buffer of bytes, got memoryview"]
    assert out[7] == ["TypeError", "frame: expected a writable buffer of bytes, got array"]
