"""tests/test_agent.py: empty images through the agent and qsota.send (JSON)."""

import io, json, qsota

class Port:  # a UART whose line is dead
    def write(self, buf):
        raise OSError(5, "dead line")
    def any(self):
        return 0
    def readinto(self, buf, n=None):
        return 0

out = []
for options in ({}, {"allow_empty": True, "start_timeout_ms": 50}):
    try:
        qsota.send(Port(), io.BytesIO(b""), name="x", **options)
        out.append("sent")
    except qsota.TransferError as e:
        out.append([e.code, str(e)])
print(json.dumps(out))
