"""qsota.verify_file: verify an image stored in a file."""

from . import _bound


def verify_file(
    path, md5=None, sha256=None, crc=None, size=None, buf=None, crc_variant="auto", keys=None
):
    """Reads `path` through one reusable buffer and returns the checked Verifier.

    `buf` is that buffer (a bytearray, 4 KB when not given). Raises VerifyError on a
    mismatch (with `keys`, also for an image not signed by one of them), OSError when the
    file cannot be read, and what Verifier raises for bad expected values.
    """
    verifier = _bound.backend.Verifier(md5, sha256, crc, size, crc_variant, keys=keys)
    kept_in(verifier, path)
    feed(verifier, path, buf)
    verifier.check()
    return verifier


def feed(verifier, path, buf=None):
    """Updates `verifier` with the bytes of the file `path`, read through `buf` (a
    bytearray, 4 KB when not given)."""
    if buf is None:
        buf = bytearray(4096)
    if len(buf) == 0:
        # readinto would return 0 at once and an empty image would be checked.
        raise ValueError("buf: expected a non-empty bytearray")
    view = memoryview(buf)
    with open(path, "rb") as f:
        while True:
            n = f.readinto(buf)
            if not n:
                break
            # Only the last, short block needs a slice (and its allocation).
            verifier.update(buf if n == len(buf) else view[:n])


def kept_in(verifier, path):
    """Tells `verifier` that every byte it will be fed is also in the file `path`, and
    returns it. qsota.pure's Verifier then streams one CRC-32 with crc_variant='auto' and
    computes the other from the file only if a check needs it (qsota.pure.verify); _qsota's
    computes both in C and ignores this."""
    kept = getattr(verifier, "_kept_in", None)
    if kept is not None:
        kept(path)
    return verifier
