//! The receiver's delta part (docs/protocol.md §2, OPEN's DELTA flag): the DATA frames carry
//! a delta package (docs/delta.md), which the receiver applies as it arrives to the
//! application area (the base, only ever read) into the download slot. The slot is then read
//! back and checked at COMMIT as a whole image is, and the application area stays untouched
//! until the bootloader installs the committed slot.
//!
//! A receiver takes deltas through its [`Patching`] part: [`NoDelta`] (the plain receiver,
//! none of this code) or [`Patcher`] (the delta applier, the heatshrink window in the
//! bootloader's buffer, a program unit of the target not yet programmed).

use super::frame::code;
use super::record::{Area, Flash, Geometry, MAX_UNIT};
use crate::delta::{self, Base, Extension, Fault, IoError, Package, Sink, DIGEST_LEN, HEADER_LEN};

/// OPEN's flag: the DATA frames carry a delta package.
pub const DELTA: u8 = 1;

/// What OPEN adds with the DELTA flag: the base the package applies to, in the application
/// area, and the target it makes of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeltaOpen {
    pub base_size: u32,
    pub base_sha256: [u8; 32],
    pub target_size: u32,
    /// The first 20 bytes of the target's SHA-256 (what the package's extension holds).
    pub target_digest: [u8; DIGEST_LEN],
}

/// How many of a package's first bytes [`DeltaOpen::from_package`] may need: the header,
/// the patch's kind byte and its longest size field.
pub const HEAD: usize = HEADER_LEN + 6;

impl DeltaOpen {
    /// Its length in OPEN: `base_size u32, base_sha256 [32], target_size u32,
    /// target_digest [20]`.
    pub const LEN: usize = 4 + 32 + 4 + DIGEST_LEN;

    /// From a package's first bytes (at most [`HEAD`] are read). A package made for ESP has
    /// no target digest for the receiver to check: `NoExtension`.
    pub fn from_package(head: &[u8]) -> Result<Self, Fault> {
        let header = head.get(..HEADER_LEN).ok_or(Fault::Truncated)?;
        let header = delta::Header::parse(header.try_into().map_err(|_| Fault::Truncated)?)?;
        let e = header.extension.ok_or(Fault::NoExtension)?;
        Ok(DeltaOpen {
            base_size: e.base_size,
            base_sha256: header.base_sha256,
            target_size: delta::target_size(&head[HEADER_LEN..])?,
            target_digest: e.target_digest,
        })
    }

    /// From OPEN's last [`Self::LEN`] bytes (None unless exactly that many).
    pub fn parse(p: &[u8]) -> Option<Self> {
        let p: &[u8; Self::LEN] = p.try_into().ok()?;
        Some(DeltaOpen {
            base_size: u32::from_le_bytes(p[..4].try_into().ok()?),
            base_sha256: p[4..36].try_into().ok()?,
            target_size: u32::from_le_bytes(p[36..40].try_into().ok()?),
            target_digest: p[40..].try_into().ok()?,
        })
    }

    /// Into OPEN's last [`Self::LEN`] bytes (`p` holds at least that many).
    pub fn write(&self, p: &mut [u8]) {
        p[..4].copy_from_slice(&self.base_size.to_le_bytes());
        p[4..36].copy_from_slice(&self.base_sha256);
        p[36..40].copy_from_slice(&self.target_size.to_le_bytes());
        p[40..Self::LEN].copy_from_slice(&self.target_digest);
    }
}

/// What a receiver does with deltas. Errors are the ERROR codes to answer.
pub trait Patching {
    /// The OPEN flags it takes (a receiver refuses the others).
    const FLAGS: u8;
    /// The session's delta; None for a plain session.
    fn session(&self) -> Option<&DeltaOpen>;
    /// A new session, plain (None) or a delta: the applier starts over.
    fn start(&mut self, delta: Option<DeltaOpen>);
    /// Whether the application area holds the session's base (before anything is erased).
    fn check_base(&mut self, flash: &mut impl Flash, g: &Geometry) -> Result<(), u8>;
    /// Applies the next package bytes into the slot.
    fn apply(&mut self, flash: &mut impl Flash, g: &Geometry, data: &[u8]) -> Result<(), u8>;
    /// The package is complete: the target is whole and programmed.
    fn finish(&mut self, flash: &mut impl Flash, g: &Geometry) -> Result<(), u8>;
    /// The committed target's SHA-256 (what the slot holds), once known.
    fn target_sha256(&self) -> [u8; 32];
    fn set_target_sha256(&mut self, sha256: [u8; 32]);
}

/// A receiver without deltas: it refuses the DELTA flag. Its methods are inlined before
/// anything else is, so that every delta branch of the receiver folds away (the plain
/// receiver's flash budget has no room for them).
pub struct NoDelta;

impl Patching for NoDelta {
    const FLAGS: u8 = 0;
    #[inline(always)]
    fn session(&self) -> Option<&DeltaOpen> {
        None
    }
    #[inline(always)]
    fn start(&mut self, _: Option<DeltaOpen>) {}
    #[inline(always)]
    fn check_base(&mut self, _: &mut impl Flash, _: &Geometry) -> Result<(), u8> {
        Err(code::FLAGS)
    }
    #[inline(always)]
    fn apply(&mut self, _: &mut impl Flash, _: &Geometry, _: &[u8]) -> Result<(), u8> {
        Err(code::FLAGS)
    }
    #[inline(always)]
    fn finish(&mut self, _: &mut impl Flash, _: &Geometry) -> Result<(), u8> {
        Err(code::FLAGS)
    }
    #[inline(always)]
    fn target_sha256(&self) -> [u8; 32] {
        [0; 32]
    }
    #[inline(always)]
    fn set_target_sha256(&mut self, _: [u8; 32]) {}
}

/// A receiver's delta applier (see the module doc).
pub struct Patcher<'w> {
    session: Option<DeltaOpen>,
    package: Package<'w>,
    /// Target bytes programmed so far (whole program units).
    written: u32,
    /// The target's last partial program unit, until it is whole or the target ends.
    tail: [u8; MAX_UNIT as usize],
    held: u8,
    target_sha256: [u8; 32],
}

impl<'w> Patcher<'w> {
    /// An applier whose heatshrink window lives in `window`: a package whose window is larger
    /// (2^window bytes; `qsota delta --window`, 8 by default: 256 bytes) is refused with
    /// ERROR DELTA at its first DATA frame.
    pub fn new(window: &'w mut [u8]) -> Self {
        Patcher {
            session: None,
            package: Package::new(window, 0, 0, false),
            written: 0,
            tail: [0xFF; MAX_UNIT as usize],
            held: 0,
            target_sha256: [0; 32],
        }
    }
}

/// The answer to a package that cannot be applied.
fn refusal(fault: Fault) -> u8 {
    match fault {
        Fault::BaseRead | Fault::Write => code::FLASH,
        Fault::TargetMismatch => code::DIGEST,
        _ => code::DELTA,
    }
}

// The applier's entries are not inlined: their locals (its buffers) would sit in the
// receiver's frame in every session, whole images included (a bootloader's stack is small).
impl Patching for Patcher<'_> {
    const FLAGS: u8 = DELTA;

    fn session(&self) -> Option<&DeltaOpen> {
        self.session.as_ref()
    }

    fn start(&mut self, delta: Option<DeltaOpen>) {
        self.session = delta;
        let (base, target) = delta.map_or((0, 0), |d| (d.base_size, d.target_size));
        // The base was checked at OPEN, before the slot was erased.
        self.package.reset(base, target, false);
        (self.written, self.held) = (0, 0);
    }

    #[inline(never)]
    fn check_base(&mut self, flash: &mut impl Flash, g: &Geometry) -> Result<(), u8> {
        let d = self.session.ok_or(code::STATE)?;
        if d.base_size > g.app_size {
            return Err(code::BASE);
        }
        let mut buf = [0u8; 128];
        match delta::base_sha256(&mut App(flash), d.base_size, &mut buf) {
            Ok(sha) if sha == d.base_sha256 => Ok(()),
            Ok(_) => Err(code::BASE),
            Err(_) => Err(code::FLASH),
        }
    }

    #[inline(never)]
    fn apply(&mut self, flash: &mut impl Flash, g: &Geometry, data: &[u8]) -> Result<(), u8> {
        let d = self.session.ok_or(code::STATE)?;
        let mut io = Slot {
            flash,
            unit: g.program_unit as usize,
            written: &mut self.written,
            tail: &mut self.tail,
            held: &mut self.held,
        };
        self.package.push(data, &mut io).map_err(refusal)?;
        // The package's header must say what OPEN said.
        let said = delta::Header {
            base_sha256: d.base_sha256,
            extension: Some(Extension {
                base_size: d.base_size,
                target_digest: d.target_digest,
            }),
        };
        match self.package.header() {
            Some(h) if *h != said => Err(code::DELTA),
            _ => Ok(()),
        }
    }

    #[inline(never)]
    fn finish(&mut self, flash: &mut impl Flash, g: &Geometry) -> Result<(), u8> {
        let d = self.session.ok_or(code::STATE)?;
        let (size, _) = self.package.finish().map_err(refusal)?;
        if size != d.target_size {
            return Err(code::DIGEST);
        }
        let unit = g.program_unit as usize;
        let held = usize::from(self.held);
        if held > 0 {
            self.tail[held..unit].fill(0xFF);
            let at = self.written;
            flash
                .write(Area::Slot, at, &self.tail[..unit])
                .map_err(|_| code::FLASH)?;
            (self.written, self.held) = (at + unit as u32, 0);
        }
        Ok(())
    }

    fn target_sha256(&self) -> [u8; 32] {
        self.target_sha256
    }

    fn set_target_sha256(&mut self, sha256: [u8; 32]) {
        self.target_sha256 = sha256;
    }
}

/// The application area as the delta's base.
struct App<'a, F>(&'a mut F);

impl<F: Flash> Base for App<'_, F> {
    fn read(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), IoError> {
        self.0.read(Area::App, offset, buf).map_err(|_| IoError)
    }
}

/// The base in the application area and the target into the slot, in whole program units
/// (the slot was erased at OPEN for the whole target).
struct Slot<'a, F> {
    flash: &'a mut F,
    unit: usize,
    written: &'a mut u32,
    tail: &'a mut [u8; MAX_UNIT as usize],
    held: &'a mut u8,
}

impl<F: Flash> Base for Slot<'_, F> {
    fn read(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), IoError> {
        App(&mut *self.flash).read(offset, buf)
    }
}

impl<F: Flash> Slot<'_, F> {
    fn program(&mut self, data: &[u8]) -> Result<(), IoError> {
        let at = *self.written;
        self.flash
            .write(Area::Slot, at, data)
            .map_err(|_| IoError)?;
        *self.written = at + data.len() as u32;
        Ok(())
    }
}

impl<F: Flash> Sink for Slot<'_, F> {
    fn write(&mut self, mut data: &[u8]) -> Result<(), IoError> {
        let unit = self.unit;
        let held = usize::from(*self.held);
        if held > 0 {
            let n = (unit - held).min(data.len());
            self.tail[held..held + n].copy_from_slice(&data[..n]);
            data = &data[n..];
            *self.held = (held + n) as u8;
            if held + n < unit {
                return Ok(());
            }
            let tail = *self.tail;
            self.program(&tail[..unit])?;
            *self.held = 0;
        }
        let whole = data.len() - data.len() % unit;
        if whole > 0 {
            self.program(&data[..whole])?;
        }
        let rest = &data[whole..];
        self.tail[..rest.len()].copy_from_slice(rest);
        *self.held = rest.len() as u8;
        Ok(())
    }
}
