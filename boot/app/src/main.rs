//! The test application for the nRF51 bootloader (docs/bootloader.md). It prints
//! `app <version>` at start and answers lines on the UART, which it reads in the UART's
//! interrupt (so it also proves that the bootloader forwards interrupts):
//!
//! - `version?` -> `version <version>`
//! - `enter bootloader` -> `entering bootloader`, then a reset into the bootloader
//!
//! A native protocol frame (its sync bytes A5 5A: a sender's OPEN) also resets into the
//! bootloader, so `qsota send --protocol native` updates it with no command first: the
//! sender repeats its OPEN until the bootloader answers.
#![no_std]
#![no_main]

use boot_hal::{handoff, uart};
use core::cell::RefCell;
use cortex_m::interrupt::{self, Mutex};
use cortex_m::peripheral::NVIC;
use cortex_m_rt::{entry, exception};
use panic_halt as _;

const VERSION: &str = env!("QSOTA_APP_VERSION");

/// The line being received, and the last byte (to see a frame's sync).
struct Line {
    buf: [u8; 32],
    len: usize,
    last: u8,
}

static LINE: Mutex<RefCell<Line>> = Mutex::new(RefCell::new(Line {
    buf: [0; 32],
    len: 0,
    last: 0,
}));

#[derive(Clone, Copy)]
struct Uart0;

// SAFETY: 2 is the nRF51's UART0 interrupt number.
unsafe impl cortex_m::interrupt::InterruptNumber for Uart0 {
    fn number(self) -> u16 {
        uart::IRQ
    }
}

#[entry]
fn main() -> ! {
    uart::init();
    say(b"app ");
    uart::write_all(b"\n");
    uart::interrupt_on_receive();
    // SAFETY: the handler shares nothing with this loop but through the Mutex.
    unsafe { NVIC::unmask(Uart0) };
    loop {
        cortex_m::asm::wfi();
    }
}

/// Writes `prefix` and the version.
fn say(prefix: &[u8]) {
    uart::write_all(prefix);
    uart::write_all(VERSION.as_bytes());
}

#[exception]
unsafe fn DefaultHandler(irqn: i16) {
    if irqn != uart::IRQ as i16 {
        return;
    }
    interrupt::free(|cs| {
        let mut line = LINE.borrow(cs).borrow_mut();
        while let Some(b) = uart::try_read() {
            take(&mut line, b);
        }
    });
}

fn take(line: &mut Line, b: u8) {
    if line.last == 0xA5 && b == 0x5A {
        handoff::enter_bootloader();
    }
    line.last = b;
    match b {
        b'\n' => {
            match &line.buf[..line.len] {
                b"version?" => {
                    say(b"version ");
                    uart::write_all(b"\n");
                }
                b"enter bootloader" => {
                    uart::write_all(b"entering bootloader\n");
                    handoff::enter_bootloader();
                }
                _ => {}
            }
            line.len = 0;
        }
        b'\r' => {}
        _ if line.len < line.buf.len() => {
            line.buf[line.len] = b;
            line.len += 1;
        }
        // A full buffer is longer than any command: the line matches none.
        _ => {}
    }
}
