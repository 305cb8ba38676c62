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
mod package;
mod patch;
#[cfg(test)]
mod tests;

pub use package::{
    base_sha256, Extension, Header, Package, DIGEST_LEN, EXTENSION_TAG, HEADER_LEN, MAGIC,
};
pub use patch::{Applier, PIECE};

/// A [`Base`] or [`Sink`] failed (a flash or file error); the applier reports it as
/// `Fault::BaseRead` or `Fault::Write`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IoError;

/// The base image, read at the offsets the patch names.
pub trait Base {
    /// Fills `buf` with the base's bytes at `offset` (always inside the base's size).
    fn read(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), IoError>;
}

/// Where the target goes, in order.
pub trait Sink {
    fn write(&mut self, data: &[u8]) -> Result<(), IoError>;
}

/// Keeps the first fault: once a call failed, every later one fails the same way.
#[derive(Default)]
struct Latch(Option<Fault>);

impl Latch {
    fn run<T>(&mut self, f: impl FnOnce() -> Result<T, Fault>) -> Result<T, Fault> {
        if let Some(fault) = self.0 {
            return Err(fault);
        }
        let result = f();
        if let Err(fault) = result {
            self.0 = Some(fault);
        }
        result
    }
}

/// Why a patch or a package cannot be applied. The C ABI's codes are 1 + the position in
/// [`Fault::ALL`]; the names are the Python `DeltaError.code`s.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Not a patch qsota can read: a bad first byte, a size that overflows or is negative, an
    /// unknown crle segment, bad heatshrink parameters, a chunk running past the target's
    /// size or one that does nothing.
    Malformed,
    /// A detools feature qsota does not apply: lzma, bz2, zstd or lz4 compression, an
    /// in-place or hdiffpatch patch, a data-format (`--data-format`) patch.
    Unsupported,
    /// The heatshrink window is larger than the buffer given for it.
    Window,
    /// The target is larger than the limit (the slot).
    TooLarge,
    /// The patch reads outside the base: the base is shorter than the one it was made for.
    BaseRange,
    /// Reading the base failed.
    BaseRead,
    /// Writing the target failed.
    Write,
    /// Bytes follow the end of the patch or of the package.
    Trailing,
    /// The patch or the package ended before the target was complete.
    Truncated,
    /// Not a delta package: the magic is not esp_delta_ota's.
    Magic,
    /// The header's reserved bytes hold neither zeros nor qsota's extension.
    Extension,
    /// The base is not the one the package was made for (SHA-256 or size).
    BaseMismatch,
    /// The result is not what the package says (SHA-256 or size).
    TargetMismatch,
}

impl Fault {
    pub const ALL: [Fault; 13] = [
        Fault::Malformed,
        Fault::Unsupported,
        Fault::Window,
        Fault::TooLarge,
        Fault::BaseRange,
        Fault::BaseRead,
        Fault::Write,
        Fault::Trailing,
        Fault::Truncated,
        Fault::Magic,
        Fault::Extension,
        Fault::BaseMismatch,
        Fault::TargetMismatch,
    ];

    /// What it means, for people (Python's `qsota.codes.DELTA_FAULTS` holds the same).
    pub const fn message(self) -> &'static str {
        match self {
            Fault::Malformed => "not a detools sequential patch qsota can read",
            Fault::Unsupported => "a detools compression or patch type qsota does not apply",
            Fault::Window => "the heatshrink window is larger than allowed",
            Fault::TooLarge => "the target is larger than the limit",
            Fault::BaseRange => "the patch reads outside the base",
            Fault::BaseRead => "reading the base failed",
            Fault::Write => "writing the target failed",
            Fault::Trailing => "bytes follow the end of the patch or package",
            Fault::Truncated => "the patch or package ended before the target was complete",
            Fault::Magic => "not a delta package (magic)",
            Fault::Extension => {
                "the header's reserved bytes are neither zero nor qsota's extension"
            }
            Fault::BaseMismatch => "the base is not the one the package was made for",
            Fault::TargetMismatch => "the result is not what the package says",
        }
    }

    pub const fn name(self) -> &'static str {
        match self {
            Fault::Malformed => "malformed",
            Fault::Unsupported => "unsupported",
            Fault::Window => "window",
            Fault::TooLarge => "too_large",
            Fault::BaseRange => "base_range",
            Fault::BaseRead => "base_read",
            Fault::Write => "write",
            Fault::Trailing => "trailing",
            Fault::Truncated => "truncated",
            Fault::Magic => "magic",
            Fault::Extension => "extension",
            Fault::BaseMismatch => "base_mismatch",
            Fault::TargetMismatch => "target_mismatch",
        }
    }
}
