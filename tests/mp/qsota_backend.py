"""Binds the qsota package to one backend for a test script (see tests/conftest.py)."""

import qsota


def use(name):
    if name == "native":
        import _qsota

        qsota._use(_qsota)
    elif name == "pure":
        from qsota import pure

        qsota._use(pure)
    else:
        raise ValueError("backend: expected 'native' or 'pure', got %r" % (name,))
    assert qsota.NATIVE == (name == "native")
