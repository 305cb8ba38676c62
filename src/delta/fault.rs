//! Why a patch or a package cannot be applied, and the latch that keeps the first reason.

/// Keeps the first fault: once a call failed, every later one fails the same way.
#[derive(Default)]
pub(super) struct Latch(Option<Fault>);

impl Latch {
    /// The fault that stopped it, if any.
    pub(super) fn fault(&self) -> Option<Fault> {
        self.0
    }

    pub(super) fn run<T>(&mut self, f: impl FnOnce() -> Result<T, Fault>) -> Result<T, Fault> {
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
    /// A package made for ESP (no qsota extension) where the target must be known before it
    /// is made: an MCU applying it could not check the result before commit.
    NoExtension,
}

impl Fault {
    pub const ALL: [Fault; 14] = [
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
        Fault::NoExtension,
    ];

    /// What it means, for people (tests/tables.rs writes them to `qsota.codes.DELTA_FAULTS`).
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
            Fault::NoExtension => {
                "a package made for ESP: without qsota's extension the target cannot be checked"
            }
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
            Fault::NoExtension => "no_extension",
        }
    }
}
