//! Delta updates: detools *sequential* patches (the bsdiff algorithm) inside esp_delta_ota's
//! 64-byte package header, applied with bounded RAM and no allocation.
//!
//! - [`Applier`] applies one patch: the patch is pushed once, in order, in chunks of any
//!   size; the base is read at the offsets the patch names through [`Base`]; the target is
//!   written in order through [`Sink`]. Compression none, heatshrink (window and lookahead
//!   read from the patch, into a window buffer the caller gives) and crle.
//! - [`Package`] reads the package around it: the header (magic, the base's SHA-256 and
//!   qsota's extension in the reserved bytes), checks the base before any output, and checks
//!   the target's SHA-256 at the end. `docs/delta.md` describes the format and why.
//!
//! Every problem is a [`Fault`] value; nothing panics or reads out of bounds on any input
//! (`fuzz/fuzz_targets/delta.rs`). A fault is final: later calls return it again.
//!
//! RAM: an [`Applier`] is about 300 bytes, a [`Package`] about 560 (the tests print both),
//! plus the heatshrink window (2^window bytes: 256 for detools' default 8/7).

mod decode;
mod fault;
mod io;
mod package;
mod patch;
#[cfg(test)]
pub(crate) mod tests;

pub use fault::Fault;
pub use io::{Base, Io, IoError, Pair, Sink};
pub use package::{
    base_sha256, window_len, Extension, Header, Package, DIGEST_LEN, EXTENSION_TAG, HEADER_LEN,
    MAGIC,
};
pub use patch::{target_size, Applier, PIECE};
