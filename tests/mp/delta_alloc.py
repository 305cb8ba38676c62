"""tests/test_delta.py: heap bytes (micropython.mem_total: frames freed at once count too)
that a proving pass (delta.check) and a sending pass (a Target read in 1 KiB blocks) of the
pure applier allocate, after a first pass (JSON: [[prove, send, target size], ...]).
sys.argv: (base, package) paths, pairs of them."""

import gc, json, micropython, sys
from qsota import delta

buf = bytearray(1024)


def prove(base, pkg):
    return delta.check(base, pkg)[0]


def send(base, pkg):
    t = delta.Target(base, pkg)
    while t.readinto(buf):
        pass
    t.close()
    return t.size


def allocated(fn, base, pkg):
    fn(base, pkg)
    gc.collect()
    before = micropython.mem_total()
    size = fn(base, pkg)
    return micropython.mem_total() - before, size


out = []
for i in range(1, len(sys.argv), 2):
    p, size = allocated(prove, sys.argv[i], sys.argv[i + 1])
    s, _ = allocated(send, sys.argv[i], sys.argv[i + 1])
    out.append([p, s, size])
print(json.dumps(out))
