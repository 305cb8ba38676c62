"""qsota.rules: the senders' arguments (constructors and methods) and their checks, written
once for both backends. `qsota.pure` parses through them (`pure/sender.py` `parse`); `scripts/rules_h.py`
writes them to `cmodule/rules.h` for the C module's one parser (`qsota_parse_rules` in
`cmodule/modqsota.c`), and a test checks that the committed header is what it writes.

A class's rows are its checks in the order both backends make them, each
(name, kind, lo, hi, message, default). A row of an argument kind (INT to BUF) introduces the
next parameter, in signature order, with its default (REQUIRED: none); a row of a check kind
(LEN to NUL) checks an earlier parameter again. An optional INT, BOOL or FLAG parameter is the
field of the same name in the class's options struct of the C ABI, whose defaults function
gives the C module its defaults (`cargo test` checks that they are the ones here).
A refusal is TypeError "name: expected <EXPECTED[kind]>, got <type>" for the argument kinds,
else ValueError "name: message".

The methods every sender has (poll, receive, provide) have rows of the same shape. They run
at every step of a transfer, so each backend checks them in its own code (a walk through a
table would cost the hot loop), with the names, kinds and messages of these rows.
"""

# Argument kinds.
INT = 0  # an int (not bool) in lo..hi
BOOL = 1  # a bool
FLAG = 2  # any object, taken for its truth
TEXT = 3  # str or bytes, taken as bytes
BUF = 4  # a bytes-like object (not str)
# Check kinds, on a parameter already taken.
LEN = 5  # its length is in lo..hi
GAP = 6  # it is not strictly between lo and hi
STEP = 7  # it is a multiple of lo
NUL = 8  # it holds no NUL byte
# Argument kinds of the methods.
TICKS = 9  # an int (not bool), taken modulo 2**32: now_ms
WBUF = 10  # a writable buffer (bytearray, memoryview): the frame
RBUF = 11  # a bytes-like object (not str), read in place

# What a TypeError says an argument kind expects ("" for the kinds that refuse no type).
EXPECTED = (
    "int", "bool", "", "str or bytes", "bytes", "", "", "", "", "int", "a writable buffer",
    "a bytes-like object",
)

REQUIRED = None

_U32 = 0xFFFFFFFF
_I31 = 0x7FFFFFFF
_ANY_U32 = "must be 0 to 4294967295"
_WAIT = "must be 1 to 2147483647"
_BYTE = "must be 0 to 255"

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
    ("name", LEN, 1, 255, "must be 1 to 255 bytes", None),
    ("name", NUL, 0, 0, "must not contain NUL", None),
)

LINK = (
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

SMP = (
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
