"""tests/test_pin.py: qsota.pin's setters and their refusals, and the pins of stm32boot and
mcuboot (JSON)."""

import json
from qsota import mcuboot, pin, stm32boot
log = []
class QuecPin:
    def write(self, v):
        log.append(["write", v])
class MpPin:
    def value(self, v):
        log.append(["value", v])
for p in (QuecPin(), MpPin(), lambda v: log.append(["call", v])):
    pin.setter("p", p)(1)
out = [log, pin.setter("p", None)]
try:
    pin.setter("nrst", 3)
except TypeError as e:
    out.append(str(e))
log = []
stm32boot.enter(*stm32boot.take({"boot0": QuecPin(), "nrst": MpPin(), "reset_ms": 0, "boot_ms": 0}))
out.append(log)
log = []
mcuboot.enter_by_pin(MpPin(), lambda v: log.append(["reset", v]), boot_level=1, boot_ms=0)
out.append(log)
print(json.dumps(out))
