"""qsota.http, qsota.https and qsota.download on build/unix/micropython (its `tls` module is
MicroPython's mbedTLS one) against CPython's http.server and ssl (tools/qth_emu/fileserver.py),
with certificates made here by trustme: a valid chain, a wrong host name, a self-signed
certificate, an expired one, an intermediate CA, pins, TLS cut mid-body, chunked bodies, a
file swapped between attempts, lying Content-Length, Basic auth, redirects. Every case runs on
both backends (the pin's SHA-256 and the download's digests come from the backend).

QuecPython's `ussl` (no `tls` module; the 1.13-based firmware never verifies and takes no CA)
is played by `FakeUssl` below: `tls` with CERT_NONE behind `ussl.wrap_socket`'s signature.
"""

import datetime
import hashlib
import json
import random
import ssl
import sys
from pathlib import Path

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools" / "qth_emu"))

from fileserver import FileServer  # noqa: E402

IMAGE = random.Random(11).randbytes(150 * 1024)
OTHER = random.Random(12).randbytes(150 * 1024)

class Certs:
    """A CA (with an intermediate), and server contexts for each certificate case."""

    def __init__(self, tmp):
        self.ca = trustme.CA()
        self.ca_der = tmp / "ca.der"
        self.ca_der.write_bytes(ssl.PEM_cert_to_DER_cert(self.ca.cert_pem.bytes().decode()))
        self.ca_pem = self.ca.cert_pem.bytes().decode()
        self.leaf = self.ca.issue_cert("localhost")

    def context(self, case="valid"):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        if case == "valid":
            self.leaf.configure_cert(ctx)
        elif case == "wrong-host":
            self.ca.issue_cert("firmware.example").configure_cert(ctx)
        elif case == "ip":
            self.ca.issue_cert("127.0.0.1").configure_cert(ctx)
        elif case == "expired":
            past = datetime.datetime(2020, 1, 1)
            until = past.replace(year=2021)
            self.ca.issue_cert("localhost", not_before=past, not_after=until).configure_cert(ctx)
        elif case == "intermediate":
            self.ca.create_child_ca().issue_cert("localhost").configure_cert(ctx)  # sends chain
        elif case == "self-signed":
            key = ec.generate_private_key(ec.SECP256R1())
            name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "localhost")])
            now = datetime.datetime.now(datetime.timezone.utc)
            cert = (
                x509.CertificateBuilder()
                .subject_name(name)
                .issuer_name(name)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=1))
                .not_valid_after(now + datetime.timedelta(days=30))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), False)
                .sign(key, hashes.SHA256())
            )
            pem = cert.public_bytes(serialization.Encoding.PEM)
            pem += key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            path = self.ca_der.parent / "self.pem"
            path.write_bytes(pem)
            ctx.load_cert_chain(path)
        return ctx

    def pins(self):
        """(certificate pin, key pin) of the valid leaf, as hex."""
        der = ssl.PEM_cert_to_DER_cert(self.leaf.cert_chain_pems[0].bytes().decode())
        cert = x509.load_der_x509_certificate(der)
        spki = cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return hashlib.sha256(der).hexdigest(), hashlib.sha256(spki).hexdigest()


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return Certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture
def www(tmp_path):
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "fw.bin").write_bytes(IMAGE)
    (tmp_path / "work").mkdir()
    return tmp_path


def fetch(mp, backend, www, server, name="fw.bin", url=None, fresh=True, **opts):
    """Runs tests/mp/https_download.py against `server` (started and stopped here); `fresh`:
    no kept part."""
    if fresh:
        for f in (www / "work").iterdir():
            f.unlink()
    opts.setdefault("md5", hashlib.md5(IMAGE).hexdigest())
    opts.update(work=str(www / "work"), url=url or server.url(name))
    server.start()
    try:
        return drive(mp, backend, www, opts)
    finally:
        server.stop()


def drive(mp, backend, www, opts):
    path = www / "opts.json"
    path.write_text(json.dumps(opts))
    return mp.json("import https_download", backend, args=[path])


def ok(result, n=len(IMAGE)):
    assert result["ok"], result
    assert result["bytes"] == n


def refused(result, *words):
    assert not result["ok"], result
    assert result["stage"] == "download", result
    for w in words:
        assert w in result["msg"], result


@pytest.mark.parametrize("ca", ["der-path", "pem-text"])
def test_valid_chain_verified(mp, backend, www, certs, ca):
    ca = str(certs.ca_der) if ca == "der-path" else certs.ca_pem
    server = FileServer(www / "www", tls=certs.context())
    ok(fetch(mp, backend, www, server, ca=ca))
    assert server.headers[0]["Host"].startswith("localhost:")


@pytest.mark.parametrize(
    "case, why",
    [
        ("wrong-host", "Common Name (CN) does not match"),
        ("self-signed", "not correctly signed by the trusted CA"),
        ("expired", "validity has expired"),
    ],
)
def test_bad_certificates_are_refused(mp, backend, www, certs, case, why):
    server = FileServer(www / "www", tls=certs.context(case))
    result = fetch(mp, backend, www, server, ca=str(certs.ca_der))
    refused(result, "TLS: certificate of localhost not accepted", why)
    assert server.requests == []  # no request went out
    assert not list((www / "work").iterdir())  # nothing kept


def test_an_ip_address_url_cannot_pass_a_ca_check(mp, backend, www, certs):
    """mbedTLS 2.x matches DNS names only: a certificate for 127.0.0.1 (an IP address SAN)
    fails for https://127.0.0.1/ (docs/agent.md says: use a host name, or pin)."""
    server = FileServer(www / "www", tls=certs.context("ip"))
    url = "https://127.0.0.1:%d/fw.bin" % server.port
    result = fetch(mp, backend, www, server, url=url, ca=str(certs.ca_der))
    refused(result, "certificate of 127.0.0.1 not accepted", "does not match")


def test_intermediate_ca_chain(mp, backend, www, certs):
    server = FileServer(www / "www", tls=certs.context("intermediate"))
    ok(fetch(mp, backend, www, server, ca=str(certs.ca_der)))


@pytest.mark.parametrize("ussl", [False, True])
def test_pins(mp, backend, www, certs, ussl):
    cert_pin, key_pin = certs.pins()
    for pin in (cert_pin, key_pin, [("00" * 32), key_pin.upper()]):
        server = FileServer(www / "www", tls=certs.context())
        ok(fetch(mp, backend, www, server, pin=pin, ussl=ussl))
    server = FileServer(www / "www", tls=certs.context())
    result = fetch(mp, backend, www, server, pin="ab" * 32, ussl=ussl)
    refused(result, "matches no pin", "key sha256 %s" % key_pin)
    assert server.requests == []


def test_unauthenticated_https_and_ussl_without_ca(mp, backend, www, certs):
    server = FileServer(www / "www", tls=certs.context("self-signed"))
    ok(fetch(mp, backend, www, server))  # encrypted only: allowed (the md5 checks the bytes)
    server = FileServer(www / "www", tls=certs.context())
    result = fetch(mp, backend, www, server, ca=str(certs.ca_der), ussl=True)
    refused(result, "cannot verify a CA; use pin=")


@pytest.mark.parametrize("tls", [False, True])
def test_cut_mid_body_resumes(mp, backend, www, certs, tls):
    server = FileServer(
        www / "www", cuts=[30000, 1, 50000], tls=certs.context() if tls else None
    )
    result = fetch(mp, backend, www, server, ca=str(certs.ca_der) if tls else None)
    ok(result)
    assert [start for _, start in server.requests] == [0, 30000, 30001, 80001]
    assert server.body_bytes == len(IMAGE)
    assert [h.get("If-Range") for h in server.headers[1:]] == [server.headers[1]["If-Range"]] * 3
    assert server.headers[1]["If-Range"].startswith('"')  # the ETag


@pytest.mark.parametrize("tls", [False, True])
def test_chunked_bodies(mp, backend, www, certs, tls):
    server = FileServer(www / "www", chunked=True, tls=certs.context() if tls else None)
    ok(fetch(mp, backend, www, server, ca=str(certs.ca_der) if tls else None))
    server = FileServer(www / "www", chunked=True, cuts=[70001])  # cut inside a chunk: resume
    ok(fetch(mp, backend, www, server))
    assert [start for _, start in server.requests] == [0, 70001]


@pytest.mark.parametrize("if_range", [True, False])
def test_file_swapped_between_attempts_starts_over(mp, backend, www, if_range):
    """The server replaces the file after the first cut. Honouring If-Range it sends the
    new file whole (200); ignoring it, a 206 with another ETag: either way the download
    starts over at byte 0 instead of splicing the two files."""
    server = FileServer(www / "www", cuts=[40000], swap=OTHER, if_range=if_range)
    result = fetch(mp, backend, www, server, md5=hashlib.md5(OTHER).hexdigest())
    ok(result)
    assert any("starting over from byte 0" in line for line in result["log"]), result
    assert (www / "work" / "fw.part").read_bytes() == OTHER


def test_server_ignoring_range_is_skipped_not_spliced(mp, backend, www):
    server = FileServer(www / "www", cuts=[40000], ranges=False)
    ok(fetch(mp, backend, www, server))
    assert (www / "work" / "fw.part").read_bytes() == IMAGE


def test_lying_content_length_then_a_correct_server(mp, backend, www):
    """A server claims 1000 bytes more than it sends: every attempt ends short. The first
    stored bytes (progress: the failure count starts over), its resume gets 416 (the issue's
    stuck-at-416 case), which starts over from byte 0 once; that attempt ends short too and
    its resume's 416 ends the run, whatever `retries` says, without the part. The next run
    against a correct server finishes."""
    server = FileServer(www / "www", lie=1000)
    result = fetch(mp, backend, www, server, retries=1)
    refused(result, "HTTP 416 at byte %d, again after starting over" % len(IMAGE))
    assert "HTTP 416 at byte %d: starting over from byte 0" % len(IMAGE) in result["log"], result
    server = FileServer(www / "www")
    ok(fetch(mp, backend, www, server, fresh=False))
    assert (www / "work" / "fw.part").read_bytes() == IMAGE


def test_kept_part_disagreeing_with_the_platform_size_starts_over(mp, backend, www):
    (www / "work" / "fw.part").write_bytes(OTHER[:60000])
    record = {"id": ["fw", hashlib.md5(IMAGE).hexdigest()], "size": 999, "total": 999}
    (www / "work" / "fw.json").write_text(json.dumps(record))
    server = FileServer(www / "www")
    ok(fetch(mp, backend, www, server, size=len(IMAGE), fresh=False))
    assert server.requests == [("/fw.bin", 0)]


def test_basic_auth_fragment_and_redirects(mp, backend, www, certs):
    def with_auth(server):
        return server.url("fw.bin").replace("http://", "http://me:s3cr%40t@") + "?v=2#frag"

    server = FileServer(www / "www", auth="me:s3cr@t")
    ok(fetch(mp, backend, www, server, url=with_auth(server)))
    assert server.requests == [("/fw.bin?v=2", 0)]  # no fragment
    plain = FileServer(www / "www")
    ok(fetch(mp, backend, www, plain, url=with_auth(plain)))  # credentials nobody asked for
    server = FileServer(www / "www", auth="me:s3cr@t")
    denied = fetch(mp, backend, www, server)
    refused(denied, "HTTP 401 for http://127.0.0.1:")
    assert "s3cr" not in denied["msg"]

    target = FileServer(www / "www", tls=certs.context()).start()
    plain = FileServer(www / "www").start()
    try:
        hop = FileServer(www / "www", redirect="https://localhost:%d" % target.port)
        ok(fetch(mp, backend, www, hop, ca=str(certs.ca_der)))  # http -> https
        back = FileServer(www / "www", redirect=plain.url("").rstrip("/"), tls=certs.context())
        result = fetch(mp, backend, www, back, pin=certs.pins()[1])  # https -> http: refused
        refused(result, "refusing the body from http://", "ca/pin ask for https")
        assert not list((www / "work").iterdir())  # nothing stored from the plain hop
    finally:
        target.stop()
        plain.stop()


def test_bad_tls_options_raise_clear_errors(mp, tmp_path):
    code = """
from qsota import https
for ca, pin in ((b"junk", None), (None, "abc"), (None, 5), ("/no/such.der", None),
                (b"0\\x03\\x02\\x01\\x00", None), ([], None)):
    try:
        https.config(ca, pin)
        print("accepted")
    except (TypeError, ValueError) as e:
        print(type(e).__name__, e)
"""
    assert mp.run(code, "native").splitlines() == [
        "ValueError ca: neither a DER nor a PEM certificate",
        "ValueError pin: expected 64 hex digits (SHA-256), got 'abc'",
        "TypeError pin: expected 64 hex digits or 32 bytes (SHA-256), got 5",
        "ValueError ca: cannot read '/no/such.der' ([Errno 2] ENOENT)",
        "ValueError ca: not a certificate mbedTLS can parse",
        "ValueError ca/pin: an empty list checks nothing",
    ]


def test_download_allocates_nothing_per_chunk(mp, backend, www, certs):
    """150 KiB and 600 KiB (38 and 150 chunks of 4 KiB) allocate the same, over http, https
    and chunked https: the per-request overhead only (socket, TLS, headers, the record)."""
    (www / "www" / "big.bin").write_bytes(IMAGE * 4)
    for server in (
        FileServer(www / "www"),
        FileServer(www / "www", tls=certs.context()),
        FileServer(www / "www", tls=certs.context(), chunked=True),
    ):
        server.start()
        try:
            urls = [server.url("fw.bin"), server.url("big.bin")]
            opts = dict(work=str(www / "work"), alloc=urls, md5=None, ca=str(certs.ca_der))
            if not server.tls:
                opts["ca"] = None
            result = drive(mp, backend, www, opts)
        finally:
            server.stop()
        assert result["ok"], result
        small, big = result["alloc"]
        assert small > 0
        assert big - small < 64, (server.tls, server.chunked, small, big)


def test_urls(mp):
    out = mp.json("import https_urls", "native")
    assert out == [
        ["http", "h", 80, "h", "/", None],
        ["https", "h", 8443, "h:8443", "/a/b?x=1", None],
        ["http", "h", 81, "h:81", "/f", "dTpwQHNz"],  # base64("u:p@ss")
        ["http", "::1", 8080, "[::1]:8080", "/x", None],
        ["http", "h", 80, "h", "/?q", None],
        ["https", "fe80::1", 443, "[fe80::1]", "/", None],
        "url: expected an http:// or https:// URL, got 'ftp://h/'",
        "url: bad host or port in 'http://h:0/'",
        "url: bad port in 'http://h:x/'",
        "url: bad host or port in 'http://***@/'",
        "url: spaces, control or non-ASCII characters in 'http://h/a b'",
        "url: bad host or port in 'http://[::1/'",
        [
            "http://o/x",
            "https://o/y",
            "https://h/z",
            "https://h/a/b/d.bin",
            "https://h/a/b/c.bin?v=2",
            "https://h/a/b/../e",
        ],
        "http://***@h/p@q",
    ]


class Canned:
    """A TCP server on 127.0.0.1 that answers every connection with the same bytes."""

    def __init__(self, answer):
        import socket
        import threading

        self.answer = answer
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.recv(4096)
            conn.sendall(self.answer)
            conn.close()

    def url(self, name):
        return "http://127.0.0.1:%d/%s" % (self.port, name)

    def start(self):
        return self

    def stop(self):
        self.sock.close()


OK_HEAD = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"


@pytest.mark.parametrize(
    "answer, why",
    [
        (OK_HEAD + b"zz\r\nabc\r\n0\r\n\r\n", "bad chunk size line"),
        (OK_HEAD + b"1" * 300 + b"\r\n", "chunk header or trailer line too long"),
        (OK_HEAD + b"10000000\r\n", "chunk size too large"),
        (OK_HEAD + b"3\r\nabcX\r\n0\r\n\r\n", "chunk data not followed by CRLF"),
        (OK_HEAD + b"3\r\nabc\r\n0\r\n" + b"X-T: 1\r\n" * 101 + b"\r\n", "too many trailer lines"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "transfer encoding"),
        (b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n", "content encoding 'gzip'"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", "conflicting"),
        (b"HTTP/1.1 200 OK\r\nX: " + b"y" * 3000 + b"\r\n\r\n", "header line too long"),
        (b"SSH-2.0-OpenSSH\r\n\r\n", "not an HTTP response"),
        (b"HTTP/1.1 302 Found\r\nLocation: /a b\r\n\r\n", "bad redirect from"),
        (b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", "HTTP 404 for"),
    ],
)
def test_malformed_answers_fail_clearly(mp, www, answer, why):
    result = fetch(mp, "native", www, Canned(answer), retries=0)
    refused(result, why)
    assert not list((www / "work").iterdir())


def test_a_206_that_is_not_the_range_asked_for(mp, www):
    """The kept part ends at byte 100; the server answers 206 for another range, or with a
    Content-Length that contradicts its Content-Range: refused, not spliced."""
    for answer, why in (
        (b"HTTP/1.1 206 P\r\nContent-Range: bytes 0-9/10\r\n\r\n0123456789", "server sent from 0"),
        (b"HTTP/1.1 206 P\r\nContent-Range: bytes 100-109/110\r\nContent-Length: 5\r\n\r\n",
         "Content-Length 5 disagrees with Content-Range 100-109"),
        (b"HTTP/1.1 206 P\r\nContent-Range: bytes 100-119/110\r\n\r\n", "bad Content-Range"),
    ):
        (www / "work" / "fw.part").write_bytes(IMAGE[:100])
        record = {"id": ["fw", None], "size": None, "total": None}
        (www / "work" / "fw.json").write_text(json.dumps(record))
        result = fetch(mp, "native", www, Canned(answer), retries=0, md5=None, fresh=False)
        refused(result, why)


def test_spki_parser_takes_any_bytes(mp, www, certs):
    """Every truncation and 500 seeded mutations of a real certificate: the key or a
    TlsError, never another exception (the pin check parses what the server sends)."""
    der = ssl.PEM_cert_to_DER_cert(certs.leaf.cert_chain_pems[0].bytes().decode())
    (www / "cert.der").write_bytes(der)
    outcomes, key_len = mp.both("import https_spki", args=[www / "cert.der"])
    assert key_len == 91  # an ECDSA P-256 SubjectPublicKeyInfo
    assert outcomes["TlsError"] >= len(der) and outcomes["key"] > 0, outcomes
