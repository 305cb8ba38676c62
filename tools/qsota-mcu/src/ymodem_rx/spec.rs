//! A YMODEM receiver by the book: Forsberg's ymodem.txt, Christensen's XMODEM timing (see
//! [`Spec`]).

use super::packet::{count_block, end_file, start_file, Packet, ACK, C, CAN, EOT, NAK};
use crate::line::Halt;
use crate::mcu::{Bank, Mcu, Outcome, Receiver};
use std::time::Duration;

/// XMODEM's character timeout within a packet.
const SPEC_CHAR_TIMEOUT: Duration = Duration::from_secs(1);
/// How long the receiver waits for the next packet.
const SPEC_PACKET_TIMEOUT: Duration = Duration::from_secs(10);
/// The interval of `C` while it waits for a header.
const SPEC_START_INTERVAL: Duration = Duration::from_secs(3);
/// Retries before it gives up.
const SPEC_MAX_ERRORS: u32 = 10;
/// The silence that tells the line is clear after a bad packet (XMODEM's purge).
const SPEC_PURGE: Duration = Duration::from_secs(1);

/// A YMODEM receiver by the book (Forsberg's ymodem.txt, figures 3 and 4):
///
/// - asks with `C` every 3 s for a header, up to 10 times;
/// - 1 s character timeout within a packet, 10 s for the next packet;
/// - a bad packet: waits for 1 s of silence (purge), then NAK; a timeout: NAK (`C` again
///   while no data block has come yet);
/// - a duplicate of the last accepted block is ACKed again (the header's with `ACK C`);
///   any other block number is a fatal loss of sync: `CAN CAN`;
/// - NAKs the first EOT and ACKs the second, then asks for the next header with `C`;
///   a header with an empty name ends the batch;
/// - keeps only the declared size (padding dropped), erases each sector just before it
///   first programs into it;
/// - 10 errors in a row, a size beyond the flash or a flash error: `CAN CAN` and it stops.
#[derive(Default)]
pub struct Spec {
    pkt: Packet,
}

enum Block {
    Data,
    Eot,
    Cancel,
    Timeout,
    Bad,
}

impl Spec {
    /// Waits up to `wait` for a packet; noise before it is skipped.
    fn read_block(&mut self, mcu: &mut Mcu, wait: Duration) -> Result<Block, Halt> {
        let deadline = mcu.now() + wait;
        loop {
            let Some(first) = mcu.recv_byte(deadline)? else {
                return Ok(Block::Timeout);
            };
            match first {
                EOT => return Ok(Block::Eot),
                CAN => {
                    if mcu.recv_byte(mcu.now() + SPEC_CHAR_TIMEOUT)? == Some(CAN) {
                        return Ok(Block::Cancel);
                    }
                }
                _ => {
                    if let Some(len) = Packet::size_for(first) {
                        let whole =
                            mcu.recv_all_gap(self.pkt.rest(first, len), SPEC_CHAR_TIMEOUT)?;
                        return Ok(if whole && self.pkt.is_intact() {
                            Block::Data
                        } else {
                            Block::Bad
                        });
                    }
                }
            }
        }
    }

    /// Discards input until the line has been quiet for [`SPEC_PURGE`].
    fn purge(mcu: &mut Mcu) -> Result<(), Halt> {
        let mut sink = [0u8; 64];
        while mcu.recv(&mut sink, mcu.now() + SPEC_PURGE)? > 0 {}
        Ok(())
    }

    /// Waits for a header; `None` if the receiver gave up or the sender cancelled.
    fn header(&mut self, mcu: &mut Mcu) -> Result<Result<(), Outcome>, Halt> {
        for _ in 0..SPEC_MAX_ERRORS {
            mcu.send(&[C])?;
            match self.read_block(mcu, SPEC_START_INTERVAL)? {
                Block::Data if self.pkt.number() == 0 => return Ok(Ok(())),
                Block::Cancel => return Ok(Err(Outcome::Cancelled("cancelled by the sender"))),
                // The sender missed the ACK of its last EOT.
                Block::Eot => mcu.send(&[ACK])?,
                Block::Bad => Self::purge(mcu)?,
                Block::Data | Block::Timeout => {}
            }
        }
        mcu.send(&[CAN, CAN])?;
        Ok(Err(Outcome::Failed("no header from the sender")))
    }

    /// Receives one file's data after its header; Ok(()) once its EOT is accepted.
    fn file(&mut self, mcu: &mut Mcu) -> Result<Result<(), Outcome>, Halt> {
        let mut expected: u64 = 1;
        let mut offset = 0usize;
        let mut next_sector = 0usize;
        let mut errors = 0u32;
        let mut eot_seen = false;
        mcu.send(&[C])?;
        loop {
            match self.read_block(mcu, SPEC_PACKET_TIMEOUT)? {
                Block::Data if self.pkt.number() == expected as u8 => {
                    let len = self.pkt.len;
                    let left = mcu
                        .session
                        .size
                        .map_or(len as u64, |s| s.saturating_sub(offset as u64));
                    let keep = len.min(left as usize);
                    for i in mcu.flash.sectors_of(offset, keep) {
                        if keep > 0 && i >= next_sector {
                            mcu.erase(Bank::App, i);
                            next_sector = i + 1;
                        }
                    }
                    if mcu
                        .program(Bank::App, offset, &self.pkt.data()[..keep])
                        .is_err()
                    {
                        mcu.send(&[CAN, CAN])?;
                        return Ok(Err(Outcome::Failed("flash programming failed")));
                    }
                    offset += keep;
                    count_block(mcu, len);
                    mcu.ack_block(expected)?;
                    expected += 1;
                    errors = 0;
                    eot_seen = false;
                }
                Block::Data if self.pkt.number() == (expected - 1) as u8 => {
                    mcu.session.retries += 1;
                    mcu.send(if expected == 1 { &[ACK, C] } else { &[ACK] })?;
                }
                Block::Data => {
                    mcu.send(&[CAN, CAN])?;
                    return Ok(Err(Outcome::Failed("block out of sequence")));
                }
                Block::Eot if !eot_seen => {
                    eot_seen = true;
                    mcu.send(&[NAK])?;
                }
                Block::Eot => {
                    mcu.send(&[ACK])?;
                    end_file(mcu);
                    return Ok(Ok(()));
                }
                Block::Cancel => return Ok(Err(Outcome::Cancelled("cancelled by the sender"))),
                Block::Bad | Block::Timeout => {
                    errors += 1;
                    mcu.session.errors += 1;
                    if errors >= SPEC_MAX_ERRORS {
                        mcu.send(&[CAN, CAN])?;
                        return Ok(Err(Outcome::Failed("too many errors")));
                    }
                    Self::purge(mcu)?;
                    // Until the first block arrives, it keeps asking for CRC mode.
                    mcu.send(if expected == 1 { &[C] } else { &[NAK] })?;
                }
            }
        }
    }
}

impl Receiver for Spec {
    fn run(&mut self, mcu: &mut Mcu) -> Result<Outcome, Halt> {
        loop {
            if let Err(end) = self.header(mcu)? {
                return Ok(end);
            }
            let data = self.pkt.data();
            if data[0] == 0 {
                mcu.send(&[ACK])?;
                return Ok(Outcome::Ok);
            }
            let name_len = data.iter().position(|&b| b == 0).unwrap_or(data.len());
            let size = spec_size(&data[name_len..]);
            start_file(mcu, &data[..name_len], size);
            if size.is_some_and(|s| s > mcu.flash.size() as u64) {
                mcu.send(&[CAN, CAN])?;
                return Ok(Outcome::Failed("image larger than the flash"));
            }
            mcu.ack_block(0)?;
            if let Err(end) = self.file(mcu)? {
                return Ok(end);
            }
        }
    }
}

/// The decimal size after the name's NUL, ended by a space or NUL; `None` if absent.
fn spec_size(after_name: &[u8]) -> Option<u64> {
    let digits = after_name.get(1..)?;
    let end = digits
        .iter()
        .position(|&b| b == b' ' || b == 0)
        .unwrap_or(digits.len());
    std::str::from_utf8(&digits[..end]).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_size_field() {
        assert_eq!(spec_size(b"\x001029\x00"), Some(1029));
        assert_eq!(spec_size(b"\x001029 13 644"), Some(1029));
        assert_eq!(spec_size(b"\x00\x00"), None);
        assert_eq!(spec_size(b""), None);
        assert_eq!(spec_size(b"\x00-5\x00"), None);
    }
}
