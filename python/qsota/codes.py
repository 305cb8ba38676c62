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

RECEIVER_ERRORS = ("", "version", "size", "flash", "digest", "not open", "state", "argument")
