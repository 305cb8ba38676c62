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

/// Both ends of an applier in one object: an MCU's receiver reads the base and writes the
/// target through one flash driver ([`Pair`] joins a separate base and sink).
pub trait Io: Base + Sink {}

impl<T: Base + Sink> Io for T {}

/// A base and a sink of their own, as one [`Io`].
pub struct Pair<'a, B, S>(pub &'a mut B, pub &'a mut S);

impl<B: Base, S> Base for Pair<'_, B, S> {
    fn read(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), IoError> {
        self.0.read(offset, buf)
    }
}

impl<B, S: Sink> Sink for Pair<'_, B, S> {
    fn write(&mut self, data: &[u8]) -> Result<(), IoError> {
        self.1.write(data)
    }
}
