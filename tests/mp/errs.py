"""What the scripts of bad arguments share: `err(f)` prints the exception `f()` raises
("no error" if none) with its code, and `Port` is a silent port."""


def err(f):
    try:
        f()
    except Exception as e:
        print(type(e).__name__, getattr(e, "code", ""), e)
        return
    print("no error")


class Port:
    def write(self, b):
        return len(b)

    def any(self):
        return 0

    def readinto(self, b, nbytes=None):
        return 0
