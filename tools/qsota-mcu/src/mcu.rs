//! The simulated MCU as its bootloader sees it: a UART, the flash (busy while it erases or
//! programs), a clock, and the faults that happen to the MCU itself (a lost ACK, a reset).
//!
//! The flash has two banks of the same geometry: the application area, which holds the old
//! image at power-on and is what runs, and a download slot for bootloaders that stage an
//! image and install it only once it is complete and verified (the native receiver; the
//! YMODEM personalities write the application area directly, as ST's IAP does).
//!
//! Bootloader code ([`crate::ymodem_rx`]) is written in the blocking style of real MCU code
//! and runs on its own thread; a reset unwinds it with [`Halt::Reset`] and [`boot`] starts a
//! fresh instance (RAM state lost, flash kept).

use crate::flash::{Flash, FlashError};
use crate::line::{Halt, Uart};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

/// What the receiver has learnt and done, kept across resets, for the summary.
#[derive(Default)]
pub struct Session {
    /// File name and declared size from the last YMODEM header.
    pub name: Option<String>,
    pub size: Option<u64>,
    /// The receiver accepted the end of that file.
    pub finished: bool,
    /// Data blocks accepted, and their image bytes (padding excluded when the size is known).
    pub blocks: u64,
    pub bytes: u64,
    /// Blocks received again after they had been accepted (retransmissions).
    pub retries: u64,
    /// Bad packets and timeouts after the transfer began.
    pub errors: u64,
    pub flash_error: Option<String>,
}

/// Fault injection on the MCU side.
#[derive(Clone, Default)]
pub struct McuFaults {
    /// Drop the ACK of these accepted blocks (0 is the YMODEM header), once each.
    pub drop_acks: Vec<u64>,
    /// Reset once the flash has had this many bytes programmed.
    pub reset_at: Option<u64>,
    /// Reset as the Nth sector erase ends, before the bootloader can answer it.
    pub reset_at_erase: Option<u64>,
    /// Time from reset until the bootloader listens again.
    pub boot: Duration,
}

/// One of the two flash banks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bank {
    /// The application area.
    App,
    /// The download slot.
    Slot,
}

pub struct Mcu {
    uart: Arc<Uart>,
    /// The application area.
    pub flash: Flash,
    /// The download slot (erased at power-on).
    pub slot: Flash,
    /// Multiplies every flash time (0 makes flash instant).
    flash_scale: f64,
    faults: McuFaults,
    reset_pending: bool,
    pub session: Session,
    pub dropped_acks: Vec<u64>,
    pub resets: u64,
    /// Time spent in flash operations.
    pub busy: Duration,
}

const ACK: u8 = 0x06;

impl Mcu {
    pub fn new(uart: Arc<Uart>, flash: Flash, flash_scale: f64, faults: McuFaults) -> Mcu {
        Mcu {
            uart,
            slot: flash.blank_twin(),
            flash,
            flash_scale,
            faults,
            reset_pending: false,
            session: Session::default(),
            dropped_acks: Vec::new(),
            resets: 0,
            busy: Duration::ZERO,
        }
    }

    /// Time since the line started.
    pub fn now(&self) -> Duration {
        self.uart.now()
    }

    fn check(&self) -> Result<(), Halt> {
        if self.reset_pending {
            Err(Halt::Reset)
        } else {
            Ok(())
        }
    }

    /// Waits for at least one byte until `deadline`; returns how many it got (0: timeout).
    pub fn recv(&mut self, buf: &mut [u8], deadline: Duration) -> Result<usize, Halt> {
        self.check()?;
        self.uart.recv(buf, deadline)
    }

    /// One byte, or `None` if none came by `deadline`.
    pub fn recv_byte(&mut self, deadline: Duration) -> Result<Option<u8>, Halt> {
        let mut b = [0u8];
        Ok((self.recv(&mut b, deadline)? == 1).then_some(b[0]))
    }

    /// Fills `buf` before `deadline` (one timeout for the whole buffer, like
    /// `HAL_UART_Receive`); false if time ran out first.
    pub fn recv_all_by(&mut self, buf: &mut [u8], deadline: Duration) -> Result<bool, Halt> {
        let mut got = 0;
        while got < buf.len() {
            let n = self.recv(&mut buf[got..], deadline)?;
            if n == 0 {
                return Ok(false);
            }
            got += n;
        }
        Ok(true)
    }

    /// Fills `buf` with no more than `gap` between bytes (XMODEM's character timeout);
    /// false if the line went quiet first.
    pub fn recv_all_gap(&mut self, buf: &mut [u8], gap: Duration) -> Result<bool, Halt> {
        let mut got = 0;
        while got < buf.len() {
            let n = self.recv(&mut buf[got..], self.now() + gap)?;
            if n == 0 {
                return Ok(false);
            }
            got += n;
        }
        Ok(true)
    }

    pub fn send(&mut self, bytes: &[u8]) -> Result<(), Halt> {
        self.check()?;
        self.uart.send(bytes);
        Ok(())
    }

    /// ACKs the `block`th accepted block (0: the header), unless that ACK is to be lost.
    pub fn ack_block(&mut self, block: u64) -> Result<(), Halt> {
        self.ack_with(block, ACK)
    }

    /// Sends `ack` as the answer to the `block`th accepted block, unless it is to be lost.
    pub fn ack_with(&mut self, block: u64, ack: u8) -> Result<(), Halt> {
        self.check()?;
        if let Some(i) = self.faults.drop_acks.iter().position(|&n| n == block) {
            self.faults.drop_acks.swap_remove(i);
            self.dropped_acks.push(block);
            return Ok(());
        }
        self.send(&[ack])
    }

    pub fn bank(&mut self, bank: Bank) -> &mut Flash {
        match bank {
            Bank::App => &mut self.flash,
            Bank::Slot => &mut self.slot,
        }
    }

    /// Erases sector `index` of `bank`; the MCU is busy meanwhile (it does not read the UART).
    pub fn erase(&mut self, bank: Bank, index: usize) {
        let t = self.bank(bank).erase(index);
        self.wait_busy(t);
        let erases = self.flash.erases + self.slot.erases;
        if self.faults.reset_at_erase.is_some_and(|n| erases >= n) {
            self.faults.reset_at_erase = None;
            self.reset_pending = true;
        }
    }

    /// Programs `bytes` at `offset` of `bank`; the MCU is busy meanwhile. A reset due at this
    /// point happens right after the write, before the receiver can answer.
    pub fn program(&mut self, bank: Bank, offset: usize, bytes: &[u8]) -> Result<(), FlashError> {
        let result = self.bank(bank).program(offset, bytes);
        if let Err(e) = &result {
            self.session.flash_error = Some(e.to_string());
        }
        self.wait_busy(result.clone().unwrap_or_default());
        if let Some(at) = self.faults.reset_at {
            if self.flash.programmed + self.slot.programmed >= at {
                self.faults.reset_at = None;
                self.reset_pending = true;
            }
        }
        result.map(|_| ())
    }

    fn wait_busy(&mut self, t: Duration) {
        let t = t.mul_f64(self.flash_scale);
        self.busy += t;
        self.uart.busy(t);
    }

    /// The MCU reboots: the UART is off for the boot time, losing what arrives.
    fn reboot(&mut self) {
        self.resets += 1;
        self.reset_pending = false;
        self.uart.set_powered(false);
        thread::sleep(self.faults.boot);
        self.uart.set_powered(true);
    }
}

/// A bootloader's receive loop.
pub trait Receiver {
    /// Runs until the bootloader ends the session or the MCU halts.
    fn run(&mut self, mcu: &mut Mcu) -> Result<Outcome, Halt>;
}

/// How a receive session ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The bootloader reports success.
    Ok,
    /// The sender (or a user) cancelled.
    Cancelled(&'static str),
    /// The bootloader gave up.
    Failed(&'static str),
}

/// Runs bootloader sessions from power-on: a fresh receiver after every reset, until one
/// ends (`Some`) or the module goes away (`None`).
pub fn boot(mcu: &mut Mcu, new_receiver: &dyn Fn() -> Box<dyn Receiver>) -> Option<Outcome> {
    loop {
        match new_receiver().run(mcu) {
            Ok(outcome) => return Some(outcome),
            Err(Halt::Reset) => mcu.reboot(),
            Err(Halt::Closed) => return None,
        }
    }
}
