"""tests/test_verify.py: heap bytes per Verifier.update, after a warm-up (JSON).
sys.argv: the number of updates, then "md5" to measure the pure MD5 alone."""

import gc, json, sys, qsota

def per_update(v, buf, piece, n):
    # In a function: module-level code would grow the globals dict as it measures.
    v.update(buf)  # the first call does anything lazy (the pure backend's tables)
    gc.collect()
    before = gc.mem_alloc()
    for _ in range(n):
        v.update(buf)
        v.update(piece)
    return (gc.mem_alloc() - before) / (2 * n)

n = int(sys.argv[1])
buf = bytearray(4096)
if len(sys.argv) < 3:
    v = qsota.Verifier()
else:
    from qsota.pure.md5 import md5
    v = md5()
print(json.dumps([per_update(v, buf, memoryview(buf)[100:1100], n), getattr(v, "size", 0)]))
