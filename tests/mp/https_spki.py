"""tests/test_http.py: key pins from the DER certificate argv[1] (JSON)."""

import json, sys
from qsota import https
with open(sys.argv[1], "rb") as f:
    der = f.read()
seed = 7
def rand():
    global seed
    seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
    return seed >> 8
outcomes = {"key": 0, "TlsError": 0}
cases = [der[:n] for n in range(len(der))]  # every truncation
for _ in range(500):  # and byte mutations
    b = bytearray(der)
    for _ in range(1 + rand() % 4):
        b[rand() % len(b)] = rand() & 0xFF
    cases.append(bytes(b))
for case in cases:
    try:
        key = https.spki(case)
        assert 0 < len(key) <= len(case)
        outcomes["key"] += 1
    except https.TlsError:
        outcomes["TlsError"] += 1
print(json.dumps([outcomes, len(https.spki(der))]))
