"""tests/test_agent.py: what qsota.send refuses to send (an empty image, a diff package) and
the options that send it anyway (JSON: [code, message] or "sent" per case). The native
protocol carries qsota's packages (its receiver applies them): one made for ESP, without
qsota's extension, is refused there as an argument the receiver could not check."""

import io, json, qsota

class Port:  # a UART whose line is dead
    def write(self, buf):
        raise OSError(5, "dead line")
    def any(self):
        return 0
    def readinto(self, buf, n=None):
        return 0

PATCH = b"BSDIFF40" + bytes(100)
ESP = b"\x10\xde\xcd\xfc" + bytes(60)  # esp_delta_ota's header, no qsota extension
out = []
for data, options in (
    (b"", {}),
    (b"", {"allow_empty": True, "start_timeout_ms": 50}),
    (PATCH, {}),
    (PATCH, {"mcu_applies_diffs": True, "start_timeout_ms": 50}),
    (ESP, {}),
    (ESP, {"protocol": "native"}),
):
    try:
        qsota.send(Port(), io.BytesIO(data), name="x", **options)
        out.append("sent")
    except qsota.TransferError as e:
        out.append([e.code, str(e)])
    except ValueError as e:
        out.append(["ValueError", str(e)])
print(json.dumps(out))
