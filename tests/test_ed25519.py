"""qsota.pure.ed25519: its constants and arithmetic against their definitions (CPython runs
the module too), RFC 8032's test vectors on the 64-bit and the 32-bit interpreter, and the
self-test that refuses keys= on an interpreter whose long ints are wrong.

MicroPython 1.13's long-int division is wrong for some operands, or never ends on a 32-bit
port (micropython#6777, fixed in 1.15): the module does no long-int division. That it is
right on 1.13 itself is checked by hand, as tests/compat113/README.md says: CI cannot fetch
a 1.13 tree.
"""

import hashlib
import importlib.util
import json
import random

import pytest

from support.micropython import PURE32, ROOT

SPEC = importlib.util.spec_from_file_location(
    "ed25519", ROOT / "python" / "qsota" / "pure" / "ed25519.py"
)
ed = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(ed)

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493

# RFC 8032 7.1, TESTs 1 to 3 and SHA(abc): (public key, message, signature).
VECTORS = [
    (
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
        "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
        "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
        "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
    (
        "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
        "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
        "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
        "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b589"
        "09351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704",
    ),
]


def _root(n, k):
    """floor(n ** (1/k)), exactly (CPython's long division is right)."""
    x = 1 << -(-n.bit_length() // k)
    while True:
        y = ((k - 1) * x + n // x ** (k - 1)) // k
        if y >= x:
            return x
        x = y


def _primes(n):
    found, c = [], 2
    while len(found) < n:
        if all(c % p for p in found):
            found.append(c)
        c += 1
    return found


def test_constants_are_what_they_stand_for():
    d = -121665 * pow(121666, P - 2, P) % P
    assert (ed._P, ed._L, ed._D, ed._D2) == (P, L, d, 2 * d % P)
    assert ed._MU == 2**512 // L
    assert pow(ed._SQRT_M1, 2, P) == P - 1
    x, y = ed._BX, ed._BY
    assert y == 4 * pow(5, P - 2, P) % P and x % 2 == 0
    assert (y * y - x * x - 1 - d * x * x * y * y) % P == 0  # -x^2 + y^2 = 1 + d x^2 y^2
    primes = _primes(80)
    assert list(ed._K) == [_root(p << 192, 3) % 2**64 for p in primes]
    assert list(ed._H) == [_root(p << 128, 2) % 2**64 for p in primes[:8]]


def test_sha512_matches_hashlib_around_block_edges():
    rng = random.Random(512)
    for n in (0, 1, 3, 64, 96, 111, 112, 127, 128, 129, 239, 240, 256, 1000):
        data = rng.randbytes(n)
        assert ed.sha512(data) == hashlib.sha512(data).digest(), n


def test_field_products_and_the_scalar_reduction_at_their_bounds():
    rng = random.Random(255)
    # _mul's inputs: anything below 2**256 times a sum plus _P4 (the largest _add and
    # _double make); _mul1's: below 2**257.
    tops = [2**256 - 1, 2**265 + 2**264, 2 * P, P, P - 1, 0, 1]
    pairs = [(a, b) for a in tops for b in tops if a * b < 2**531]
    pairs += [(rng.randrange(2**266), rng.randrange(2**256)) for _ in range(2000)]
    for a, b in pairs:
        r = ed._mul(a, b)
        assert r % P == a * b % P and r < 2**255 + 2**30, (a, b)
        if a < 2**257 and b < 2**257:
            r = ed._mul1(a, b)
            assert r % P == a * b % P and r < 2**264, (a, b)
    edges = [0, L - 1, L, 2 * L, 2**512 - 1, 2**512 - L]
    for x in edges + [rng.randrange(2**512) for _ in range(5000)]:
        assert ed._mod_l(x) == x % L, x


def test_rfc8032_vectors_and_their_tampered_copies_in_cpython():
    for key, message, signature in VECTORS:
        key, message, signature = map(bytes.fromhex, (key, message, signature))
        assert ed.verify(key, message, signature)
        assert not ed.verify(key, message + b"\0", signature)
        for at in (0, 31, 32, 63):  # R, and S
            bad = bytearray(signature)
            bad[at] ^= 0x10
            assert not ed.verify(key, message, bytes(bad)), at
    assert ed.self_test()


# Refused alike by ed25519-compact: S not below L, a non-canonical y, a point that is not on
# the curve, keys and R of small order (the neutral element, y = 1 with x = 0).
EDGES = """
import json
from qsota.pure import ed25519

def unhex(t):
    return bytes(int(t[i : i + 2], 16) for i in range(0, len(t), 2))

rows = []
for key, message, signature in %r:
    key, message, signature = unhex(key), unhex(message), unhex(signature)
    rows.append(ed25519.verify(key, message, signature))
    rows.append(ed25519.verify(key, message + b"x", signature))
key, message, signature = unhex(%r[0][0]), b"", unhex(%r[0][2])
s = int.from_bytes(signature[32:], "little")
rows.append(ed25519.verify(key, message, signature[:32] + (s + %d).to_bytes(32, "little")))
p = (1 << 255) - 19
rows.append(ed25519.verify((p + 1).to_bytes(32, "little"), message, signature))  # y = 1 + p
rows.append(ed25519.verify((1).to_bytes(32, "little"), message, signature))  # neutral
rows.append(ed25519.verify((2).to_bytes(32, "little"), message, signature))  # not a point
rows.append(ed25519.sha512(b"abc") == unhex(%r[3][1]))
print(json.dumps(rows))
"""


@pytest.mark.parametrize("backend", ("pure", PURE32))
def test_rfc8032_vectors_on_both_interpreters(mp, backend):
    code = EDGES % (VECTORS, VECTORS, VECTORS, L, VECTORS)
    rows = mp.json(code, backend)
    assert rows == [True, False] * len(VECTORS) + [False] * 4 + [True]


SELF_TEST = """
from outcome import attempt
import json, qsota
from qsota.pure import ed25519

calls = []
verify = ed25519.verify

def counted(*args):
    calls.append(1)
    return verify(*args)

ed25519.verify = counted
rows = [attempt(qsota.Verifier, keys=[bytes(32)])[0], attempt(qsota.Verifier, keys=[bytes(32)])[0]]
rows.append(len(calls))

# Long ints that are wrong for a few operands, as 1.13's division is: the self-test fails.
mul = ed25519._mul
ed25519._mul = lambda a, b: mul(a, b) ^ (1 if a & 0xFF == 0x12 else 0)
ed25519._works = None
rows.append(attempt(qsota.Verifier, md5="0" * 32, keys=[bytes(32)]))
rows.append(attempt(qsota.Verifier, keys=[bytes(32)]))
rows.append(len(calls))
print(json.dumps(rows))
"""


def test_the_self_test_runs_once_and_names_a_broken_interpreter(mp):
    rows = mp.json(SELF_TEST, "pure")
    message = (
        "keys: the Ed25519 self-test failed: this interpreter's long-int arithmetic is wrong "
        "(MicroPython %s), so qsota.pure cannot check signatures on it"
    )
    version = mp.run("import sys; print('%d.%d.%d' % sys.implementation.version[:3])", None)
    refused = ["raise", "RuntimeError", message % version.strip()]
    assert rows == ["ok", "ok", 1, refused, refused, 2]

