//! The bootloaders `--personality` can name, and each one's receiver in its power-on state,
//! built from its own options.

use crate::mcu::Receiver;
use crate::native_rx::{self, NativeOptions};
use crate::stm32_rom::{Rom, RomOptions};
use crate::ymodem_rx::{Spec, Stm32Iap};

/// The receivers `--personality` can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Personality {
    /// YMODEM as ST's IAP example receives it ([`crate::ymodem_rx`]).
    Stm32Iap,
    /// YMODEM by the book ([`crate::ymodem_rx`]).
    Spec,
    /// qsota's native protocol ([`crate::native_rx`]).
    Native,
    /// ST's ROM system bootloader (AN3155, [`crate::stm32_rom`]).
    Stm32Rom,
}

impl Personality {
    pub const ALL: [Personality; 4] = [
        Personality::Stm32Iap,
        Personality::Spec,
        Personality::Native,
        Personality::Stm32Rom,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Personality::Stm32Iap => "stm32-iap",
            Personality::Spec => "spec",
            Personality::Native => "native",
            Personality::Stm32Rom => "stm32-rom",
        }
    }

    pub fn from_name(name: &str) -> Option<Personality> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The receive buffer the bootloader has while it is busy with flash, unless `--fifo`
    /// says otherwise. ST's IAP reads the UART by polling (`HAL_UART_Receive`) and the
    /// STM32F4's USART has no FIFO: only its data register holds a byte.
    pub fn default_fifo(self) -> usize {
        match self {
            Personality::Stm32Iap | Personality::Stm32Rom => 1,
            Personality::Spec | Personality::Native => 256,
        }
    }

    /// A receiver in its power-on state, built from its own options.
    pub fn receiver(self, native: &NativeOptions, rom: &RomOptions) -> Box<dyn Receiver> {
        match self {
            Personality::Stm32Iap => Box::new(Stm32Iap::default()),
            Personality::Spec => Box::new(Spec::default()),
            Personality::Native => native_rx::native(native),
            Personality::Stm32Rom => Box::new(Rom::new(rom)),
        }
    }
}
