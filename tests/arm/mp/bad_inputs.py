# Bad input on the emulated ARM: each raises TypeError or ValueError naming the argument, the
# same on _qsota and qsota.pure, and the firmware keeps running. Run by tests/arm/run.py.
import qsota
import qsota.pure
from check import eq, ok, raises


CASES = (
    # (exception, keyword arguments, the argument the message must name)
    (TypeError, {"md5": 5}, "md5"),
    (ValueError, {"md5": "0" * 31}, "md5"),
    (ValueError, {"md5": "g" * 32}, "md5"),
    (ValueError, {"sha256": "0" * 65}, "sha256"),
    (ValueError, {"sha256": "0" * 63 + " "}, "sha256"),
    (ValueError, {"crc": -1}, "crc"),
    (ValueError, {"crc": 1 << 32}, "crc"),
    (ValueError, {"crc": "0x"}, "crc"),
    (ValueError, {"crc": "12 34"}, "crc"),
    (ValueError, {"crc": "1" * 40}, "crc"),
    (TypeError, {"crc": 1.5}, "crc"),
    (TypeError, {"size": "10"}, "size"),
    (ValueError, {"size": -1}, "size"),
    (ValueError, {"crc_variant": "crc16"}, "crc_variant"),
    (TypeError, {"crc_variant": 1}, "crc_variant"),
)

for name, m in (("native", qsota), ("pure", qsota.pure)):
    messages = []
    for exc, kwargs, word in CASES:
        what = "%s Verifier(**%r)" % (name, kwargs)
        messages.append(raises(exc, lambda: m.Verifier(**kwargs), what, word))
    v = m.Verifier()
    raises(TypeError, lambda: v.update(123), name + " update(int)")
    raises(TypeError, lambda: v.update("text"), name + " update(str)")
    raises(ValueError, lambda: v.crc32("crc16"), name + " crc32(unknown)")
    raises(ValueError, lambda: v.hexdigest("sha1"), name + " hexdigest(unknown)")
    v.update(b"still works")
    eq(v.size, 11, name + " size after errors")
    if name == "native":
        native_messages = messages
    else:
        eq(messages, native_messages, "messages, pure against native")

ok()
