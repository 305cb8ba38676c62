//! The nRF51's UART0, polled, 115200 8N1 on the micro:bit's USB-serial pins (TX P0.24, RX
//! P0.25). Its receiver holds 6 bytes: poll it at least that often. In qemu the FIFO applies
//! backpressure to the chardev instead of overflowing.

use crate::{read, write};

const UART: u32 = 0x4000_2000;
const STARTRX: u32 = UART;
const STARTTX: u32 = UART + 0x008;
const RXDRDY: u32 = UART + 0x108;
const TXDRDY: u32 = UART + 0x11C;
const INTENSET: u32 = UART + 0x304;
const ENABLE: u32 = UART + 0x500;
const PSELTXD: u32 = UART + 0x50C;
const PSELRXD: u32 = UART + 0x514;
const RXD: u32 = UART + 0x518;
const TXD: u32 = UART + 0x51C;
const BAUDRATE: u32 = UART + 0x524;

const BAUD_115200: u32 = 0x01D7_E000;
/// The UART's interrupt number (UART0_IRQn).
pub const IRQ: u16 = 2;

/// Enables the UART and starts both directions.
pub fn init() {
    write(PSELTXD, 24);
    write(PSELRXD, 25);
    write(BAUDRATE, BAUD_115200);
    write(ENABLE, 4);
    write(STARTTX, 1);
    write(STARTRX, 1);
}

/// Lets the UART raise its interrupt when a byte arrived.
pub fn interrupt_on_receive() {
    write(INTENSET, 1 << 2);
}

/// Puts the UART back as reset left it (before the bootloader hands over).
pub fn disable() {
    write(ENABLE, 0);
}

/// A received byte, if one is waiting.
pub fn try_read() -> Option<u8> {
    if read(RXDRDY) == 0 {
        return None;
    }
    // Clear the event before reading RXD: reading it raises the event again while more
    // bytes wait in the FIFO.
    write(RXDRDY, 0);
    Some(read(RXD) as u8)
}

/// Sends `bytes`, waiting for each to leave.
pub fn write_all(bytes: &[u8]) {
    for &b in bytes {
        write(TXD, u32::from(b));
        while read(TXDRDY) == 0 {
            core::hint::spin_loop();
        }
        write(TXDRDY, 0);
    }
}
