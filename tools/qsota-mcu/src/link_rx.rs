//! The native link protocol's receiver (docs/protocol.md) as a bootloader runs it: the real
//! `qsota::link::receiver` code, fed from the UART, writing the flash model. The last sector
//! holds the resume record (the "meta" area); the others are the slot.

use crate::cli::Options;
use crate::flash;
use crate::line::Halt;
use crate::mcu::{Mcu, Outcome, Receiver};
use qsota::ffi::link::{QSOTA_LINK_FRAME_SIZE, QSOTA_LINK_REPLY_MAX};
use qsota::link::receiver::{self, Config};
use qsota::link::record::{Area, Flash, FlashError, Geometry};
use std::time::Duration;

/// STM32F4 programs 32-bit words (x32 parallelism).
const PROGRAM_UNIT: u32 = 4;
/// After the commit, how long the bootloader keeps answering (a repeated COMMIT whose DONE
/// was lost) before it reports success.
const LINGER: Duration = Duration::from_millis(500);

pub struct Native {
    rx: Box<receiver::Receiver>,
}

impl Native {
    /// A receiver in its power-on state. Its window is what the FIFO (the bootloader's DMA
    /// ring) holds; its busy time the longest sector erase.
    pub fn new(opts: &Options) -> Native {
        let window = (opts.fifo / QSOTA_LINK_FRAME_SIZE).clamp(1, usize::from(u16::MAX)) as u16;
        let erase = opts
            .sectors
            .iter()
            .map(|s| s.erase)
            .max()
            .unwrap_or_default();
        let busy_ms = erase
            .mul_f64(opts.flash_scale)
            .as_millis()
            .min(u128::from(u16::MAX)) as u16;
        Native {
            rx: Box::new(receiver::Receiver::new(Config { window, busy_ms })),
        }
    }
}

impl Receiver for Native {
    fn run(&mut self, mcu: &mut Mcu) -> Result<Outcome, Halt> {
        let mut buf = [0u8; 512];
        let mut out = [0u8; QSOTA_LINK_REPLY_MAX];
        let mut done_by: Option<Duration> = None;
        loop {
            let deadline = done_by.unwrap_or(mcu.now() + Duration::from_secs(3600));
            let n = match mcu.recv(&mut buf, deadline) {
                Ok(0) if done_by.is_some() => return Ok(Outcome::Ok),
                Err(Halt::Closed) if done_by.is_some() => return Ok(Outcome::Ok),
                r => r?,
            };
            let mut at = 0;
            loop {
                let (used, len) = self
                    .rx
                    .receive(&mut McuFlash(mcu), &buf[at..n], &mut out)
                    .map_err(|_| Halt::Closed)?;
                at += used;
                self.report(mcu);
                if len == 0 {
                    break;
                }
                mcu.send(&out[..len])?;
            }
            if self.rx.committed().is_some() {
                done_by = Some(mcu.now() + LINGER);
            }
        }
    }
}

impl Native {
    /// What the summary reports: the image being received and how far it got.
    fn report(&self, mcu: &mut Mcu) {
        let s = &mut mcu.session;
        s.errors = u64::from(self.rx.dropped());
        if let Some(id) = self.rx.image() {
            if s.size != Some(u64::from(id.size)) {
                s.name = Some(String::from_utf8_lossy(id.component()).into_owned());
                s.size = Some(u64::from(id.size));
            }
            s.bytes = u64::from(self.rx.next());
            s.finished = self.rx.committed().is_some();
        }
    }
}

/// The flash model as the receiver's [`Flash`]: all sectors but the last are the slot.
struct McuFlash<'a>(&'a mut Mcu);

impl McuFlash<'_> {
    fn meta(&self) -> flash::Sector {
        let sectors = self.0.flash.sectors();
        sectors[sectors.len() - 1]
    }
}

impl Flash for McuFlash<'_> {
    fn geometry(&self) -> Geometry {
        let meta = self.meta();
        Geometry {
            slot_size: meta.start as u32,
            meta_size: meta.size as u32,
            program_unit: PROGRAM_UNIT,
        }
    }

    fn sector(&self, addr: u32) -> (u32, u32) {
        let sectors = self.0.flash.sectors();
        let i = self.0.flash.sectors_of(addr as usize, 1).start;
        sectors
            .get(i)
            .map_or((0, 0), |s| (s.start as u32, s.size as u32))
    }

    fn erase(&mut self, area: Area, start: u32) -> Result<(), FlashError> {
        let at = match area {
            Area::Slot => start as usize,
            Area::Meta => self.meta().start,
        };
        let i = self.0.flash.sectors_of(at, 1).start;
        match self.0.flash.sectors().get(i) {
            Some(s) if s.start == at => {
                self.0.erase(i);
                Ok(())
            }
            _ => Err(FlashError),
        }
    }

    fn write(&mut self, area: Area, addr: u32, data: &[u8]) -> Result<(), FlashError> {
        let base = if area == Area::Meta {
            self.meta().start
        } else {
            0
        };
        self.0
            .program(base + addr as usize, data)
            .map_err(|_| FlashError)
    }

    fn read(&mut self, area: Area, addr: u32, buf: &mut [u8]) -> Result<(), FlashError> {
        let base = if area == Area::Meta {
            self.meta().start
        } else {
            0
        };
        let at = base + addr as usize;
        let src = self
            .0
            .flash
            .data()
            .get(at..at + buf.len())
            .ok_or(FlashError)?;
        buf.copy_from_slice(src);
        Ok(())
    }
}
