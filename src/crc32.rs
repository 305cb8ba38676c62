//! CRC-32/MPEG-2 and CRC-32/ISO-HDLC for the verifier: [`Crcs`].
//!
//! On the module (ARM, every target but 64-bit hosts) both come from one slice-by-8 table
//! set (8 KiB), in one pass: [`Crc32s`]. The two variants share their polynomial
//! (0x04C11DB7); ISO-HDLC is the reflected one, and a reflected CRC equals the bit reversal
//! of the plain CRC of the bit-reversed bytes, so ISO-HDLC runs on MPEG-2's tables over
//! words whose bits are reversed: on ARM one `rbit` per word, where MPEG-2 needs one `rev`
//! (the tables are big-endian), and `update` feeds both registers from the same loaded
//! words. The `crc` crate keeps one slice-by-16 table set per variant, 32 KiB for the two:
//! half of the module's flash budget, which Ed25519 verification needs.
//!
//! On x86_64 and aarch64 hosts (the unix port, tools), where flash is free and `rbit` is
//! not one instruction (x86), the verifier keeps the `crc` crate's slice-by-16 tables: the
//! faster choice there. The tests check [`Crc32s`] against the `crc` crate on every target.

const POLY: u32 = 0x04C1_1DB7;

/// `TABLES[k][i]`: the CRC register after byte `i` followed by `k` zero bytes.
static TABLES: [[u32; 256]; 8] = tables();

const fn tables() -> [[u32; 256]; 8] {
    let mut t = [[0u32; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut c = (i as u32) << 24;
        let mut bit = 0;
        while bit < 8 {
            c = if c & 0x8000_0000 != 0 {
                (c << 1) ^ POLY
            } else {
                c << 1
            };
            bit += 1;
        }
        t[0][i] = c;
        i += 1;
    }
    let mut k = 1;
    while k < 8 {
        let mut i = 0;
        while i < 256 {
            let prev = t[k - 1][i];
            t[k][i] = (prev << 8) ^ t[0][(prev >> 24) as usize];
            i += 1;
        }
        k += 1;
    }
    t
}

/// Eight bytes at once: `a` (the register xor the first four) and `b` (the next four),
/// both big-endian.
#[inline(always)]
fn fold8(a: u32, b: u32) -> u32 {
    let t = &TABLES;
    t[7][(a >> 24) as usize]
        ^ t[6][((a >> 16) & 0xFF) as usize]
        ^ t[5][((a >> 8) & 0xFF) as usize]
        ^ t[4][(a & 0xFF) as usize]
        ^ t[3][(b >> 24) as usize]
        ^ t[2][((b >> 16) & 0xFF) as usize]
        ^ t[1][((b >> 8) & 0xFF) as usize]
        ^ t[0][(b & 0xFF) as usize]
}

#[inline(always)]
fn byte(reg: u32, b: u8) -> u32 {
    (reg << 8) ^ TABLES[0][((reg >> 24) as u8 ^ b) as usize]
}

/// The running registers of both variants (ISO-HDLC's held bit-reversed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Crc32s {
    mpeg2: u32,
    iso: u32,
}

impl Default for Crc32s {
    fn default() -> Self {
        Self::new()
    }
}

impl Crc32s {
    /// Both registers at their initial value (0xFFFFFFFF for each variant).
    pub const fn new() -> Self {
        Crc32s {
            mpeg2: 0xFFFF_FFFF,
            iso: 0xFFFF_FFFF,
        }
    }

    /// Feeds `data` to the variants asked for (`mpeg2`, `iso`).
    pub fn update(&mut self, data: &[u8], mpeg2: bool, iso: bool) {
        let (mut m, mut r) = (self.mpeg2, self.iso);
        let mut chunks = data.chunks_exact(8);
        for c in &mut chunks {
            let lo = [c[0], c[1], c[2], c[3]];
            let hi = [c[4], c[5], c[6], c[7]];
            if mpeg2 {
                m = fold8(m ^ u32::from_be_bytes(lo), u32::from_be_bytes(hi));
            }
            if iso {
                let a = u32::from_le_bytes(lo).reverse_bits();
                r = fold8(r ^ a, u32::from_le_bytes(hi).reverse_bits());
            }
        }
        for &b in chunks.remainder() {
            if mpeg2 {
                m = byte(m, b);
            }
            if iso {
                r = byte(r, b.reverse_bits());
            }
        }
        self.mpeg2 = m;
        self.iso = r;
    }

    /// CRC-32/MPEG-2 of what was fed (no reflection, no final xor).
    pub const fn mpeg2(&self) -> u32 {
        self.mpeg2
    }

    /// CRC-32/ISO-HDLC of what was fed (reflected, final xor 0xFFFFFFFF).
    pub const fn iso_hdlc(&self) -> u32 {
        self.iso.reverse_bits() ^ 0xFFFF_FFFF
    }
}

/// What the verifier uses on a 64-bit host: the `crc` crate, one slice-by-16 table set per
/// variant (see the module doc).
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
#[derive(Clone)]
pub struct Crcs {
    mpeg2: crc::Digest<'static, u32, crc::Table<16>>,
    iso: crc::Digest<'static, u32, crc::Table<16>>,
}

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
static MPEG2: crc::Crc<u32, crc::Table<16>> =
    crc::Crc::<u32, crc::Table<16>>::new(&crc::CRC_32_MPEG_2);
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
static ISO_HDLC: crc::Crc<u32, crc::Table<16>> =
    crc::Crc::<u32, crc::Table<16>>::new(&crc::CRC_32_ISO_HDLC);

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
impl Default for Crcs {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
impl Crcs {
    pub fn new() -> Self {
        Crcs {
            mpeg2: MPEG2.digest(),
            iso: ISO_HDLC.digest(),
        }
    }

    pub fn update(&mut self, data: &[u8], mpeg2: bool, iso: bool) {
        if mpeg2 {
            self.mpeg2.update(data);
        }
        if iso {
            self.iso.update(data);
        }
    }

    pub fn mpeg2(&self) -> u32 {
        self.mpeg2.clone().finalize()
    }

    pub fn iso_hdlc(&self) -> u32 {
        self.iso.clone().finalize()
    }
}

/// What the verifier uses on the module: [`Crc32s`].
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
pub type Crcs = Crc32s;

#[cfg(test)]
mod tests {
    use super::*;
    use crc::{Crc, Table, CRC_32_ISO_HDLC, CRC_32_MPEG_2};

    fn both(data: &[u8]) -> (u32, u32) {
        let mut c = Crc32s::new();
        c.update(data, true, true);
        (c.mpeg2(), c.iso_hdlc())
    }

    #[test]
    fn check_values() {
        assert_eq!(both(b"123456789"), (0x0376_E6E7, 0xCBF4_3926));
        assert_eq!(both(b""), (0xFFFF_FFFF, 0));
    }

    /// Bit-identical to the `crc` crate on random data, lengths, alignments and splits.
    #[test]
    fn same_as_the_crc_crate() {
        static M: Crc<u32, Table<16>> = Crc::<u32, Table<16>>::new(&CRC_32_MPEG_2);
        static I: Crc<u32, Table<16>> = Crc::<u32, Table<16>>::new(&CRC_32_ISO_HDLC);
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut buf = [0u8; 4096 + 16];
        for b in buf.iter_mut() {
            *b = next() as u8;
        }
        for _ in 0..3000 {
            let start = (next() % 16) as usize;
            let len = (next() % 4097) as usize;
            let data = &buf[start..start + len];
            let split = if len == 0 {
                0
            } else {
                (next() as usize) % (len + 1)
            };
            let (which_m, which_i) = match next() % 3 {
                0 => (true, true),
                1 => (true, false),
                _ => (false, true),
            };
            let mut c = Crc32s::new();
            c.update(&data[..split], which_m, which_i);
            c.update(&data[split..], which_m, which_i);
            if which_m {
                assert_eq!(c.mpeg2(), M.checksum(data), "mpeg2 len {len} at {start}");
            }
            if which_i {
                assert_eq!(
                    c.iso_hdlc(),
                    I.checksum(data),
                    "iso-hdlc len {len} at {start}"
                );
            }
        }
    }
}
