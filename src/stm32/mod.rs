//! Sans-IO sender for ST's ROM system bootloader over a USART (AN3155), for STM32s (and
//! their clones) that have no bootloader of their own: the caller has put the MCU into its
//! ROM (BOOT0 high, NRST pulsed; the line is 8E1).
//!
//! Session: autobaud (0x7F until ACK), Get (the command list: Extended Erase 0x44 or Erase
//! 0x43), Get ID (the PID, looked up in [`devices`] or described by the caller); the image's
//! size is checked against the flash before anything is erased; then only the pages or
//! sectors the image covers are erased, the image is written in 256-byte blocks (0xFF padded
//! to a multiple of 4), read back block by block and compared, and only then does Go jump to
//! it (or the MCU stays in the bootloader).
//!
//! ## Frames, and what is merged
//! Every command is a byte and its complement, answered ACK (0x79) or NACK (0x1F). The
//! command and its address (or an erase's page list) go out as one frame: if the ROM NACKs
//! the command, it reads the following bytes as commands, and for a 256-aligned flash
//! address (bytes 08 xx yy 00) or a one-page erase list no pair of them is a command and its
//! complement. Block data is never sent before the address is ACKed: image bytes read as
//! commands could be anything (a Go, an erase).
//!
//! The sender's parts: `transmit` puts the current operation's frame out, `answer` reads
//! the ROM's answer byte by byte, `steps` decides what a complete answer leads to, and
//! `recovery` handles every error (below: how).

use crate::transfer::{self, provided, reached, Action, Fail};
use crate::Error;

pub mod devices;
mod frame;
mod reason;

use devices::{Layout, FLASH_BASE};
pub use reason::Reason;

/// Bytes per Write Memory / Read Memory block.
pub const BLOCK: usize = 256;
/// Where the image bytes of a block being verified go in the frame (after the commands).
const CMP_AT: usize = 8;
/// The frame buffer `poll` needs.
pub const FRAME_SIZE: usize = CMP_AT + BLOCK;
/// Autobaud: a 0x7F this often until the ROM answers.
const SYNC_MS: u32 = 100;
/// Silence the line needs before a probe.
const QUIET_MS: u32 = 20;
/// Wait for the answer to a probe.
const PROBE_MS: u32 = 20;
/// Probe frames without a useful answer before the ROM counts as gone.
const MAX_PROBES: u8 = 40;
/// The latest answer the waits make room for; later ones are no line's latency.
pub const MAX_LATENCY_MS: u8 = 200;
const MAX_PROBE_LEN: u16 = 128;

/// Tuning and the target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Where the image goes in flash, and where Go jumps (a multiple of 256).
    pub address: u32,
    /// Go to `address` once the image is verified (else the MCU stays in the bootloader).
    pub go: bool,
    /// Flash bytes from 0x08000000 (0: the device table's).
    pub flash_size: u32,
    /// Uniform erase pages of this many bytes instead of the table's layout (0: the
    /// table's); with `flash_size`, describes a part the table lacks.
    pub page_size: u32,
    /// Wait for the answer to a command or block (ms).
    pub timeout_ms: u32,
    /// Extra wait for the erase of one page or sector (ms; stm32flash allows 5 s).
    pub erase_timeout_ms: u32,
    /// How long to try autobaud (ms).
    pub start_timeout_ms: u32,
    /// Retries of one operation (an erase, a block write, a block read) before giving up.
    pub retries: u8,
    /// Line speed if known (0: unknown): waits then include each frame's time on the wire.
    pub baud: u32,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            address: FLASH_BASE,
            go: true,
            flash_size: 0,
            page_size: 0,
            timeout_ms: 1000,
            erase_timeout_ms: 5000,
            start_timeout_ms: 5000,
            retries: 10,
            baud: 0,
        }
    }
}

/// Counters for the caller's report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Image bytes written and acknowledged.
    pub bytes: u64,
    /// Image bytes read back and found equal.
    pub verified: u64,
    pub frames: u64,
    /// Operations repeated after an error.
    pub retries: u64,
    pub line_bytes: u64,
    /// Get ID's answer, Get's bootloader version and the erase command used (0: not yet).
    pub pid: u16,
    pub version: u8,
    pub erase_cmd: u8,
    /// Pages or sectors erased.
    pub pages: u32,
    /// Time spent erasing, writing, reading back (ms).
    pub erase_ms: u32,
    pub write_ms: u32,
    pub verify_ms: u32,
    /// Go was acknowledged: the MCU runs the image.
    pub went: bool,
    pub reason: Option<Reason>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Sync,
    Get,
    GetId,
    /// Erase the unit holding flash offset `erase_off`.
    Erase,
    /// Write Memory of block `block`: command and address, then the data.
    WriteAddr,
    WriteData,
    /// Read Memory of block `block`: command and address, then the length and the data.
    ReadAddr,
    ReadData,
    Go,
    /// Probing for a ROM that waits for a command (see [`recovery`]); then `resume`.
    Resync,
    Done,
    Failed(Fail),
}

/// An AN3155 sender for an image of `size` bytes.
#[derive(Clone, Debug)]
pub struct Sender {
    opts: Options,
    size: u32,
    blocks: u32,
    op: Op,
    resume: Op,
    send: bool,
    quiet_until: Option<u32>,
    started: Option<u32>,
    deadline: u32,
    /// When the last frame was all on the wire, and whether its first answer byte is still
    /// to come (it times the line's latency).
    wire_end: u32,
    timing: bool,
    /// The latest answer seen, in ms after its frame was on the wire (see the module doc),
    /// at most MAX_LATENCY_MS.
    latency: u8,
    /// Until then an answer may be a late one to the probes of a resync.
    echo_until: Option<u32>,
    /// Start of the current phase (erase, write, verify), for the stats.
    mark: u32,
    /// The answer still expected: ACKs, then (Get, Get ID) a length byte, data, a last ACK.
    acks: u8,
    var: bool,
    want: u16,
    tail: bool,
    got: u16,
    buf: [u8; BLOCK],
    /// A block was read back: compare it at the next poll (which has the frame).
    compare: bool,
    /// A READ of this many bytes is out.
    reading: Option<usize>,
    /// The frame holds the current block's image bytes.
    filled: bool,
    /// The read-back checks a write whose answer was lost.
    probe: bool,
    /// The ROM ACKed the Go command (if its answer to the address is lost, it may have
    /// jumped).
    go_acked: bool,
    probe_len: u16,
    probes: u8,
    tries: u8,
    heard: bool,
    last: Reason,
    layout: Layout,
    erase_off: u32,
    erase_end: u32,
    block: u32,
    stats: Stats,
}

impl Sender {
    /// A sender for `size` bytes (at least 1); `Error::Range` for an empty image, an address
    /// below 0x08000000 or not a multiple of 256, or a wait of 0 or above 2^31 ms.
    pub fn new(size: u32, opts: Options) -> Result<Self, Error> {
        let times = [
            opts.timeout_ms,
            opts.erase_timeout_ms,
            opts.start_timeout_ms,
        ];
        if size == 0
            || opts.address < FLASH_BASE
            || !opts.address.is_multiple_of(BLOCK as u32)
            || times.iter().any(|&t| t == 0 || t > i32::MAX as u32)
        {
            return Err(Error::Range);
        }
        Ok(Sender {
            opts,
            size,
            blocks: size.div_ceil(BLOCK as u32),
            op: Op::Sync,
            resume: Op::Sync,
            send: true,
            quiet_until: None,
            started: None,
            deadline: 0,
            wire_end: 0,
            timing: false,
            latency: 0,
            echo_until: None,
            mark: 0,
            acks: 0,
            var: false,
            want: 0,
            tail: false,
            got: 0,
            buf: [0; BLOCK],
            compare: false,
            reading: None,
            filled: false,
            probe: false,
            go_acked: false,
            probe_len: 1,
            probes: 0,
            tries: 0,
            heard: false,
            last: Reason::None,
            layout: Layout::Pages(1),
            erase_off: 0,
            erase_end: 0,
            block: 0,
            stats: Stats::default(),
        })
    }

    /// The frame buffer `poll` needs: [`FRAME_SIZE`], as for every sender of this protocol.
    pub fn frame_size(&self) -> usize {
        FRAME_SIZE
    }

    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// The block in progress (for messages).
    pub fn block(&self) -> u64 {
        u64::from(self.block)
    }

    /// Block `block`'s image bytes and its length on the wire (a multiple of 4).
    fn extent(&self) -> (usize, usize) {
        let len = (self.size - self.block * BLOCK as u32).min(BLOCK as u32) as usize;
        (len, (len + 3) & !3)
    }

    fn fail(&mut self, fail: Fail, reason: Reason) {
        self.op = Op::Failed(fail);
        self.stats.reason = Some(reason);
        self.send = false;
        self.quiet_until = None;
        self.reading = None;
    }

    fn next(&mut self, op: Op) {
        self.op = op;
        self.send = true;
    }

    /// An operation is complete: the next one starts with fresh retries.
    fn done_op(&mut self, op: Op) {
        self.tries = 0;
        self.heard = false;
        self.echo_until = None;
        self.next(op);
    }
}

impl transfer::Sender for Sender {
    fn poll(&mut self, now_ms: u32, frame: &mut [u8]) -> Action {
        let start = *self.started.get_or_insert(now_ms);
        loop {
            match self.op {
                Op::Failed(fail) => return Action::Failed(fail),
                Op::Done => return Action::Done,
                _ => {}
            }
            if frame.len() < FRAME_SIZE || self.reading.is_some() {
                self.fail(Fail::Usage, Reason::None);
                continue;
            }
            if let Some(quiet) = self.quiet_until {
                if !reached(now_ms, quiet) {
                    return Action::wait(quiet);
                }
                self.quiet_until = None;
                self.send = true;
            }
            // The block's image bytes, where the data frame (or the comparison) needs
            // them: read while the ROM answers the address, never before it is sent (its
            // frame would overwrite them).
            let data_op = matches!(self.op, Op::WriteData | Op::ReadData);
            let addr_op = matches!(self.op, Op::WriteAddr | Op::ReadAddr);
            if !self.filled && (data_op || (addr_op && !self.send)) {
                let len = self.extent().0;
                self.reading = Some(len);
                let write = matches!(self.op, Op::WriteAddr | Op::WriteData);
                let offset = u64::from(self.block) * BLOCK as u64;
                let at = if write { 1 } else { CMP_AT };
                return Action::Read { offset, at, len };
            }
            if self.compare {
                self.compare = false;
                self.compared(now_ms, frame);
                continue;
            }
            if self.send {
                return self.transmit(now_ms, frame);
            }
            if !reached(now_ms, self.deadline) {
                return Action::Wait {
                    until_ms: self.deadline,
                    expects: self.expects(),
                };
            }
            self.expired(now_ms, start);
        }
    }

    fn receive(&mut self, now_ms: u32, bytes: &[u8]) {
        for &b in bytes {
            self.byte(now_ms, b);
        }
    }

    fn provide(&mut self, n: usize) {
        match provided(&mut self.reading, n, |&len| len) {
            Ok(_) => self.filled = true,
            Err(fail) => self.fail(fail, Reason::None),
        }
    }

    /// AN3155 has no abort: the ROM waits for its next command whatever comes. Frames go
    /// out whole, so stopping at once leaves it waiting for one (flash as far as written).
    fn cancel(&mut self) {
        if !matches!(self.op, Op::Done | Op::Failed(_)) {
            self.fail(Fail::Cancelled, Reason::None);
        }
    }
}

mod answer;
mod recovery;
mod steps;
mod transmit;

#[cfg(test)]
mod tests;
