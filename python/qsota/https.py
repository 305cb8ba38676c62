"""qsota.https: TLS for qsota.http, with the server checks each firmware can do.

- MicroPython >= 1.23 (`tls` module): with `ca`, the server's chain is verified against those
  CA certificates and its name against the URL's host (mbedTLS, CERT_REQUIRED).
- QuecPython (`ussl.wrap_socket`): the 1.13-based firmware never verifies (its mbedTLS config
  is MBEDTLS_SSL_VERIFY_NONE and it takes no CA); the 1.25-based one verifies against a `ca=`
  it is given. Where nothing verifies, `pin` is what authenticates the server.
- `pin`: SHA-256 of the server's DER certificate or of its SubjectPublicKeyInfo (the key pin:
  it survives a renewal with the same key), checked after every handshake, on every firmware.
- Neither: encrypted but not authenticated (the image's own checks still apply).

`config(ca, pin)` checks and normalises the options once; `wrap(sock, host, conf)` does the
handshake and the checks and raises `TlsError` (not worth a retry) when a check fails.
"""

try:
    import tls as _tls  # MicroPython >= 1.23
except ImportError:
    _tls = None
_ussl = None
if _tls is None:
    try:
        import ussl as _ussl  # QuecPython (and MicroPython < 1.23)
    except ImportError:
        pass

import qsota


class TlsError(Exception):
    """The server failed a check (certificate, host name, pin) or TLS cannot check it here."""


def _hex(digest):
    return "".join("%02x" % b for b in digest)


def _unhex(text, what):
    text = text.replace(":", "")
    if len(text) != 64:
        raise ValueError("%s: expected 64 hex digits (SHA-256), got %r" % (what, text))
    try:
        return bytes(int(text[i : i + 2], 16) for i in range(0, 64, 2))
    except ValueError:
        raise ValueError("%s: expected 64 hex digits (SHA-256), got %r" % (what, text))


def _items(value):
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _load_ca(item):
    """DER or PEM bytes of one `ca` item (bytes, or str: a path, or PEM text)."""
    if isinstance(item, str):
        if "-----BEGIN " in item:
            return item.encode()
        try:
            with open(item, "rb") as f:
                item = f.read()
        except OSError as e:
            raise ValueError("ca: cannot read %r (%s)" % (item, e))
    if not isinstance(item, (bytes, bytearray)):
        raise TypeError("ca: expected DER/PEM bytes or a path, got %s" % type(item).__name__)
    item = bytes(item)
    if item[:1] == b"\x30":  # DER: a SEQUENCE
        return item
    if b"-----BEGIN CERTIFICATE-----" in item:
        return item if item.endswith(b"\x00") else item + b"\x00"  # mbedTLS parses PEM to a NUL
    raise ValueError("ca: neither a DER nor a PEM certificate")


def config(ca=None, pin=None):
    """(ca_list, pin_list) from the `ca` and `pin` options; TypeError/ValueError naming them."""
    cas = [] if ca is None else [_load_ca(c) for c in _items(ca)]
    pins = []
    for p in [] if pin is None else _items(pin):
        if isinstance(p, str):
            pins.append(_unhex(p, "pin"))
        elif isinstance(p, (bytes, bytearray)) and len(p) == 32:
            pins.append(bytes(p))
        else:
            raise TypeError("pin: expected 64 hex digits or 32 bytes (SHA-256), got %r" % (p,))
    if ca is not None and not cas or pin is not None and not pins:
        raise ValueError("ca/pin: an empty list checks nothing")
    if _tls is not None and cas:  # a certificate mbedTLS cannot parse fails here, not later
        ctx = _tls.SSLContext(_tls.PROTOCOL_TLS_CLIENT)  # (about 40 KB of heap, dropped)
        for der in cas:
            try:
                ctx.load_verify_locations(der)
            except ValueError:
                raise ValueError("ca: not a certificate mbedTLS can parse")
    return cas, pins


def authenticated(conf):
    return bool(conf[0] or conf[1])


def _tlv(der, i, end):
    """(tag, content start, content end) of the DER element at i, bounded by end."""
    if i + 2 > end:
        raise ValueError
    tag, n = der[i], der[i + 1]
    i += 2
    if n & 0x80:
        k = n & 0x7F
        if not 0 < k <= 3 or i + k > end:
            raise ValueError
        n = 0
        for b in der[i : i + k]:
            n = (n << 8) | b
        i += k
    if i + n > end:
        raise ValueError
    return tag, i, i + n


def spki(der):
    """The DER SubjectPublicKeyInfo of a DER X.509 certificate (what a key pin hashes)."""
    try:
        _, c, end = _tlv(der, 0, len(der))  # Certificate
        _, i, tbs_end = _tlv(der, c, end)  # TBSCertificate
        if der[i] == 0xA0:  # [0] version
            i = _tlv(der, i, tbs_end)[2]
        for _ in range(5):  # serialNumber, signature, issuer, validity, subject
            i = _tlv(der, i, tbs_end)[2]
        tag, _, key_end = _tlv(der, i, tbs_end)
        if tag != 0x30:
            raise ValueError
    except (ValueError, IndexError):
        raise TlsError("the server's certificate is not valid DER")
    return der[i:key_end]


def _sha256(data):
    v = qsota.Verifier(crc_variant="mpeg2")
    v.update(data)
    return v.sha256()


def check_pin(der, pins):
    """Raises TlsError unless the certificate `der` or its public key matches a pin."""
    if der is None:
        raise TlsError("the server sent no certificate to check the pin against")
    cert, key = _sha256(der), _sha256(spki(der))
    if cert not in pins and key not in pins:
        raise TlsError(
            "the server's certificate matches no pin (certificate sha256 %s, key sha256 %s)"
            % (_hex(cert), _hex(key))
        )


def wrap(sock, host, conf):
    """The TLS socket over `sock` after the handshake and every check `conf` asks for."""
    cas, pins = conf
    try:
        if _tls is not None:
            ctx = _tls.SSLContext(_tls.PROTOCOL_TLS_CLIENT)
            ctx.verify_mode = _tls.CERT_REQUIRED if cas else _tls.CERT_NONE
            for der in cas:
                ctx.load_verify_locations(der)
            tsock = ctx.wrap_socket(sock, server_hostname=host)
        elif _ussl is not None:
            if len(cas) > 1:
                raise TlsError("ca: this firmware's ussl takes one CA certificate")
            try:
                if cas:
                    tsock = _ussl.wrap_socket(sock, server_hostname=host, ca=cas[0])
                else:
                    tsock = _ussl.wrap_socket(sock, server_hostname=host)
            except TypeError:
                raise TlsError("ca: this firmware's ussl cannot verify a CA; use pin=")
        else:
            raise TlsError("https: this firmware has no TLS module (tls or ussl)")
    except ValueError as e:  # mbedTLS's verify report (or an unparsable ca)
        raise TlsError("certificate of %s not accepted: %s" % (host, " ".join(str(e).split())))
    if pins:
        try:
            check_pin(tsock.getpeercert(True), pins)
        except BaseException:
            tsock.close()
            raise
    return tsock
