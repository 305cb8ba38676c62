//! AN3155's frames: a command is a byte and its complement, answered ACK or NACK; what
//! follows it (an address, a page list, a block, a length) carries its own checksum, the XOR
//! of its bytes. The frame writers put one at the start of the frame buffer and return its
//! length.

pub(super) const ACK: u8 = 0x79;
pub(super) const NACK: u8 = 0x1F;
/// Autobaud.
pub(super) const SYNC: u8 = 0x7F;
/// What the sender probes with after an error (see `stm32::recovery`).
pub(super) const PROBE: u8 = 0x02;
pub(super) const GET: u8 = 0x00;
pub(super) const GET_ID: u8 = 0x02;
pub(super) const READ: u8 = 0x11;
pub(super) const GO: u8 = 0x21;
pub(super) const WRITE: u8 = 0x31;
pub(super) const ERASE: u8 = 0x43;
pub(super) const EXT_ERASE: u8 = 0x44;

pub(super) fn xor(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |a, b| a ^ b)
}

/// A command alone: 2 bytes.
pub(super) fn command(frame: &mut [u8], cmd: u8) -> usize {
    (frame[0], frame[1]) = (cmd, !cmd);
    2
}

/// A command with a 4-byte address and its XOR: 7 bytes.
pub(super) fn addressed(frame: &mut [u8], cmd: u8, addr: u32) -> usize {
    frame[0] = cmd;
    frame[1] = !cmd;
    frame[2..6].copy_from_slice(&addr.to_be_bytes());
    frame[6] = xor(&frame[2..6]);
    7
}

/// An erase of one page with `cmd`, Erase (the count and the page as a byte each) or
/// Extended Erase (as two bytes each), with its XOR.
pub(super) fn erase(frame: &mut [u8], cmd: u8, page: u16) -> usize {
    let [hi, lo] = page.to_be_bytes();
    (frame[0], frame[1], frame[2]) = (cmd, !cmd, 0);
    let args = if cmd == EXT_ERASE {
        &[0, hi, lo, hi ^ lo][..]
    } else {
        &[lo, lo][..]
    };
    frame[3..3 + args.len()].copy_from_slice(args);
    3 + args.len()
}

/// Write Memory's data for a block of `len` image bytes, already at `frame[1..]`: padded
/// with 0xFF to `pad` (a multiple of 4), the count - 1 before it, the XOR after it.
pub(super) fn write_data(frame: &mut [u8], len: usize, pad: usize) -> usize {
    frame[1 + len..1 + pad].fill(0xFF);
    frame[0] = (pad - 1) as u8;
    frame[1 + pad] = xor(&frame[..1 + pad]);
    pad + 2
}

/// Read Memory's count: `pad` - 1 and its complement, 2 bytes.
pub(super) fn read_length(frame: &mut [u8], pad: usize) -> usize {
    (frame[0], frame[1]) = ((pad - 1) as u8, !(pad - 1) as u8);
    2
}
