//! The receiver's signature check (cargo feature `signed-receiver`; OPEN's SIGNED flag,
//! docs/protocol.md): before it commits, the receiver reads the slot back once more and
//! checks that it holds an MCUboot image signed by one of the keys its bootloader compiled
//! in (crate::image, the check the module runs for `keys=`). It is for images only the MCU
//! ever sees whole, a delta package's result: the module cannot check those itself.
//!
//! [`Signed`] is a [`Patcher`] (it takes DELTA too) that also takes SIGNED; a receiver
//! without it refuses that flag (ERROR FLAGS), so a module that asks for the check never
//! gets a commit without it.

use super::delta::{DeltaOpen, Patcher, Patching, DELTA, SIGNED};
use super::frame::code;
use super::receiver::{read_slot, Receiver};
use super::record::{Flash, Geometry};
use crate::image::{SignedImage, MAX_KEYS};
use crate::Error;
use sha2::Sha256;

/// A receiver with a second frame buffer that applies delta packages and checks signatures.
pub type SignedReceiver<'w> = Receiver<{ super::frame::MAX_PAYLOAD }, Signed<'w>>;

/// The delta applier with the keys a SIGNED session's image must be signed by.
pub struct Signed<'w> {
    patcher: Patcher<'w>,
    keys: &'w [[u8; 32]],
    signed: bool,
}

impl<'w> Signed<'w> {
    /// `patcher` with `keys`, the product's raw Ed25519 public keys (1 to 4, as the
    /// bootloader compiled them in): `Error::Range` for another number of keys.
    pub fn new(patcher: Patcher<'w>, keys: &'w [[u8; 32]]) -> Result<Self, Error> {
        if keys.is_empty() || keys.len() > MAX_KEYS {
            return Err(Error::Range);
        }
        Ok(Signed {
            patcher,
            keys,
            signed: false,
        })
    }
}

impl Patching for Signed<'_> {
    const FLAGS: u8 = DELTA | SIGNED;

    fn session(&self) -> Option<&DeltaOpen> {
        self.patcher.session()
    }

    fn start(&mut self, delta: Option<DeltaOpen>, signed: bool) {
        self.signed = signed;
        self.patcher.start(delta, signed);
    }

    fn check_base(&mut self, flash: &mut impl Flash, g: &Geometry) -> Result<(), u8> {
        self.patcher.check_base(flash, g)
    }

    fn apply(&mut self, flash: &mut impl Flash, g: &Geometry, data: &[u8]) -> Result<(), u8> {
        self.patcher.apply(flash, g, data)
    }

    fn finish(&mut self, flash: &mut impl Flash, g: &Geometry) -> Result<(), u8> {
        self.patcher.finish(flash, g)
    }

    fn target_sha256(&self) -> [u8; 32] {
        self.patcher.target_sha256()
    }

    fn set_target_sha256(&mut self, sha256: [u8; 32]) {
        self.patcher.set_target_sha256(sha256);
    }

    fn signed(&self) -> bool {
        self.signed
    }

    /// In a SIGNED session: the slot's `size` bytes are one MCUboot image whose signature
    /// verifies with one of the keys (ERROR SIGNATURE otherwise).
    #[inline(never)]
    fn check(&mut self, flash: &mut impl Flash, size: u32) -> Result<(), u8> {
        if !self.signed {
            return Ok(());
        }
        let mut image = SignedImage::new(self.keys.as_flattened()).map_err(|_| code::SIGNATURE)?;
        let mut sha = Sha256::default();
        read_slot(flash, size, |bytes| image.update(&mut sha, bytes)).map_err(|_| code::FLASH)?;
        image.check().map(|_| ()).map_err(|_| code::SIGNATURE)
    }
}
