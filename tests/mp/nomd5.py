"""Importing this module takes MD5 out of qsota.pure's Verifier, for the allocation tests on
the 32-bit interpreter: there the pure MD5 (qsota.pure.md5, where hashlib has none)
allocates long ints per block (issue 21), which tests/test_verify.py checks on its own."""

import qsota.pure.verify


class _NoMd5:
    def update(self, data):
        pass

    def digest(self):
        return bytes(16)


qsota.pure.verify._new_md5 = _NoMd5
