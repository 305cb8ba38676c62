//! CRC-32/MPEG-2 and CRC-32/ISO-HDLC for the verifier: [`Crc32s`].
//!
//! Both come from one slice-by-8 table set (8 KiB), in one pass: [`Crc32s`]. The two
//! variants share their polynomial (0x04C11DB7); ISO-HDLC is the reflected one, and a
//! reflected CRC equals the bit reversal of the plain CRC of the bit-reversed bytes, so
//! ISO-HDLC runs on MPEG-2's tables over words whose bits are reversed: on ARM one `rbit` per
//! word, where MPEG-2 needs one `rev` (the tables are big-endian), and `update` feeds both
//! registers from the same loaded words. The `crc` crate keeps one slice-by-16 table set per
//! variant, 32 KiB for the two: half of the module's flash budget, which Ed25519
//! verification needs.
//!
//! On x86_64 (the unix port, tools), where the tables run at about the speed of zlib's
//! `crc32` and the default verifier computes two CRCs, whole 64-byte blocks are folded with
//! PCLMULQDQ when CPUID reports it (`cpufeatures`, no std needed): about 6 GB/s for the two
//! variants against about 2 GB/s on the tables. The tables finish what folding leaves. The
//! tests check [`Crc32s`] against the `crc` crate on every target, on both paths.

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

    /// Registers that continue from these CRCs of the bytes fed so far (what
    /// [`Crc32s::mpeg2`] and [`Crc32s::iso_hdlc`] gave): an imported verifier state.
    pub const fn from_values(mpeg2: u32, iso_hdlc: u32) -> Self {
        Crc32s {
            mpeg2,
            iso: (iso_hdlc ^ 0xFFFF_FFFF).reverse_bits(),
        }
    }

    /// Feeds `data` to the variants asked for (`mpeg2`, `iso`).
    pub fn update(&mut self, data: &[u8], mpeg2: bool, iso: bool) {
        #[cfg(target_arch = "x86_64")]
        let data = self.fold(data, mpeg2, iso);
        self.update_tables(data, mpeg2, iso);
    }

    /// With PCLMULQDQ, folds the whole 64-byte blocks of `data` into a 16-byte message per
    /// variant and feeds that to the tables; returns the rest, for the tables.
    #[cfg(target_arch = "x86_64")]
    fn fold<'a>(&mut self, data: &'a [u8], mpeg2: bool, iso: bool) -> &'a [u8] {
        let (blocks, tail) = data.split_at(data.len() - data.len() % 64);
        let (Some(token), Some((first, rest))) = (clmul::detect(), blocks.split_first_chunk())
        else {
            return data;
        };
        if mpeg2 {
            let folded = clmul::fold(token, self.mpeg2, first, rest, false);
            self.mpeg2 = 0;
            self.update_tables(&folded, true, false);
        }
        if iso {
            let folded = clmul::fold(token, self.iso, first, rest, true);
            self.iso = 0;
            self.update_tables(&folded, false, true);
        }
        tail
    }

    fn update_tables(&mut self, data: &[u8], mpeg2: bool, iso: bool) {
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

/// Carry-less multiplication folding (Gopal et al., "Fast CRC Computation for Generic
/// Polynomials Using PCLMULQDQ Instruction", Intel, 2009), non-reflected, for both variants:
/// ISO-HDLC runs on bit-reversed bytes as on the tables. A 16-byte lane holds 128 message
/// bits, the first at the top, and `lane * x^D mod P` (D = the distance to the lane it is
/// added to) is two 64x32-bit carry-less products with the constants `x^(D+64)` and `x^D`
/// mod P. Only whole 64-byte blocks are folded, into one lane, which the tables then finish
/// with the rest: no Barrett reduction, so the only constants are the fold distances'.
#[cfg(target_arch = "x86_64")]
mod clmul {
    use core::arch::x86_64::{
        __m128i, _mm_and_si128, _mm_clmulepi64_si128, _mm_loadu_si128, _mm_or_si128, _mm_set1_epi8,
        _mm_set_epi32, _mm_set_epi64x, _mm_shuffle_epi8, _mm_srli_epi16, _mm_storeu_si128,
        _mm_xor_si128,
    };

    cpufeatures::new!(cpuid, "pclmulqdq", "ssse3");

    /// Proof that the CPU has PCLMULQDQ and SSSE3, from CPUID (cached after the first call).
    pub type Token = cpuid::InitToken;

    pub fn detect() -> Option<Token> {
        let (token, present) = cpuid::init_get();
        present.then_some(token)
    }

    /// `x^n mod P`.
    const fn x_pow(n: u32) -> i64 {
        let mut r: u32 = 1;
        let mut i = 0;
        while i < n {
            r = if r & 0x8000_0000 != 0 {
                (r << 1) ^ super::POLY
            } else {
                r << 1
            };
            i += 1;
        }
        r as i64
    }

    /// Constants that move a lane forward by 512 bits (the next 64-byte block) or 128 bits
    /// (the next lane): `x^(D+64)` (for the lane's top half) and `x^D` mod P.
    const K512: (i64, i64) = (x_pow(576), x_pow(512));
    const K128: (i64, i64) = (x_pow(192), x_pow(128));

    /// The register of one variant after `first` and `rest` (a multiple of 64 bytes), as a
    /// 16-byte message that leaves the same register when fed from register 0. `reflect`:
    /// the ISO-HDLC domain (the register is bit-reversed, the bytes are fed bit-reversed).
    pub fn fold(_: Token, reg: u32, first: &[u8; 64], rest: &[u8], reflect: bool) -> [u8; 16] {
        // SAFETY: the token proves the CPU has the features `fold_lanes` is compiled for.
        unsafe { fold_lanes(reg, first, rest, reflect) }
    }

    #[target_feature(enable = "pclmulqdq,ssse3")]
    fn fold_lanes(reg: u32, first: &[u8; 64], rest: &[u8], reflect: bool) -> [u8; 16] {
        let [l0, l1, l2, l3] = lanes(first, reflect);
        let mut acc = [
            _mm_xor_si128(l0, _mm_set_epi32(reg as i32, 0, 0, 0)),
            l1,
            l2,
            l3,
        ];
        let k512 = _mm_set_epi64x(K512.0, K512.1);
        for block in rest.as_chunks::<64>().0 {
            for (a, l) in acc.iter_mut().zip(lanes(block, reflect)) {
                *a = _mm_xor_si128(times(*a, k512), l);
            }
        }
        let k128 = _mm_set_epi64x(K128.0, K128.1);
        let [mut one, a1, a2, a3] = acc;
        for a in [a1, a2, a3] {
            one = _mm_xor_si128(times(one, k128), a);
        }
        let mut out = [0u8; 16];
        // SAFETY: writes the 16 bytes of `out`; storeu has no alignment requirement.
        unsafe { _mm_storeu_si128(out.as_mut_ptr().cast(), order(one, reflect)) };
        out
    }

    /// A 64-byte block as four lanes, each with its first byte on top (bits reversed when
    /// `reflect`).
    #[target_feature(enable = "ssse3")]
    fn lanes(block: &[u8; 64], reflect: bool) -> [__m128i; 4] {
        let mut out = [_mm_set1_epi8(0); 4];
        for (o, bytes) in out.iter_mut().zip(block.as_chunks::<16>().0) {
            // SAFETY: reads the 16 bytes of `bytes`; loadu has no alignment requirement.
            *o = order(unsafe { _mm_loadu_si128(bytes.as_ptr().cast()) }, reflect);
        }
        out
    }

    /// Reverses the byte order (and the bits of each byte when `reflect`): its own inverse,
    /// so it turns message bytes into a lane and a lane back into message bytes.
    #[target_feature(enable = "ssse3")]
    fn order(v: __m128i, reflect: bool) -> __m128i {
        let v = _mm_shuffle_epi8(
            v,
            _mm_set_epi64x(0x0001_0203_0405_0607, 0x0809_0A0B_0C0D_0E0F),
        );
        if !reflect {
            return v;
        }
        // Each nibble reversed, by lookup: into the high half, and into the low half.
        let to_high = _mm_set_epi64x(
            0xF070_B030_D050_9010_u64 as i64,
            0xE060_A020_C040_8000_u64 as i64,
        );
        let to_low = _mm_set_epi64x(0x0F07_0B03_0D05_0901, 0x0E06_0A02_0C04_0800);
        let nibble = _mm_set1_epi8(0x0F);
        let low = _mm_and_si128(v, nibble);
        let high = _mm_and_si128(_mm_srli_epi16(v, 4), nibble);
        _mm_or_si128(
            _mm_shuffle_epi8(to_high, low),
            _mm_shuffle_epi8(to_low, high),
        )
    }

    /// `v * x^D mod P`, as a lane congruent to it: `k` = (`x^(D+64)`, `x^D`) mod P.
    #[target_feature(enable = "pclmulqdq")]
    fn times(v: __m128i, k: __m128i) -> __m128i {
        _mm_xor_si128(
            _mm_clmulepi64_si128(v, k, 0x11),
            _mm_clmulepi64_si128(v, k, 0x00),
        )
    }
}

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

    /// Bit-identical to the `crc` crate on random data, lengths, alignments and splits
    /// (lengths up to 20 KB, so that the PCLMULQDQ path folds many 64-byte blocks, starting
    /// anywhere, with the tables before, between and after).
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
        let mut buf = vec![0u8; 20_000 + 64];
        for b in buf.iter_mut() {
            *b = next() as u8;
        }
        for round in 0..3000 {
            let start = (next() % 64) as usize;
            let len = (next() % if round % 2 == 0 { 600 } else { 20_001 }) as usize;
            let data = &buf[start..start + len];
            let mut cuts = [0, 0, 0, len];
            for c in &mut cuts[..3] {
                *c = (next() as usize) % (len + 1);
            }
            cuts.sort_unstable();
            let (which_m, which_i) = match next() % 3 {
                0 => (true, true),
                1 => (true, false),
                _ => (false, true),
            };
            let mut c = Crc32s::new();
            let mut from = 0;
            for to in cuts {
                c.update(&data[from..to], which_m, which_i);
                from = to;
            }
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

    /// On a CPU with PCLMULQDQ the tests above ran the folding path, not only the tables.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn folds_where_the_cpu_can() {
        let present =
            std::is_x86_feature_detected!("pclmulqdq") && std::is_x86_feature_detected!("ssse3");
        assert_eq!(clmul::detect().is_some(), present);
        let data: [u8; 200] = core::array::from_fn(|i| (i * 7 + 3) as u8);
        let left = if present { 200 % 64 } else { 200 };
        let mut folded = Crc32s::new();
        assert_eq!(folded.fold(&data, true, true).len(), left);
        assert_eq!(folded.fold(&data[..63], true, true).len(), 63);
        let mut tables = Crc32s::new();
        tables.update_tables(&data[..200 - left], true, true);
        assert_eq!(folded, tables);
    }
}
