//! qsota's reference bootloader for the nRF51 (docs/bootloader.md).
//!
//! At every reset it first finishes an install: a committed image in the download slot that
//! the application area does not hold yet is copied there ([`install`]). Then it starts the
//! application, unless the application asked for the bootloader ([`boot_hal::handoff`]) or
//! there is no valid one; then it runs qsota's native receiver on the UART ([`receive`])
//! until an image is committed, and resets, which installs it.
#![no_std]
#![no_main]

mod flash;
mod install;
mod receive;
mod startup;

use boot_hal::{handoff, layout, nvmc};
use panic_halt as _;

#[no_mangle]
extern "C" fn boot_main() -> ! {
    let asked = handoff::take_request();
    let mut flash = flash::BootFlash;
    let app = install::prepare(&mut flash);
    if app && !asked {
        start_app();
    }
    receive::run(&mut flash)
}

/// Whether the application area starts with a vector table that can be started: a stack
/// pointer in RAM and a Thumb reset handler inside the area.
fn app_looks_startable() -> bool {
    let sp = nvmc::word(layout::APP);
    let pc = nvmc::word(layout::APP + 4);
    let ram = layout::RAM..=layout::RAM + layout::RAM_SIZE;
    let code = layout::APP + 8..layout::APP + layout::APP_SIZE;
    ram.contains(&sp) && sp.is_multiple_of(4) && pc & 1 == 1 && code.contains(&(pc & !1))
}

/// Starts the application as a reset would: its stack pointer, then its reset handler.
/// (The Cortex-M0 has no VTOR: its exceptions reach it through the bootloader's vector
/// table, which forwards them: see `startup`.)
fn start_app() -> ! {
    let sp = nvmc::word(layout::APP);
    let pc = nvmc::word(layout::APP + 4);
    // SAFETY: `prepare` found a startable vector table; nothing of the bootloader is used
    // after the jump.
    unsafe {
        core::arch::asm!(
            "msr msp, {sp}",
            "bx {pc}",
            sp = in(reg) sp,
            pc = in(reg) pc,
            options(noreturn),
        )
    }
}
