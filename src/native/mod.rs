//! qsota's native protocol (docs/protocol.md): a pipelined, resumable image transfer
//! over a raw UART. [`sender::Sender`] runs on the module under the shared driver
//! ([`crate::transfer`]); [`receiver::Receiver`] runs in the MCU's bootloader and writes
//! flash through [`record::Flash`], keeping a power-safe resume record there.

pub mod delta;
pub mod frame;
#[cfg(any(test, feature = "ram-flash"))]
pub mod ram;
pub mod receiver;
pub mod record;
pub mod sender;

/// The protocol version this implementation speaks (OPEN and ACCEPT carry it).
pub(crate) const VERSION: u8 = 1;

#[cfg(test)]
mod tests;
