//! YMODEM's bytes and a block's framing (start byte, number, complement, data, CRC-16).

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
