//! The native link protocol's receiver (docs/protocol.md) as a bootloader runs it: the real
//! `qsota::link::receiver` code, fed from the UART, writing the download slot (the second
//! flash bank: its last sector holds the resume record, the "meta" area, the others receive
//! the image). Only after the receiver has committed (read the image back and matched its
//! SHA-256) does the bootloader install it into the application area, so a transfer that
//! fails at any point leaves the old application as it was.

use crate::cli::Options;
use crate::flash;
use crate::line::Halt;
use crate::mcu::{Bank, Mcu, Outcome, Receiver};
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
                Ok(0) | Err(Halt::Closed) if done_by.is_some() => return self.install(mcu),
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
        }
    }

    /// Copies the committed image from the slot into the application area, as the
    /// bootloader does before it starts the new application.
    fn install(&self, mcu: &mut Mcu) -> Result<Outcome, Halt> {
        let size = self.rx.committed().map_or(0, |id| id.size as usize);
        for i in mcu.flash.sectors_of(0, size) {
            mcu.erase(Bank::App, i);
        }
        let mut chunk = [0u8; 1024];
        for at in (0..size).step_by(chunk.len()) {
            let n = chunk.len().min(size - at);
            chunk[..n].copy_from_slice(&mcu.slot.data()[at..at + n]);
            if mcu.program(Bank::App, at, &chunk[..n]).is_err() {
                return Ok(Outcome::Failed("install: flash error"));
            }
        }
        mcu.session.finished = true;
        Ok(Outcome::Ok)
    }
}

/// The download slot bank as the receiver's [`Flash`]: all sectors but the last receive the
/// image, the last is the meta area.
struct McuFlash<'a>(&'a mut Mcu);

impl McuFlash<'_> {
    fn meta(&self) -> flash::Sector {
        let sectors = self.0.slot.sectors();
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
        let sectors = self.0.slot.sectors();
        let i = self.0.slot.sectors_of(addr as usize, 1).start;
        sectors
            .get(i)
            .map_or((0, 0), |s| (s.start as u32, s.size as u32))
    }

    fn erase(&mut self, area: Area, start: u32) -> Result<(), FlashError> {
        let at = match area {
            Area::Slot => start as usize,
            Area::Meta => self.meta().start,
        };
        let i = self.0.slot.sectors_of(at, 1).start;
        match self.0.slot.sectors().get(i) {
            Some(s) if s.start == at => {
                self.0.erase(Bank::Slot, i);
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
            .program(Bank::Slot, base + addr as usize, data)
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
            .slot
            .data()
            .get(at..at + buf.len())
            .ok_or(FlashError)?;
        buf.copy_from_slice(src);
        Ok(())
    }
}
