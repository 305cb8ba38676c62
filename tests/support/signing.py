"""MCUboot images signed by imgtool (PyPI) for the tests, with throwaway keys made on the spot
(no private key is ever committed)."""

import subprocess

HEADER = 32


def imgtool(*args):
    subprocess.run(["imgtool", *map(str, args)], check=True, capture_output=True)


def make_key(path, kind="ed25519"):
    """Makes a key at `path` (PEM); returns its raw 32-byte public key (Ed25519)."""
    imgtool("keygen", "-k", path, "-t", kind)
    der = path.with_suffix(".der")
    imgtool("getpub", "-k", path, "-e", "raw", "-o", der)  # the DER SubjectPublicKeyInfo
    return der.read_bytes()[-32:]


def sign(directory, pem, body, *options, header=HEADER):
    """`body` signed with the key `pem` (None: unsigned) by `imgtool sign`, with `options`."""
    src, dst = directory / "in.bin", directory / "out.bin"
    src.write_bytes(body)
    key = ["-k", pem] if pem is not None else []
    imgtool("sign", *key, "--header-size", header, "--pad-header", "-v", "1.2.3+4",
            "-S", 0x20000, "--align", 4, *options, src, dst)
    return dst.read_bytes()
