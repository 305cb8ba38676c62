"""tests/test_mcuboot.py: qsota.send of a signed image to MCUboot (argv: the port, the options
as JSON, the image; JSON outcome)."""

import json, sys

import qsota

PORT = int(sys.argv[1])
OPTIONS = json.loads(sys.argv[2])
PATH = sys.argv[3]
port = qsota.tcp_port("127.0.0.1", PORT)
options = OPTIONS
stop = options.pop("stop_at", None)
def progress(offset, size):
    if stop is not None and offset >= stop:
        sys.exit(3)  # the module restarts mid-upload
class Pin:
    def __init__(self, name):
        self.name = name
    def write(self, v):
        pins.append([self.name, v])
pins = []
if options.pop("pins", False):
    options.update(boot_pin=Pin("boot"), reset_pin=Pin("reset"))
try:
    stats = qsota.send(port, PATH, protocol="mcuboot", progress=progress, **options)
    print(json.dumps({"ok": True, "stats": stats, "pins": pins}))
except qsota.TransferError as e:
    print(json.dumps({"ok": False, "code": e.code, "message": str(e)}))
