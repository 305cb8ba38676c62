"""What the driver and both backends share, in one place: the action codes every sender's
poll() returns (`QSOTA_ACTION_*`, src/transfer.rs `Action`), TransferError's codes with what
each means (src/transfer.rs `Fail`, plus `io` for the port), and the native receiver's ERROR
names by code (docs/protocol.md section 5). `cargo test` checks them against the Rust
definitions (src/python_codes.rs)."""

SEND = 1
READ = 2
WAIT = 3
DONE = 4
FAILED = 5
DIGEST = 6

MESSAGES = {
    "timeout": "the receiver did not answer",
    "cancelled": "the receiver cancelled the transfer",
    "retries": "too many retransmissions",
    "protocol": "the receiver broke the protocol",
    "source": "the source gave fewer bytes than its size",
    "rejected": "the receiver refused the image",
    "usage": "the sender was misused",
    "io": "the port failed",
}

RECEIVER_ERRORS = (
    "",
    "version",
    "size",
    "flash",
    "digest",
    "not open",
    "state",
    "argument",
    "flags",
    "base",
    "delta",
)

# Why a delta patch or package cannot be applied: `DeltaError.code` (src/delta/mod.rs
# `Fault`, in its order; the C ABI's QSOTA_DELTA_* are 1 + the position).
DELTA_FAULTS = {
    "malformed": "not a detools sequential patch qsota can read",
    "unsupported": "a detools compression or patch type qsota does not apply",
    "window": "the heatshrink window is larger than allowed",
    "too_large": "the target is larger than the limit",
    "base_range": "the patch reads outside the base",
    "base_read": "reading the base failed",
    "write": "writing the target failed",
    "trailing": "bytes follow the end of the patch or package",
    "truncated": "the patch or package ended before the target was complete",
    "magic": "not a delta package (magic)",
    "extension": "the header's reserved bytes are neither zero nor qsota's extension",
    "base_mismatch": "the base is not the one the package was made for",
    "target_mismatch": "the result is not what the package says",
    "no_extension": "a package made for ESP: without qsota's extension the target cannot be checked",
}

# A delta package's magic (esp_delta_ota's) and how many of its first bytes say what it
# makes: the 64-byte header, the patch's kind byte and its longest size field (the target's
# size). qsota.pure.delta and the native sender's source (qsota.protocols) share them.
DELTA_MAGIC = b"\x10\xde\xcd\xfc"
DELTA_HEAD = 70
