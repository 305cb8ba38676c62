"""pytest's hooks for tests/: the shared fixtures (`mp`, `backend`: tests/support/fixtures.py)
and the `heavy` marker, which `./build.sh check` leaves out."""

from support.fixtures import backend, mp  # noqa: F401 (fixtures)


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "heavy: runs qemu, a real peer tool or long seeded runs; ./build.sh check leaves it out",
    )
