"""The fixtures every test module gets (tests/conftest.py imports them): `mp`, MicroPython
(tests/support/micropython.py), and `backend`, each of qsota's backends in turn."""

import os

import pytest

from .micropython import BACKENDS, ROOT, MicroPython


@pytest.fixture(scope="session")
def mp():
    binary = os.environ.get("QSOTA_MICROPYTHON", str(ROOT / "build" / "unix" / "micropython"))
    if not os.access(binary, os.X_OK):
        pytest.fail("no MicroPython at %s (run ./build.sh build)" % binary, pytrace=False)
    return MicroPython(binary)


@pytest.fixture(params=BACKENDS)
def backend(request):
    """"native" (`_qsota`), then "pure" (`qsota.pure`): a test that takes it runs on each."""
    return request.param
