"""tests/test_image.py: heap bytes per update of a Verifier that checks a signed image (argv:
path, key hex; JSON)."""

import gc, json, sys, qsota

def per_update(v, view, n):
    gc.collect()
    before = gc.mem_alloc()
    for i in range(n):
        v.update(view)
    return (gc.mem_alloc() - before) / n

data = open(sys.argv[1], 'rb').read()
key = bytes.fromhex(sys.argv[2])
v = qsota.Verifier(keys=[key])
v.update(memoryview(data)[:32])  # the header (a TLV-area buffer may allocate once)
print(json.dumps([per_update(v, memoryview(bytearray(100)), 1000), v.size]))
