"""qsota.protocols: the protocols `qsota.send` speaks, one `Protocol` record each, with all
that the driver (qsota.transfer) and the agent (qsota.agent) need to know of it. A new
protocol is a sender class in both backends and one record here.
"""

from .codes import DELTA_HEAD, DELTA_MAGIC, RECEIVER_ERRORS
from .source import head_of, sha256_of


class Protocol:
    """One protocol (docs/architecture.md has its names in every layer).

    name        its public name, `qsota.send(protocol=...)`
    cls         the backend's sender class, by name; it is made as
                cls(*args(f, size, name, options), **options)
    args        what the class's positional arguments are made of: the opened image, its
                size, the name, the caller's options (from which it takes what is not the
                class's)
    bits        line bits per byte: 10 (8N1) unless the protocol fixes its framing
    reply       the option that holds the reply timeout in ms, and `reply_ms`, its value when
                the option is not given or 0 (the table's default in python/qsota/rules.py;
                for native, whose 0 is adaptive, 1 s): how long a write may take no bytes
                before the port counts as failed, so that a stuck port fails no later than a
                silent receiver would
    takes_baud  whether the class takes `baud` itself (the driver paces by it either way)
    entry       None, or entry(options) -> enter(port): takes its options (GPIO pins...) out
                of `options` and returns what puts the MCU into its bootloader once the
                sender is made, so that bad arguments never touch the MCU
    detail      None, or detail(stats) -> what a failure's message adds from the stats
    sha256      whether the class takes the image's SHA-256 (`sha256=`): the agent gives it
                the one its download computed
    identity    whether the class takes `component` and `version`: the agent gives it its
                component and the target version
    container   whether the bootloader takes a signed image whole (it checks it again
                itself); else the agent sends the body of a verified signed image
    packages    whether the protocol carries qsota's delta packages as such (native: OPEN
                says so, and the receiver applies the package or refuses it before it erases
                anything); qsota.source.refusal lets them through
    stream      whether the agent may send an image as it downloads (qsota.stream,
                `deferred=True`): "auto" when the MCU keeps its firmware until a verified
                commit (the agent streams an image that does not fit the free space),
                "option" when the bootloader overwrites the application as it goes (only
                with the agent's stream=True), None when a failed final check could not be
                withheld from the MCU (docs/agent.md, "Stream mode")
    """

    def __init__(self, name, cls, args, reply, reply_ms, bits=10, takes_baud=True, entry=None,
                 detail=None, sha256=False, identity=False, container=False, packages=False,
                 stream=None):
        self.name = name
        self.cls = cls
        self.args = args
        self.reply = reply
        self.reply_ms = reply_ms
        self.bits = bits
        self.takes_baud = takes_baud
        self.entry = entry
        self.detail = detail
        self.sha256 = sha256
        self.identity = identity
        self.container = container
        self.packages = packages
        self.stream = stream

    def stall_ms(self, options):
        """How long a write may take no bytes, with the caller's `options`."""
        return options.get(self.reply) or self.reply_ms


def _ymodem_args(f, size, name, options):
    return (name, size)


def _native_args(f, size, name, options):
    sha256 = options.pop("sha256", None)
    if options.get("deferred"):
        # A stream (qsota.stream): checked at its end only, named in OPEN by its identity
        # (docs/protocol.md, DIGEST_AT_COMMIT; a package: COMMIT held back).
        identity = getattr(f, "identity", None)
        if not callable(identity):
            raise TypeError("deferred: the source must be a stream (qsota.stream.Stream)")
        sha256 = identity() if sha256 is None else sha256
    else:
        sha256 = sha256_of(f, sha256)
    if "delta" not in options:
        # A delta package goes as one: the receiver applies it (OPEN's DELTA flag).
        head = head_of(f, DELTA_HEAD)
        if head[:4] == DELTA_MAGIC:
            options["delta"] = head
    return (size, sha256)


def _size_args(f, size, name, options):
    return (size,)


def _mcuboot_args(f, size, name, options):
    from . import mcuboot

    return (size, sha256_of(f, options.pop("sha256", None)), mcuboot.image_hash(f, size))


def _stm32_entry(options):
    from . import stm32boot

    pins = stm32boot.take(options)
    return lambda port: stm32boot.enter(*pins)


def _mcuboot_entry(options):
    from . import mcuboot

    return mcuboot.entry(options)


def _mcuboot_detail(stats):
    from . import mcuboot

    return mcuboot.detail(stats)


# The native receiver's ERROR.
def _receiver_error(stats):
    refused = stats.get("receiver_error", 0)
    if not refused:
        return ""
    return " (%s)" % (RECEIVER_ERRORS[refused] if refused < len(RECEIVER_ERRORS) else refused)


# The ROM bootloader's reason.
def _reason(stats):
    return " (%s)" % stats["reason"] if stats.get("reason") else ""


PROTOCOLS = (
    Protocol("ymodem", "YmodemSender", _ymodem_args, "timeout_ms", 3000, stream="option"),
    Protocol("native", "NativeSender", _native_args, "rto_ms", 1000, detail=_receiver_error,
             sha256=True, identity=True, packages=True, stream="auto"),
    Protocol("stm32", "Stm32Sender", _size_args, "timeout_ms", 1000, bits=11,
             entry=_stm32_entry, detail=_reason),
    Protocol("mcuboot", "McubootSender", _mcuboot_args, "timeout_ms", 3000, takes_baud=False,
             entry=_mcuboot_entry, detail=_mcuboot_detail, sha256=True, container=True),
)


def find(name):
    """The record of the protocol `name`, or None."""
    for p in PROTOCOLS:
        if p.name == name:
            return p
    return None


def get(protocol):
    """The record of `protocol`; TypeError if it is not a str, ValueError (listing the
    known ones) if there is none."""
    if not isinstance(protocol, str):
        raise TypeError("protocol: expected str, got %s" % type(protocol).__name__)
    p = find(protocol)
    if p is None:
        known = ", ".join(repr(p.name) for p in PROTOCOLS)
        raise ValueError("protocol: unknown %r (known: %s)" % (protocol, known))
    return p
