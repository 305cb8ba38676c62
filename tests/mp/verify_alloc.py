"""tests/test_verify.py: heap bytes per Verifier.update, after a warm-up (JSON)."""

import gc, json, qsota

def per_update(v, buf, piece, n):
    # In a function: module-level code would grow the globals dict as it measures.
    v.update(buf)  # the first call does anything lazy (the pure backend's tables)
    gc.collect()
    before = gc.mem_alloc()
    for _ in range(n):
        v.update(buf)
        v.update(piece)
    return (gc.mem_alloc() - before) / (2 * n)

buf = bytearray(4096)
v = qsota.Verifier()
print(json.dumps([per_update(v, buf, memoryview(buf)[100:1100], 1000), v.size]))
