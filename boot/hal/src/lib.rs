//! What the nRF51 bootloader and its application share: the flash layout, the way into the
//! bootloader, and the two drivers both use (NVMC, UART). Registers are from the nRF51
//! Series Reference Manual v3.0; docs/bootloader.md has the layout and the design.
#![no_std]

pub mod handoff;
pub mod layout;
pub mod nvmc;
pub mod uart;

/// Asks for a system reset (SCB.AIRCR SYSRESETREQ) and waits for it.
pub fn system_reset() -> ! {
    const AIRCR: *mut u32 = 0xE000_ED0C as *mut u32;
    // SAFETY: AIRCR is the Cortex-M0 system control block's reset register; writing the
    // key with SYSRESETREQ resets the chip.
    unsafe {
        core::arch::asm!("dsb");
        AIRCR.write_volatile(0x05FA_0004);
        core::arch::asm!("dsb");
    }
    loop {
        core::hint::spin_loop();
    }
}

fn reg(addr: u32) -> *mut u32 {
    addr as *mut u32
}

/// Reads a peripheral register.
fn read(addr: u32) -> u32 {
    // SAFETY: callers pass the address of an nRF51 peripheral register.
    unsafe { reg(addr).read_volatile() }
}

/// Writes a peripheral register.
fn write(addr: u32, value: u32) {
    // SAFETY: callers pass the address of an nRF51 peripheral register.
    unsafe { reg(addr).write_volatile(value) }
}
