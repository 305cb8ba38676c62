"""qsota.mcuboot: what `qsota.send(..., protocol='mcuboot')` does around the MCUboot sender
(`McubootSender`, src/mcuboot/): the image's hash as MCUboot lists it, entering serial recovery by
GPIO, and MCUboot's error codes for messages.

Entering recovery is the MCU owner's choice:
- `enter=True`: the application's SMP server takes `os reset` with boot mode 1 (Zephyr's
  `CONFIG_RETENTION_BOOT_MODE`); the sender does that itself, then waits `boot_ms`;
- `boot_pin=`, `reset_pin=`: MCUboot's detect pin (`BOOT_SERIAL_DETECT_PIN`) is held at
  `boot_level` while `reset_pin` pulses low, then released after `boot_ms` (MCUboot samples
  it once at boot; released, the final reset boots the new image);
- neither: the MCU is in recovery already.
"""

from .clock import sleep_ms
from .pin import setter
from .errors import TransferError


_MAGIC = 0x96F3B83D
_TLV_INFO = 0x6907
_TLV_PROTECTED = 0x6908
_TLV_SHA256 = 0x10
_RESET_PULSE_MS = 20

# MCUboot's MGMT_ERR_* codes (rc), for messages.
RC = (
    "ok",
    "unknown error",
    "out of memory",
    "invalid request (offset, size or image)",
    "timeout",
    "no such image or slot",
    "bad state",
    "message too large",
    "not supported",
    "image corrupt",
    "busy",
)
# McubootSender stats' `step`.
STEPS = ("enter", "boot", "params", "probe", "upload", "list", "reset", "done")


def _u16(b, at):
    return b[at] | (b[at + 1] << 8)


def _u32(b, at):
    return _u16(b, at) | (_u16(b, at + 2) << 16)


def image_hash(f):
    """The SHA-256 TLV of the MCUboot image in file `f` (rewound): what MCUboot's image
    list reports once it validated the image. TransferError `source` if `f` holds none."""

    def fail(why):
        f.seek(0)
        raise TransferError("source", "mcuboot: the source is not a signed MCUboot image (%s)" % why)

    f.seek(0)
    head = f.read(32)
    if len(head) < 32 or _u32(head, 0) != _MAGIC:
        fail("no image header")
    at = _u16(head, 8) + _u32(head, 12)  # header size + body size: the TLV area
    for _ in range(2):
        f.seek(at)
        info = f.read(4)
        if len(info) < 4 or _u16(info, 0) not in (_TLV_INFO, _TLV_PROTECTED):
            break
        end = at + _u16(info, 2)
        at += 4
        while at + 4 <= end:
            f.seek(at)
            tlv = f.read(4)
            if len(tlv) < 4:
                break
            kind, n = _u16(tlv, 0), _u16(tlv, 2)
            if kind == _TLV_SHA256 and n == 32:
                digest = f.read(32)
                f.seek(0)
                if len(digest) == 32:
                    return digest
            at += 4 + n
        at = end
    fail("no SHA-256 TLV")


def enter_by_pin(boot_pin, reset_pin, boot_level=0, boot_ms=1000):
    """Resets the MCU with MCUboot's detect pin held at `boot_level`, waits `boot_ms`,
    releases the pin. The pins are as `qsota.pin` takes them."""
    boot = setter("boot_pin", boot_pin)
    reset = setter("reset_pin", reset_pin)
    if boot_level not in (0, 1):
        raise ValueError("boot_level: must be 0 or 1")
    boot(boot_level)
    reset(0)
    sleep_ms(_RESET_PULSE_MS)
    reset(1)
    sleep_ms(boot_ms)
    boot(1 - boot_level)


def entry(options):
    """Takes the GPIO options (boot_pin, reset_pin, boot_level) out of `options` (the rest
    goes to the sender) and returns what enters recovery by them once the sender is made,
    or None (the sender's own `enter`, or the MCU is in recovery already)."""
    boot_pin = options.pop("boot_pin", None)
    reset_pin = options.pop("reset_pin", None)
    boot_level = options.pop("boot_level", 0)
    if boot_pin is None and reset_pin is None:
        return None
    if boot_pin is None or reset_pin is None:
        raise TypeError("boot_pin, reset_pin: give both to enter recovery by GPIO")
    if options.get("enter"):
        raise ValueError("enter: not with boot_pin (choose one way into recovery)")
    boot_ms = options.get("boot_ms", 1000)
    return lambda port: enter_by_pin(boot_pin, reset_pin, boot_level, boot_ms)


def detail(stats):
    """What to add to a failure's message: the step, and MCUboot's code and its meaning."""
    step = stats.get("step", 0)
    text = " (%s" % (STEPS[step] if step < len(STEPS) else step)
    rc = stats.get("rc", 0)
    if rc:
        text += "; MCUboot rc %d: %s" % (rc, RC[rc] if 0 <= rc < len(RC) else "?")
    elif STEPS[step] == "list":
        text += "; MCUboot does not list the image as valid: bad signature or a corrupt image"
    return text + ")"
