//! ST's IAP example as a YMODEM receiver, statement by statement (see [`Stm32Iap`]).

use super::packet::{count_block, end_file, start_file, Packet, ACK, C, CAN, EOT, NAK};
use crate::line::Halt;
use crate::mcu::{Bank, Mcu, Outcome, Receiver};
use std::time::Duration;

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
}
