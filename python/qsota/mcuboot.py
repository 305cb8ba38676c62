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

from . import _bound
from .clock import sleep_ms
from .codes import MCUBOOT_RC, MCUBOOT_STEPS
from .pin import setter
from .errors import TransferError


_RESET_PULSE_MS = 20
# The ends of the file image_hash reads: the header, and the TLV areas (an Ed25519 image's
# are under 200 bytes, an RSA-3072 one's under 600) with room for large protected TLVs.
_HEAD = 256
_TAIL = 4096
_MAGIC = b"\x3d\xb8\xf3\x96"  # 0x96f3b83d little-endian: only for the message


def image_hash(f, size):
    """The SHA-256 TLV of the MCUboot image in file `f` of `size` bytes (rewound), read by
    the backend's `tlv_hash` (the core's image parser, or qsota.pure's port of it) from the
    file's two ends: what MCUboot's image list reports once it validated the image.
    TransferError `source` if `f` holds none."""
    f.seek(0)
    if size <= _HEAD + _TAIL:
        head, tail, at = f.read(size), b"", size
    else:
        head, at = f.read(_HEAD), size - _TAIL
        f.seek(at)
        tail = f.read(_TAIL)
    f.seek(0)
    digest = _bound.backend.tlv_hash(head, tail, at)
    if digest is None:
        why = "no SHA-256 TLV" if head[:4] == _MAGIC else "no image header"
        raise TransferError(
            "source", "mcuboot: the source is not a signed MCUboot image (%s)" % why
        )
    return digest


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
    text = " (%s" % (MCUBOOT_STEPS[step] if step < len(MCUBOOT_STEPS) else step)
    rc = stats.get("rc", 0)
    if rc:
        text += "; MCUboot rc %d: %s" % (rc, MCUBOOT_RC[rc] if 0 <= rc < len(MCUBOOT_RC) else "?")
    elif MCUBOOT_STEPS[step] == "list":
        text += "; MCUboot does not list the image as valid: bad signature or a corrupt image"
    return text + ")"
