//! The verifier's midstate as bytes: what [`Verifier::export`] writes and
//! [`Verifier::import`] reads back, so that a module that reboots in the middle of a
//! streamed update continues verifying where it stopped instead of downloading the image
//! again (docs/agent.md, "Stream mode"). `qsota.pure` writes the same bytes (pure/verify.py):
//! a state exported by one backend imports into the other.
//!
//! ```text
//! offset size field
//! 0      4    magic "QVST"
//! 4      1    version (1)
//! 5      1    CRC variants computed: 0 both (auto), 1 MPEG-2 only, 2 ISO-HDLC only
//! 6      2    0
//! 8      8    bytes fed, u64 LE
//! 16     16   MD5 chaining value A B C D, u32 LE each
//! 32     32   SHA-256 chaining value H0..H7, u32 BE each
//! 64     4    CRC-32/MPEG-2 of the bytes fed, u32 LE (0 when not computed)
//! 68     4    CRC-32/ISO-HDLC of the bytes fed, u32 LE (0 when not computed)
//! 72     64   the last (bytes fed % 64) bytes, not yet compressed; zeros after them
//! 136    4    CRC-32/ISO-HDLC of bytes 0..136, u32 LE
//! ```
//!
//! Every state has exactly one encoding (unused fields and padding must be zero), so a
//! record that imports exports again to the same bytes; anything else is refused.
//!
//! [`Verifier::export`]: crate::verify::Verifier::export
//! [`Verifier::import`]: crate::verify::Verifier::import

use crate::crc32::Crc32s;
use crate::Error;

/// Bytes of an exported state (`QSOTA_VERIFIER_STATE_LEN`).
pub const STATE_LEN: usize = 140;
const MAGIC: [u8; 4] = *b"QVST";
const VERSION: u8 = 1;
const BLOCK: usize = 64;
const CHECKED: usize = STATE_LEN - 4;
/// MD5 counts the message in bits in 64 bits: larger states cannot be finished.
const MAX_SIZE: u64 = u64::MAX >> 3;

/// Which CRC-32 variants a verifier computes, by the C ABI's codes (`QSOTA_CRC_*`).
pub const BOTH: u8 = 0;
pub const MPEG2_ONLY: u8 = 1;
pub const ISO_HDLC_ONLY: u8 = 2;

/// A verifier's state between two bytes of the image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Midstate {
    /// [`BOTH`], [`MPEG2_ONLY`] or [`ISO_HDLC_ONLY`].
    pub crcs: u8,
    pub size: u64,
    pub md5: [u32; 4],
    pub sha256: [u32; 8],
    pub mpeg2: u32,
    pub iso_hdlc: u32,
    /// The bytes past the last whole 64-byte block (the first `size % 64` count).
    pub block: [u8; BLOCK],
}

impl Midstate {
    /// How many bytes of [`Midstate::block`] are the image's.
    pub fn tail(&self) -> usize {
        (self.size % BLOCK as u64) as usize
    }

    /// The state as bytes (its one encoding).
    pub fn encode(&self) -> [u8; STATE_LEN] {
        let mut s = [0u8; STATE_LEN];
        s[..4].copy_from_slice(&MAGIC);
        s[4] = VERSION;
        s[5] = self.crcs;
        s[8..16].copy_from_slice(&self.size.to_le_bytes());
        for (word, at) in self.md5.iter().zip((16..32).step_by(4)) {
            s[at..at + 4].copy_from_slice(&word.to_le_bytes());
        }
        for (word, at) in self.sha256.iter().zip((32..64).step_by(4)) {
            s[at..at + 4].copy_from_slice(&word.to_be_bytes());
        }
        if self.crcs != ISO_HDLC_ONLY {
            s[64..68].copy_from_slice(&self.mpeg2.to_le_bytes());
        }
        if self.crcs != MPEG2_ONLY {
            s[68..72].copy_from_slice(&self.iso_hdlc.to_le_bytes());
        }
        let tail = self.tail();
        s[72..72 + tail].copy_from_slice(&self.block[..tail]);
        let crc = check(&s[..CHECKED]);
        s[CHECKED..].copy_from_slice(&crc.to_le_bytes());
        s
    }

    /// Reads a state. `Length`: not [`STATE_LEN`] bytes; `Syntax`: not a state (magic,
    /// check value, a field outside its encoding); `Range`: a version this code does not
    /// read.
    pub fn decode(s: &[u8]) -> Result<Midstate, Error> {
        let s: &[u8; STATE_LEN] = s.try_into().map_err(|_| Error::Length)?;
        let word = |at: usize| [s[at], s[at + 1], s[at + 2], s[at + 3]];
        if s[..4] != MAGIC || check(&s[..CHECKED]) != u32::from_le_bytes(word(CHECKED)) {
            return Err(Error::Syntax);
        }
        if s[4] != VERSION {
            return Err(Error::Range);
        }
        let mut size = [0u8; 8];
        size.copy_from_slice(&s[8..16]);
        let mut m = Midstate {
            crcs: s[5],
            size: u64::from_le_bytes(size),
            md5: [0; 4],
            sha256: [0; 8],
            mpeg2: u32::from_le_bytes(word(64)),
            iso_hdlc: u32::from_le_bytes(word(68)),
            block: [0; BLOCK],
        };
        for (w, at) in m.md5.iter_mut().zip((16..32).step_by(4)) {
            *w = u32::from_le_bytes(word(at));
        }
        for (w, at) in m.sha256.iter_mut().zip((32..64).step_by(4)) {
            *w = u32::from_be_bytes(word(at));
        }
        m.block.copy_from_slice(&s[72..72 + BLOCK]);
        // Only the one encoding of its state: a record damaged where the check value cannot
        // see (or forged) is not read as some other state.
        if m.crcs > ISO_HDLC_ONLY || m.size > MAX_SIZE || m.encode() != *s {
            return Err(Error::Syntax);
        }
        Ok(m)
    }
}

/// The record's check value: CRC-32/ISO-HDLC.
fn check(bytes: &[u8]) -> u32 {
    let mut crc = Crc32s::new();
    crc.update(bytes, false, true);
    crc.iso_hdlc()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Midstate {
        let mut block = [0u8; BLOCK];
        block[..5].copy_from_slice(b"abcde");
        Midstate {
            crcs: BOTH,
            size: 64 * 3 + 5,
            md5: [1, 2, 3, 4],
            sha256: [5, 6, 7, 8, 9, 10, 11, 0xFFFF_FFFF],
            mpeg2: 0x1234_5678,
            iso_hdlc: 0x9ABC_DEF0,
            block,
        }
    }

    #[test]
    fn round_trip() {
        let m = sample();
        let s = m.encode();
        assert_eq!(&s[..4], b"QVST");
        assert_eq!(&s[32..36], &[0, 0, 0, 5]); // SHA-256 words big-endian
        assert_eq!(&s[16..20], &[1, 0, 0, 0]); // MD5 words little-endian
        assert_eq!(Midstate::decode(&s), Ok(m));
    }

    #[test]
    fn every_damaged_byte_and_length_is_refused() {
        let s = sample().encode();
        for i in 0..STATE_LEN {
            for bit in 0..8 {
                let mut bad = s;
                bad[i] ^= 1 << bit;
                assert!(Midstate::decode(&bad).is_err(), "byte {i} bit {bit}");
            }
        }
        assert_eq!(Midstate::decode(&s[..STATE_LEN - 1]), Err(Error::Length));
        assert_eq!(Midstate::decode(&[]), Err(Error::Length));
    }

    /// Re-seals `s` after an edit, so that only the field check can refuse it.
    fn sealed(mut s: [u8; STATE_LEN]) -> [u8; STATE_LEN] {
        let crc = check(&s[..CHECKED]);
        s[CHECKED..].copy_from_slice(&crc.to_le_bytes());
        s
    }

    #[test]
    fn a_sealed_record_outside_the_encoding_is_refused() {
        let s = sample().encode();
        let edits: [(usize, u8, Error); 6] = [
            (4, 2, Error::Range),       // a later version
            (5, 3, Error::Syntax),      // no such CRC policy
            (6, 1, Error::Syntax),      // reserved
            (72 + 5, 1, Error::Syntax), // padding after the partial block
            (15, 0x20, Error::Syntax),  // a size MD5 cannot finish
            (0, b'X', Error::Syntax),
        ];
        for (at, value, why) in edits {
            let mut bad = s;
            bad[at] = value;
            assert_eq!(Midstate::decode(&sealed(bad)), Err(why), "byte {at}");
        }
        // A CRC that the policy does not compute must read 0.
        let mut m = sample();
        m.crcs = MPEG2_ONLY;
        let mut bad = m.encode();
        bad[68] = 1;
        assert_eq!(Midstate::decode(&sealed(bad)), Err(Error::Syntax));
    }
}
