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
//! ## Recovery
//! The ROM has no timeouts: after a lost byte it waits for the rest of the frame. After any
//! error (NACK, silence, garbage) the sender waits for a quiet line and probes with 0x02
//! bytes, doubling their number while nothing answers, until a single probe is answered:
//! then the ROM waits for a command. Answers can come late (a USB-serial adapter's latency
//! timer, 16 ms on FTDI's; TCP with Nagle's algorithm): the sender times the first answer to
//! each frame, and the quiet it waits for and the wait for a probe's answer grow by the
//! latest answer seen (up to [`MAX_LATENCY_MS`]), so that no probe goes out while an earlier
//! one's answer is on its way, which would put the sender a byte pair out of step with the
//! ROM for every retry. A NACK that comes so soon after the probes that it may be one of
//! their answers is not taken for the ROM refusing the command that followed them. A run of 0x02 never completes a valid frame of any
//! command (its checksums come out 0, or the complement does not match), so probing cannot
//! erase or write anything. The interrupted operation is then repeated: an erase (which is
//! idempotent), or a block's address; a block whose data went out but whose answer was lost
//! is read back first (written: go on; erased: write it; anything else: fail), because
//! programming a written block again fails on most families. Read-back data carries no
//! checksum, so a mismatch is read again before it fails the transfer.

use crate::transfer::{self, reached, Action, Fail};
use crate::Error;

pub mod devices;
mod frame;
mod reason;

use devices::{Layout, FLASH_BASE};
use frame::{ACK, ERASE, EXT_ERASE, GET, GET_ID, GO, NACK, PROBE, READ, SYNC, WRITE};
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
    /// Probing for a ROM that waits for a command (see the module doc); then `resume`.
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

    /// The silence that says no answer is on its way.
    fn quiet_ms(&self) -> u32 {
        QUIET_MS + u32::from(self.latency)
    }

    /// The current operation failed (`reason`: what a NACK or read-back said): probe for
    /// the ROM and repeat it, or give up.
    fn error(&mut self, now: u32, reason: Reason) {
        self.stats.retries += 1;
        // A block that read back different stays the operation's story: on a noisy line the
        // NACKs and silences between its re-reads may be mere damaged frames.
        if self.tries == 0 || self.last != Reason::Mismatch {
            self.last = reason;
        }
        if self.tries >= self.opts.retries {
            let fail = match self.last {
                Reason::None if self.heard => Fail::Retries,
                Reason::None => Fail::Timeout,
                _ => Fail::Rejected,
            };
            return self.fail(fail, self.last);
        }
        self.tries += 1;
        self.resume = match self.op {
            Op::WriteData if reason == Reason::None => {
                self.probe = true;
                Op::ReadAddr
            }
            Op::WriteData => Op::WriteAddr,
            Op::ReadData => Op::ReadAddr,
            op => op,
        };
        self.op = Op::Resync;
        self.probe_len = 1;
        self.probes = 0;
        self.compare = false;
        self.send = false;
        self.quiet_until = Some(now.wrapping_add(self.quiet_ms()));
    }

    /// What a NACK now means, should it be the last word.
    fn nack_reason(&self) -> Reason {
        match (self.op, self.acks) {
            (Op::Erase | Op::WriteAddr | Op::ReadAddr | Op::Go, 2) => Reason::ReadProtected,
            (Op::Erase, _) => Reason::WriteProtected,
            (Op::WriteAddr | Op::ReadAddr | Op::Go, _) => Reason::AddressRefused,
            (Op::WriteData, _) => Reason::WriteFailed,
            _ => Reason::None,
        }
    }

    fn byte(&mut self, now: u32, b: u8) {
        if matches!(self.op, Op::Done | Op::Failed(_)) {
            return;
        }
        if self.timing {
            self.timing = false;
            // Before the frame's end (its command's ACK while the rest is on the wire): 0.
            let late = (now.wrapping_sub(self.wire_end) as i32).max(0) as u32;
            let late = late.min(u32::from(MAX_LATENCY_MS)) as u8;
            self.latency = self.latency.max(late);
        }
        if self.quiet_until.is_some() {
            self.quiet_until = Some(now.wrapping_add(self.quiet_ms()));
            return;
        }
        if self.send || self.reading.is_some() || self.compare {
            return;
        }
        self.heard = true;
        let answer = b == ACK || b == NACK;
        match self.op {
            Op::Sync if answer => self.done_op(Op::Get),
            Op::Sync => {}
            Op::Resync if answer && self.probe_len == 1 => self.next(self.resume),
            Op::Resync => {
                if answer {
                    self.probe_len = 1;
                }
                self.quiet_until = Some(now.wrapping_add(self.quiet_ms()));
            }
            _ if self.acks > 0 => match b {
                ACK => {
                    self.acks -= 1;
                    self.go_acked |= self.op == Op::Go;
                    if self.acks == 0 && self.want == 0 && !self.var && !self.tail {
                        self.complete(now);
                    }
                }
                NACK if self.echo_until.is_some_and(|t| !reached(now, t)) => {
                    // Perhaps a probe's late answer: the ROM's word so far stands.
                    self.error(now, self.last)
                }
                NACK => self.error(now, self.nack_reason()),
                _ => self.error(now, Reason::None),
            },
            _ if self.var => {
                self.var = false;
                self.want = u16::from(b) + 1;
            }
            _ if self.want > 0 => {
                self.buf[usize::from(self.got)] = b;
                self.got += 1;
                self.want -= 1;
                if self.want == 0 && !self.tail {
                    self.complete(now);
                }
            }
            _ if self.tail && b == ACK => {
                self.tail = false;
                self.complete(now);
            }
            _ if self.tail => self.error(now, Reason::None),
            _ => {}
        }
    }

    /// Every byte the current frame asked for has come.
    fn complete(&mut self, now: u32) {
        let elapsed = now.wrapping_sub(self.mark);
        match self.op {
            Op::Get => {
                let cmds = &self.buf[1..usize::from(self.got)];
                self.stats.version = self.buf[0];
                let erase = [EXT_ERASE, ERASE].into_iter().find(|c| cmds.contains(c));
                let needed = [WRITE, READ, if self.opts.go { GO } else { READ }];
                match erase {
                    Some(e) if needed.iter().all(|c| cmds.contains(c)) => {
                        self.stats.erase_cmd = e;
                        self.done_op(Op::GetId);
                    }
                    _ => self.fail(Fail::Rejected, Reason::Unsupported),
                }
            }
            Op::GetId if self.got != 2 => self.fail(Fail::Protocol, Reason::None),
            Op::GetId => {
                self.stats.pid = u16::from_be_bytes([self.buf[0], self.buf[1]]);
                self.mark = now;
                self.plan();
            }
            Op::Erase => {
                self.stats.pages += 1;
                self.erase_off = self.layout.page_of(self.erase_off).1;
                if self.erase_off >= self.erase_end {
                    self.stats.erase_ms = elapsed;
                    self.mark = now;
                    self.done_op(Op::WriteAddr);
                } else {
                    self.done_op(Op::Erase);
                }
            }
            Op::WriteAddr => self.next(Op::WriteData),
            Op::WriteData => self.written(now),
            Op::ReadAddr => {
                let (_, pad) = self.extent();
                self.got = 0;
                self.want = pad as u16;
                self.next(Op::ReadData);
            }
            Op::ReadData => self.compare = true,
            _ => {
                self.stats.went = true;
                self.op = Op::Done;
            }
        }
    }

    /// After Get ID: the part's flash, checked against the image before anything is erased.
    fn plan(&mut self) {
        let part = devices::find(self.stats.pid);
        let flash = match (self.opts.flash_size, part) {
            (0, Some(p)) => p.flash,
            (size, _) => size,
        };
        let layout = match (self.opts.page_size, part) {
            (0, Some(p)) => Some(p.layout),
            (0, None) => None,
            (size, _) => Some(Layout::Pages(size)),
        };
        let (Some(layout), true) = (layout, flash > 0) else {
            return self.fail(Fail::Rejected, Reason::UnknownPart);
        };
        let start = self.opts.address - FLASH_BASE;
        let end = u64::from(start) + u64::from(self.size);
        if end > u64::from(flash) {
            return self.fail(Fail::Rejected, Reason::TooLarge);
        }
        self.layout = layout;
        self.erase_off = start;
        self.erase_end = end as u32;
        let last = layout.page_of(end as u32 - 1).0;
        if last
            > if self.stats.erase_cmd == ERASE {
                0xFE
            } else {
                0xFFEF
            }
        {
            return self.fail(Fail::Rejected, Reason::Unsupported);
        }
        self.done_op(Op::Erase);
    }

    fn written(&mut self, now: u32) {
        self.stats.bytes += self.extent().0 as u64;
        self.probe = false;
        self.block += 1;
        if self.block == self.blocks {
            self.stats.write_ms = now.wrapping_sub(self.mark);
            self.mark = now;
            self.block = 0;
        }
        self.done_op(if self.block == 0 {
            Op::ReadAddr
        } else {
            Op::WriteAddr
        });
    }

    /// A block came back: compare it with the image bytes at `CMP_AT`.
    fn compared(&mut self, now: u32, frame: &[u8]) {
        let (len, pad) = self.extent();
        let back = &self.buf[..pad];
        let same =
            back[..len] == frame[CMP_AT..CMP_AT + len] && back[len..].iter().all(|&b| b == 0xFF);
        if self.probe && !same && back.iter().all(|&b| b == 0xFF) {
            // The write whose answer was lost never happened.
            self.probe = false;
            self.next(Op::WriteAddr);
        } else if !same {
            self.error(now, Reason::Mismatch);
        } else if self.probe {
            self.written(now);
        } else {
            self.stats.verified += len as u64;
            self.block += 1;
            if self.block < self.blocks {
                self.done_op(Op::ReadAddr);
            } else {
                self.stats.verify_ms = now.wrapping_sub(self.mark);
                self.block -= 1;
                if self.opts.go {
                    self.done_op(Op::Go);
                } else {
                    self.op = Op::Done;
                }
            }
        }
    }

    /// How many more bytes the answer to the frame out needs, as far as known: a count byte
    /// (Get) stands for itself until it says how many follow. The probes of a resync take
    /// any answer, or noise: unknown.
    fn expects(&self) -> usize {
        match self.op {
            Op::Sync | Op::Resync => 0,
            _ => {
                usize::from(self.acks)
                    + usize::from(self.var)
                    + usize::from(self.want)
                    + usize::from(self.tail)
            }
        }
    }

    /// Sets the answer the frame being sent expects.
    fn expect(&mut self, acks: u8, var: bool, want: u16) {
        self.acks = acks;
        self.var = var;
        self.tail = var;
        self.want = want;
        self.got = 0;
    }

    fn transmit(&mut self, now: u32, frame: &mut [u8]) -> Action {
        let t = self.opts.timeout_ms;
        let block_addr = self.opts.address + self.block * BLOCK as u32;
        let (len, pad) = self.extent();
        let mut reply = 0;
        let (n, wait) = match self.op {
            Op::Sync => {
                frame[0] = SYNC;
                self.expect(1, false, 0);
                (1, SYNC_MS)
            }
            Op::Resync => {
                self.probes += 1;
                if self.probes > MAX_PROBES {
                    return self.gone();
                }
                let n = usize::from(self.probe_len);
                frame[..n].fill(PROBE);
                (n, PROBE_MS + u32::from(self.latency))
            }
            Op::Get | Op::GetId => {
                let cmd = if self.op == Op::Get { GET } else { GET_ID };
                self.expect(1, true, 0);
                (frame::command(frame, cmd), t)
            }
            Op::Erase => {
                let page = self.layout.page_of(self.erase_off).0 as u16;
                let n = frame::erase(frame, self.stats.erase_cmd, page);
                self.expect(2, false, 0);
                (n, t.saturating_add(self.opts.erase_timeout_ms))
            }
            Op::WriteAddr | Op::ReadAddr | Op::Go => {
                let (cmd, addr) = match self.op {
                    Op::WriteAddr => (WRITE, block_addr),
                    Op::ReadAddr => (READ, block_addr),
                    _ => (GO, self.opts.address),
                };
                self.filled = false;
                self.expect(2, false, 0);
                (frame::addressed(frame, cmd, addr), t)
            }
            Op::WriteData => {
                self.expect(1, false, 0);
                (frame::write_data(frame, len, pad), t)
            }
            _ => {
                self.expect(1, false, 0);
                self.want = pad as u16;
                reply = pad;
                (frame::read_length(frame, pad), t)
            }
        };
        self.send = false;
        self.stats.frames += 1;
        self.stats.line_bytes += n as u64;
        let airtime = |bytes: usize| match self.opts.baud {
            0 => 0,
            baud => (bytes as u64 * 11_000).div_ceil(u64::from(baud)) as u32,
        };
        self.deadline = now.wrapping_add(wait.saturating_add(airtime(n + reply)));
        self.wire_end = now.wrapping_add(airtime(n));
        // An erase or a write answers when the flash is done: no measure of the line.
        self.timing = !matches!(self.op, Op::Erase | Op::WriteData);
        if self.op == Op::Resync {
            self.echo_until = Some(self.wire_end.wrapping_add(self.quiet_ms()));
        }
        Action::Send(n)
    }

    /// The ROM stopped answering probes: it has gone, or (after an accepted Go whose
    /// address answer was lost) jumped to the verified image.
    fn gone(&mut self) -> Action {
        if self.resume == Op::Go && self.go_acked {
            self.op = Op::Done;
            return Action::Done;
        }
        let reason = self.last;
        self.fail(Fail::Timeout, reason);
        Action::Failed(Fail::Timeout)
    }

    /// The wait for the current frame's answer ran out.
    fn expired(&mut self, now: u32, start: u32) {
        match self.op {
            Op::Sync if reached(now, start.wrapping_add(self.opts.start_timeout_ms)) => {
                self.fail(Fail::Timeout, Reason::NoAnswer)
            }
            Op::Sync => self.send = true,
            Op::Resync => {
                self.probe_len = (self.probe_len * 2).min(MAX_PROBE_LEN);
                self.send = true;
            }
            _ => self.error(now, Reason::None),
        }
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
        match self.reading {
            Some(len) if n == len => {
                self.reading = None;
                self.filled = true;
            }
            Some(len) if n < len => self.fail(Fail::Source, Reason::None),
            _ => self.fail(Fail::Usage, Reason::None),
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

#[cfg(test)]
mod tests;
