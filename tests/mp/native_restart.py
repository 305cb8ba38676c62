"""tests/test_native.py: two sends on one connection, the first stopped half way (argv: the
simulator's port, the two images)."""

import json, sys

import qsota

PORT = int(sys.argv[1])
FIRST = sys.argv[2]
SECOND = sys.argv[3]
port = qsota.tcp_port("127.0.0.1", PORT)
opts = {"protocol": "native", "component": "mcu", "version": "2.0"}
class Stop(Exception):
    pass
def stop_half_way(offset, size):
    if offset >= size // 2:
        raise Stop(offset)
try:
    qsota.send(port, FIRST, progress=stop_half_way, **opts)
    stopped = None
except Stop as e:
    stopped = e.args[0]
try:
    stats = qsota.send(port, SECOND, **opts)
    print(json.dumps({"ok": True, "stopped": stopped, "stats": stats}))
except qsota.TransferError as e:
    print(json.dumps({"ok": False, "code": e.code, "message": str(e)}))
