"""qsota.pure.ed25519: Ed25519 signature verification (RFC 8032) and SHA-512 in Python.

For firmware without `_qsota` (MicroPython's hashlib has no SHA-512). Slow (long-int
arithmetic: about a second per signature on the unix port, see bench/sign_bench.py) but it
runs once per image. It accepts exactly what the native backend's ed25519-compact does: S
below the group order, canonical point encodings, neither the key nor R of small order, and
the cofactored equation [S]B - [k]A - R of small order. Variable time: it only ever sees
public values. Needs a port with arbitrary-precision ints (MICROPY_LONGINT_IMPL_MPZ).
"""

_M64 = 0xFFFFFFFFFFFFFFFF
_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493

_sha = None  # (round constants, initial state), built on first use


def _root(n, k):
    """floor(n ** (1/k)) for a positive int (Newton's method, from above)."""
    bits = 0
    while n >> bits:  # an upper bound of n's length (MicroPython has no int.bit_length)
        bits += 8
    x = 1 << ((bits + k - 1) // k)
    while True:
        y = ((k - 1) * x + n // x ** (k - 1)) // k
        if y >= x:
            return x
        x = y


def _sha_constants():
    """FIPS 180-4: the fractions of the cube roots of the first 80 primes and of the square
    roots of the first 8, 64 bits each."""
    global _sha
    if _sha is None:
        primes = []
        n = 2
        while len(primes) < 80:
            for p in primes:
                if n % p == 0:
                    break
            else:
                primes.append(n)
            n += 1
        k = [_root(p << 192, 3) & _M64 for p in primes]
        h = [_root(p << 128, 2) & _M64 for p in primes[:8]]
        _sha = (k, h)
    return _sha


def _rotr(x, n):
    return ((x >> n) | (x << (64 - n))) & _M64


def sha512(data):
    """The SHA-512 digest (64 bytes) of `data` (bytes)."""
    k, h = _sha_constants()
    h = list(h)
    n = len(data)
    data = bytes(data) + b"\x80" + bytes((111 - n) % 128) + (n * 8).to_bytes(16, "big")
    w = [0] * 80
    for block in range(0, len(data), 128):
        for i in range(16):
            w[i] = int.from_bytes(data[block + 8 * i : block + 8 * i + 8], "big")
        for i in range(16, 80):
            a, b = w[i - 15], w[i - 2]
            s0 = _rotr(a, 1) ^ _rotr(a, 8) ^ (a >> 7)
            s1 = _rotr(b, 19) ^ _rotr(b, 61) ^ (b >> 6)
            w[i] = (w[i - 16] + s0 + w[i - 7] + s1) & _M64
        a, b, c, d, e, f, g, hh = h
        for i in range(80):
            t1 = hh + (_rotr(e, 14) ^ _rotr(e, 18) ^ _rotr(e, 41)) + ((e & f) ^ (~e & g)) + k[i] + w[i]
            t2 = (_rotr(a, 28) ^ _rotr(a, 34) ^ _rotr(a, 39)) + ((a & b) ^ (a & c) ^ (b & c))
            hh, g, f, e, d, c, b, a = g, f, e, (d + t1) & _M64, c, b, a, (t1 + t2) & _M64
        for i, v in enumerate((a, b, c, d, e, f, g, hh)):
            h[i] = (h[i] + v) & _M64
    return b"".join(v.to_bytes(8, "big") for v in h)


def _pow(b, e):
    """b ** e mod p, by squaring (pow with three arguments is optional in MicroPython)."""
    r = 1
    b %= _P
    while e:
        if e & 1:
            r = r * b % _P
        b = b * b % _P
        e >>= 1
    return r


def _inv(x):
    return _pow(x, _P - 2)


_D = -121665 * _inv(121666) % _P
_SQRT_M1 = _pow(2, (_P - 1) // 4)


def _add(p, q):
    """Sum of two points in extended coordinates (X, Y, Z, T); also doubles (RFC 8032)."""
    x1, y1, z1, t1 = p
    x2, y2, z2, t2 = q
    a = (y1 - x1) * (y2 - x2) % _P
    b = (y1 + x1) * (y2 + x2) % _P
    c = 2 * t1 * t2 * _D % _P
    d = 2 * z1 * z2 % _P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _neg(p):
    x, y, z, t = p
    return (-x % _P, y, z, -t % _P)


def _small_order(p):
    """[8]p is the neutral element."""
    for _ in range(3):
        p = _add(p, p)
    x, y, z, _ = p
    return x == 0 and (y - z) % _P == 0


def _decode(s):
    """The point with encoding `s` (32 bytes), or None when it is not canonical or not a
    point."""
    y = int.from_bytes(s, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    if y >= _P:
        return None
    u = (y * y - 1) % _P
    v = (_D * y * y + 1) % _P
    x = u * _pow(u * v**7, (_P - 5) // 8) * _pow(v, 3) % _P
    if (v * x * x - u) % _P:
        if (v * x * x + u) % _P:
            return None
        x = x * _SQRT_M1 % _P
    if (x & 1) != sign:
        x = -x % _P
    return (x, y, 1, x * y % _P)


_B = _decode(bytes([0x58]) + bytes([0x66]) * 31)
_ZERO = (0, 1, 1, 0)


def verify(key, message, signature):
    """Whether `signature` (64 bytes) is an Ed25519 signature of `message` by `key` (32)."""
    s = int.from_bytes(signature[32:], "little")
    if s >= _L:
        return False
    a = _decode(key)
    r = _decode(signature[:32])
    if a is None or r is None or _small_order(a) or _small_order(r):
        return False
    k = int.from_bytes(sha512(bytes(signature[:32]) + bytes(key) + bytes(message)), "little") % _L
    # [s]B + [k](-A), one double-and-add over both scalars (Shamir's trick).
    minus_a = _neg(a)
    both = _add(_B, minus_a)
    q = _ZERO
    for i in range(255, -1, -1):
        q = _add(q, q)
        bit_s, bit_k = (s >> i) & 1, (k >> i) & 1
        if bit_s and bit_k:
            q = _add(q, both)
        elif bit_s:
            q = _add(q, _B)
        elif bit_k:
            q = _add(q, minus_a)
    return _small_order(_add(q, _neg(r)))
