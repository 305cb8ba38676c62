"""qsota.pin: the one pin shape that the stm32 protocol's boot0/nrst and mcuboot's
boot_pin/reset_pin take (QuecPython's Pin.write, MicroPython's Pin.value, or a callable)."""

def test_every_pin_option_takes_the_same_shapes(mp):
    log, none, refused, stm32, mcuboot = mp.json("import pin_setters", None)
    assert log == [["write", 1], ["value", 1], ["call", 1]]
    assert none is None
    assert refused == "nrst: expected a Pin (write() or value()) or a callable, got int"
    assert stm32 == [["write", 1], ["value", 0], ["value", 1], ["write", 0]]
    assert mcuboot == [["value", 1], ["reset", 0], ["reset", 1], ["value", 0]]
