"""Binds the qsota package to one backend for a test script (see tests/support/micropython.py)."""

import qsota


def use(name):
    qsota.use_backend(name)
    assert qsota.NATIVE == (name == "native")
