"""What a call gives, as data that JSON carries and two backends can be compared on."""


def plain(value):
    """`value` with bytes as lowercase hex and tuples as lists."""
    if isinstance(value, (bytes, bytearray)):
        return "".join("%02x" % b for b in value)
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def attempt(f, *args, **kw):
    """["ok", result] or ["raise", exception type name, message]."""
    try:
        return ["ok", plain(f(*args, **kw))]
    except Exception as e:
        return ["raise", type(e).__name__, str(e)]
