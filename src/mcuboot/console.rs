//! SMP over a console UART (mcumgr's `smp-console`, MCUboot's `boot_serial.c`).
//!
//! A packet `P` (8-byte SMP header + CBOR body) travels as `len || P || crc`, `len` the
//! big-endian length of `P || crc`, `crc` CRC-16/XMODEM of `P` (big-endian), in base64,
//! cut into lines of at most [`LINE`] bytes: the first starts `06 09`, each further one
//! `04 14`, each ends with `\n`. Every line holds a whole number of base64 quads, because
//! MCUboot decodes each line on its own.
//!
//! [`encode`] turns a packet built at the tail of the frame buffer into its lines in the
//! same buffer, front to back: output grows by at least 4 bytes for each 3 input bytes, so
//! the write position never passes the read position (both reach the end together).
//! [`Decoder`] finds packets in what the MCU sends, skipping any log text between them.

use crate::crc16::XMODEM as CRC16;

/// The longest line we write, `\n` included: MCUboot's line buffer is 128 bytes
/// (`BOOT_MAX_LINE_INPUT_LEN`), mcumgr's limit 127.
pub(crate) const LINE: usize = 127;
/// Base64 characters per full line (a multiple of 4).
const CHARS: usize = (LINE - 3) / 4 * 4;
/// The length prefix and the CRC around a packet.
pub const WRAP: usize = 4;
/// SMP header length.
pub const HEADER: usize = 8;

const START: [u8; 2] = [0x06, 0x09];
const CONTINUE: [u8; 2] = [0x04, 0x14];
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Line bytes that `raw` bytes (`len || P || crc`) take on the wire.
pub const fn encoded_len(raw: usize) -> usize {
    let chars = raw.div_ceil(3) * 4;
    chars + 3 * chars.div_ceil(CHARS)
}

/// Frames the packet of `packet` bytes at `buf[at + 2..]` (`at = buf.len() - raw` for
/// `raw = packet + WRAP`, so that the lines end exactly at the end of `buf`): writes the
/// length in front, the CRC behind, and the lines from `buf[0]`. Returns the line bytes.
/// `buf.len()` must be `encoded_len(packet + WRAP)` and `packet + 2` fit a `u16`.
pub fn encode(buf: &mut [u8], packet: usize) -> usize {
    let raw = packet + WRAP;
    let total = buf.len();
    let at = total - raw;
    buf[at..at + 2].copy_from_slice(&((packet + 2) as u16).to_be_bytes());
    let crc = CRC16.checksum(&buf[at + 2..at + 2 + packet]);
    buf[at + 2 + packet..total].copy_from_slice(&crc.to_be_bytes());
    let (mut r, mut w, mut in_line) = (at, 0, 0);
    while r < total {
        if in_line == 0 {
            let mark = if w == 0 { START } else { CONTINUE };
            buf[w..w + 2].copy_from_slice(&mark);
            w += 2;
        }
        let n = (total - r).min(3);
        let mut t = [0u8; 3];
        t[..n].copy_from_slice(&buf[r..r + n]);
        r += n;
        let v = (u32::from(t[0]) << 16) | (u32::from(t[1]) << 8) | u32::from(t[2]);
        for i in 0..4 {
            buf[w + i] = if i > n {
                b'='
            } else {
                ALPHABET[(v >> (18 - 6 * i)) as usize & 63]
            };
        }
        w += 4;
        in_line += 4;
        if in_line == CHARS || r == total {
            buf[w] = b'\n';
            w += 1;
            in_line = 0;
        }
    }
    w
}

/// The value of a base64 character; 64 for `=`, `None` for anything else.
fn sextet(c: u8) -> Option<u8> {
    Some(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        b'=' => 64,
        _ => return None,
    })
}

/// Decoded bytes of the longest answer we take: an image list of two images with two
/// slots each fits with room to spare.
pub const ANSWER_MAX: usize = 512;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Outside a packet: waiting for `06 09` (anything else is console text).
    Idle,
    /// Saw `06` (or `04` between lines of one packet).
    Mark(u8),
    /// In a line of base64.
    Line,
    /// A line ended, the packet is not complete: the next line must be a continuation.
    Between,
}

/// Reassembles packets of up to `N` decoded bytes from the bytes the MCU sends.
#[derive(Clone, Debug)]
pub struct Decoder<const N: usize = ANSWER_MAX> {
    buf: [u8; N],
    len: usize,
    state: State,
    quad: [u8; 4],
    quad_len: u8,
    /// The current line is broken (a bad character): drop the packet at its end.
    broken: bool,
    /// `buf` holds the packet `byte` returned last, and no new one has begun.
    whole: bool,
}

impl<const N: usize> Default for Decoder<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Decoder<N> {
    pub const fn new() -> Self {
        Decoder {
            buf: [0; N],
            len: 0,
            state: State::Idle,
            quad: [0; 4],
            quad_len: 0,
            broken: false,
            whole: false,
        }
    }

    /// The packet `byte` returned last, until the next one begins.
    pub fn last(&self) -> Option<&[u8]> {
        let want = usize::from(u16::from_be_bytes([self.buf[0], self.buf[1]]));
        self.whole.then(|| &self.buf[2..want])
    }

    /// Feeds one byte; returns the packet (SMP header + body, CRC checked) when `b`
    /// completes one. The slice is valid until the next call.
    pub fn byte(&mut self, b: u8) -> Option<&[u8]> {
        match (self.state, b) {
            // 06 is no base64: a packet starts here, whatever came before (a damaged line).
            (_, 0x06) => self.state = State::Mark(0x06),
            (State::Mark(0x06), 0x09) => {
                self.len = 0;
                self.whole = false;
                self.start_line();
            }
            (State::Between, 0x04) => self.state = State::Mark(0x04),
            (State::Mark(0x04), 0x14) => self.start_line(),
            (State::Line, b'\n') => return self.end_line(),
            (State::Line, b'\r') => {}
            (State::Line, c) => self.char(c),
            _ => self.state = State::Idle,
        }
        None
    }

    fn start_line(&mut self) {
        self.state = State::Line;
        self.quad_len = 0;
        self.broken = false;
    }

    fn char(&mut self, c: u8) {
        let Some(v) = sextet(c) else {
            self.broken = true;
            return;
        };
        self.quad[usize::from(self.quad_len)] = v;
        self.quad_len += 1;
        if self.quad_len < 4 {
            return;
        }
        self.quad_len = 0;
        let q = self.quad;
        // `=` only at the end of a quad: "xx==" or "xxx=".
        let n = match (q[0], q[1], q[2], q[3]) {
            (a, b, _, _) if a == 64 || b == 64 => 0,
            (_, _, 64, 64) => 1,
            (_, _, 64, _) => 0,
            (_, _, _, 64) => 2,
            _ => 3,
        };
        if n == 0 || self.len + n > N {
            self.broken = true;
            return;
        }
        let v = q
            .iter()
            .take(n + 1)
            .enumerate()
            .fold(0u32, |v, (i, &s)| v | (u32::from(s & 63) << (18 - 6 * i)));
        for i in 0..n {
            self.buf[self.len + i] = (v >> (16 - 8 * i)) as u8;
        }
        self.len += n;
    }

    fn end_line(&mut self) -> Option<&[u8]> {
        self.state = State::Between;
        if self.broken || self.quad_len != 0 {
            self.state = State::Idle;
            return None;
        }
        if self.len < 2 {
            return None;
        }
        let want = usize::from(u16::from_be_bytes([self.buf[0], self.buf[1]]));
        let have = self.len - 2;
        if have < want {
            return None;
        }
        self.state = State::Idle;
        let body = &self.buf[2..self.len];
        if have != want || want < HEADER + 2 || CRC16.checksum(body) != 0 {
            return None;
        }
        self.whole = true;
        Some(&body[..want - 2])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `packet` framed as `encode` frames it, in a buffer sized for it.
    pub(crate) fn frame(packet: &[u8]) -> std::vec::Vec<u8> {
        let mut buf = std::vec![0u8; encoded_len(packet.len() + WRAP)];
        let at = buf.len() - packet.len() - WRAP + 2;
        buf[at..at + packet.len()].copy_from_slice(packet);
        let n = encode(&mut buf, packet.len());
        assert_eq!(n, buf.len());
        buf
    }

    fn decode_all(bytes: &[u8]) -> std::vec::Vec<std::vec::Vec<u8>> {
        let mut d = Decoder::<ANSWER_MAX>::new();
        let mut out = std::vec::Vec::new();
        for &b in bytes {
            if let Some(p) = d.byte(b) {
                out.push(p.to_vec());
            }
        }
        out
    }

    #[test]
    fn matches_mcumgr_for_a_small_packet() {
        // smp.packet.encode(b"Hello, world!") (line length 127): the docstring's example.
        let mut buf = [0u8; 27];
        buf[27 - 17 + 2..27 - 2].copy_from_slice(b"Hello, world!");
        let n = encode(&mut buf, 13);
        assert_eq!(&buf[..n], b"\x06\tAA9IZWxsbywgd29ybGQhet4=\n");
    }

    #[test]
    fn every_length_round_trips_through_lines_of_at_most_127_bytes() {
        for len in 10..1200usize {
            let packet: std::vec::Vec<u8> = (0..len).map(|i| (i * 7 + len) as u8).collect();
            let wire = frame(&packet);
            for (i, line) in wire.split_inclusive(|&b| b == b'\n').enumerate() {
                assert!(line.len() <= LINE, "{len}: line of {}", line.len());
                assert_eq!(&line[..2], if i == 0 { &START } else { &CONTINUE });
                assert_eq!((line.len() - 3) % 4, 0);
            }
            // Console text before and between packets is skipped.
            let mut noisy = b"[00:00:01.000,000] <inf> boot: \x06x\n".to_vec();
            noisy.extend_from_slice(&wire);
            noisy.extend_from_slice(b"log\r\n");
            noisy.extend_from_slice(&wire);
            let got = decode_all(&noisy);
            if len + WRAP <= ANSWER_MAX {
                assert_eq!(got, [packet.clone(), packet], "{len}");
            } else {
                assert!(got.is_empty());
            }
        }
    }

    #[test]
    fn damage_drops_the_packet_and_the_next_one_still_decodes() {
        let packet: std::vec::Vec<u8> = (0..300).map(|i| i as u8).collect();
        let wire = frame(&packet);
        for at in 0..wire.len() {
            for flip in [0x01u8, 0x20, 0x80] {
                let mut bad = wire.clone();
                bad[at] ^= flip;
                bad.extend_from_slice(&wire);
                let got = decode_all(&bad);
                assert!(
                    !got.is_empty() && got.iter().all(|p| *p == packet),
                    "{at} {flip}"
                );
            }
            let mut lost = wire.clone();
            lost.remove(at);
            lost.extend_from_slice(&wire);
            assert_eq!(decode_all(&lost).last(), Some(&packet), "{at}");
        }
    }
}
