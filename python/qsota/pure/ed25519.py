"""qsota.pure.ed25519: Ed25519 signature verification (RFC 8032) and SHA-512 in Python.

For firmware without `_qsota` (MicroPython's hashlib has no SHA-512). It runs once per image.
It accepts exactly what the native backend's ed25519-compact does: S below the group order,
canonical point encodings, neither the key nor R of small order, and the cofactored equation
[S]B - [k]A - R of small order. Variable time: it only ever sees public values. Needs a port
with arbitrary-precision ints (MICROPY_LONGINT_IMPL_MPZ).

Right on every MicroPython from 1.13 on: the arithmetic is multiplication, addition,
subtraction, shifts and masks of non-negative ints only. It never divides a long int, since
MicroPython's long-int division is wrong for some operands before 1.15 (micropython#6777, the
borrow in mpn_div), and it never applies a bitwise operation to a negative long int (wrong
for a negative zero before 1.18). Field elements are reduced by folding: 2**255 = 19 (mod p).
`self_test` checks a known answer once per process, so that an interpreter whose long ints
are still wrong is named as the cause instead of every signature failing to verify.

Cost: about 56 million instructions per verification on the emulated Cortex-A9
(bench/ed25519_arm_bench.py), nearly all of it in allocating long ints (two heap blocks or
more each, tens of thousands per verification); a heap fragmented by many small live
objects makes each allocation search longer and can multiply that.
"""

_M64 = (1 << 64) - 1
_M255 = (1 << 255) - 1
_P = (1 << 255) - 19
_P2 = 2 * _P
_P4 = _P << 10  # above any once-folded product (_mul1)
_L = (1 << 252) + 27742317777372353535851937790883648493
_MU = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEB2106215D086329A7ED9CE5A30A2C131B  # 2**512 // _L
_D2 = 0x2406D9DC56DFFCE7198E80F2EEF3D13000E0149A8283B156EBD69B9426B2F159  # 2d, d = -121665/121666
_SQRT_M1 = 0x2B8324804FC1DF0B2B4D00993DFBD7A72F431806AD2FE478C4EE1B274A0EA0B0  # 2**((p-1)/4)
_D = 0x52036CEE2B6FFE738CC740797779E89800700A4D4141D8AB75EB4DCA135978A3
_BX = 0x216936D3CD6E53FEC0A4E231FDD6DC5C692CC7609525A7B2C9562D608F25D51A  # the base point
_BY = 0x6666666666666666666666666666666666666666666666666666666666666658

# FIPS 180-4: the first 64 bits of the fractions of the cube roots of the first 80 primes,
# and of the square roots of the first 8.
_K = (
    0x428A2F98D728AE22, 0x7137449123EF65CD, 0xB5C0FBCFEC4D3B2F, 0xE9B5DBA58189DBBC,
    0x3956C25BF348B538, 0x59F111F1B605D019, 0x923F82A4AF194F9B, 0xAB1C5ED5DA6D8118,
    0xD807AA98A3030242, 0x12835B0145706FBE, 0x243185BE4EE4B28C, 0x550C7DC3D5FFB4E2,
    0x72BE5D74F27B896F, 0x80DEB1FE3B1696B1, 0x9BDC06A725C71235, 0xC19BF174CF692694,
    0xE49B69C19EF14AD2, 0xEFBE4786384F25E3, 0x0FC19DC68B8CD5B5, 0x240CA1CC77AC9C65,
    0x2DE92C6F592B0275, 0x4A7484AA6EA6E483, 0x5CB0A9DCBD41FBD4, 0x76F988DA831153B5,
    0x983E5152EE66DFAB, 0xA831C66D2DB43210, 0xB00327C898FB213F, 0xBF597FC7BEEF0EE4,
    0xC6E00BF33DA88FC2, 0xD5A79147930AA725, 0x06CA6351E003826F, 0x142929670A0E6E70,
    0x27B70A8546D22FFC, 0x2E1B21385C26C926, 0x4D2C6DFC5AC42AED, 0x53380D139D95B3DF,
    0x650A73548BAF63DE, 0x766A0ABB3C77B2A8, 0x81C2C92E47EDAEE6, 0x92722C851482353B,
    0xA2BFE8A14CF10364, 0xA81A664BBC423001, 0xC24B8B70D0F89791, 0xC76C51A30654BE30,
    0xD192E819D6EF5218, 0xD69906245565A910, 0xF40E35855771202A, 0x106AA07032BBD1B8,
    0x19A4C116B8D2D0C8, 0x1E376C085141AB53, 0x2748774CDF8EEB99, 0x34B0BCB5E19B48A8,
    0x391C0CB3C5C95A63, 0x4ED8AA4AE3418ACB, 0x5B9CCA4F7763E373, 0x682E6FF3D6B2B8A3,
    0x748F82EE5DEFB2FC, 0x78A5636F43172F60, 0x84C87814A1F0AB72, 0x8CC702081A6439EC,
    0x90BEFFFA23631E28, 0xA4506CEBDE82BDE9, 0xBEF9A3F7B2C67915, 0xC67178F2E372532B,
    0xCA273ECEEA26619C, 0xD186B8C721C0C207, 0xEADA7DD6CDE0EB1E, 0xF57D4F7FEE6ED178,
    0x06F067AA72176FBA, 0x0A637DC5A2C898A6, 0x113F9804BEF90DAE, 0x1B710B35131C471B,
    0x28DB77F523047D84, 0x32CAAB7B40C72493, 0x3C9EBE0A15C9BEBC, 0x431D67C49C100D4C,
    0x4CC5D4BECB3E42B6, 0x597F299CFC657E2A, 0x5FCB6FAB3AD6FAEC, 0x6C44198C4A475817,
)
_H = (
    0x6A09E667F3BCC908, 0xBB67AE8584CAA73B, 0x3C6EF372FE94F82B, 0xA54FF53A5F1D36F1,
    0x510E527FADE682D1, 0x9B05688C2B3E6C1F, 0x1F83D9ABFB41BD6B, 0x5BE0CD19137E2179,
)


def sha512(data):
    """The SHA-512 digest (64 bytes) of `data` (bytes). A rotation is a right and a left
    shift; each sum of rotations is masked to 64 bits once."""
    n = len(data)
    data = bytes(data) + b"\x80" + bytes((111 - n) & 127) + (n * 8).to_bytes(16, "big")
    h = list(_H)
    w = [0] * 80
    for block in range(0, len(data), 128):
        for i in range(16):
            w[i] = int.from_bytes(data[block + 8 * i : block + 8 * i + 8], "big")
        for i in range(16, 80):
            x = w[i - 15]
            y = w[i - 2]
            s0 = (x >> 1) ^ (x >> 8) ^ (x >> 7) ^ (x << 63) ^ (x << 56)
            s1 = (y >> 19) ^ (y >> 61) ^ (y >> 6) ^ (y << 45) ^ (y << 3)
            w[i] = (w[i - 16] + s0 + w[i - 7] + s1) & _M64
        a, b, c, d, e, f, g, hh = h
        for i in range(80):
            s1 = (e >> 14) ^ (e >> 18) ^ (e >> 41) ^ (e << 50) ^ (e << 46) ^ (e << 23)
            t1 = hh + (s1 & _M64) + (g ^ (e & (f ^ g))) + _K[i] + w[i]
            s0 = (a >> 28) ^ (a >> 34) ^ (a >> 39) ^ (a << 36) ^ (a << 30) ^ (a << 25)
            t2 = (s0 & _M64) + ((a & b) | (c & (a | b)))
            hh = g
            g = f
            f = e
            e = (d + t1) & _M64
            d = c
            c = b
            b = a
            a = (t1 + t2) & _M64
        for i, v in enumerate((a, b, c, d, e, f, g, hh)):
            h[i] = (h[i] + v) & _M64
    return b"".join(v.to_bytes(8, "big") for v in h)


# A field element is an int below 2**256, congruent to its value mod p. Products (_mul) come
# out below 2**255 + 2**30 < 2p; a difference is taken as a sum plus a multiple of p above
# what is subtracted (_P2, _P4), so that no value is ever negative.


def _mul(a, b):
    """a * b mod p, below 2**255 + 2**30, for a * b below 2**531: the bits above 2**255
    folded back in twice (2**255 = 19 mod p)."""
    x = a * b
    x = (x & _M255) + 19 * (x >> 255)
    return (x & _M255) + 19 * (x >> 255)


def _mul1(a, b):
    """a * b mod p folded once: below 2**264 for a and b below 2**257. Two allocations fewer
    than _mul, for a product that is only added to another and multiplied again."""
    x = a * b
    return (x & _M255) + 19 * (x >> 255)


def _squares(x, n):
    for _ in range(n):
        x = _mul(x, x)
    return x


def _pow22523(z):
    """z ** ((p - 5) / 8) = z ** (2**252 - 3), by ref10's chain: 251 squarings, 11 products."""
    z2 = _mul(z, z)
    z9 = _mul(_squares(z2, 2), z)
    z11 = _mul(z9, z2)
    t5 = _mul(_mul(z11, z11), z9)  # z ** (2**5 - 1)
    t10 = _mul(_squares(t5, 5), t5)
    t20 = _mul(_squares(t10, 10), t10)
    t40 = _mul(_squares(t20, 20), t20)
    t50 = _mul(_squares(t40, 10), t10)
    t100 = _mul(_squares(t50, 50), t50)
    t200 = _mul(_squares(t100, 100), t100)
    t250 = _mul(_squares(t200, 50), t50)
    return _mul(_squares(t250, 2), z)


def _is_zero(x):
    """Whether the product x (below 2p) is 0 mod p: it is 0 or p."""
    return x == 0 or x == _P


# Points in extended coordinates (X, Y, Z, T): x = X/Z, y = Y/Z, x*y = T/Z (RFC 8032 5.1.4).
# The second operand of an addition comes as (Y - X, Y + X, 2Z, 2dT), its cached form.
# Each X, Y, Z, T is a product, but for _neg's (below 2p).


def _cached(p):
    x, y, z, t = p
    return (y + _P2 - x, y + x, 2 * z, _mul(t, _D2))


def _add(p, c):
    """p plus the point whose cached form is c."""
    x, y, z, t = p
    a = _mul1(y + _P2 - x, c[0])
    b = _mul1(y + x, c[1])
    d = _mul1(z, c[2])
    t = _mul1(t, c[3])
    e = b + _P4 - a
    f = d + _P4 - t
    g = d + t
    h = b + a
    return (_mul(e, f), _mul(g, h), _mul(f, g), _mul(e, h))


def _double(p, with_t=True):
    """[2]p; without T (0 instead) when only another doubling reads the result."""
    x, y, z, _ = p
    a = _mul1(x, x)
    b = _mul1(y, y)
    h = a + b
    e = h + _P4 - _mul1(x + y, x + y)
    g = a + _P4 - b
    f = 2 * _mul1(z, z) + g
    return (_mul(e, f), _mul(g, h), _mul(f, g), _mul(e, h) if with_t else 0)


def _neg(p):
    x, y, z, t = p
    return (_P2 - x, y, z, _P2 - t)


_ZERO = (0, 1, 1, 0)
_B = (_BX, _BY, 1, _mul(_BX, _BY))


def _small_order(p):
    """[8]p is the neutral element."""
    for _ in range(3):
        p = _double(p, False)
    x, y, z, _ = p
    return _is_zero(x) and _is_zero(_mul(y + _P2 - z, 1))


def _decode(s):
    """The point with encoding `s` (32 bytes), or None when it is not canonical or not a
    point (RFC 8032 5.1.3)."""
    y = int.from_bytes(s, "little")
    sign = y >> 255
    y &= _M255
    if y >= _P:
        return None
    yy = _mul(y, y)
    u = _mul(yy + _P - 1, 1)
    v = _mul(_D, yy) + 1
    v3 = _mul(_mul(v, v), v)
    x = _mul(_mul(u, v3), _pow22523(_mul(u, _mul(_mul(v3, v3), v))))
    vxx = _mul(v, _mul(x, x))
    if not _is_zero(_mul(vxx + _P2 - u, 1)):
        if not _is_zero(_mul(vxx + u, 1)):
            return None
        x = _mul(x, _SQRT_M1)
    if x >= _P:
        x -= _P
    if (x & 1) != sign:
        x = _P - x
    return (x, y, 1, _mul(x, y))


def _mod_l(x):
    """x mod L for 0 <= x < 2**512, by Barrett reduction: the estimated quotient is at most
    2 short. (A bounded loop: wrong long ints end in a wrong answer, never in a hang.)"""
    r = x - ((x >> 252) * _MU >> 260) * _L
    for _ in range(2):
        if r >= _L:
            r -= _L
    return r


def _combination(s, k, a):
    """[s]B + [k]a for s and k below 2**254: per two bits of each, two doublings and at most
    one addition, of [i]B + [j]a from a table of the 15 sums (Straus, a 2-bit joint window)."""
    cb = _cached(_B)
    ca = _cached(a)
    sums = [_ZERO]  # sums[i + 4 * j] = [i]B + [j]a
    for n in range(1, 16):
        sums.append(_add(sums[n - 1], cb) if n & 3 else _add(sums[n - 4], ca))
    table = [_cached(p) for p in sums]
    q = _ZERO
    for n in range(252, -1, -2):
        q = _double(_double(q, False))
        i = (s >> n) & 3
        j = (k >> n) & 3
        if i or j:
            q = _add(q, table[i + 4 * j])
    return q


def verify(key, message, signature):
    """Whether `signature` (64 bytes) is an Ed25519 signature of `message` by `key` (32)."""
    s = int.from_bytes(signature[32:], "little")
    if s >= _L:
        return False
    a = _decode(key)
    r = _decode(signature[:32])
    if a is None or r is None or _small_order(a) or _small_order(r):
        return False
    k = int.from_bytes(sha512(bytes(signature[:32]) + bytes(key) + bytes(message)), "little")
    q = _combination(s, _mod_l(k), _neg(a))  # [s]B - [k]A
    return _small_order(_add(q, _cached(_neg(r))))


# RFC 8032 7.1, TEST 1: the public key and the signature (R, S) of the empty message.
_KAT_KEY = 0xD75A980182B10AB7D54BFED3C964073A0EE172F3DAA62325AF021A68F707511A
_KAT_R = 0xE5564300C360AC729086E2CC806E828A84877F1EB8E5D974D873E06522490155
_KAT_S = 0x5FB8821590A33BACC61E39701CF9B46BD25BF5F0595BBE24655141438E7A100B
_works = None  # the self-test's verdict, once known


def self_test():
    """Whether this interpreter's long ints get RFC 8032's first test vector right: its
    signature must verify, which a wrong result anywhere in the verification's few thousand
    field operations prevents. Runs once per process; later calls return its verdict."""
    global _works
    if _works is None:
        signature = _KAT_R.to_bytes(32, "big") + _KAT_S.to_bytes(32, "big")
        _works = verify(_KAT_KEY.to_bytes(32, "big"), b"", signature)
    return _works
