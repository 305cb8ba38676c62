//! MCUboot signed images: a streaming, bounded parser of the container and the check of its
//! Ed25519 signature against the keys the caller trusts.
//!
//! The container (MCUboot's `bootutil/image.h`, made by `imgtool sign`):
//!
//! ```text
//! header   ih_hdr_size bytes: magic 0x96f3b83d, load_addr, hdr_size u16, protect_tlv_size u16,
//!          img_size, flags, version (u8 major, u8 minor, u16 revision, u32 build), pad
//! body     ih_img_size bytes: the application
//! [protected TLV area]    ih_protect_tlv_size bytes: info (0x6908, total) + TLVs
//! TLV area                info (0x6907, total) + TLVs (u16 type, u16 length, value)
//! ```
//!
//! The image hash is the SHA-256 of header + body + protected TLVs; TLV 0x10 carries it,
//! TLV 0x01 the SHA-256 of the signing key (as imgtool hashes it: its DER
//! SubjectPublicKeyInfo), TLV 0x24 the Ed25519 signature of the 32-byte image hash. As in
//! bootutil, a signature counts only after a key hash that names one of our keys. Anything
//! after the TLV area is refused: a file carries exactly one image.
//!
//! The parser sees each byte once, in the Verifier's pass, keeps a few fixed fields (under
//! 300 bytes) and never buffers the body; the image hash is a snapshot of the Verifier's own
//! SHA-256 taken where the protected TLVs end, so it costs no hashing of its own.

use crate::Error;
use core::fmt;
use ed25519_compact::{PublicKey, Signature};
use sha2::{Digest, Sha256};

/// The most keys one verifier trusts.
pub const MAX_KEYS: usize = 4;

const MAGIC: u32 = 0x96f3_b83d;
const HEADER: usize = 32;
const INFO_MAGIC: u16 = 0x6907;
const PROT_INFO_MAGIC: u16 = 0x6908;
const TLV_KEYHASH: u16 = 0x01;
const TLV_SHA256: u16 = 0x10;
const TLV_ED25519: u16 = 0x24;
/// SHA-384, SHA-512 (`imgtool --sha`) and pure Ed25519 (`--pure`): other hashes than ours.
const TLV_UNSUPPORTED: [u16; 3] = [0x11, 0x12, 0x25];
/// `ENCRYPTED_AES128 | ENCRYPTED_AES256`: the hash covers the plain text, which is not here.
const FLAGS_ENCRYPTED: u32 = 0x0c;
/// The DER SubjectPublicKeyInfo of an Ed25519 key, before its 32 raw bytes.
const SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// Why an image is refused. The numbers are the C ABI's `QSOTA_IMAGE_E_*`; `a` and `b` in
/// [`Problem`] are the values each message shows (see `cmodule/image.c`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum Fault {
    /// `a`: the first four bytes (little-endian).
    Magic = 1,
    /// `a`: `ih_hdr_size`.
    HeaderSize = 2,
    /// `a`: `ih_flags`.
    Encrypted = 3,
    /// `a`: bytes in the file.
    TruncatedHeader = 4,
    /// `a`: body bytes in the file, `b`: `ih_img_size`.
    TruncatedBody = 5,
    /// `a`: bytes after the body.
    TruncatedTlvs = 6,
    /// `a`: the magic found, `b`: its offset.
    TlvMagic = 7,
    /// `a`: the protected area's own total, `b`: `ih_protect_tlv_size`.
    ProtectedSize = 8,
    /// `a`: the offset of the TLV that runs past its area's end.
    TlvOverrun = 9,
    /// `a`: the TLV type, `b`: its length.
    TlvLength = 10,
    /// `a`: bytes after the TLV area.
    Trailing = 11,
    HashMissing = 12,
    HashMismatch = 13,
    KeyMissing = 14,
    /// `a`: the first four bytes of the image's key hash (big-endian, as hex reads).
    KeyUnknown = 15,
    SignatureMissing = 16,
    /// `a`: the index of the key in the caller's list.
    SignatureBad = 17,
    /// `a`: the TLV type (SHA-384/512 hash or pure signature).
    Unsupported = 18,
}

/// A refusal with the values its message shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Problem {
    pub fault: Fault,
    pub a: u64,
    pub b: u64,
}

/// Each fault's message (index: the fault's number - 1), in C's printf syntax with `a` and
/// `b` for its conversions: the `_qsota` module prints them through
/// `qsota_image_problem`, `qsota.pure`'s `pure/image.py` from its copy (`cargo test` checks
/// it), and `Display` for Rust hosts (the `qsota` command).
pub const PROBLEMS: [&str; 18] = [
    "image: bad magic 0x%08x (not an MCUboot image)",
    "image: ih_hdr_size %u is below 32",
    "image: encrypted (ih_flags 0x%08x), cannot be checked",
    "image: truncated header (%u bytes)",
    "image: truncated body (%u of %u bytes)",
    "tlv: truncated TLV area (%u bytes after the body)",
    "tlv: bad magic 0x%04x at offset %u",
    "tlv: protected area of %u bytes, ih_protect_tlv_size says %u",
    "tlv: the TLV at offset %u runs past its area",
    "tlv: type 0x%02x has length %u",
    "image: %u bytes after the TLV area",
    "hash: no SHA-256 TLV (0x10)",
    "hash: the SHA-256 TLV does not match the image",
    "signature: the image is not signed (no key hash TLV 0x01)",
    "key: signed with a key not in keys (key hash %08x...)",
    "signature: no Ed25519 signature TLV (0x24)",
    "signature: the Ed25519 signature does not verify with keys[%u]",
    "tlv: type 0x%02x is not supported (sign with --sha 256, without --pure)",
];

impl fmt::Display for Problem {
    /// The fault's text from [`PROBLEMS`], `%u` and `%0Nx` filled with `a`, then `b`.
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let mut values = [self.a, self.b].into_iter();
        let mut pieces = PROBLEMS[self.fault as usize - 1].split('%');
        f.write_str(pieces.next().unwrap_or_default())?;
        for piece in pieces {
            let value = values.next().unwrap_or_default();
            let rest = match piece.strip_prefix('0') {
                Some(hex) => {
                    let width = usize::from(hex.as_bytes()[0] - b'0');
                    write!(f, "{value:0width$x}")?;
                    &hex[2..]
                }
                None => {
                    write!(f, "{value}")?;
                    &piece[1..]
                }
            };
            f.write_str(rest)?;
        }
        Ok(())
    }
}

/// The header fields of an image.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Header {
    pub load_addr: u32,
    pub hdr_size: u16,
    pub protect_tlv_size: u16,
    pub img_size: u32,
    pub flags: u32,
    /// major, minor, revision, build.
    pub version: (u8, u8, u16, u32),
}

impl Header {
    fn body_end(&self) -> u64 {
        u64::from(self.hdr_size) + u64::from(self.img_size)
    }

    /// Where the hashed part (header, body, protected TLVs) ends.
    fn hashed_end(&self) -> u64 {
        self.body_end() + u64::from(self.protect_tlv_size)
    }
}

/// Where the parser is in the TLV areas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tlv {
    /// Before the body's end.
    NotYet,
    /// Reading an area's 4-byte info header.
    Info { protected: bool },
    /// Reading an entry's 4-byte type and length.
    Entry,
    /// Inside an entry's value: `left` bytes to go.
    Value { kind: u16, len: u16, left: u16 },
    /// After the last area.
    Done,
}

fn le16(b: &[u8]) -> u16 {
    u16::from_le_bytes([b[0], b[1]])
}

fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

/// Checks one MCUboot image as it streams past (see the module doc).
#[derive(Clone)]
pub struct SignedImage {
    keys: [[u8; 32]; MAX_KEYS],
    n_keys: u8,
    /// Bytes seen.
    pos: u64,
    /// The header's bytes, then its fields once `pos` passed 32.
    raw: [u8; HEADER],
    header: Option<Header>,
    tlv: Tlv,
    /// The current area's end (absolute offset).
    area_end: u64,
    /// Bytes of an info or entry header read so far, and the bytes.
    part: [u8; 4],
    part_len: u8,
    /// The value of the TLV being read, when it is one we keep.
    value: [u8; 64],
    /// The body's own SHA-256 as it passes (a bootloader that takes the raw application
    /// checks that one).
    body_sha: Sha256,
    image_hash: Option<[u8; 32]>,
    tlv_hash: Option<[u8; 32]>,
    /// The key the last key hash TLV named (index), until a signature TLV takes it.
    named_key: Option<u8>,
    /// The first 4 bytes of the last key hash seen, and whether any named one of our keys.
    key_hash_seen: Option<[u8; 4]>,
    key_known: bool,
    /// The first signature that followed a key hash naming one of our keys.
    signature: Option<(u8, [u8; 64])>,
    problem: Option<Problem>,
    verdict: Option<Result<u8, Problem>>,
}

impl SignedImage {
    /// A checker trusting `keys` (raw 32-byte Ed25519 public keys, concatenated; 1 to
    /// `MAX_KEYS`): `Error::Length` for a length that is not a multiple of 32,
    /// `Error::Range` for too few or too many keys.
    pub fn new(keys: &[u8]) -> Result<Self, Error> {
        if !keys.len().is_multiple_of(32) {
            return Err(Error::Length);
        }
        let n = keys.len() / 32;
        if n == 0 || n > MAX_KEYS {
            return Err(Error::Range);
        }
        let mut own = [[0u8; 32]; MAX_KEYS];
        for (dst, src) in own.iter_mut().zip(keys.chunks_exact(32)) {
            dst.copy_from_slice(src);
        }
        Ok(Self::with_keys(own, n as u8))
    }

    fn with_keys(keys: [[u8; 32]; MAX_KEYS], n_keys: u8) -> Self {
        SignedImage {
            keys,
            n_keys,
            pos: 0,
            raw: [0; HEADER],
            header: None,
            tlv: Tlv::NotYet,
            area_end: 0,
            part: [0; 4],
            part_len: 0,
            value: [0; 64],
            body_sha: Sha256::new(),
            image_hash: None,
            tlv_hash: None,
            named_key: None,
            key_hash_seen: None,
            key_known: false,
            signature: None,
            problem: None,
            verdict: None,
        }
    }

    /// Takes the next bytes of the file. `sha` is the Verifier's SHA-256 of the whole file,
    /// which this feeds (in two parts where the hashed region ends, to snapshot the image hash).
    pub fn update(&mut self, sha: &mut Sha256, data: &[u8]) {
        let start = self.pos;
        self.parse(data);
        self.hash_body(start, data);
        let split = match self.header {
            Some(h) if self.image_hash.is_none() => {
                usize::try_from(h.hashed_end().saturating_sub(start))
                    .map_or(data.len(), |n| n.min(data.len()))
            }
            _ => data.len(),
        };
        sha.update(&data[..split]);
        if let Some(h) = self.header {
            if self.image_hash.is_none() && start + split as u64 == h.hashed_end() {
                self.image_hash = Some(sha.clone().finalize().into());
            }
        }
        sha.update(&data[split..]);
    }

    /// Feeds the body's part of `data` (which starts at file offset `start`) to its hash.
    fn hash_body(&mut self, start: u64, data: &[u8]) {
        let Some(h) = self.header else {
            return;
        };
        let end = start + data.len() as u64;
        let (from, to) = (start.max(u64::from(h.hdr_size)), end.min(h.body_end()));
        if from < to {
            // Both within data, whose length is a usize.
            self.body_sha
                .update(&data[(from - start) as usize..(to - start) as usize]);
        }
    }

    /// The SHA-256 of the body alone once the body has passed (what a bootloader that takes
    /// the raw application checks, as the native protocol's receiver does).
    pub fn body_sha256(&self) -> Option<[u8; 32]> {
        let h = self.header?;
        (self.pos >= h.body_end()).then(|| self.body_sha.clone().finalize().into())
    }

    /// The header, once its 32 bytes were seen and made sense.
    pub fn header(&self) -> Option<Header> {
        self.header
    }

    /// Everything seen checked: `Ok(index of the key that signed)`, or why not. The first
    /// call decides (it runs the signature check, a few ms); later calls give its answer.
    pub fn check(&mut self) -> Result<u8, Problem> {
        let verdict = self.verdict.unwrap_or_else(|| self.decide());
        self.verdict = Some(verdict);
        verdict
    }

    /// The answer of the first `check`, if there was one.
    pub fn verdict(&self) -> Option<Result<u8, Problem>> {
        self.verdict
    }

    fn decide(&self) -> Result<u8, Problem> {
        if let Some(p) = self.problem {
            return Err(p);
        }
        let fault = |fault, a| Problem { fault, a, b: 0 };
        let Some(h) = self.header else {
            return Err(fault(Fault::TruncatedHeader, self.pos));
        };
        if self.pos < h.body_end() {
            let got = self.pos.saturating_sub(u64::from(h.hdr_size));
            return Err(Problem {
                fault: Fault::TruncatedBody,
                a: got,
                b: u64::from(h.img_size),
            });
        }
        if self.tlv != Tlv::Done {
            return Err(fault(Fault::TruncatedTlvs, self.pos - h.body_end()));
        }
        if self.pos > self.area_end {
            return Err(fault(Fault::Trailing, self.pos - self.area_end));
        }
        let (Some(want), Some(got)) = (self.tlv_hash, self.image_hash) else {
            return Err(fault(Fault::HashMissing, 0));
        };
        if want != got {
            return Err(fault(Fault::HashMismatch, 0));
        }
        let Some((key, signature)) = self.signature else {
            return Err(match self.key_hash_seen {
                None => fault(Fault::KeyMissing, 0),
                Some(prefix) if !self.key_known => {
                    fault(Fault::KeyUnknown, u64::from(u32::from_be_bytes(prefix)))
                }
                Some(_) => fault(Fault::SignatureMissing, 0),
            });
        };
        let public = PublicKey::new(self.keys[usize::from(key)]);
        match public.verify(got, &Signature::new(signature)) {
            Ok(()) => Ok(key),
            Err(_) => Err(fault(Fault::SignatureBad, u64::from(key))),
        }
    }

    fn fail(&mut self, fault: Fault, a: u64, b: u64) {
        if self.problem.is_none() {
            self.problem = Some(Problem { fault, a, b });
        }
    }

    fn parse(&mut self, mut data: &[u8]) {
        while !data.is_empty() && self.problem.is_none() {
            let Some(h) = self.header else {
                let i = self.pos as usize;
                self.raw[i] = data[0];
                data = &data[1..];
                self.pos += 1;
                if self.pos == HEADER as u64 {
                    self.parse_header();
                }
                continue;
            };
            if self.tlv == Tlv::NotYet {
                // Header padding and body: nothing to read, only to count.
                let body_left = h.body_end() - self.pos;
                let n = usize::try_from(body_left).map_or(data.len(), |n| n.min(data.len()));
                data = &data[n..];
                self.pos += n as u64;
                if self.pos == h.body_end() {
                    let protected = h.protect_tlv_size != 0;
                    self.tlv = Tlv::Info { protected };
                }
                continue;
            }
            if self.tlv == Tlv::Done {
                break; // trailing bytes: counted below, refused by `check`
            }
            let byte = data[0];
            data = &data[1..];
            self.pos += 1;
            self.tlv_byte(h, byte);
        }
        // After a refusal or the TLVs' end: only counted.
        self.pos += data.len() as u64;
    }

    fn parse_header(&mut self) {
        let r = self.raw;
        let magic = le32(&r[0..]);
        if magic != MAGIC {
            return self.fail(Fault::Magic, u64::from(magic), 0);
        }
        let h = Header {
            load_addr: le32(&r[4..]),
            hdr_size: le16(&r[8..]),
            protect_tlv_size: le16(&r[10..]),
            img_size: le32(&r[12..]),
            flags: le32(&r[16..]),
            version: (r[20], r[21], le16(&r[22..]), le32(&r[24..])),
        };
        if usize::from(h.hdr_size) < HEADER {
            return self.fail(Fault::HeaderSize, u64::from(h.hdr_size), 0);
        }
        if h.flags & FLAGS_ENCRYPTED != 0 {
            return self.fail(Fault::Encrypted, u64::from(h.flags), 0);
        }
        self.header = Some(h);
    }

    /// One byte of the TLV areas (`pos` already counts it).
    fn tlv_byte(&mut self, h: Header, byte: u8) {
        match self.tlv {
            Tlv::Info { protected } => {
                if !self.take_part(byte) {
                    return;
                }
                let at = self.pos - 4;
                let (magic, total) = (le16(&self.part), le16(&self.part[2..]));
                let want = if protected {
                    PROT_INFO_MAGIC
                } else {
                    INFO_MAGIC
                };
                if magic != want {
                    return self.fail(Fault::TlvMagic, u64::from(magic), at);
                }
                if protected && total != h.protect_tlv_size {
                    return self.fail(
                        Fault::ProtectedSize,
                        u64::from(total),
                        u64::from(h.protect_tlv_size),
                    );
                }
                if total < 4 {
                    return self.fail(Fault::TlvOverrun, at, 0);
                }
                self.area_end = at + u64::from(total);
                self.tlv = Tlv::Entry;
                self.end_of_entry(h);
            }
            Tlv::Entry => {
                if !self.take_part(byte) {
                    return;
                }
                let at = self.pos - 4;
                let (kind, len) = (le16(&self.part), le16(&self.part[2..]));
                if at + 4 + u64::from(len) > self.area_end {
                    return self.fail(Fault::TlvOverrun, at, 0);
                }
                let protected = self.area_end <= h.hashed_end();
                let want = match kind {
                    TLV_SHA256 | TLV_KEYHASH => 32,
                    TLV_ED25519 => 64,
                    _ => len,
                };
                if !protected && TLV_UNSUPPORTED.contains(&kind) {
                    return self.fail(Fault::Unsupported, u64::from(kind), 0);
                }
                if !protected && len != want {
                    return self.fail(Fault::TlvLength, u64::from(kind), u64::from(len));
                }
                // Protected entries are hashed, not read; so are entries we do not use.
                let kind = if protected { 0 } else { kind };
                self.tlv = Tlv::Value {
                    kind,
                    len,
                    left: len,
                };
                if len == 0 {
                    self.end_of_entry(h);
                }
            }
            Tlv::Value { kind, len, left } => {
                if matches!(kind, TLV_SHA256 | TLV_KEYHASH | TLV_ED25519) {
                    self.value[usize::from(len - left)] = byte;
                }
                self.tlv = Tlv::Value {
                    kind,
                    len,
                    left: left - 1,
                };
                if left == 1 {
                    self.use_value(kind);
                    self.end_of_entry(h);
                }
            }
            Tlv::NotYet | Tlv::Done => {}
        }
    }

    /// Collects a 4-byte info or entry header; true when complete.
    fn take_part(&mut self, byte: u8) -> bool {
        self.part[usize::from(self.part_len)] = byte;
        self.part_len += 1;
        if self.part_len < 4 {
            return false;
        }
        self.part_len = 0;
        true
    }

    /// After an info header or an entry: the next entry, the next area, or the end.
    fn end_of_entry(&mut self, h: Header) {
        if self.pos < self.area_end {
            self.tlv = Tlv::Entry;
        } else if self.area_end == h.hashed_end() && h.protect_tlv_size != 0 {
            self.tlv = Tlv::Info { protected: false };
        } else {
            self.tlv = Tlv::Done;
        }
    }

    fn use_value(&mut self, kind: u16) {
        let v = self.value;
        match kind {
            TLV_SHA256 => self.tlv_hash = Some(v[..32].try_into().unwrap_or([0; 32])),
            TLV_KEYHASH => {
                self.key_hash_seen = Some([v[0], v[1], v[2], v[3]]);
                self.named_key =
                    (0..self.n_keys).find(|&i| key_hash(&self.keys[usize::from(i)]) == v[..32]);
                self.key_known |= self.named_key.is_some();
            }
            TLV_ED25519 => {
                if let (Some(key), None) = (self.named_key.take(), self.signature) {
                    self.signature = Some((key, v));
                }
            }
            _ => {}
        }
    }
}

/// The SHA-256 TLV (0x10) of an MCUboot image, read by this parser without keys: the image
/// hash MCUboot lists once it validated the image, which its sender waits for. `head` is the
/// image's start (at least its 32-byte header, or all of it); where it stops before the TLV
/// areas, `tail` is the file from offset `tail_at` on (at or before the body's end) and the
/// body between is skipped: a reader of a file needs only its two ends. None unless the
/// header and the TLV areas parse up to the hash.
pub fn tlv_hash(head: &[u8], tail: &[u8], tail_at: u64) -> Option<[u8; 32]> {
    let mut reader = SignedImage::with_keys([[0; 32]; MAX_KEYS], 0);
    reader.parse(head);
    let h = reader.header?;
    if reader.tlv_hash.is_none() && reader.tlv != Tlv::Done {
        // The tail may start in the body (whose bytes are only counted), not past what the
        // parser has seen of the TLV areas; bytes the head covered already are dropped.
        let reach = if reader.tlv == Tlv::NotYet {
            h.body_end()
        } else {
            reader.pos
        };
        if tail_at > reach {
            return None;
        }
        let seen = usize::try_from(reader.pos.saturating_sub(tail_at)).ok()?;
        reader.pos = reader.pos.max(tail_at);
        reader.parse(tail.get(seen..)?);
    }
    reader.tlv_hash
}

/// imgtool's key hash: the SHA-256 of the key's DER SubjectPublicKeyInfo.
pub fn key_hash(key: &[u8; 32]) -> [u8; 32] {
    let mut sha = Sha256::new();
    sha.update(SPKI_PREFIX);
    sha.update(key);
    sha.finalize().into()
}

#[cfg(test)]
mod tests;
