"""qsota.rules: the arguments of qsota's classes (the senders', the Verifier's and the
delta applier's constructors and methods) and their checks, written once for both backends. `qsota.pure`
parses through them (`pure/args.py`); `scripts/rules_h.py` writes them to `cmodule/rules.h`
for the C module (the senders' one parser `qsota_parse_rules` in `cmodule/args.c`,
`sender.c`, `verifier.c`), and a test checks that the committed header is what it writes.

A class's rows are its checks in the order both backends make them, each
(name, kind, lo, hi, message, default). A row of an argument kind (INT to KEYS) introduces
the next parameter, in signature order, with its default (REQUIRED: none); a row of a check
kind (LEN to NUL) checks an earlier parameter again. An optional INT, BOOL or FLAG parameter
of a sender is the field of the same name in the class's options struct of the C ABI, whose
defaults function gives the C module its defaults (`cargo test` checks that they are the
ones here). A refusal is TypeError "name: expected <EXPECTED[kind]>, got <type>" for the
argument kinds, else ValueError "name: message".

The methods (a sender's poll, receive and provide; the Verifier's update, hexdigest and
crc32) have rows of the same shape. The senders' run at every step of a transfer, so each
backend checks them in its own code (a walk through a table would cost the hot loop), with
the names, kinds and messages of these rows; the Verifier's kinds are parsers of their own
(hex digests, a CRC as a number or text, names), which each backend has once.
"""

# Argument kinds.
INT = 0  # an int (not bool) in lo..hi
BOOL = 1  # a bool
FLAG = 2  # any object, taken for its truth
TEXT = 3  # str or bytes, taken as bytes
BUF = 4  # a bytes-like object (not str)
TICKS = 5  # an int (not bool), taken modulo 2**32: now_ms
WBUF = 6  # a writable buffer of one-byte items (bytearray, a memoryview of one): a frame
RBUF = 7  # a bytes-like object (not str), read in place as its bytes (a typed view too)
HEX = 8  # a digest: str or bytes of exactly lo hex digits (message: what, NON_HEX: why)
CRC = 9  # an int in lo..hi, or str or bytes read as decimal and/or hex (NOT_A_NUMBER)
NAME = 10  # a str, one of the names the message lists (a CRC variant: the codes lo..hi)
KEYS = 11  # a list (or tuple) of lo to hi public keys, each KEY_BYTES long
# KEYS and every parameter after it are keyword only.
OBJ = 12  # any object, kept as it is (a file-like object the class calls)
# Check kinds, on a parameter already taken.
LEN = 13  # its length is in lo..hi
GAP = 14  # it is not strictly between lo and hi
STEP = 15  # it is a multiple of lo
NUL = 16  # it holds no NUL byte

# What a TypeError says each argument kind expects ("" for the kinds that refuse no type or
# say it themselves).
EXPECTED = (
    "int", "bool", "", "str or bytes", "bytes", "int", "a writable buffer of bytes",
    "a bytes-like object", "str or bytes", "int, str or bytes", "str",
    "a list of 32-byte Ed25519 public keys", "",
)
# The ValueErrors of a HEX argument with a character that is not a hex digit (after the
# row's message) and of CRC text that is no number.
NON_HEX = "got a non-hex character"
NOT_A_NUMBER = "not a decimal or hex number"
# A key of a KEYS argument that is not bytes is refused as a BUF is; one of another length
# with this message.
KEY_BYTES = "expected 32-byte Ed25519 public keys"

# The default of a parameter that has none (None is a default: "not given").
REQUIRED = object()

_U32 = 0xFFFFFFFF
_I31 = 0x7FFFFFFF
_ANY_U32 = "must be 0 to 4294967295"
_WAIT = "must be 1 to 2147483647"
_BYTE = "must be 0 to 255"

# src/ymodem.rs MIN_BAUD: below it no block reaches ST's IAP within its packet timeout.
_SLOW = (
    "must be 0 (unknown) or at least 1774: a 128-byte block must reach the receiver within "
    "ST's 1 s packet timeout"
)

YMODEM = (
    ("name", TEXT, 0, 0, "", REQUIRED),
    ("size", INT, 0, _U32, _ANY_U32, REQUIRED),
    ("block_size", INT, 128, 1024, "must be 128 or 1024", 1024),
    ("block_size", GAP, 128, 1024, "must be 128 or 1024", None),
    ("timeout_ms", INT, 1, _I31, _WAIT, 3000),
    ("header_timeout_ms", INT, 1, _I31, _WAIT, 30000),
    ("start_timeout_ms", INT, 1, _I31, _WAIT, 60000),
    ("end_gap_ms", INT, 1, _I31, _WAIT, 200),
    ("retries", INT, 0, 255, _BYTE, 10),
    ("baud", INT, 0, _U32, _ANY_U32, 0),
    ("baud", GAP, 0, 1774, _SLOW, None),
    ("deferred", FLAG, 0, 0, "", False),
    ("name", LEN, 1, 255, "must be 1 to 255 bytes", None),
    ("name", NUL, 0, 0, "must not contain NUL", None),
)

# NativeSender's `delta`: a delta package's first bytes (qsota.pure.delta.HEAD of them): the
# image is that package, which the receiver applies (OPEN's DELTA flag); empty: not a delta.
# `require_signature`: the receiver commits the image (a delta's result) only if it is an MCUboot image
# signed by one of its keys (OPEN's SIGNED flag; a receiver without the check refuses it).
NATIVE = (
    ("size", INT, 0, _U32, _ANY_U32, REQUIRED),
    ("sha256", BUF, 0, 0, "", REQUIRED),
    ("sha256", LEN, 32, 32, "must be 32 bytes", None),
    ("component", TEXT, 0, 0, "", b""),
    ("component", LEN, 0, 32, "must be at most 32 bytes", None),
    ("version", TEXT, 0, 0, "", b""),
    ("version", LEN, 0, 32, "must be at most 32 bytes", None),
    ("rto_ms", INT, 0, _I31, "must be 0 to 2147483647", 0),
    ("open_timeout_ms", INT, 1, _I31, _WAIT, 60000),
    ("retries", INT, 0, 255, _BYTE, 10),
    ("baud", INT, 0, _U32, _ANY_U32, 0),
    ("deferred", FLAG, 0, 0, "", False),
    ("delta", BUF, 0, 0, "", b""),
    ("require_signature", BOOL, 0, 0, "", False),
)

_ADDRESS = "must be a multiple of 256 from 0x08000000"

STM32 = (
    ("size", INT, 1, _U32, "must be 1 to 4294967295", REQUIRED),
    ("address", INT, 0x08000000, _U32, _ADDRESS, 0x08000000),
    ("address", STEP, 256, 0, _ADDRESS, None),
    ("go", BOOL, 0, 0, "", True),
    ("flash_size", INT, 0, _U32, _ANY_U32, 0),
    ("page_size", INT, 0, _U32, _ANY_U32, 0),
    ("timeout_ms", INT, 1, _I31, _WAIT, 1000),
    ("erase_timeout_ms", INT, 1, _I31, _WAIT, 5000),
    ("start_timeout_ms", INT, 1, _I31, _WAIT, 5000),
    ("retries", INT, 0, 255, _BYTE, 10),
    ("baud", INT, 0, _U32, _ANY_U32, 0),
)

_BUF_SIZE = "must be 0 or 128 to 65535"

MCUBOOT = (
    ("size", INT, 1, _U32, "must be 1 to 4294967295", REQUIRED),
    ("sha256", BUF, 0, 0, "", REQUIRED),
    ("sha256", LEN, 32, 32, "must be 32 bytes", None),
    ("hash", BUF, 0, 0, "", REQUIRED),
    ("hash", LEN, 32, 32, "must be 32 bytes", None),
    ("image", INT, 0, 255, _BYTE, 0),
    ("buf_size", INT, 0, 65535, _BUF_SIZE, 0),
    ("enter", FLAG, 0, 0, "", False),
    ("resume", FLAG, 0, 0, "", True),
    ("reset", FLAG, 0, 0, "", True),
    ("timeout_ms", INT, 1, _I31, _WAIT, 3000),
    ("erase_timeout_ms", INT, 1, _I31, _WAIT, 30000),
    ("boot_ms", INT, 1, _I31, _WAIT, 1000),
    ("retries", INT, 0, 255, _BYTE, 10),
    ("buf_size", GAP, 0, 128, _BUF_SIZE, None),
)

# poll(now_ms, frame), receive(now_ms, data, n=len(data)), provide(n). The `n` of receive is
# at most len(data), which no table row can hold: `hi` stands for it.
POLL = (
    ("now_ms", TICKS, 0, 0, "", REQUIRED),
    ("frame", WBUF, 0, 0, "", REQUIRED),
)

RECEIVE = (
    ("now_ms", TICKS, 0, 0, "", REQUIRED),
    ("data", RBUF, 0, 0, "", REQUIRED),
    ("n", INT, 0, _U32, "must be 0..len(data)", None),
)

PROVIDE = (("n", INT, 0, _U32, "must be >= 0", REQUIRED),)

# Verifier(md5=None, sha256=None, crc=None, size=None, crc_variant='auto', *, keys=None,
# resumable=False). None is "not given" for each (crc_variant: 'auto'). The C module refuses
# more keys than QSOTA_MAX_KEYS whatever the row says. `resumable` (a Verifier whose state
# export() writes and restore() reads) is refused with keys: a signed image's state is not
# part of the record.
VERIFIER = (
    ("md5", HEX, 32, 32, "expected 32 hex digits", None),
    ("sha256", HEX, 64, 64, "expected 64 hex digits", None),
    ("crc", CRC, 0, _U32, "out of range 0..0xffffffff", None),
    ("size", INT, 0, _U32, "out of range 0..4294967295", None),
    ("crc_variant", NAME, 0, 2, "expected 'auto', 'mpeg2' or 'iso-hdlc'", None),
    ("keys", KEYS, 1, 4, "expected 1 to 4 keys", None),  # 4: QSOTA_MAX_KEYS
    ("resumable", FLAG, 0, 0, "not with keys (a signed image's state is not exported)", False),
)

# Verifier.update(buf): its TypeError names the method. hexdigest(name). crc32(variant=None).
# restore(state): lo..hi is the length of a state (QSOTA_VERIFIER_STATE_LEN).
UPDATE = (("update", RBUF, 0, 0, "", REQUIRED),)
RESTORE = (("state", RBUF, 140, 140, "expected 140 bytes", REQUIRED),)
# The ValueErrors of export() and restore(state) ("export: ...", "restore: ..." for the
# verifier's side, "state: ..." for the record's), in the order both backends check.
NOT_RESUMABLE = "the Verifier was made without resumable=True"
NOT_FRESH = "only into a new Verifier, before its first byte"
STATE_FINAL = "the verifier is final after check() or a digest"
STATE_DAMAGED = "damaged (its check value or a field is wrong)"
STATE_VERSION = "made by a later version of qsota"
STATE_VARIANT = "made with another crc_variant"

HEXDIGEST = (("name", NAME, 0, 0, "expected 'md5' or 'sha256'", REQUIRED),)
CRC32 = (("variant", NAME, 1, 2, "expected 'mpeg2' or 'iso-hdlc'", None),)

# The delta applier: qsota.pure.delta.Package and _qsota.DeltaPackage(base, base_size, out,
# limit, window, check_base); qsota.pure.patch.Patch takes the first five. `base` is read
# with seek and readinto, `out` written with write; `window` caps the heatshrink window a
# package may name (the applier allocates what it names). Each backend checks these rows in
# its own code (cmodule/delta.c, pure/patch.py), as the Verifier's.
DELTA_MAX_SIZE = (1 << 30) - 1  # the largest base or target
_SIZE = "must be 0 to 1073741823"
DELTA = (
    ("base", OBJ, 0, 0, "", REQUIRED),
    ("base_size", INT, 0, DELTA_MAX_SIZE, _SIZE, REQUIRED),
    ("out", OBJ, 0, 0, "", REQUIRED),
    ("limit", INT, 0, DELTA_MAX_SIZE, _SIZE, DELTA_MAX_SIZE),
    ("window", INT, 0, DELTA_MAX_SIZE, _SIZE, 1 << 15),
    ("check_base", FLAG, 0, 0, "", True),
)

# push(data, n=-1, room=-1): `data` bytes, bytearray or a memoryview; `n` and `room` are -1
# (their default: all of data; no bound on what the push writes) or in lo..hi, where n's hi
# stands for len(data).
PUSH = (
    ("data", RBUF, 0, 0, "", REQUIRED),
    ("n", INT, 0, _U32, "must be -1 or 0 to len(data)", -1),
    ("room", INT, 0, DELTA_MAX_SIZE, "must be -1 or 0 to 1073741823", -1),
)

# tlv_hash(head, tail, tail_at): the SHA-256 TLV of an MCUboot image from the two ends of its
# file (src/image.rs `tlv_hash`); qsota.mcuboot reads the hash MCUboot lists so.
TLV_HASH = (
    ("head", RBUF, 0, 0, "", REQUIRED),
    ("tail", RBUF, 0, 0, "", REQUIRED),
    ("tail_at", INT, 0, _U32, _ANY_U32, REQUIRED),
)
