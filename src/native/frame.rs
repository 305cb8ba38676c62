//! Native frames: `A5 5A | type | len u16 | hcheck | payload | crc32` (docs/protocol.md §1).
//!
//! [`Parser`] is a streaming parser over a fixed buffer: it trusts a length only after the
//! header check, and after any bad frame it rescans what it buffered from one byte past the
//! false sync, so noise costs at most the frame it hit.

use crc::{Crc, NoTable, Table, CRC_32_ISO_HDLC, CRC_8_SMBUS};

/// The two bytes that start every frame.
pub(crate) const SYNC: [u8; 2] = [0xA5, 0x5A];
/// Sync, type, length and header check.
pub(crate) const HEADER_LEN: usize = 6;
/// Header plus the trailing CRC-32.
pub(crate) const OVERHEAD: usize = HEADER_LEN + 4;
/// Image bytes per DATA frame that this implementation sends and accepts at most.
pub(crate) const MAX_PAYLOAD: usize = 1024;
/// Where image bytes start in a DATA frame (after the header and the 4-byte offset).
pub(crate) const DATA_AT: usize = HEADER_LEN + 4;
/// The largest DATA frame.
pub(crate) const MAX_FRAME: usize = OVERHEAD + 4 + MAX_PAYLOAD;

/// Message types (docs/protocol.md §2).
pub(crate) mod kind {
    pub(crate) const OPEN: u8 = 0x01;
    pub(crate) const DATA: u8 = 0x02;
    pub(crate) const COMMIT: u8 = 0x03;
    pub(crate) const ABORT: u8 = 0x04;
    pub(crate) const ACCEPT: u8 = 0x81;
    pub(crate) const ACK: u8 = 0x82;
    pub(crate) const NAK: u8 = 0x83;
    pub(crate) const DONE: u8 = 0x84;
    pub(crate) const ERROR: u8 = 0x85;
}

/// OPEN's flags (docs/protocol.md §2): what OPEN says about its image. A receiver refuses
/// a flag it does not know (ERROR FLAGS).
pub(crate) mod flags {
    /// The 32-byte field names the image by the sender's identity, not its SHA-256: the image
    /// is checked on the sender only at its end (a stream), and COMMIT carries its SHA-256.
    pub(crate) const DIGEST_AT_COMMIT: u8 = 0x02;
}

/// ERROR codes (docs/protocol.md §5), as `Stats::error` reports them.
pub(crate) mod code {
    pub(crate) const VERSION: u8 = 1;
    pub(crate) const SIZE: u8 = 2;
    pub(crate) const FLASH: u8 = 3;
    pub(crate) const DIGEST: u8 = 4;
    pub(crate) const NOT_OPEN: u8 = 5;
    pub(crate) const STATE: u8 = 6;
    pub(crate) const ARGUMENT: u8 = 7;
    pub(crate) const FLAGS: u8 = 8;
    pub(crate) const BASE: u8 = 9;
    pub(crate) const DELTA: u8 = 10;
    pub(crate) const SIGNATURE: u8 = 11;
}

/// The name of an ERROR code (docs/protocol.md section 5); "" for 0 (no error) and codes
/// the protocol does not define.
pub const fn error_name(error: u8) -> &'static str {
    match error {
        code::VERSION => "version",
        code::SIZE => "size",
        code::FLASH => "flash",
        code::DIGEST => "digest",
        code::NOT_OPEN => "not open",
        code::STATE => "state",
        code::ARGUMENT => "argument",
        code::FLAGS => "flags",
        code::BASE => "base",
        code::DELTA => "delta",
        code::SIGNATURE => "signature",
        _ => "",
    }
}

/// One table of 256 words: frames are at most ~1 KB, so this is fast enough on an MCU.
pub(crate) static CRC32: Crc<u32, Table<1>> = Crc::<u32, Table<1>>::new(&CRC_32_ISO_HDLC);
/// Bit by bit: it covers three bytes a frame, and a table would cost a receiver 256 bytes of
/// its flash budget.
static CRC8: Crc<u8, NoTable> = Crc::<u8, NoTable>::new(&CRC_8_SMBUS);

fn header_check(kind: u8, len: u16) -> u8 {
    let l = len.to_le_bytes();
    CRC8.checksum(&[kind, l[0], l[1]])
}

/// Frames the `len` payload bytes already at `buf[HEADER_LEN..]`: writes the header in front
/// and the CRC-32 behind them. Returns the frame's length, or `None` if `buf` is too small.
pub fn seal(buf: &mut [u8], kind: u8, len: usize) -> Option<usize> {
    let total = OVERHEAD.checked_add(len)?;
    let len16 = u16::try_from(len).ok()?;
    let frame = buf.get_mut(..total)?;
    frame[..2].copy_from_slice(&SYNC);
    frame[2] = kind;
    frame[3..5].copy_from_slice(&len16.to_le_bytes());
    frame[5] = header_check(kind, len16);
    let crc = CRC32.checksum(&frame[2..HEADER_LEN + len]);
    frame[HEADER_LEN + len..].copy_from_slice(&crc.to_le_bytes());
    Some(total)
}

/// Copies `payload` into `buf` and frames it. Returns the frame's length.
pub fn encode(buf: &mut [u8], kind: u8, payload: &[u8]) -> Option<usize> {
    buf.get_mut(HEADER_LEN..HEADER_LEN + payload.len())?
        .copy_from_slice(payload);
    seal(buf, kind, payload.len())
}

/// What the buffered bytes are.
enum Check {
    /// A frame may start here; this many more bytes are needed to know.
    Need(usize),
    /// No frame starts at byte 0.
    Bad,
    /// A complete, valid frame of this many bytes.
    Complete(usize),
}

/// A streaming frame parser holding at most `N` bytes (so payloads up to `N - OVERHEAD`).
pub struct Parser<const N: usize> {
    buf: [u8; N],
    len: usize,
    /// Length of the complete frame at the front of `buf`, 0 if none.
    ready: usize,
    /// Frames dropped (damaged, or noise that looked like a sync), for statistics.
    dropped: u32,
}

impl<const N: usize> Default for Parser<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Parser<N> {
    /// A buffer must at least hold an empty frame.
    const FITS: () = assert!(N >= OVERHEAD && N <= OVERHEAD + u16::MAX as usize);

    pub const fn new() -> Self {
        let () = Self::FITS;
        Parser {
            buf: [0; N],
            len: 0,
            ready: 0,
            dropped: 0,
        }
    }

    /// Forgets everything buffered.
    pub fn clear(&mut self) {
        self.len = 0;
        self.ready = 0;
    }

    /// Damaged frames dropped so far.
    pub fn dropped(&self) -> u32 {
        self.dropped
    }

    /// Takes bytes from `data` until a frame is complete or `data` is used up. Returns how many
    /// bytes it took and whether a frame is ready (see [`Parser::frame`]). The next call
    /// releases that frame.
    pub fn feed(&mut self, data: &[u8]) -> (usize, bool) {
        if self.ready > 0 {
            self.shift(self.ready);
            self.ready = 0;
        }
        let mut used = 0;
        loop {
            match self.check() {
                Check::Complete(n) => {
                    self.ready = n;
                    return (used, true);
                }
                Check::Bad => self.resync(),
                Check::Need(k) => {
                    let rest = &data[used..];
                    if rest.is_empty() {
                        return (used, false);
                    }
                    if self.len == 0 {
                        // Skip noise quickly: nothing is buffered until a sync byte.
                        match rest.iter().position(|&b| b == SYNC[0]) {
                            Some(p) => used += p,
                            None => return (data.len(), false),
                        }
                    }
                    let rest = &data[used..];
                    let take = k.min(rest.len());
                    self.buf[self.len..self.len + take].copy_from_slice(&rest[..take]);
                    self.len += take;
                    used += take;
                }
            }
        }
    }

    /// The ready frame's type and payload.
    pub fn frame(&self) -> Option<(u8, &[u8])> {
        (self.ready > 0).then(|| (self.buf[2], &self.buf[HEADER_LEN..self.ready - 4]))
    }

    fn check(&self) -> Check {
        let b = &self.buf[..self.len];
        for (i, &s) in SYNC.iter().enumerate() {
            match b.get(i) {
                None => return Check::Need(1),
                Some(&x) if x != s => return Check::Bad,
                Some(_) => {}
            }
        }
        if b.len() < HEADER_LEN {
            return Check::Need(HEADER_LEN - b.len());
        }
        let len16 = u16::from_le_bytes([b[3], b[4]]);
        let total = OVERHEAD + usize::from(len16);
        if b[5] != header_check(b[2], len16) || total > N {
            return Check::Bad;
        }
        if b.len() < total {
            return Check::Need(total - b.len());
        }
        let crc = u32::from_le_bytes([b[total - 4], b[total - 3], b[total - 2], b[total - 1]]);
        if CRC32.checksum(&b[2..total - 4]) != crc {
            return Check::Bad;
        }
        Check::Complete(total)
    }

    /// Drops the false start at byte 0 and moves to the next possible sync in the buffer.
    fn resync(&mut self) {
        self.dropped = self.dropped.wrapping_add(1);
        let next = self.buf[1..self.len]
            .iter()
            .position(|&b| b == SYNC[0])
            .map_or(self.len, |p| p + 1);
        self.shift(next);
    }

    fn shift(&mut self, n: usize) {
        self.buf.copy_within(n..self.len, 0);
        self.len -= n;
    }
}

/// Little-endian field readers for payloads; `None` when the payload is too short.
pub(crate) fn u16_at(p: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(p.get(at..at + 2)?.try_into().ok()?))
}

pub(crate) fn u32_at(p: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(p.get(at..at + 4)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(kind: u8, payload: &[u8]) -> ([u8; 64], usize) {
        let mut buf = [0u8; 64];
        let n = encode(&mut buf, kind, payload).unwrap();
        (buf, n)
    }

    /// Feeds `data` in pieces of `step` bytes; returns the frames parsed.
    fn parse_all(data: &[u8], step: usize) -> (usize, u32) {
        let mut p = Parser::<64>::new();
        let mut frames = 0;
        for chunk in data.chunks(step) {
            let mut at = 0;
            loop {
                let (used, ready) = p.feed(&chunk[at..]);
                at += used;
                if ready {
                    assert_eq!(p.frame().unwrap(), (kind::ACK, &[1u8, 2, 3, 4][..]));
                    frames += 1;
                } else {
                    break;
                }
            }
            assert_eq!(at, chunk.len());
        }
        (frames, p.dropped())
    }

    #[test]
    fn round_trip_in_any_chunking() {
        let (f, n) = frame(kind::ACK, &[1, 2, 3, 4]);
        assert_eq!(n, OVERHEAD + 4);
        let mut stream = [0u8; 3 * 14];
        for i in 0..3 {
            stream[i * 14..i * 14 + 14].copy_from_slice(&f[..n]);
        }
        for step in 1..=stream.len() {
            assert_eq!(parse_all(&stream, step), (3, 0));
        }
    }

    #[test]
    fn noise_and_false_syncs_cost_only_the_damaged_frame() {
        let (f, n) = frame(kind::ACK, &[1, 2, 3, 4]);
        let mut stream = [0u8; 80];
        // Noise with a false sync whose header claims a long frame, then two good frames.
        stream[..6].copy_from_slice(&[0x00, 0xA5, 0xA5, 0x5A, 0x82, 0x30]);
        stream[6..6 + n].copy_from_slice(&f[..n]);
        stream[6 + n..6 + 2 * n].copy_from_slice(&f[..n]);
        assert_eq!(parse_all(&stream[..6 + 2 * n], 1).0, 2);
        // A good frame with one bit flipped, then a good one.
        let mut bad = f;
        bad[8] ^= 0x10;
        stream[..n].copy_from_slice(&bad[..n]);
        stream[n..2 * n].copy_from_slice(&f[..n]);
        assert_eq!(parse_all(&stream[..2 * n], 5), (1, 1));
    }

    #[test]
    fn corrupted_length_is_caught_by_the_header_check() {
        let (f, n) = frame(kind::ACK, &[1, 2, 3, 4]);
        let mut bad = f;
        bad[3] = 40; // claims 40 bytes of payload: must not swallow the next frame
        let mut stream = [0u8; 28];
        stream[..n].copy_from_slice(&bad[..n]);
        stream[n..2 * n].copy_from_slice(&f[..n]);
        let mut p = Parser::<64>::new();
        let (used, ready) = p.feed(&stream);
        assert!(ready);
        assert_eq!(used, 2 * n);
        assert_eq!(p.frame().unwrap().0, kind::ACK);
    }

    #[test]
    fn oversized_payloads_are_refused() {
        let mut buf = [0u8; 64];
        assert!(encode(&mut buf, kind::ACK, &[0; 60]).is_none());
        let mut big = [0u8; 200];
        let n = encode(&mut big, kind::ACK, &[7; 100]).unwrap();
        let mut p = Parser::<64>::new();
        assert_eq!(p.feed(&big[..n]), (n, false));
    }
}
