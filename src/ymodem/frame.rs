//! YMODEM's bytes and frames: a block's framing (start byte, number, complement, data,
//! CRC-16) and the header block's content (`name NUL size`).

use super::Sender;
use crate::crc16;

pub(super) const SOH: u8 = 0x01;
pub(super) const STX: u8 = 0x02;
pub(super) const EOT: u8 = 0x04;
pub(super) const ACK: u8 = 0x06;
pub(super) const NAK: u8 = 0x15;
pub(super) const CAN: u8 = 0x18;
pub(super) const CRC16: u8 = b'C';
pub(super) const PAD: u8 = 0x1A;

/// Bytes of framing around a block's data: start byte, number, its complement, CRC-16.
pub(crate) const OVERHEAD: usize = 5;
/// Where a block's data starts in its frame.
pub(crate) const DATA_AT: usize = 3;
/// CANs sent when the sender gives up (the spec asks for two; more survives a lost byte).
pub(super) const CANCEL: [u8; 5] = [CAN; 5];

impl Sender {
    /// Frames block 0 in place; its length on the wire.
    pub(super) fn frame_header(&self, frame: &mut [u8]) -> usize {
        let wire = if self.header_len() <= 128 { 128 } else { 1024 };
        let body = &mut frame[DATA_AT..DATA_AT + wire];
        body.fill(0);
        let name = &self.name[..usize::from(self.name_len)];
        body[..name.len()].copy_from_slice(name);
        let mut digits = [0u8; 20];
        let mut n = self.size;
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        let at = name.len() + 1;
        body[at..at + digits.len() - i].copy_from_slice(&digits[i..]);
        frame_block(frame, 0, wire, wire)
    }
}

/// Completes a block in place: `data` bytes are at `DATA_AT`; pads them to `wire` bytes with
/// 0x1A, writes the start byte, block number and CRC. Returns the frame length.
pub(super) fn frame_block(frame: &mut [u8], number: u64, data: usize, wire: usize) -> usize {
    let n = number as u8;
    frame[0] = if wire == 128 { SOH } else { STX };
    frame[1] = n;
    frame[2] = !n;
    frame[DATA_AT + data..DATA_AT + wire].fill(PAD);
    let crc = crc16::XMODEM.checksum(&frame[DATA_AT..DATA_AT + wire]);
    frame[DATA_AT + wire..DATA_AT + wire + 2].copy_from_slice(&crc.to_be_bytes());
    wire + OVERHEAD
}
