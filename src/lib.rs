//! qsota core: streaming firmware verification and MCU block transfer for SOTA updates.
//!
//! `#![no_std]`, no allocator. Every context lives in memory the caller owns; protocol
//! machines are sans-IO (bytes in, frames out, time passed in as `now_ms`). The C ABI in
//! [`ffi`] returns status codes and never unwinds: Python exceptions are raised in C only.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

mod crc16;
pub mod crc32;
pub mod delta;
pub mod ffi;
pub mod hex;
pub mod image;
pub mod mcuboot;
pub mod midstate;
pub mod native;
pub mod source;
pub mod status;
pub mod stm32;
#[cfg(test)]
mod test_rng;
#[cfg(test)]
mod trace;
pub mod transfer;
pub mod verify;
pub mod ymodem;

pub use status::Error;
