//! Streaming firmware verification: MD5, SHA-256 and both CRC-32 variants in one pass.
//!
//! Quectel's docs call the platform's CRC "CRC32 (MPEG-2)", while QuecPython's own
//! `utils.crc32` is the zlib (ISO-HDLC) one, so by default both are computed and either may
//! match (`CrcPolicy::Auto`, the variant that matched is recorded). A caller that pins one
//! variant (`CrcPolicy::Only`) saves computing the other.

use crate::crc32::Crc32s;
use crate::hex::{self, CrcReadings};
use crate::image::SignedImage;
use crate::midstate::{self, Midstate, STATE_LEN};
use crate::Error;
use md5::Md5;
use sha2::digest::common::hazmat::{SerializableState, SerializedState};
use sha2::{Digest as _, Sha256};

/// A CRC-32 variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrcVariant {
    /// CRC-32/MPEG-2 (poly 0x04C11DB7, not reflected, no final xor): what Quectel documents.
    Mpeg2,
    /// CRC-32/ISO-HDLC, the zlib/Ethernet CRC: what `utils.crc32` and `binascii.crc32` compute.
    IsoHdlc,
}

/// Every variant, in the order `CrcPolicy::Auto` tries them.
const VARIANTS: [CrcVariant; 2] = [CrcVariant::Mpeg2, CrcVariant::IsoHdlc];

impl CrcVariant {
    /// The variant's name in the Python API.
    pub const fn name(self) -> &'static str {
        match self {
            CrcVariant::Mpeg2 => "mpeg2",
            CrcVariant::IsoHdlc => "iso-hdlc",
        }
    }

    /// The variant with this name.
    pub fn from_name(name: &[u8]) -> Result<Self, Error> {
        VARIANTS
            .into_iter()
            .find(|v| v.name().as_bytes() == name)
            .ok_or(Error::Arg)
    }
}

/// Which CRC variants an expected CRC may match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrcPolicy {
    /// Either variant; the first that matches (MPEG-2 before ISO-HDLC) is recorded.
    Auto,
    /// Only this one.
    Only(CrcVariant),
}

impl CrcPolicy {
    /// `auto`, or a variant's name.
    pub fn from_name(name: &[u8]) -> Result<Self, Error> {
        if name == b"auto" {
            Ok(CrcPolicy::Auto)
        } else {
            CrcVariant::from_name(name).map(CrcPolicy::Only)
        }
    }

    fn allows(self, variant: CrcVariant) -> bool {
        self == CrcPolicy::Auto || self == CrcPolicy::Only(variant)
    }

    /// Its code in an exported state ([`midstate`]: the C ABI's `QSOTA_CRC_*`).
    fn code(self) -> u8 {
        match self {
            CrcPolicy::Auto => midstate::BOTH,
            CrcPolicy::Only(CrcVariant::Mpeg2) => midstate::MPEG2_ONLY,
            CrcPolicy::Only(CrcVariant::IsoHdlc) => midstate::ISO_HDLC_ONLY,
        }
    }
}

// The digests' serialized states (RustCrypto's `SerializableState`) hold what a
// [`Midstate`] holds: the chaining value as u32 LE words, the block count as u64 LE, then the
// buffer (its length byte and then its bytes: the tail, at most 63).
const SHA256_WORDS: usize = 8;

/// Copies u32 LE words from the front of `bytes`.
fn words_from<const N: usize>(bytes: &[u8]) -> [u32; N] {
    let mut w = [0u32; N];
    for (w, c) in w.iter_mut().zip(bytes.chunks_exact(4)) {
        *w = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
    }
    w
}

/// Writes a digest's serialized state for `m`: its `words`, then the block count and
/// the partial block.
fn serialized(out: &mut [u8], words: &[u32], m: &Midstate) {
    let core = 4 * words.len();
    for (w, c) in words.iter().zip(out.chunks_exact_mut(4)) {
        c.copy_from_slice(&w.to_le_bytes());
    }
    out[core..core + 8].copy_from_slice(&(m.size / 64).to_le_bytes());
    let tail = m.tail();
    out[core + 8] = tail as u8;
    out[core + 9..core + 9 + tail].copy_from_slice(&m.block[..tail]);
}

/// The fields `check` compares; a set of them is a bit mask (`Mismatch`).
/// (Crate-private so that cbindgen leaves them to the `QSOTA_FIELD_*` names in `ffi`.)
pub mod field {
    pub(crate) const MD5: u32 = 1;
    pub(crate) const SHA256: u32 = 2;
    pub(crate) const CRC: u32 = 4;
    pub(crate) const SIZE: u32 = 8;
    pub(crate) const SIGNATURE: u32 = 16;
}

/// The fields that did not match, as a mask of [`field`] bits; 0 when all held.
pub type Mismatch = u32;

/// Hashes an image as it streams past and compares it with the expected values.
///
/// `check`, `md5` and `sha256` make the verifier final (like MicroPython's `hashlib`):
/// `update` is refused from then on, so a digest can never describe half an image.
#[derive(Clone)]
pub struct Verifier {
    md5: Md5,
    sha256: Sha256,
    crcs: Crc32s,
    size: u64,
    finished: bool,
    policy: CrcPolicy,
    expect_md5: Option<[u8; 16]>,
    expect_sha256: Option<[u8; 32]>,
    expect_crc: Option<CrcReadings>,
    expect_size: Option<u64>,
    crc_matched: Option<CrcVariant>,
    image: Option<SignedImage>,
}

impl Default for Verifier {
    fn default() -> Self {
        Self::new()
    }
}

impl Verifier {
    pub fn new() -> Self {
        Verifier {
            md5: Md5::new(),
            sha256: Sha256::new(),
            crcs: Crc32s::new(),
            size: 0,
            finished: false,
            policy: CrcPolicy::Auto,
            expect_md5: None,
            expect_sha256: None,
            expect_crc: None,
            expect_size: None,
            crc_matched: None,
            image: None,
        }
    }

    /// Feeds the next piece of the image.
    pub fn update(&mut self, data: &[u8]) -> Result<(), Error> {
        if self.finished {
            return Err(Error::State);
        }
        self.md5.update(data);
        match &mut self.image {
            Some(image) => image.update(&mut self.sha256, data),
            None => self.sha256.update(data),
        }
        self.crcs.update(
            data,
            self.policy.allows(CrcVariant::Mpeg2),
            self.policy.allows(CrcVariant::IsoHdlc),
        );
        self.size += data.len() as u64;
        Ok(())
    }

    /// Bytes seen so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Whether `check` or a digest has been taken.
    pub fn is_final(&self) -> bool {
        self.finished
    }

    /// The MD5 of everything seen; makes the verifier final.
    pub fn md5(&mut self) -> [u8; 16] {
        self.finished = true;
        self.md5.clone().finalize().into()
    }

    /// The SHA-256 of everything seen; makes the verifier final.
    pub fn sha256(&mut self) -> [u8; 32] {
        self.finished = true;
        self.sha256.clone().finalize().into()
    }

    /// The CRC-32 of everything seen; makes the verifier final. `Error::State` for a variant
    /// the policy excludes (it was never computed).
    pub fn crc32(&mut self, variant: CrcVariant) -> Result<u32, Error> {
        let crc = self.crc_value(variant)?;
        self.finished = true;
        Ok(crc)
    }

    fn crc_value(&self, variant: CrcVariant) -> Result<u32, Error> {
        if !self.policy.allows(variant) {
            return Err(Error::State);
        }
        Ok(match variant {
            CrcVariant::Mpeg2 => self.crcs.mpeg2(),
            CrcVariant::IsoHdlc => self.crcs.iso_hdlc(),
        })
    }

    /// Expects this MD5, given as 32 hex digits.
    pub fn expect_md5_hex(&mut self, text: &[u8]) -> Result<(), Error> {
        self.expect_md5 = Some(hex::decode(text)?);
        Ok(())
    }

    /// Expects this SHA-256, given as 64 hex digits.
    pub fn expect_sha256_hex(&mut self, text: &[u8]) -> Result<(), Error> {
        self.expect_sha256 = Some(hex::decode(text)?);
        Ok(())
    }

    /// Expects this CRC-32, printed in decimal or hex (see [`CrcReadings::parse`]).
    pub fn expect_crc_text(&mut self, text: &[u8]) -> Result<(), Error> {
        self.expect_crc = Some(CrcReadings::parse(text)?);
        Ok(())
    }

    /// Expects this CRC-32 value.
    pub fn expect_crc(&mut self, value: u32) {
        self.expect_crc = Some(CrcReadings::one(value));
    }

    /// Expects an image of exactly `size` bytes.
    pub fn expect_size(&mut self, size: u64) {
        self.expect_size = Some(size);
    }

    /// Which variants the expected CRC may match, and so which are computed: only before
    /// the first byte (`Error::State` after).
    pub fn set_crc_policy(&mut self, policy: CrcPolicy) -> Result<(), Error> {
        if self.size != 0 || self.finished {
            return Err(Error::State);
        }
        self.policy = policy;
        Ok(())
    }

    /// Expects a signed MCUboot image signed by one of `keys` (see [`SignedImage::new`]):
    /// only before the first byte (`Error::State` after).
    pub fn expect_signature(&mut self, keys: &[u8]) -> Result<(), Error> {
        if self.size != 0 || self.finished {
            return Err(Error::State);
        }
        self.image = Some(SignedImage::new(keys)?);
        Ok(())
    }

    /// The signed image being checked, if `expect_signature` was called.
    pub fn image(&self) -> Option<&SignedImage> {
        self.image.as_ref()
    }

    /// Compares everything seen with the expectations and makes the verifier final.
    /// Calling it again gives the same answer.
    pub fn check(&mut self) -> Mismatch {
        let mut mismatch = 0;
        if self.expect_md5.is_some_and(|want| want != self.md5()) {
            mismatch |= field::MD5;
        }
        if self.expect_sha256.is_some_and(|want| want != self.sha256()) {
            mismatch |= field::SHA256;
        }
        self.crc_matched = None;
        if let Some(want) = self.expect_crc {
            self.crc_matched = VARIANTS
                .into_iter()
                .find(|v| self.crc_value(*v).is_ok_and(|crc| want.matches(crc)));
            if self.crc_matched.is_none() {
                mismatch |= field::CRC;
            }
        }
        if self.expect_size.is_some_and(|want| want != self.size) {
            mismatch |= field::SIZE;
        }
        if self
            .image
            .as_mut()
            .is_some_and(|image| image.check().is_err())
        {
            mismatch |= field::SIGNATURE;
        }
        self.finished = true;
        mismatch
    }

    /// The variant the expected CRC matched in the last `check`.
    pub fn crc_matched(&self) -> Option<CrcVariant> {
        self.crc_matched
    }

    /// The state after the bytes fed so far, as bytes ([`midstate`]): a new verifier that
    /// imports it continues from here. `Error::State` once final, and with a signature
    /// expected (the signed image's parser is not part of the state).
    pub fn export(&self) -> Result<[u8; STATE_LEN], Error> {
        if self.finished || self.image.is_some() {
            return Err(Error::State);
        }
        let md5 = self.md5.serialize();
        let sha = self.sha256.serialize();
        let core = 4 * SHA256_WORDS + 8;
        let mut m = Midstate {
            crcs: self.policy.code(),
            size: self.size,
            md5: words_from(&md5),
            sha256: words_from(&sha),
            mpeg2: self.crcs.mpeg2(),
            iso_hdlc: self.crcs.iso_hdlc(),
            block: [0; 64],
        };
        // Both digests were fed the same bytes: their buffers hold the same tail.
        let tail = m.tail();
        m.block[..tail].copy_from_slice(&sha[core + 1..core + 1 + tail]);
        Ok(m.encode())
    }

    /// Continues from an exported state (see [`Verifier::export`]), before the first byte.
    /// `Error::State`: data was fed, the verifier is final, or a signature is expected;
    /// `Error::Arg`: the state computes other CRC variants than this verifier's policy;
    /// else the errors of [`Midstate::decode`].
    pub fn import(&mut self, state: &[u8]) -> Result<(), Error> {
        if self.size != 0 || self.finished || self.image.is_some() {
            return Err(Error::State);
        }
        let m = Midstate::decode(state)?;
        if m.crcs != self.policy.code() {
            return Err(Error::Arg);
        }
        let mut md5 = SerializedState::<Md5>::default();
        serialized(&mut md5, &m.md5, &m);
        let mut sha = SerializedState::<Sha256>::default();
        serialized(&mut sha, &m.sha256, &m);
        // Both refuse only what `decode` already refused (a tail past its length).
        let md5 = Md5::deserialize(&md5).map_err(|_| Error::Syntax)?;
        let sha256 = Sha256::deserialize(&sha).map_err(|_| Error::Syntax)?;
        (self.md5, self.sha256) = (md5, sha256);
        let mpeg2 = self.policy.allows(CrcVariant::Mpeg2);
        let iso = self.policy.allows(CrcVariant::IsoHdlc);
        let initial = Crc32s::new();
        self.crcs = Crc32s::from_values(
            if mpeg2 { m.mpeg2 } else { initial.mpeg2() },
            if iso { m.iso_hdlc } else { initial.iso_hdlc() },
        );
        self.size = m.size;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest_of(data: &[u8]) -> Verifier {
        let mut v = Verifier::new();
        v.update(data).unwrap();
        v
    }

    fn hex<const N: usize>(bytes: [u8; N]) -> std::string::String {
        bytes.iter().map(|b| std::format!("{b:02x}")).collect()
    }

    #[test]
    fn crc_check_values() {
        let mut v = digest_of(b"123456789");
        assert_eq!(v.crc32(CrcVariant::Mpeg2), Ok(0x0376_E6E7));
        assert_eq!(v.crc32(CrcVariant::IsoHdlc), Ok(0xCBF4_3926));
    }

    #[test]
    fn md5_rfc1321_vectors() {
        let cases: [(&[u8], &str); 7] = [
            (b"", "d41d8cd98f00b204e9800998ecf8427e"),
            (b"a", "0cc175b9c0f1b6a831c399e269772661"),
            (b"abc", "900150983cd24fb0d6963f7d28e17f72"),
            (b"message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            (
                b"abcdefghijklmnopqrstuvwxyz",
                "c3fcd3d76192e4007dfb496cca67e13b",
            ),
            (
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                "d174ab98d277d9f5a5611c2c9f419d9f",
            ),
            (
                b"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
                "57edf4a22be3c955ac49da2e2107b67a",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(hex(digest_of(input).md5()), want);
        }
    }

    #[test]
    fn sha256_fips180_vectors() {
        let cases: [(&[u8], &str); 3] = [
            (
                b"abc",
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            ),
            (
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
            ),
            (
                b"",
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(hex(digest_of(input).sha256()), want);
        }
        // One million 'a', fed in uneven pieces.
        let mut v = Verifier::new();
        let chunk = [b'a'; 999];
        let mut left = 1_000_000usize;
        while left > 0 {
            let n = left.min(chunk.len());
            v.update(&chunk[..n]).unwrap();
            left -= n;
        }
        assert_eq!(
            hex(v.sha256()),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        );
    }

    #[test]
    fn check_names_each_mismatch() {
        let mut v = digest_of(b"123456789");
        v.expect_md5_hex(b"25F9E794323B453885F5181F1B624D0B")
            .unwrap();
        v.expect_crc(0x0376_E6E7);
        v.expect_size(9);
        assert_eq!(v.check(), 0);
        assert_eq!(v.crc_matched(), Some(CrcVariant::Mpeg2));

        let mut v = digest_of(b"123456789");
        v.expect_md5_hex(&[b'0'; 32]).unwrap();
        v.expect_sha256_hex(&[b'0'; 64]).unwrap();
        v.expect_crc(1);
        v.expect_size(10);
        assert_eq!(
            v.check(),
            field::MD5 | field::SHA256 | field::CRC | field::SIZE
        );
        assert_eq!(v.crc_matched(), None);
    }

    #[test]
    fn crc_policy_pins_a_variant() {
        let pinned = |policy| {
            let mut v = Verifier::new();
            v.set_crc_policy(policy).unwrap();
            v.update(b"123456789").unwrap();
            v.expect_crc(0xCBF4_3926);
            v
        };
        assert_eq!(pinned(CrcPolicy::Auto).check(), 0);
        let mut v = pinned(CrcPolicy::Only(CrcVariant::Mpeg2));
        assert_eq!(v.crc32(CrcVariant::IsoHdlc), Err(Error::State));
        assert_eq!(v.check(), field::CRC);
        let mut v = pinned(CrcPolicy::Only(CrcVariant::IsoHdlc));
        assert_eq!(v.crc32(CrcVariant::Mpeg2), Err(Error::State));
        assert_eq!(v.check(), 0);
        assert_eq!(v.crc_matched(), Some(CrcVariant::IsoHdlc));
        // Pinning after data has been seen would leave a CRC that skipped it.
        let mut v = digest_of(b"1");
        assert_eq!(v.set_crc_policy(CrcPolicy::Auto), Err(Error::State));
    }

    #[test]
    fn ambiguous_crc_text_matches_either_reading() {
        // 0x0376E6E7 printed in decimal by the AT flow.
        let mut v = digest_of(b"123456789");
        v.expect_crc_text(b"58124007").unwrap();
        assert_eq!(v.check(), 0);
        // The same CRC printed as 8 hex digits without 0x.
        let mut v = digest_of(b"123456789");
        v.expect_crc_text(b"0376e6e7").unwrap();
        assert_eq!(v.check(), 0);
    }

    #[test]
    fn final_after_check_or_digest() {
        let mut v = digest_of(b"abc");
        let _ = v.md5();
        assert_eq!(v.update(b"d"), Err(Error::State));
        assert_eq!(v.size(), 3);
        let mut v = digest_of(b"abc");
        v.check();
        assert_eq!(v.update(b"d"), Err(Error::State));
        let mut v = digest_of(b"abc");
        let _ = v.crc32(CrcVariant::Mpeg2);
        assert_eq!(v.update(b"d"), Err(Error::State));
    }

    fn policies() -> [CrcPolicy; 3] {
        [
            CrcPolicy::Auto,
            CrcPolicy::Only(CrcVariant::Mpeg2),
            CrcPolicy::Only(CrcVariant::IsoHdlc),
        ]
    }

    fn with_policy(policy: CrcPolicy) -> Verifier {
        let mut v = Verifier::new();
        v.set_crc_policy(policy).unwrap();
        v
    }

    /// Everything a verifier can say about what it saw: MD5, SHA-256, both CRCs, size.
    type Results = ([u8; 16], [u8; 32], [Result<u32, Error>; 2], u64);

    fn results(mut v: Verifier) -> Results {
        let crcs = VARIANTS.map(|variant| v.crc_value(variant));
        (v.md5(), v.sha256(), crcs, v.size())
    }

    #[test]
    fn an_imported_state_continues_bit_exact() {
        let image: std::vec::Vec<u8> = (0..1000u32).map(|i| (i * 7 + i / 13) as u8).collect();
        for policy in policies() {
            let mut whole = with_policy(policy);
            whole.update(&image).unwrap();
            let want = results(whole);
            for split in [0, 1, 5, 63, 64, 65, 127, 128, 500, 999, 1000] {
                let mut first = with_policy(policy);
                first.update(&image[..split]).unwrap();
                let state = first.export().unwrap();
                let mut second = with_policy(policy);
                second.import(&state).unwrap();
                assert_eq!(second.export().unwrap(), state);
                second.update(&image[split..]).unwrap();
                assert_eq!(results(second), want, "{policy:?} at {split}");
            }
        }
    }

    #[test]
    fn export_and_import_refuse_what_they_cannot_carry() {
        let mut v = digest_of(b"abc");
        let state = v.export().unwrap();
        // Only into a fresh verifier of the same policy.
        assert_eq!(digest_of(b"x").import(&state), Err(Error::State));
        let mut pinned = with_policy(CrcPolicy::Only(CrcVariant::Mpeg2));
        assert_eq!(pinned.import(&state), Err(Error::Arg));
        assert_eq!(pinned.import(&state[1..]), Err(Error::Length));
        let mut signed = Verifier::new();
        signed.expect_signature(&[7; 32]).unwrap();
        assert_eq!(signed.export(), Err(Error::State));
        assert_eq!(signed.import(&state), Err(Error::State));
        // A final verifier's digests were taken: its state is no longer a midstate.
        v.check();
        assert_eq!(v.export(), Err(Error::State));
        let mut fresh = Verifier::new();
        fresh.check();
        assert_eq!(fresh.import(&state), Err(Error::State));
    }

    #[test]
    fn variant_names() {
        assert_eq!(CrcVariant::from_name(b"mpeg2"), Ok(CrcVariant::Mpeg2));
        assert_eq!(CrcVariant::from_name(b"iso-hdlc"), Ok(CrcVariant::IsoHdlc));
        assert_eq!(CrcVariant::from_name(b"auto"), Err(Error::Arg));
        assert_eq!(CrcPolicy::from_name(b"auto"), Ok(CrcPolicy::Auto));
        assert_eq!(CrcPolicy::from_name(b"zlib"), Err(Error::Arg));
    }
}
