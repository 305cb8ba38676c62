"""qsota.pin: the one pin shape that the stm32 protocol's boot0/nrst and mcuboot's
boot_pin/reset_pin take (QuecPython's Pin.write, MicroPython's Pin.value, or a callable)."""

CODE = """
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
"""


def test_every_pin_option_takes_the_same_shapes(mp):
    log, none, refused, stm32, mcuboot = mp.json(CODE, None)
    assert log == [["write", 1], ["value", 1], ["call", 1]]
    assert none is None
    assert refused == "nrst: expected a Pin (write() or value()) or a callable, got int"
    assert stm32 == [["write", 1], ["value", 0], ["value", 1], ["write", 0]]
    assert mcuboot == [["value", 1], ["reset", 0], ["reset", 1], ["value", 0]]
