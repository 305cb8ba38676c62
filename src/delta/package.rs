//! The package: esp_delta_ota's 64-byte header, then the detools patch to the end.
//!
//! ```text
//! offset  bytes  field
//!      0      4  magic 0xfccdde10, little-endian (esp_delta_ota's)
//!      4     32  SHA-256 of the base image
//!     36     28  reserved: all zero (a package made for ESP), or qsota's extension:
//!     36      4    "QSD1"
//!     40      4    base size, u32 little-endian
//!     44     20    the first 20 bytes of the target's SHA-256
//!     64      P  the detools sequential patch, to the end of the package
//! ```
//! Everything qsota adds fits the reserved bytes, so a qsota package is an esp_delta_ota
//! package (its applier and detools' take it as it is) and costs nothing over detools'
//! patch + 64 bytes; the target's size is the patch's own. docs/delta.md argues the choice.

use super::fault::{Fault, Latch};
use super::io::{Base, Io, IoError, Sink};
use super::patch::Applier;
use sha2::{Digest as _, Sha256};

/// esp_delta_ota's magic (`echo -n esp_delta_ota | sha256sum`, the first 4 bytes).
pub const MAGIC: u32 = 0xfccd_de10;
pub const HEADER_LEN: usize = 64;
/// How much of the target's SHA-256 the extension holds.
pub const DIGEST_LEN: usize = 20;
/// The first 4 reserved bytes of a package with qsota's extension.
pub const EXTENSION_TAG: [u8; 4] = *b"QSD1";

/// What qsota's extension adds to the header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Extension {
    pub base_size: u32,
    /// The first [`DIGEST_LEN`] bytes of the target's SHA-256.
    pub target_digest: [u8; DIGEST_LEN],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub base_sha256: [u8; 32],
    /// None: a package made for ESP (reserved bytes zero).
    pub extension: Option<Extension>,
}

fn u32_at(bytes: &[u8; HEADER_LEN], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

impl Header {
    pub fn parse(bytes: &[u8; HEADER_LEN]) -> Result<Header, Fault> {
        if u32_at(bytes, 0) != MAGIC {
            return Err(Fault::Magic);
        }
        let mut base_sha256 = [0; 32];
        base_sha256.copy_from_slice(&bytes[4..36]);
        let extension = if bytes[36..].iter().all(|&b| b == 0) {
            None
        } else if bytes[36..40] == EXTENSION_TAG {
            let mut target_digest = [0; DIGEST_LEN];
            target_digest.copy_from_slice(&bytes[44..]);
            Some(Extension {
                base_size: u32_at(bytes, 40),
                target_digest,
            })
        } else {
            return Err(Fault::Extension);
        };
        Ok(Header {
            base_sha256,
            extension,
        })
    }

    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut bytes = [0; HEADER_LEN];
        bytes[..4].copy_from_slice(&MAGIC.to_le_bytes());
        bytes[4..36].copy_from_slice(&self.base_sha256);
        if let Some(e) = self.extension {
            bytes[36..40].copy_from_slice(&EXTENSION_TAG);
            bytes[40..44].copy_from_slice(&e.base_size.to_le_bytes());
            bytes[44..].copy_from_slice(&e.target_digest);
        }
        bytes
    }
}

/// The SHA-256 of the first `len` bytes of `base`, read in pieces of `buf`'s size.
pub fn base_sha256(base: &mut impl Base, len: u32, buf: &mut [u8]) -> Result<[u8; 32], Fault> {
    let mut sha = Sha256::new();
    let mut at = 0;
    while at < len && !buf.is_empty() {
        let n = buf.len().min((len - at) as usize);
        base.read(at, &mut buf[..n]).map_err(|_| Fault::BaseRead)?;
        sha.update(&buf[..n]);
        at += n as u32;
    }
    Ok(sha.finalize().into())
}

/// The window a package needs (see [`super::patch::window_len`]), from its first bytes: 0
/// when its header is wrong ([`Package`] says why); None until the patch's first bytes
/// tell (at most [`HEADER_LEN`] + 7 bytes are read).
pub fn window_len(package: &[u8]) -> Option<usize> {
    let header: &[u8; HEADER_LEN] = package.get(..HEADER_LEN)?.try_into().ok()?;
    match Header::parse(header) {
        Ok(_) => super::patch::window_len(&package[HEADER_LEN..]),
        Err(_) => Some(0),
    }
}

/// Applies a package pushed in pieces of any size (see the module's doc): the base is
/// checked when the header is complete, before any output; the target's SHA-256 (with the
/// extension) at the end.
pub struct Package<'w> {
    reader: Reader<'w>,
    latch: Latch,
}

/// The package's state but for its fault.
struct Reader<'w> {
    /// The header, until it is complete.
    stage: [u8; HEADER_LEN],
    staged: usize,
    header: Option<Header>,
    applier: Applier<'w>,
    sha: Sha256,
    base_len: u32,
    check_base: bool,
}

/// An [`Io`] whose sink also hashes what it writes.
struct Hashing<'a, S> {
    io: &'a mut S,
    sha: &'a mut Sha256,
}

impl<S: Base> Base for Hashing<'_, S> {
    fn read(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), IoError> {
        self.io.read(offset, buf)
    }
}

impl<S: Sink> Sink for Hashing<'_, S> {
    fn write(&mut self, data: &[u8]) -> Result<(), IoError> {
        self.sha.update(data);
        self.io.write(data)
    }
}

impl<'w> Package<'w> {
    /// A package for a base of `base_len` bytes, giving at most `limit` bytes. With
    /// `check_base`, the base's SHA-256 is computed through [`Base`] and compared with the
    /// header's when the header is complete; without, the caller has checked
    /// [`Package::header`]'s hash itself (e.g. before erasing anything).
    pub fn new(window: &'w mut [u8], base_len: u32, limit: u32, check_base: bool) -> Package<'w> {
        Package {
            reader: Reader {
                stage: [0; HEADER_LEN],
                staged: 0,
                header: None,
                applier: Applier::new(window, base_len, limit),
                sha: Sha256::new(),
                base_len,
                check_base,
            },
            latch: Latch::default(),
        }
    }

    /// A new package in the same window buffer (an MCU's receiver starting over).
    pub fn reset(&mut self, base_len: u32, limit: u32, check_base: bool) {
        let r = &mut self.reader;
        (r.staged, r.header, r.sha) = (0, None, Sha256::new());
        (r.base_len, r.check_base) = (base_len, check_base);
        r.applier.reset(base_len, limit);
        self.latch = Latch::default();
    }

    /// The header, once its 64 bytes are in and it is valid.
    pub fn header(&self) -> Option<&Header> {
        self.reader.header.as_ref()
    }

    /// The target's size, once the patch has stated it.
    pub fn target_size(&self) -> Option<u32> {
        self.reader.applier.target_size()
    }

    /// Why the package failed, once it has.
    pub fn fault(&self) -> Option<Fault> {
        self.latch.fault()
    }

    pub fn push(&mut self, data: &[u8], io: &mut impl Io) -> Result<(), Fault> {
        self.push_within(data, io, u32::MAX).map(|_| ())
    }

    /// As [`Package::push`], writing at most `room` bytes: returns how many of `data` it
    /// took (see [`super::Applier::push_within`]).
    pub fn push_within(
        &mut self,
        data: &[u8],
        io: &mut impl Io,
        room: u32,
    ) -> Result<usize, Fault> {
        let reader = &mut self.reader;
        self.latch.run(|| reader.take(data, io, room))
    }

    /// Ends the package: the target's size and SHA-256, checked against the extension's.
    pub fn finish(&mut self) -> Result<(u32, [u8; 32]), Fault> {
        let reader = &mut self.reader;
        self.latch.run(|| reader.end())
    }
}

impl Reader<'_> {
    fn end(&mut self) -> Result<(u32, [u8; 32]), Fault> {
        let header = self.header.ok_or(Fault::Truncated)?;
        let size = self.applier.finish()?;
        let sha: [u8; 32] = self.sha.clone().finalize().into();
        if header
            .extension
            .is_some_and(|e| sha[..DIGEST_LEN] != e.target_digest)
        {
            return Err(Fault::TargetMismatch);
        }
        Ok((size, sha))
    }

    fn take(&mut self, data: &[u8], io: &mut impl Io, room: u32) -> Result<usize, Fault> {
        let mut n = 0;
        if self.header.is_none() {
            n = data.len().min(HEADER_LEN - self.staged);
            self.stage[self.staged..self.staged + n].copy_from_slice(&data[..n]);
            self.staged += n;
            if self.staged < HEADER_LEN {
                return Ok(n);
            }
            self.open(io)?;
        }
        let mut io = Hashing {
            io,
            sha: &mut self.sha,
        };
        Ok(n + self.applier.push_within(&data[n..], &mut io, room)?)
    }

    /// The header is in: parse it, check the base, get ready for the patch.
    fn open(&mut self, base: &mut impl Base) -> Result<(), Fault> {
        let header = Header::parse(&self.stage)?;
        if header
            .extension
            .is_some_and(|e| e.base_size != self.base_len)
        {
            return Err(Fault::BaseMismatch);
        }
        if self.check_base {
            let sha = base_sha256(base, self.base_len, self.applier.scratch())?;
            if sha != header.base_sha256 {
                return Err(Fault::BaseMismatch);
            }
        }
        self.header = Some(header);
        Ok(())
    }
}
