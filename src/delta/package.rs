//! The package: esp_delta_ota's 64-byte header, the detools patch, and, with qsota's
//! extension, the target's SHA-256 after the patch.
//!
//! ```text
//! offset  bytes  field
//!      0      4  magic 0xfccdde10, little-endian (esp_delta_ota's)
//!      4     32  SHA-256 of the base image
//!     36     28  reserved: all zero (a package made for ESP), or qsota's extension:
//!     36      4    "QSD1"
//!     40      4    base size, u32 little-endian
//!     44      4    target size
//!     48      4    patch length
//!     52     12    zero
//!     64      P  the detools sequential patch (P bytes; without the extension, the rest)
//!   64+P     32  with the extension: SHA-256 of the target, then nothing
//! ```
//! The target's hash goes after the patch because 28 reserved bytes cannot hold it with the
//! sizes; esp_delta_ota's applier (detools' C code) ignores bytes after a complete patch, so
//! a qsota package still applies there. docs/delta.md argues the choice.

use super::{Applier, Base, Fault, IoError, Sink};
use sha2::{Digest as _, Sha256};

/// esp_delta_ota's magic (`echo -n esp_delta_ota | sha256sum`, the first 4 bytes).
pub const MAGIC: u32 = 0xfccd_de10;
pub const HEADER_LEN: usize = 64;
/// The target's SHA-256 after the patch (with the extension).
pub const TRAILER_LEN: usize = 32;
/// The first 4 reserved bytes of a package with qsota's extension.
pub const EXTENSION_TAG: [u8; 4] = *b"QSD1";

/// What qsota's extension adds to the header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Extension {
    pub base_size: u32,
    pub target_size: u32,
    pub patch_len: u32,
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
        } else if bytes[36..40] == EXTENSION_TAG && bytes[52..].iter().all(|&b| b == 0) {
            Some(Extension {
                base_size: u32_at(bytes, 40),
                target_size: u32_at(bytes, 44),
                patch_len: u32_at(bytes, 48),
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
            bytes[44..48].copy_from_slice(&e.target_size.to_le_bytes());
            bytes[48..52].copy_from_slice(&e.patch_len.to_le_bytes());
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

/// Applies a package pushed in pieces of any size (see the module's doc): the base is
/// checked when the header is complete, before any output; the target's size and SHA-256
/// (with the extension) at the end.
pub struct Package<'w> {
    /// The header, then the trailer.
    stage: [u8; HEADER_LEN],
    staged: usize,
    header: Option<Header>,
    /// Patch bytes taken so far.
    patch_pos: u32,
    applier: Applier<'w>,
    sha: Sha256,
    base_len: u32,
    check_base: bool,
    fault: Option<Fault>,
}

/// A sink that also hashes what it writes.
struct Hashing<'a, S> {
    out: &'a mut S,
    sha: &'a mut Sha256,
}

impl<S: Sink> Sink for Hashing<'_, S> {
    fn write(&mut self, data: &[u8]) -> Result<(), IoError> {
        self.sha.update(data);
        self.out.write(data)
    }
}

impl<'w> Package<'w> {
    /// A package for a base of `base_len` bytes, giving at most `limit` bytes. With
    /// `check_base`, the base's SHA-256 is computed through [`Base`] and compared with the
    /// header's when the header is complete; without, the caller has checked
    /// [`Package::header`]'s hash itself (e.g. before erasing anything).
    pub fn new(window: &'w mut [u8], base_len: u32, limit: u32, check_base: bool) -> Package<'w> {
        Package {
            stage: [0; HEADER_LEN],
            staged: 0,
            header: None,
            patch_pos: 0,
            applier: Applier::new(window, base_len, limit),
            sha: Sha256::new(),
            base_len,
            check_base,
            fault: None,
        }
    }

    /// The header, once its 64 bytes are in and it is valid.
    pub fn header(&self) -> Option<&Header> {
        self.header.as_ref()
    }

    /// The target's size, once the patch has stated it.
    pub fn target_size(&self) -> Option<u32> {
        self.applier.target_size()
    }

    /// Why the package failed, once it has.
    pub fn fault(&self) -> Option<Fault> {
        self.fault
    }

    pub fn push(
        &mut self,
        data: &[u8],
        base: &mut impl Base,
        out: &mut impl Sink,
    ) -> Result<(), Fault> {
        if let Some(fault) = self.fault {
            return Err(fault);
        }
        let result = self.take(data, base, out);
        if let Err(fault) = result {
            self.fault = Some(fault);
        }
        result
    }

    /// Ends the package: the target's size and SHA-256, checked against the extension's.
    pub fn finish(&mut self) -> Result<(u32, [u8; 32]), Fault> {
        if let Some(fault) = self.fault {
            return Err(fault);
        }
        let result = self.end();
        if let Err(fault) = result {
            self.fault = Some(fault);
        }
        result
    }

    fn end(&mut self) -> Result<(u32, [u8; 32]), Fault> {
        let header = self.header.ok_or(Fault::Truncated)?;
        let size = self.applier.finish()?;
        let sha: [u8; 32] = self.sha.clone().finalize().into();
        if header.extension.is_some() {
            if self.staged < TRAILER_LEN {
                return Err(Fault::Truncated);
            }
            if sha[..] != self.stage[..TRAILER_LEN] {
                return Err(Fault::TargetMismatch);
            }
        }
        Ok((size, sha))
    }

    fn take(
        &mut self,
        mut data: &[u8],
        base: &mut impl Base,
        out: &mut impl Sink,
    ) -> Result<(), Fault> {
        while !data.is_empty() {
            let Some(header) = self.header else {
                self.stage_from(&mut data, HEADER_LEN);
                if self.staged == HEADER_LEN {
                    self.open(base)?;
                }
                continue;
            };
            let patch_left = match header.extension {
                Some(e) => e.patch_len - self.patch_pos,
                None => u32::MAX,
            };
            if patch_left > 0 {
                let n = data.len().min(patch_left as usize);
                let mut out = Hashing {
                    out,
                    sha: &mut self.sha,
                };
                self.applier.push(&data[..n], base, &mut out)?;
                self.patch_pos = self.patch_pos.saturating_add(n as u32);
                data = &data[n..];
                if header.extension.is_some() && n == patch_left as usize && !self.applier.is_done()
                {
                    return Err(Fault::Truncated);
                }
                continue;
            }
            if self.staged == TRAILER_LEN {
                return Err(Fault::Trailing);
            }
            self.stage_from(&mut data, TRAILER_LEN);
        }
        Ok(())
    }

    /// Moves bytes from `data` into the stage until it holds `want`.
    fn stage_from(&mut self, data: &mut &[u8], want: usize) {
        let n = data.len().min(want - self.staged);
        self.stage[self.staged..self.staged + n].copy_from_slice(&data[..n]);
        self.staged += n;
        *data = &data[n..];
    }

    /// The header is in: parse it, check the base, get ready for the patch.
    fn open(&mut self, base: &mut impl Base) -> Result<(), Fault> {
        let header = Header::parse(&self.stage)?;
        if let Some(e) = header.extension {
            if e.base_size != self.base_len {
                return Err(Fault::BaseMismatch);
            }
            self.applier.expect_size(e.target_size);
        }
        if self.check_base {
            let sha = base_sha256(base, self.base_len, self.applier.scratch())?;
            if sha != header.base_sha256 {
                return Err(Fault::BaseMismatch);
            }
        }
        self.header = Some(header);
        self.staged = 0;
        Ok(())
    }
}
