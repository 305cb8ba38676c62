"""Checks for the scripts in tests/arm/mp, frozen into the qemu test firmware. A check that
fails raises AssertionError; one that holds is counted, and a script ends with `ok()`: its
line `OK <checks>` is what tests/arm/run.py requires, so a script that checked nothing fails.
The soft reset before each script starts the count from zero.
"""

checks = 0


def eq(got, want, what):
    """`got` must equal `want`."""
    global checks
    if got != want:
        raise AssertionError("%s: got %r, want %r" % (what, got, want))
    checks += 1


def raises(exc, fn, what, word=""):
    """fn() must raise `exc` with `word` in its message; returns the message."""
    global checks
    try:
        fn()
    except exc as e:
        if word not in str(e):
            raise AssertionError("%s: %r does not name %r" % (what, str(e), word))
        checks += 1
        return str(e)
    raise AssertionError("%s: no %s" % (what, exc.__name__))


def ok():
    print("OK", checks)
