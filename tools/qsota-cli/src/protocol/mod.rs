//! The protocols, each the core's sender with its options (one file per protocol, which
//! knows its own `Args` and the shared `retries`, and implements [`Job`]): adding one is a
//! variant of [`Protocol`], its `Args` in [`Options`], and one arm in [`sender`].

mod job;
mod mcuboot;
mod native;
mod stm32;
mod ymodem;

use crate::failure::Failure;
use crate::image::Image;
use serialport::Parity;

pub use job::Job;
pub use mcuboot::{image_list, mcuboot_lister, mcuboot_options, mcuboot_sender, mcuboot_upload};
pub use native::native_sender;
pub use stm32::stm32_sender;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// YMODEM (ST's IAP bootloader and its copies, lrzsz rb)
    Ymodem,
    /// qsota's native protocol (pipelined, resumable, read-back SHA-256 before commit)
    Native,
    /// ST's ROM system bootloader, AN3155 (BOOT0 high, NRST pulsed; 8E1)
    Stm32,
    /// MCUboot's serial recovery (SMP image upload over the console; a signed image)
    Mcuboot,
}

impl Protocol {
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Ymodem => "ymodem",
            Protocol::Native => "native",
            Protocol::Stm32 => "stm32",
            Protocol::Mcuboot => "mcuboot",
        }
    }

    /// The line's parity: 8N1, but 8E1 for ST's ROM.
    pub fn parity(self) -> Parity {
        match self {
            Protocol::Stm32 => Parity::Even,
            _ => Parity::None,
        }
    }
}

/// Every protocol's options (named as `qsota.send`'s keyword options where they exist).
#[derive(clap::Args, Clone, Debug)]
pub struct Options {
    /// Retries of one step (a frame, a block, a window) before giving up
    #[arg(long, default_value_t = 10)]
    pub retries: u8,
    #[command(flatten)]
    pub ymodem: ymodem::YmodemArgs,
    #[command(flatten)]
    pub native: native::NativeArgs,
    #[command(flatten)]
    pub stm32: stm32::Stm32Args,
    #[command(flatten)]
    pub mcuboot: mcuboot::McubootArgs,
}

/// The sender for `protocol` with `opts`, for `image` (whose SHA-256 is `sha256`) on a line
/// of `baud` (0: unknown).
pub fn sender(
    protocol: Protocol,
    opts: &Options,
    image: &Image,
    sha256: &[u8; 32],
    baud: u32,
) -> Result<Box<dyn Job>, Failure> {
    Ok(match protocol {
        Protocol::Ymodem => Box::new(ymodem::sender(&opts.ymodem, opts.retries, image, baud)?),
        Protocol::Native => Box::new(native_sender(
            &opts.native,
            opts.retries,
            image,
            sha256,
            baud,
        )?),
        Protocol::Stm32 => Box::new(stm32_sender(
            &opts.stm32,
            opts.retries,
            image.bytes.len() as u64,
            baud,
        )?),
        Protocol::Mcuboot => Box::new(mcuboot_sender(&opts.mcuboot, opts.retries, image, sha256)?),
    })
}
