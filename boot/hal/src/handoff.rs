//! The way into the bootloader: the application leaves a magic word and its complement in
//! two RAM words that survive a reset (a no-init area at the top of RAM, outside both
//! programs' memory) and resets. The nRF51's GPREGRET would do as well on hardware; qemu's
//! `microbit` does not model it (its POWER block reads 1 and ignores writes). At power-up
//! RAM holds noise: a false match needs 64 bits right by chance.

use crate::layout::HANDOFF;

const MAGIC: u32 = 0x5153_4254; // "QSBT"

fn words() -> *mut [u32; 2] {
    HANDOFF as *mut [u32; 2]
}

/// Leaves the request and resets into the bootloader (the application's side).
pub fn enter_bootloader() -> ! {
    // SAFETY: the handoff words are reserved RAM that no program places anything in.
    unsafe { words().write_volatile([MAGIC, !MAGIC]) };
    crate::system_reset()
}

/// Whether the application asked for the bootloader; clears the request (the
/// bootloader's side), so that the next reset boots the application again.
pub fn take_request() -> bool {
    // SAFETY: as above.
    let [a, b] = unsafe { words().read_volatile() };
    // SAFETY: as above.
    unsafe { words().write_volatile([0, 0]) };
    a == MAGIC && b == !MAGIC
}
