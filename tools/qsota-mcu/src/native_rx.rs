//! The native protocol's receiver (docs/protocol.md) as a bootloader runs it: the real
//! `qsota::native::receiver` code, fed from the UART, writing the download slot (the second
//! flash bank: its last sector holds the resume record, the "meta" area, the others receive
//! the image). Only after the receiver has committed (read the image back and matched its
//! SHA-256) does the bootloader install it into the application area, so a transfer that
//! fails at any point leaves the old application as it was.
//!
//! `--rx-buffers 2` (the default) runs the `Pipelined` receiver: it programs a frame a chunk
//! at a time, reading the UART between chunks, while the next frame arrives; `1` the
//! one-buffer `Receiver`, which programs a frame whole as it completes. Either applies delta
//! packages (OPEN's DELTA flag) to the application area (`--app`, the base) into the slot,
//! unless `--no-delta` builds it without (it then refuses the flag).

use crate::flash;
use crate::line::Halt;
use crate::mcu::{Bank, Mcu, Outcome, Receiver};
use qsota::ffi::native_rx::QSOTA_NATIVE_REPLY_MAX;
use qsota::ffi::native_tx::QSOTA_NATIVE_FRAME_SIZE;
use qsota::native::delta::{Patcher, Patching};
use qsota::native::receiver::{self, Config};
use qsota::native::record::{Area, Flash, FlashError, Geometry};
use std::time::Duration;

/// STM32F4 programs 32-bit words (x32 parallelism).
const PROGRAM_UNIT: u32 = 4;
/// After the commit, how long the bootloader keeps answering (a repeated COMMIT whose DONE
/// was lost) before it reports success.
const LINGER: Duration = Duration::from_millis(500);

/// The heatshrink window a delta receiver keeps (a host has room for detools' largest).
const HS_WINDOW: usize = 1 << 15;

pub struct Native<const S: usize, D> {
    rx: Box<receiver::Receiver<S, D>>,
}

/// What the native receiver is built from.
#[derive(Clone, Copy, Debug)]
pub struct NativeOptions {
    /// The bootloader's receive buffer while it is busy with flash (bytes).
    pub fifo: usize,
    /// Frame buffers: 1 (`Receiver`) or 2 (`Pipelined`).
    pub rx_buffers: u8,
    /// The line's rate.
    pub baud: u32,
    /// The longest sector erase, and the programming time per KiB, before `flash_scale`.
    pub longest_erase: Duration,
    pub program_per_kib: Duration,
    pub flash_scale: f64,
    /// The receiver applies delta packages.
    pub delta: bool,
}

/// A receiver in its power-on state. Its window is what the FIFO (the bootloader's DMA ring)
/// holds, at least one frame (the pipelined one adds its second buffer); its busy time the
/// longest sector erase.
pub fn native(opts: &NativeOptions) -> Box<dyn Receiver> {
    let window = (opts.fifo / QSOTA_NATIVE_FRAME_SIZE).clamp(1, usize::from(u16::MAX)) as u16;
    let busy_ms = opts
        .longest_erase
        .mul_f64(opts.flash_scale)
        .as_millis()
        .min(u128::from(u16::MAX)) as u16;
    let config = Config { window, busy_ms };
    // A receiver's RAM lives as long as the simulator (a reset makes a new one).
    let patcher = || Patcher::new(vec![0u8; HS_WINDOW].leak());
    match (opts.rx_buffers, opts.delta) {
        (1, false) => boxed(receiver::Receiver::new(config)),
        (1, true) => boxed(receiver::Receiver::new_with(config, patcher())),
        (_, false) => boxed(receiver::Pipelined::pipelined(config, chunk(opts))),
        (_, true) => boxed(receiver::Receiver::pipelined_with(
            config,
            chunk(opts),
            patcher(),
        )),
    }
}

fn boxed<const S: usize, D: Patching + 'static>(rx: receiver::Receiver<S, D>) -> Box<dyn Receiver> {
    Box::new(Native { rx: Box::new(rx) })
}

/// Bytes the pipelined receiver programs per step: what the line brings meanwhile fills at
/// most a quarter of the FIFO (the rest is margin: the line hands bytes over in batches of up
/// to 1 ms); a whole frame with instant flash.
fn chunk(opts: &NativeOptions) -> u16 {
    let per_byte = opts.program_per_kib.mul_f64(opts.flash_scale).as_secs_f64() / 1024.0;
    let line = f64::from(opts.baud) / 10.0;
    let bytes = (opts.fifo as f64 / 4.0 / (line * per_byte)).min(1024.0) as u32;
    (bytes / PROGRAM_UNIT).max(1) as u16 * PROGRAM_UNIT as u16
}

impl<const S: usize, D: Patching> Receiver for Native<S, D> {
    fn run(&mut self, mcu: &mut Mcu) -> Result<Outcome, Halt> {
        let mut buf = [0u8; 512];
        let mut have = 0;
        let mut out = [0u8; QSOTA_NATIVE_REPLY_MAX];
        let mut done_by: Option<Duration> = None;
        // The receiver has more to do before it needs new bytes (flash work, an answer).
        let mut again = false;
        loop {
            let deadline = match done_by {
                _ if again => mcu.now(),
                Some(t) => t,
                None => mcu.now() + Duration::from_secs(3600),
            };
            let n = match mcu.recv(&mut buf[have..], deadline) {
                Err(Halt::Closed) if again => 0,
                Ok(0) | Err(Halt::Closed) if done_by.is_some() && !again => {
                    return self.install(mcu)
                }
                r => r?,
            };
            have += n;
            let (used, len) = self
                .rx
                .receive(&mut McuFlash(mcu), &buf[..have], &mut out)
                .map_err(|_| Halt::Closed)?;
            again = self.rx.again(used, have, len);
            buf.copy_within(used..have, 0);
            have -= used;
            self.report(mcu);
            if len > 0 {
                mcu.send(&out[..len])?;
            }
            if self.rx.committed().is_some() && (n > 0 || len > 0) {
                done_by = Some(mcu.now() + LINGER);
            }
        }
    }
}

impl<const S: usize, D: Patching> Native<S, D> {
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
        // What the summary reports is the image installed (for a delta, the target).
        mcu.session.size = Some(size as u64);
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
            app_size: self.0.flash.size() as u32,
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
            Area::App => return Err(FlashError), // the receiver never erases the application
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
        let base = match area {
            Area::Meta => self.meta().start,
            Area::Slot => 0,
            Area::App => return Err(FlashError), // nor writes it
        };
        self.0
            .program(Bank::Slot, base + addr as usize, data)
            .map_err(|_| FlashError)
    }

    fn read(&mut self, area: Area, addr: u32, buf: &mut [u8]) -> Result<(), FlashError> {
        let (bank, base) = match area {
            Area::Meta => (&self.0.slot, self.meta().start),
            Area::Slot => (&self.0.slot, 0),
            Area::App => (&self.0.flash, 0),
        };
        let at = base + addr as usize;
        let src = bank.data().get(at..at + buf.len()).ok_or(FlashError)?;
        buf.copy_from_slice(src);
        Ok(())
    }
}
