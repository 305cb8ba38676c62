//! Errors as values. The C ABI turns them into negative status codes (see `ffi`), and the
//! MicroPython glue turns those into `ValueError`, `TypeError` or a qsota error.

/// Why a call into the core failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// A required pointer argument was null.
    Null,
    /// The context was never initialised, is of another kind, or is in the wrong state
    /// for the call (for example `update` after `check`).
    State,
    /// A value has the wrong length (a hex digest with too few or too many digits).
    Length,
    /// A value contains a character that is not allowed (a non-hex digit, an empty string).
    Syntax,
    /// A number is out of range (a CRC above 32 bits).
    Range,
    /// An enumerated argument has no such value (an unknown CRC variant).
    Arg,
    /// An output buffer is too small.
    Buffer,
    /// A delta patch or package cannot be applied (`qsota_delta_fault` says why).
    Delta,
}

impl Error {
    /// The status code the C ABI returns for this error (always negative).
    pub const fn code(self) -> i32 {
        match self {
            Error::Null => -1,
            Error::State => -2,
            Error::Length => -3,
            Error::Syntax => -4,
            Error::Range => -5,
            Error::Arg => -6,
            Error::Buffer => -7,
            Error::Delta => -8,
        }
    }
}
