//! Where an applier reads the base and writes the target.

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
