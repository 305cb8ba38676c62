"""The fixtures every test module gets (tests/conftest.py imports them): `mp`, MicroPython
(tests/support/micropython.py), and `backend`, each of qsota's backends in turn."""

import os

import pytest

from .micropython import BACKENDS, ROOT, MicroPython, executable


@pytest.fixture(scope="session")
def mp():
    binary = os.environ.get("QSOTA_MICROPYTHON", str(ROOT / "build" / "unix" / "micropython"))
    binary32 = os.environ.get(
        "QSOTA_MICROPYTHON32", str(ROOT / "build" / "unix32" / "micropython")
    )
    return MicroPython(executable(binary), binary32)


@pytest.fixture(params=BACKENDS)
def backend(request):
    """"native" (`_qsota`), then "pure" (`qsota.pure`): a test that takes it runs on each."""
    return request.param
