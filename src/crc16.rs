//! CRC-16/XMODEM (polynomial 0x1021, initial 0, not reflected): YMODEM's block check and
//! the frame check of SMP over a console UART (`mcuboot::console`).

use crc::{Crc, Table, CRC_16_XMODEM};

/// CRC-16/XMODEM with one 512-byte table.
pub(crate) static XMODEM: Crc<u16, Table<1>> = Crc::<u16, Table<1>>::new(&CRC_16_XMODEM);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_value() {
        assert_eq!(XMODEM.checksum(b"123456789"), 0x31C3);
    }
}
