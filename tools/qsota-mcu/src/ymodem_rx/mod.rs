//! YMODEM receivers as MCU bootloaders implement them: test doubles that must behave like
//! the real ones, quirks included.
//!
//! - [`Stm32Iap`] (`stm32_iap.rs`): ST's IAP example (AN4657, STM32Cube
//!   `IAP_Main/Src/ymodem.c` and `menu.c`), which most YMODEM bootloaders in the field copy.
//! - [`Spec`] (`spec.rs`): a receiver by the book (Forsberg's ymodem.txt, Christensen's
//!   XMODEM timing).
//!
//! What both share is in `packet.rs`.

mod packet;
mod spec;
mod stm32_iap;

pub use spec::Spec;
pub use stm32_iap::Stm32Iap;
