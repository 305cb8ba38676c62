//! What both YMODEM receivers share: the bytes of the protocol, the packet as it arrives and
//! the session's bookkeeping.

use crate::mcu::Mcu;
use crc::{Crc, CRC_16_XMODEM};

pub(super) const SOH: u8 = 0x01;
pub(super) const STX: u8 = 0x02;
pub(super) const EOT: u8 = 0x04;
pub(super) const ACK: u8 = 0x06;
pub(super) const NAK: u8 = 0x15;
pub(super) const CAN: u8 = 0x18;
pub(super) const C: u8 = b'C';

static CRC16: Crc<u16> = Crc::<u16>::new(&CRC_16_XMODEM);

/// A packet as it arrived: start byte, number, complement, data (128 or 1024), CRC-16.
pub(super) struct Packet {
    buf: [u8; 1029],
    pub(super) len: usize,
}

impl Default for Packet {
    fn default() -> Packet {
        Packet {
            buf: [0; 1029],
            len: 0,
        }
    }
}

impl Packet {
    pub(super) fn size_for(start: u8) -> Option<usize> {
        match start {
            SOH => Some(128),
            STX => Some(1024),
            _ => None,
        }
    }

    /// Where the bytes after the start byte go.
    pub(super) fn rest(&mut self, start: u8, len: usize) -> &mut [u8] {
        self.buf[0] = start;
        self.len = len;
        &mut self.buf[1..len + 5]
    }

    pub(super) fn number(&self) -> u8 {
        self.buf[1]
    }

    pub(super) fn data(&self) -> &[u8] {
        &self.buf[3..3 + self.len]
    }

    pub(super) fn is_intact(&self) -> bool {
        let crc = u16::from_be_bytes([self.buf[3 + self.len], self.buf[4 + self.len]]);
        self.buf[1] == !self.buf[2] && CRC16.checksum(self.data()) == crc
    }
}

/// Records a new file in the session.
pub(super) fn start_file(mcu: &mut Mcu, name: &[u8], size: Option<u64>) {
    let s = &mut mcu.session;
    s.name = Some(String::from_utf8_lossy(name).into_owned());
    s.size = size;
    s.finished = false;
    s.blocks = 0;
    s.bytes = 0;
}

/// Counts an accepted data block; `len` is its data length, padding included.
pub(super) fn count_block(mcu: &mut Mcu, len: usize) {
    let s = &mut mcu.session;
    let left = s
        .size
        .map_or(len as u64, |size| size.saturating_sub(s.bytes));
    s.blocks += 1;
    s.bytes += left.min(len as u64);
}

/// The receiver accepted the end of the file: finished if it has every declared byte.
pub(super) fn end_file(mcu: &mut Mcu) {
    let s = &mut mcu.session;
    s.finished = s.name.is_some() && s.size.is_none_or(|size| s.bytes >= size);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packet_integrity() {
        let mut p = Packet::default();
        let rest = p.rest(SOH, 128);
        rest[0] = 1;
        rest[1] = 0xFE;
        let crc = CRC16.checksum(&[0u8; 128]).to_be_bytes();
        rest[130..132].copy_from_slice(&crc);
        assert!(p.is_intact());
        p.buf[10] ^= 4;
        assert!(!p.is_intact());
        p.buf[10] ^= 4;
        p.buf[2] = 0xFD;
        assert!(!p.is_intact());
        assert_eq!(CRC16.checksum(b"123456789"), 0x31C3);
    }
}
