//! The flash and RAM layout (docs/bootloader.md, "Layout"). The linker scripts
//! (boot/nrf51/link.ld, boot/app/memory.x) repeat the bootloader's and the application's
//! regions; tests/nrf51.py the rest.
//!
//! ```text
//! 0x00000  bootloader      24 KB
//! 0x06000  application    115 KB   what runs; the bootloader copies the slot here
//! 0x22C00  download slot  115 KB   what the receiver writes
//! 0x3F800  meta             1 KB   the receiver's resume record (qsota's native record)
//! 0x3FC00  journal          1 KB   the install's progress
//! ```

/// The nRF51's flash page (its erase unit; FICR.CODEPAGESIZE).
pub const PAGE: u32 = 1024;
/// All of the nRF51822's flash (FICR.CODESIZE pages).
pub const FLASH_SIZE: u32 = 256 * PAGE;
pub const BOOT_SIZE: u32 = 24 * PAGE;
/// The application's vector table is its first word.
pub const APP: u32 = BOOT_SIZE;
pub const APP_SIZE: u32 = 115 * PAGE;
pub const SLOT: u32 = APP + APP_SIZE;
pub const SLOT_SIZE: u32 = APP_SIZE;
pub const META: u32 = SLOT + SLOT_SIZE;
pub const JOURNAL: u32 = META + PAGE;
const _: () = assert!(JOURNAL + PAGE == FLASH_SIZE);

pub const RAM: u32 = 0x2000_0000;
pub const RAM_SIZE: u32 = 16 * 1024;
/// Two words at the top of RAM that neither program uses otherwise: the way in
/// ([`crate::handoff`]). Both stacks start below them.
pub const HANDOFF: u32 = RAM + RAM_SIZE - 8;
