"""qsota.pure.args: the argument rows of qsota.rules applied, as the C module applies them:
binding (`parse`, like `qsota_parse_rules` and mp_arg_parse_all) and each argument kind's
check. No allocation unless an argument is refused.
"""

from ..rules import BOOL, EXPECTED, FLAG, GAP, INT, KEYS, LEN, OBJ, REQUIRED, STEP, TEXT


def _type_error(what, kind, obj):
    raise TypeError("%s: expected %s, got %s" % (what, EXPECTED[kind], type(obj).__name__))


def _refuse_type(row, obj):
    """The TypeError of `row` (qsota.rules) for `obj`, as the C module's qsota_refuse_type."""
    _type_error(row[0], row[1], obj)


def _int(what, obj, lo, hi, message):
    if not isinstance(obj, int) or isinstance(obj, bool):
        _type_error(what, INT, obj)
    if not lo <= obj <= hi:
        raise ValueError("%s: %s" % (what, message))
    return obj


# Built once: a tuple display in a call would allocate at every call. (They also keep this
# module's table of names from being full: MicroPython grows it only then, and in a full
# table every builtin the checks look up on each poll and answer, isinstance above all, is
# searched through all of it; 23 names cost the pure senders 2-4% of their time.)
_BYTES = (bytes, bytearray)
_TEXT = (str, bytes)


def _bytewise(mv):
    """Whether the memoryview `mv` has items of one byte. MicroPython compares memoryviews
    only when their items are the same size (it raises NotImplementedError otherwise), and
    allocates nothing to say so: len() and indexing count items, so a view over a typed
    array (memoryview(array('H', ...))) must not be read as bytes. (Before MicroPython
    1.20 the comparison looked at the bytes whatever the items: there a typed view passes.)"""
    try:
        mv == b""
        return True
    except NotImplementedError:
        return False


def readable(obj, row):
    """`obj`, a bytes-like argument (`row` of qsota.rules names it in a TypeError), as
    something whose len() and items are its bytes, as the C module reads it: bytes,
    bytearray and a memoryview of one-byte items as they are (nothing allocated), another
    buffer (an array, a view over a typed array) as a copy of its bytes."""
    if isinstance(obj, _BYTES):
        return obj
    if isinstance(obj, memoryview):
        return obj if _bytewise(obj) else bytes(obj)
    if isinstance(obj, str):
        _refuse_type(row, obj)
    try:
        memoryview(obj)
    except TypeError:
        _refuse_type(row, obj)
    return bytes(obj)


def writable(obj, row):
    """`obj`, a writable buffer of bytes (a sender's frame), checked as the C module checks
    it: a bytearray, an array of one-byte items or a memoryview of one; a buffer of wider
    items is refused (its items are no bytes to write frames into)."""
    if isinstance(obj, bytearray):
        return obj
    mv = obj if isinstance(obj, memoryview) else None
    if mv is None and not isinstance(obj, _TEXT):
        try:
            mv = memoryview(obj)
        except TypeError:
            pass
    if mv is None or not _bytewise(mv):
        _refuse_type(row, obj)
    return obj


def _take(row, v):
    """An argument `v` of a sender's (or the delta applier's) `row` of qsota.rules, checked
    and converted."""
    name, kind, lo, hi, message, _ = row
    if kind == INT:
        return _int(name, v, lo, hi, message)
    if kind == BOOL:
        if not isinstance(v, bool):
            _type_error(name, kind, v)
        return v
    if kind == FLAG:
        return bool(v)
    if kind == OBJ:
        return v
    if kind == TEXT:
        if isinstance(v, str):
            return v.encode()
        if not isinstance(v, bytes):
            _type_error(name, kind, v)
        return v
    return bytes(readable(v, row))  # BUF


def _refused(kind, lo, hi, v):
    """Whether a check kind of qsota.rules refuses the parameter's value `v`."""
    if kind == LEN:
        return not lo <= len(v) <= hi
    if kind == GAP:
        return lo < v < hi
    if kind == STEP:
        return v % lo != 0
    return 0 in v  # NUL


def parse(rows, args, kw, take=_take):
    """A constructor's parameters (a list in signature order): `args` and `kw` bound as the
    C module binds them (MicroPython's mp_arg_parse_all, after Python's message for an
    unknown keyword; KEYS and what follows it only by keyword), then checked by `rows` of
    qsota.rules in order, the argument kinds by `take(row, value)`."""
    names = []
    values = []
    missing = None
    taken = 0
    positional = 0
    keyword_only = False
    for name, kind, _, _, _, default in rows:
        if kind >= LEN:
            continue
        i = len(names)
        names.append(name)
        keyword_only = keyword_only or kind == KEYS
        if not keyword_only:
            positional += 1
        if i < len(args) and not keyword_only:
            values.append(args[i])
        elif name in kw:
            values.append(kw[name])
            taken += 1
        else:
            if default is REQUIRED and missing is None:
                missing = name
            values.append(default)
    for k in kw:
        if k not in names:
            raise TypeError("unexpected keyword argument '%s'" % k)
    if missing is not None:
        raise TypeError("'%s' argument required" % missing)
    if len(args) > positional:
        raise TypeError("extra positional arguments given")
    if taken < len(kw):
        raise TypeError("extra keyword arguments given")
    for row in rows:
        name, kind, lo, hi, message, _ = row
        i = names.index(name)
        if kind < LEN:
            values[i] = take(row, values[i])
        elif _refused(kind, lo, hi, values[i]):
            raise ValueError("%s: %s" % (name, message))
    return values


