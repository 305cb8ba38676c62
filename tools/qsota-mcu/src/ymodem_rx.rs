//! YMODEM receivers as MCU bootloaders implement them: test doubles that must behave like
//! the real ones, quirks included.
//!
//! - [`Stm32Iap`]: ST's IAP example (AN4657, STM32Cube `IAP_Main/Src/ymodem.c` and
//!   `menu.c`), which most YMODEM bootloaders in the field copy.
//! - [`Spec`]: a receiver by the book (Forsberg's ymodem.txt, Christensen's XMODEM timing).

use crate::line::Halt;
use crate::mcu::{Bank, Mcu, Outcome, Receiver};
use crc::{Crc, CRC_16_XMODEM};
use std::time::Duration;

const SOH: u8 = 0x01;
const STX: u8 = 0x02;
const EOT: u8 = 0x04;
const ACK: u8 = 0x06;
const NAK: u8 = 0x15;
const CAN: u8 = 0x18;
const C: u8 = b'C';

static CRC16: Crc<u16> = Crc::<u16>::new(&CRC_16_XMODEM);

/// A packet as it arrived: start byte, number, complement, data (128 or 1024), CRC-16.
struct Packet {
    buf: [u8; 1029],
    len: usize,
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
    fn size_for(start: u8) -> Option<usize> {
        match start {
            SOH => Some(128),
            STX => Some(1024),
            _ => None,
        }
    }

    /// Where the bytes after the start byte go.
    fn rest(&mut self, start: u8, len: usize) -> &mut [u8] {
        self.buf[0] = start;
        self.len = len;
        &mut self.buf[1..len + 5]
    }

    fn number(&self) -> u8 {
        self.buf[1]
    }

    fn data(&self) -> &[u8] {
        &self.buf[3..3 + self.len]
    }

    fn is_intact(&self) -> bool {
        let crc = u16::from_be_bytes([self.buf[3 + self.len], self.buf[4 + self.len]]);
        self.buf[1] == !self.buf[2] && CRC16.checksum(self.data()) == crc
    }
}

/// Records a new file in the session.
fn start_file(mcu: &mut Mcu, name: &[u8], size: Option<u64>) {
    let s = &mut mcu.session;
    s.name = Some(String::from_utf8_lossy(name).into_owned());
    s.size = size;
    s.finished = false;
    s.blocks = 0;
    s.bytes = 0;
}

/// Counts an accepted data block; `len` is its data length, padding included.
fn count_block(mcu: &mut Mcu, len: usize) {
    let s = &mut mcu.session;
    let left = s
        .size
        .map_or(len as u64, |size| size.saturating_sub(s.bytes));
    s.blocks += 1;
    s.bytes += left.min(len as u64);
}

/// The receiver accepted the end of the file: finished if it has every declared byte.
fn end_file(mcu: &mut Mcu) {
    let s = &mut mcu.session;
    s.finished = s.name.is_some() && s.size.is_none_or(|size| s.bytes >= size);
}

// ---------------------------------------------------------------------------------------
// ST's IAP
// ---------------------------------------------------------------------------------------

/// ST's `ReceivePacket` timeout (`DOWNLOAD_TIMEOUT`): for the first byte, then again for
/// the whole rest of the packet.
const ST_TIMEOUT: Duration = Duration::from_millis(1000);
/// ST's `MAX_ERRORS`.
const ST_MAX_ERRORS: u32 = 5;
/// ST's `FILE_NAME_LENGTH` (F4 examples).
const ST_NAME_LENGTH: usize = 64;
/// ST's `FILE_SIZE_LENGTH`.
const ST_SIZE_LENGTH: usize = 16;

/// ST's IAP receiver (`SerialDownload` + `Ymodem_Receive`), modelled statement by statement:
///
/// - prints `Waiting for the file to be sent ...` first, and a result text at the end;
/// - one 1 s timeout for the first byte and another for the whole rest of the packet;
/// - a bad packet, noise or a timeout is answered with `C`, never NAK; after more than 5 in a
///   row (counted once a block has been accepted) it sends `CA CA` instead, but keeps going;
/// - any packet whose number is not the expected one is NAKed, a duplicate included;
/// - the header makes it erase the whole application area, then answer `ACK C`;
///   a size larger than the area gets `CA CA`, and still the erase and `ACK C`;
/// - data packets are programmed whole, padding included (silently cut at the area's end);
///   a flash error gets `CA CA`;
/// - EOT is ACKed at once, with no `C` after it: the next `C` comes from its 1 s timeout;
/// - `CA CA` from the sender is ACKed; `a` or `A` in place of a packet aborts.
#[derive(Default)]
pub struct Stm32Iap {
    pkt: Packet,
}

/// What `ReceivePacket` returns.
enum StPacket {
    Data,
    Eot,
    SenderAbort,
    UserAbort,
    Error,
}

/// `COM_StatusTypeDef`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Com {
    Ok,
    Abort,
    UserAbort,
    Data,
    Limit,
}

impl Stm32Iap {
    fn receive_packet(&mut self, mcu: &mut Mcu) -> Result<StPacket, Halt> {
        let Some(first) = mcu.recv_byte(mcu.now() + ST_TIMEOUT)? else {
            return Ok(StPacket::Error);
        };
        let len = match first {
            EOT => return Ok(StPacket::Eot),
            CAN => {
                return Ok(match mcu.recv_byte(mcu.now() + ST_TIMEOUT)? {
                    Some(CAN) => StPacket::SenderAbort,
                    _ => StPacket::Error,
                })
            }
            b'A' | b'a' => return Ok(StPacket::UserAbort),
            _ => match Packet::size_for(first) {
                Some(len) => len,
                None => return Ok(StPacket::Error),
            },
        };
        let deadline = mcu.now() + ST_TIMEOUT;
        if !mcu.recv_all_by(self.pkt.rest(first, len), deadline)? || !self.pkt.is_intact() {
            return Ok(StPacket::Error);
        }
        Ok(StPacket::Data)
    }

    fn ymodem_receive(&mut self, mcu: &mut Mcu) -> Result<Com, Halt> {
        let area = mcu.flash.size();
        let mut flash_destination = 0usize;
        let mut errors = 0u32;
        let mut session_begin = false;
        loop {
            let mut packets_received: u64 = 0;
            loop {
                match self.receive_packet(mcu)? {
                    StPacket::SenderAbort => {
                        mcu.send(&[ACK])?;
                        return Ok(Com::Abort);
                    }
                    StPacket::Eot => {
                        errors = 0;
                        mcu.send(&[ACK])?;
                        end_file(mcu);
                        break;
                    }
                    StPacket::Data => {
                        errors = 0;
                        if self.pkt.number() != packets_received as u8 {
                            if self.pkt.number() == packets_received.wrapping_sub(1) as u8 {
                                mcu.session.retries += 1;
                            }
                            mcu.send(&[NAK])?;
                            continue;
                        }
                        if packets_received == 0 {
                            if self.pkt.data()[0] == 0 {
                                mcu.send(&[ACK])?;
                                return Ok(Com::Ok);
                            }
                            let (name, size) = st_header(self.pkt.data());
                            start_file(mcu, name, Some(u64::from(size)));
                            let mut result = Com::Ok;
                            if size as usize > area + 1 {
                                mcu.send(&[CAN, CAN])?;
                                result = Com::Limit;
                            }
                            for i in 0..mcu.flash.sectors().len() {
                                mcu.erase(Bank::App, i);
                            }
                            mcu.ack_block(0)?;
                            mcu.send(&[C])?;
                            if result != Com::Ok {
                                return Ok(result);
                            }
                        } else {
                            let len = self.pkt.len;
                            // `FLASH_If_Write` stops silently at the area's end.
                            let fits = len.min(area.saturating_sub(flash_destination));
                            if fits > 0
                                && mcu
                                    .program(Bank::App, flash_destination, &self.pkt.data()[..fits])
                                    .is_err()
                            {
                                mcu.send(&[CAN, CAN])?;
                                return Ok(Com::Data);
                            }
                            flash_destination += len;
                            count_block(mcu, len);
                            mcu.ack_block(packets_received)?;
                        }
                        packets_received += 1;
                        session_begin = true;
                    }
                    StPacket::UserAbort => {
                        mcu.send(&[CAN, CAN])?;
                        return Ok(Com::UserAbort);
                    }
                    StPacket::Error => {
                        if session_begin {
                            errors += 1;
                            mcu.session.errors += 1;
                        }
                        if errors > ST_MAX_ERRORS {
                            mcu.send(&[CAN, CAN])?;
                        } else {
                            mcu.send(&[C])?;
                        }
                    }
                }
            }
        }
    }
}

impl Receiver for Stm32Iap {
    fn run(&mut self, mcu: &mut Mcu) -> Result<Outcome, Halt> {
        mcu.send(b"Waiting for the file to be sent ... (press 'a' to abort)\n\r")?;
        let result = self.ymodem_receive(mcu)?;
        let (text, outcome) = match result {
            Com::Ok => {
                let s = &mcu.session;
                let text = format!(
                    "\n\n\r Programming Completed Successfully!\n\r--------------------------------\r\n Name: {}\n\r Size: {} Bytes\r\n-------------------\n",
                    s.name.as_deref().unwrap_or(""),
                    s.size.unwrap_or(0)
                );
                (text, Outcome::Ok)
            }
            Com::Limit => (
                "\n\n\rThe image size is higher than the allowed space memory!\n\r".into(),
                Outcome::Failed("image larger than the application area"),
            ),
            Com::Data => (
                "\n\n\rVerification failed!\n\r".into(),
                Outcome::Failed("flash programming failed"),
            ),
            Com::Abort => (
                "\r\n\nAborted by user.\n\r".into(),
                Outcome::Cancelled("cancelled by the sender (CA CA)"),
            ),
            Com::UserAbort => (
                "\r\n\nAborted by user.\n\r".into(),
                Outcome::Cancelled("aborted by the user ('a')"),
            ),
        };
        mcu.send(text.as_bytes())?;
        Ok(outcome)
    }
}

/// ST's header parsing: the name up to NUL or 64 bytes (a longer name is cut and the size is
/// then read from inside it, as in ST's code), one byte skipped, then up to 16 bytes up to a
/// space, read by `Str2Int`.
fn st_header(data: &[u8]) -> (&[u8], u32) {
    let name_len = data
        .iter()
        .take(ST_NAME_LENGTH)
        .position(|&b| b == 0)
        .unwrap_or(ST_NAME_LENGTH);
    let rest = &data[name_len + 1..];
    let field_len = rest
        .iter()
        .take(ST_SIZE_LENGTH)
        .position(|&b| b == b' ')
        .unwrap_or(ST_SIZE_LENGTH.min(rest.len()));
    let mut field = [0u8; ST_SIZE_LENGTH + 1];
    field[..field_len].copy_from_slice(&rest[..field_len]);
    // An invalid size leaves ST's `filesize` uninitialised; 0 here.
    (&data[..name_len], st_str2int(&field).unwrap_or(0))
}

/// ST's `Str2Int`: `0x` hex, or up to 10 decimal digits with an optional `k`/`m` suffix
/// (KiB, MiB), ended by NUL; 32-bit arithmetic that wraps.
fn st_str2int(s: &[u8]) -> Option<u32> {
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    if at(0) == b'0' && matches!(at(1), b'x' | b'X') {
        let mut val = 0u32;
        let mut i = 2;
        while i < 11 && at(i) != 0 {
            val = (val << 4) | (at(i) as char).to_digit(16)?;
            i += 1;
        }
        return (at(i) == 0).then_some(val);
    }
    let mut val = 0u32;
    for i in 0..11 {
        match at(i) {
            0 => return Some(val),
            b'k' | b'K' if i > 0 => return Some(val << 10),
            b'm' | b'M' if i > 0 => return Some(val << 20),
            d @ b'0'..=b'9' => val = val.wrapping_mul(10).wrapping_add(u32::from(d - b'0')),
            _ => return None,
        }
    }
    None
}

// ---------------------------------------------------------------------------------------
// By the book
// ---------------------------------------------------------------------------------------

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

    fn header(fields: &[u8]) -> [u8; 128] {
        let mut d = [0u8; 128];
        d[..fields.len()].copy_from_slice(fields);
        d
    }

    #[test]
    fn st_parses_name_and_size_like_st() {
        assert_eq!(
            st_header(&header(b"fw.bin\x001029\x00")),
            (&b"fw.bin"[..], 1029)
        );
        assert_eq!(
            st_header(&header(b"fw.bin\x001029 1234 644")),
            (&b"fw.bin"[..], 1029)
        );
        assert_eq!(st_header(&header(b"a\x0064k\x00")).1, 65536);
        assert_eq!(st_header(&header(b"a\x000x400\x00")).1, 1024);
        assert_eq!(st_header(&header(b"a\x00junk\x00")).1, 0);
        // A 70-byte name: cut at 64, and the size is read from the name's tail.
        let mut long = [b'n'; 70].to_vec();
        long.extend_from_slice(b"\x00100\x00");
        let data = header(&long);
        let (name, size) = st_header(&data);
        assert_eq!(name.len(), 64);
        assert_eq!(size, 0);
    }

    #[test]
    fn st_str2int_edges() {
        assert_eq!(st_str2int(b"0\0"), Some(0));
        assert_eq!(st_str2int(b"4294967295\0"), Some(u32::MAX));
        assert_eq!(st_str2int(b"12345678901\0"), None, "more than 10 digits");
        assert_eq!(st_str2int(b"\0"), Some(0));
        assert_eq!(st_str2int(b"k\0"), None);
        assert_eq!(st_str2int(b"0xfg\0"), None);
    }

    #[test]
    fn spec_size_field() {
        assert_eq!(spec_size(b"\x001029\x00"), Some(1029));
        assert_eq!(spec_size(b"\x001029 13 644"), Some(1029));
        assert_eq!(spec_size(b"\x00\x00"), None);
        assert_eq!(spec_size(b""), None);
        assert_eq!(spec_size(b"\x00-5\x00"), None);
    }

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
