//! A NOR flash in RAM with power cuts and failures, for tests, fuzzers and host tools.
//!
//! It enforces what real NOR flash does: programming only turns bits from 1 to 0 on erased
//! bytes, in whole aligned program units, so a receiver that writes twice without an erase
//! fails here as it would on an MCU.

use super::record::{Area, Flash, FlashError, Geometry};

pub struct RamFlash<'a> {
    pub slot: &'a mut [u8],
    pub meta: &'a mut [u8],
    /// The application area (read only: a delta's base); empty unless set.
    pub app: &'a [u8],
    pub sector_size: u32,
    pub program_unit: u32,
    /// Operations left before the power goes: that operation is torn (half done) and every
    /// later one fails, until `power_on`.
    pub cut_after: Option<u32>,
    /// Operations left before one fails cleanly (without tearing).
    pub fail_after: Option<u32>,
    /// Operations performed (erase, write, read).
    pub ops: u32,
    /// Writes refused because they would program already-programmed bytes: a receiver bug.
    pub violations: u32,
    dead: bool,
}

impl<'a> RamFlash<'a> {
    /// A flash over `slot` and `meta`, erased.
    pub fn new(
        slot: &'a mut [u8],
        meta: &'a mut [u8],
        sector_size: u32,
        program_unit: u32,
    ) -> Self {
        slot.fill(0xFF);
        meta.fill(0xFF);
        RamFlash {
            slot,
            meta,
            app: &[],
            sector_size,
            program_unit,
            cut_after: None,
            fail_after: None,
            ops: 0,
            violations: 0,
            dead: false,
        }
    }

    /// Whether a power cut happened and the power is not back yet.
    pub fn is_dead(&self) -> bool {
        self.dead
    }

    /// Power is back (after a cut): operations work again.
    pub fn power_on(&mut self) {
        self.dead = false;
        self.cut_after = None;
    }

    /// A writable area (never the application's).
    fn area(&mut self, area: Area) -> Result<&mut [u8], FlashError> {
        match area {
            Area::Slot => Ok(self.slot),
            Area::Meta => Ok(self.meta),
            Area::App => Err(FlashError),
        }
    }

    /// Counts an operation: `Ok(true)` if it is the one the power cut tears.
    fn tick(&mut self) -> Result<bool, FlashError> {
        self.ops = self.ops.wrapping_add(1);
        if self.dead {
            return Err(FlashError);
        }
        if let Some(n) = self.fail_after.as_mut() {
            if *n == 0 {
                self.fail_after = None;
                return Err(FlashError);
            }
            *n -= 1;
        }
        match self.cut_after.as_mut() {
            Some(0) => {
                self.dead = true;
                Ok(true)
            }
            Some(n) => {
                *n -= 1;
                Ok(false)
            }
            None => Ok(false),
        }
    }

    fn range(&mut self, area: Area, addr: u32, len: usize) -> Result<&mut [u8], FlashError> {
        let start = addr as usize;
        let end = start.checked_add(len).ok_or(FlashError)?;
        self.area(area)?.get_mut(start..end).ok_or(FlashError)
    }
}

impl Flash for RamFlash<'_> {
    fn geometry(&self) -> Geometry {
        Geometry {
            slot_size: self.slot.len() as u32,
            meta_size: self.meta.len() as u32,
            program_unit: self.program_unit,
            app_size: self.app.len() as u32,
        }
    }

    fn sector(&self, addr: u32) -> (u32, u32) {
        let s = self.sector_size.max(1);
        (addr / s * s, s)
    }

    fn erase(&mut self, area: Area, start: u32) -> Result<(), FlashError> {
        let torn = self.tick()?;
        let len = match area {
            Area::Slot => self.sector_size as usize,
            Area::Meta => self.meta.len(),
            Area::App => return Err(FlashError),
        };
        if !(start as usize).is_multiple_of(len.max(1)) {
            return Err(FlashError);
        }
        let bytes = self.range(area, start, len)?;
        let n = if torn { bytes.len() / 2 } else { bytes.len() };
        bytes[..n].fill(0xFF);
        if torn {
            Err(FlashError)
        } else {
            Ok(())
        }
    }

    fn write(&mut self, area: Area, addr: u32, data: &[u8]) -> Result<(), FlashError> {
        let torn = self.tick()?;
        let unit = self.program_unit as usize;
        if unit == 0 || !(addr as usize).is_multiple_of(unit) || !data.len().is_multiple_of(unit) {
            return Err(FlashError);
        }
        let bytes = self.range(area, addr, data.len())?;
        if bytes.iter().any(|&b| b != 0xFF) {
            self.violations += 1;
            return Err(FlashError);
        }
        if torn {
            // Half the bytes, and the next one with only some bits programmed.
            let n = data.len() / 2;
            bytes[..n].copy_from_slice(&data[..n]);
            if let Some(b) = bytes.get_mut(n) {
                *b = data[n] | 0x0F;
            }
            return Err(FlashError);
        }
        bytes.copy_from_slice(data);
        Ok(())
    }

    fn read(&mut self, area: Area, addr: u32, buf: &mut [u8]) -> Result<(), FlashError> {
        self.tick()?;
        let at = addr as usize;
        let end = at.checked_add(buf.len()).ok_or(FlashError)?;
        let src = match area {
            Area::App => self.app.get(at..end).ok_or(FlashError)?,
            _ => self.range(area, addr, buf.len())?,
        };
        buf.copy_from_slice(src);
        Ok(())
    }
}
