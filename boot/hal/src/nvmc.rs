//! The nRF51's flash controller (NVMC): page erase and word programming. Each operation
//! waits for READY; the CPU stalls while the flash is busy (a page erase takes 22 ms, a word
//! 41 us). Programming only clears bits (NOR flash), and only whole aligned words.
//!
//! The operations are `#[no_mangle]` and never inlined: tests/nrf51_cuts.py sets its
//! power-cut breakpoints on them by name.

use crate::{read, write};

const NVMC: u32 = 0x4001_E000;
const READY: u32 = NVMC + 0x400;
const CONFIG: u32 = NVMC + 0x504;
const ERASEPAGE: u32 = NVMC + 0x508;

const READ_ONLY: u32 = 0;
const WRITE_ENABLE: u32 = 1;
const ERASE_ENABLE: u32 = 2;

fn wait_ready() {
    while read(READY) & 1 == 0 {
        core::hint::spin_loop();
    }
}

fn config(mode: u32) {
    write(CONFIG, mode);
    wait_ready();
}

/// Erases the page at `addr` (page aligned) to 0xFF.
#[no_mangle]
#[inline(never)]
pub extern "C" fn nvmc_erase_page(addr: u32) {
    config(ERASE_ENABLE);
    write(ERASEPAGE, addr);
    wait_ready();
    config(READ_ONLY);
}

/// Programs the word at `addr` (word aligned): its bits that are 0 in `value` become 0.
#[no_mangle]
#[inline(never)]
pub extern "C" fn nvmc_program_word(addr: u32, value: u32) {
    config(WRITE_ENABLE);
    // SAFETY: flash is memory mapped; with WEN set a word store programs it.
    unsafe { (addr as *mut u32).write_volatile(value) };
    wait_ready();
    config(READ_ONLY);
}

/// Programs `data` (a whole number of words) at `addr` (word aligned), a word at a time in
/// address order. Words of all ones are skipped: programming them changes nothing.
#[no_mangle]
#[inline(never)]
pub fn nvmc_program(addr: u32, data: &[u8]) {
    for (i, w) in data.chunks_exact(4).enumerate() {
        let word = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
        if word != u32::MAX {
            nvmc_program_word(addr + 4 * i as u32, word);
        }
    }
}

/// The flash from `addr` on, `len` bytes.
pub fn bytes(addr: u32, len: u32) -> &'static [u8] {
    // SAFETY: flash is memory mapped and always readable; callers stay inside it.
    unsafe { core::slice::from_raw_parts(addr as *const u8, len as usize) }
}

/// Reads `buf.len()` bytes of flash at `addr`.
#[no_mangle]
#[inline(never)]
pub fn nvmc_read(addr: u32, buf: &mut [u8]) {
    for (i, b) in buf.iter_mut().enumerate() {
        // SAFETY: flash is memory mapped and always readable.
        *b = unsafe { ((addr as usize + i) as *const u8).read_volatile() };
    }
}

/// The flash word at `addr` (word aligned).
pub fn word(addr: u32) -> u32 {
    // SAFETY: as above.
    unsafe { (addr as *const u32).read_volatile() }
}
