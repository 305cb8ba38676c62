//! Sans-IO YMODEM sender (Forsberg, ymodem.txt), one file per batch, CRC-16 mode only.
//!
//! Frames: block 0 = `name NUL size` (decimal), NUL padded, in a 128-byte SOH block (STX if
//! the name is long); data blocks are 1024-byte STX blocks (or 128-byte SOH with
//! `block_size = 128`; a tail of at most 128 bytes always goes in one SOH block), padded with
//! 0x1A; then EOT until ACKed, then the end-of-batch null block.
//!
//! ## Lost ACKs
//! ST's IAP receiver NAKs a block whose number is not the one it expects, a duplicate
//! included, so after a lost ACK a plain sender retransmits into NAKs until it gives up.
//! This sender recovers with two rules that rely only on what every YMODEM receiver does:
//! it accepts a block only if its number is the one it expects (it may ACK or NAK the
//! previous one), and it writes accepted blocks in order.
//!
//! 1. **Probe forward.** A NAK answering block `k` that may already have been accepted
//!    (an earlier transmission of `k` got no answer, garbage or a `C`, any of which can hide a
//!    lost ACK) makes the sender send block `k + 1`. The receiver accepts `k + 1` only if it
//!    holds `k`; then its ACK confirms both. After the last data block the probe is an extra
//!    block of pure padding (0x1A): a receiver that honours the size drops it, one that does
//!    not (ST) already stores padding up to the block boundary. Probes run at most
//!    `MAX_AHEAD` blocks ahead of the last confirmed one (a probe's own ACK can be lost).
//! 2. **Retreat.** A NAK answering a probe that cannot have been accepted yet sends the
//!    block before it again.
//!
//! Each block number only ever carries its own content, so a block is never stored at a
//! wrong place, whichever way the receiver reads a NAK; and EOT is sent only after an ACK
//! answered the last data block (or the padding probe), so a receiver is never told the
//! file is complete while it misses a block. The rules affect liveness only: a spec
//! receiver that NAKed a corrupted retransmission may cancel on the probe, which ends the
//! transfer with `Fail::Cancelled` instead of a wrong image.
//!
//! A receiver that restarts mid-transfer (an MCU reset) waits for block 0 again; block
//! numbers are 8 bits, so it would take data block 256 (512, ...) for a header. It answers
//! that with `ACK C`, which a data block never gets: the sender stops with
//! `Fail::Protocol`. What YMODEM cannot guard against (a corrupted answer byte that turns
//! into an ACK, that `C` lost as well) is why the MCU must still check the image's digest
//! before it boots it.

use crate::crc16;
use crate::transfer::{self, reached, Action, Fail};
use crate::Error;

const SOH: u8 = 0x01;
const STX: u8 = 0x02;
const EOT: u8 = 0x04;
/// What `reading` and `filled` hold for a deferred image's final check (no block has it).
const CHECK: u64 = u64::MAX;
const ACK: u8 = 0x06;
const NAK: u8 = 0x15;
const CAN: u8 = 0x18;
const CRC16: u8 = b'C';
const PAD: u8 = 0x1A;

/// Bytes of framing around a block's data: start byte, number, its complement, CRC-16.
pub(crate) const OVERHEAD: usize = 5;
/// Where a block's data starts in its frame.
pub(crate) const DATA_AT: usize = 3;
/// The longest file name the header block carries.
pub(crate) const MAX_NAME: usize = 255;
/// CANs sent when the sender gives up (the spec asks for two; more survives a lost byte).
const CANCEL: [u8; 5] = [CAN; 5];

/// How far probes may run ahead of the last confirmed block: one per ACK lost in a row.
const MAX_AHEAD: u8 = 2;
/// Quiet time the line needs after a NAK or `C` before the frame goes out again. A receiver
/// that lost a byte reads into the next frame and then answers each stray byte (ST: a `C`
/// each); retransmitting into that stream would keep it misaligned.
const QUIET_MS: u32 = 20;
/// Transmissions of the null block that may go unanswered before the batch counts as ended.
const NULL_TRIES: u8 = 3;

/// Tuning; the defaults suit ST's IAP bootloader and lrzsz `rb`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Data block size: 1024 (STX) or 128 (SOH).
    pub block_size: u16,
    /// How long to wait for the answer to a data block, EOT or the null block (ms). Longer
    /// than any receiver needs to answer a damaged frame (ST: 1 s; spec receivers: a 1 s
    /// character timeout, then 1 s of purge), so that a retransmission never lands in the
    /// middle of the receiver's recovery.
    pub timeout_ms: u32,
    /// How long to wait for the answer to the header: the receiver may erase the whole
    /// application area first (an STM32F4 takes up to ~16 s for 1 MB).
    pub header_timeout_ms: u32,
    /// How long to wait for the receiver's first `C`.
    pub start_timeout_ms: u32,
    /// Silence after the EOT ACK after which the null block goes out without a `C`
    /// (ST's receiver sends its `C` only after its own 1 s timeout).
    pub end_gap_ms: u32,
    /// Retransmissions of one frame before giving up.
    pub retries: u8,
    /// Line speed, if known: each wait is extended by the frame's time on the wire.
    pub baud: u32,
    /// The image is checked only at its end (a stream): before EOT, which makes the
    /// receiver take the file, the sender asks for the check ([`Action::Digest`]; YMODEM
    /// carries no digest, only the verdict counts) and cancels (CAN CAN) if it failed.
    pub deferred: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            block_size: 1024,
            timeout_ms: 3000,
            header_timeout_ms: 30_000,
            start_timeout_ms: 60_000,
            end_gap_ms: 200,
            retries: 10,
            baud: 0,
            deferred: false,
        }
    }
}

impl Options {
    fn validate(&self) -> Result<(), Error> {
        if !matches!(self.block_size, 128 | 1024) {
            return Err(Error::Arg);
        }
        let times = [
            self.timeout_ms,
            self.header_timeout_ms,
            self.start_timeout_ms,
            self.end_gap_ms,
        ];
        // Zero waits make no sense; above 2^31 ms wrapping time comparisons break.
        if times.iter().any(|&t| t == 0 || t > i32::MAX as u32) {
            return Err(Error::Range);
        }
        Ok(())
    }
}

/// Counters for the caller's report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Image bytes the receiver has acknowledged.
    pub bytes: u64,
    /// Data blocks the receiver has acknowledged.
    pub blocks: u64,
    /// Frames written, retransmissions included.
    pub frames: u64,
    /// Retransmissions, probes and retreats.
    pub retries: u64,
    /// Bytes written to the line.
    pub line_bytes: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Waiting for the receiver's first `C`.
    Start,
    /// Block `cur` (0 = header, 1..=blocks data, blocks + 1 = padding probe).
    Block,
    /// The header is ACKed; waiting for the `C` that asks for data.
    DataStart,
    /// EOT sent.
    Eot,
    /// EOT ACKed; waiting for `C` or silence before the null block.
    EndGap,
    /// The end-of-batch null block sent.
    Null,
    Done,
    Failed(Fail),
}

/// A YMODEM sender for one file of `size` bytes.
#[derive(Clone, Debug)]
pub struct Sender {
    opts: Options,
    name: [u8; MAX_NAME],
    name_len: u8,
    size: u64,
    /// Number of data blocks.
    blocks: u64,
    phase: Phase,
    /// The block being sent (see `Phase::Block`).
    cur: u64,
    /// The next poll must (re)send the current frame.
    send: bool,
    /// A retransmission waits for the line to be quiet until then (see `QUIET_MS`).
    quiet_until: Option<u32>,
    /// The frame buffer holds block `framed`, ready to send (`None`: nothing usable).
    framed: Option<u64>,
    /// A `Read` for block `.0` is out; `provide` must report `.1` bytes.
    reading: Option<(u64, usize)>,
    /// The frame buffer holds the data of this block, not yet framed (`CHECK`: the image
    /// passed its final check).
    filled: Option<u64>,
    /// An earlier transmission of `cur` may have been accepted (see the module doc).
    maybe_accepted: bool,
    /// Blocks before `cur` that are sent but not confirmed (probes, see the module doc).
    ahead: u8,
    /// Retransmissions of the current step.
    tries: u8,
    /// Something was heard since the current step began (a failure is `Retries`, not `Timeout`).
    heard: bool,
    /// Last byte was a CAN.
    can: bool,
    /// Last byte was the ACK of a data block numbered 0 (see `byte`).
    zero_ack: bool,
    /// CANs still to be written before reporting `Failed`.
    cancel_pending: bool,
    /// The caller cancelled while a frame's answer was due (see `cancel`): the CANs go out
    /// at the first byte of that answer or at this deadline.
    cancel_at: Option<u32>,
    /// The image passed its final check (a deferred one: before EOT).
    checked: bool,
    /// Time of the first poll (the start wait counts from there).
    started: Option<u32>,
    deadline: u32,
    stats: Stats,
}

/// Whether `byte` from a receiver asks for a file in CRC mode (what `qsota probe` listens for).
pub const fn asks_for_file(byte: u8) -> bool {
    byte == CRC16
}

impl Sender {
    /// A sender for the file `name` (1..=255 bytes, no NUL) of `size` bytes.
    pub fn new(name: &[u8], size: u64, opts: Options) -> Result<Self, Error> {
        opts.validate()?;
        if name.is_empty() || name.len() > MAX_NAME {
            return Err(Error::Length);
        }
        if name.contains(&0) {
            return Err(Error::Syntax);
        }
        let mut stored = [0u8; MAX_NAME];
        stored[..name.len()].copy_from_slice(name);
        Ok(Sender {
            opts,
            name: stored,
            name_len: name.len() as u8,
            size,
            blocks: size.div_ceil(u64::from(opts.block_size)),
            phase: Phase::Start,
            cur: 0,
            send: false,
            quiet_until: None,
            framed: None,
            reading: None,
            filled: None,
            maybe_accepted: false,
            ahead: 0,
            tries: 0,
            heard: false,
            can: false,
            zero_ack: false,
            cancel_pending: false,
            cancel_at: None,
            checked: !opts.deferred,
            started: None,
            deadline: 0,
            stats: Stats::default(),
        })
    }

    /// The frame buffer size `poll` needs.
    pub fn frame_size(&self) -> usize {
        if self.opts.block_size == 1024 || self.header_len() > 128 {
            1024 + OVERHEAD
        } else {
            128 + OVERHEAD
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// The block in progress (0: header; for messages).
    pub fn block(&self) -> u64 {
        self.cur
    }

    /// Length of the header's content: name, NUL, decimal size.
    fn header_len(&self) -> usize {
        let mut digits = 1;
        let mut n = self.size / 10;
        while n > 0 {
            digits += 1;
            n /= 10;
        }
        usize::from(self.name_len) + 1 + digits
    }

    /// Data bytes of block `k` (1-based) and the block's size on the wire.
    fn block_extent(&self, k: u64) -> (usize, usize) {
        let bs = u64::from(self.opts.block_size);
        let len = self.size.saturating_sub((k - 1) * bs).min(bs) as usize;
        (len, if len <= 128 { 128 } else { 1024 })
    }

    fn fail(&mut self, fail: Fail) {
        self.cancel_pending = fail != Fail::Cancelled;
        self.cancel_at = None;
        self.phase = Phase::Failed(fail);
        self.send = false;
        self.quiet_until = None;
        self.reading = None;
    }

    /// Retransmit the current step, or give up after too many tries.
    fn retry(&mut self) {
        self.stats.retries += 1;
        if self.tries >= self.opts.retries {
            self.fail(if self.heard {
                Fail::Retries
            } else {
                Fail::Timeout
            });
        } else {
            self.tries += 1;
            self.send = true;
        }
    }

    /// A new step begins (the previous one was confirmed).
    fn step(&mut self, phase: Phase) {
        self.phase = phase;
        self.tries = 0;
        self.heard = false;
        self.maybe_accepted = false;
        self.ahead = 0;
        self.send = true;
    }

    /// Blocks up to `cur` are in the receiver.
    fn confirm(&mut self) {
        let bs = u64::from(self.opts.block_size);
        let data = self.cur.min(self.blocks);
        self.stats.blocks = data;
        self.stats.bytes = data.saturating_mul(bs).min(self.size);
        if self.cur >= self.blocks && !(self.cur == 0 && self.blocks == 0) {
            self.step(Phase::Eot);
        } else if self.cur == 0 {
            self.step(Phase::DataStart);
            self.send = false;
        } else {
            self.cur += 1;
            self.step(Phase::Block);
        }
    }

    fn byte(&mut self, now_ms: u32, b: u8) {
        if matches!(self.phase, Phase::Done | Phase::Failed(_)) {
            return;
        }
        if self.cancel_at.is_some() {
            return self.cancel_now();
        }
        if b == CAN {
            if self.can {
                self.fail(Fail::Cancelled);
            }
            self.can = true;
            return;
        }
        self.can = false;
        // A receiver that restarted (an MCU reset) waits for block 0 and takes a data block
        // numbered 0 (256, 512, ...) for a header: it answers `ACK C` as to a header, where
        // a data block gets a bare ACK. Going on would write the rest of the image at the
        // start of its flash.
        if core::mem::take(&mut self.zero_ack) && b == CRC16 {
            self.fail(Fail::Protocol);
            return;
        }
        if self.quiet_until.is_some() {
            self.quiet_until = Some(now_ms.wrapping_add(QUIET_MS));
            return;
        }
        // Answers are only meaningful to a frame that is out; the rest is stale.
        if self.send || self.reading.is_some() {
            return;
        }
        match (self.phase, b) {
            (Phase::Start, CRC16) => {
                self.cur = 0;
                self.step(Phase::Block);
            }
            (Phase::Block, ACK) => {
                let zero = self.cur > 0 && self.cur <= self.blocks && self.cur.is_multiple_of(256);
                self.confirm();
                self.zero_ack = zero;
            }
            (Phase::Block, NAK) => {
                self.heard = true;
                self.nak();
                self.after_quiet(now_ms);
            }
            (Phase::Block, CRC16) => {
                // ST's answer to a bad frame, or its timeout after the ACK was lost.
                self.heard = true;
                self.maybe_accepted = true;
                self.retry();
                self.after_quiet(now_ms);
            }
            (Phase::DataStart, CRC16 | NAK) => {
                self.cur = 1;
                self.step(Phase::Block);
                if self.blocks == 0 {
                    self.step(Phase::Eot);
                }
            }
            (Phase::Eot, ACK) => {
                self.step(Phase::EndGap);
                self.send = false;
                self.deadline = now_ms.wrapping_add(self.opts.end_gap_ms);
            }
            // The spec's receiver NAKs the first EOT to make sure it was no line noise.
            (Phase::Eot, NAK) if self.tries == 0 && !self.heard => {
                self.heard = true;
                self.send = true;
            }
            // NAK: allowed after the first EOT. C: the EOT was garbled (ST), or it arrived and
            // the ACK was lost; repeating EOT is right for both (rb ACKs a stray EOT).
            (Phase::Eot, NAK | CRC16) | (Phase::Null, NAK) => {
                self.heard = true;
                self.retry();
                self.after_quiet(now_ms);
            }
            // rb discards a null block that arrives before its C: send it again.
            (Phase::Null, CRC16) => self.retry(),
            (Phase::EndGap, CRC16) => self.step(Phase::Null),
            (Phase::Null, ACK) => self.phase = Phase::Done,
            _ => {}
        }
    }

    /// Holds a retransmission back until the line has been quiet for `QUIET_MS`.
    fn after_quiet(&mut self, now_ms: u32) {
        if self.send {
            self.send = false;
            self.quiet_until = Some(now_ms.wrapping_add(QUIET_MS));
        }
    }

    /// A NAK for block `cur` (see the module doc).
    fn nak(&mut self) {
        if self.maybe_accepted && self.ahead < MAX_AHEAD {
            self.cur += 1;
            self.ahead += 1;
            self.maybe_accepted = false;
        } else if self.ahead > 0 {
            self.cur -= 1;
            self.ahead -= 1;
            self.maybe_accepted = true;
        }
        self.retry();
    }

    /// Builds (or reuses) the current frame and hands it out, or asks for its data first.
    fn transmit(&mut self, now_ms: u32, frame: &mut [u8]) -> Action {
        let (len, wait) = match self.phase {
            Phase::Block if self.cur == 0 => {
                self.framed = None;
                (self.frame_header(frame), self.opts.header_timeout_ms)
            }
            Phase::Block if self.cur > self.blocks => {
                self.framed = None;
                (frame_block(frame, self.cur, 0, 128), self.opts.timeout_ms)
            }
            Phase::Block => {
                let (data, wire) = self.block_extent(self.cur);
                if self.framed != Some(self.cur) {
                    if self.filled != Some(self.cur) {
                        self.reading = Some((self.cur, data));
                        return Action::Read {
                            offset: (self.cur - 1) * u64::from(self.opts.block_size),
                            at: DATA_AT,
                            len: data,
                        };
                    }
                    self.filled = None;
                    frame_block(frame, self.cur, data, wire);
                    self.framed = Some(self.cur);
                }
                (wire + OVERHEAD, self.opts.timeout_ms)
            }
            Phase::Eot => {
                self.framed = None;
                if !self.checked {
                    // Asked once, as the last block is confirmed (what `provide` reads).
                    if self.filled != Some(CHECK) {
                        self.reading = Some((CHECK, 32));
                        return Action::Digest { at: 0 };
                    }
                    self.filled = None;
                    self.checked = true;
                }
                frame[0] = EOT;
                (1, self.opts.timeout_ms)
            }
            _ => {
                self.framed = None;
                frame[DATA_AT..DATA_AT + 128].fill(0);
                (frame_block(frame, 0, 128, 128), self.opts.timeout_ms)
            }
        };
        self.send = false;
        self.stats.frames += 1;
        self.stats.line_bytes += len as u64;
        let airtime = match self.opts.baud {
            0 => 0,
            baud => (len as u64 * 10_000).div_ceil(u64::from(baud)) as u32,
        };
        self.deadline = now_ms.wrapping_add(wait.saturating_add(airtime));
        Action::Send(len)
    }

    /// Frames block 0 in place; its length on the wire.
    fn frame_header(&self, frame: &mut [u8]) -> usize {
        let wire = if self.header_len() <= 128 { 128 } else { 1024 };
        let body = &mut frame[DATA_AT..DATA_AT + wire];
        body.fill(0);
        let name = &self.name[..usize::from(self.name_len)];
        body[..name.len()].copy_from_slice(name);
        let mut digits = [0u8; 20];
        let mut n = self.size;
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        let at = name.len() + 1;
        body[at..at + digits.len() - i].copy_from_slice(&digits[i..]);
        frame_block(frame, 0, wire, wire)
    }
}

impl transfer::Sender for Sender {
    fn poll(&mut self, now_ms: u32, frame: &mut [u8]) -> Action {
        let start = *self.started.get_or_insert(now_ms);
        if let Phase::Failed(fail) = self.phase {
            if self.cancel_pending && frame.len() >= CANCEL.len() {
                self.cancel_pending = false;
                frame[..CANCEL.len()].copy_from_slice(&CANCEL);
                self.stats.line_bytes += CANCEL.len() as u64;
                return Action::Send(CANCEL.len());
            }
            return Action::Failed(fail);
        }
        if self.phase == Phase::Done {
            return Action::Done;
        }
        if let Some(at) = self.cancel_at {
            if !reached(now_ms, at) {
                return Action::wait(at);
            }
            self.cancel_now();
            return self.poll(now_ms, frame);
        }
        if frame.len() < self.frame_size() || self.reading.is_some() {
            self.fail(Fail::Usage);
            return self.poll(now_ms, frame);
        }
        if let Some(quiet) = self.quiet_until {
            if !reached(now_ms, quiet) {
                return Action::wait(quiet);
            }
            self.quiet_until = None;
            self.send = true;
        }
        if self.send {
            return self.transmit(now_ms, frame);
        }
        let deadline = match self.phase {
            Phase::Start => start.wrapping_add(self.opts.start_timeout_ms),
            _ => self.deadline,
        };
        if !reached(now_ms, deadline) {
            return Action::wait(deadline);
        }
        match self.phase {
            Phase::Start => self.fail(Fail::Timeout),
            // The C asking for data was lost: the receiver waits for block 1 anyway.
            Phase::DataStart => {
                self.cur = 1;
                self.step(Phase::Block);
                if self.blocks == 0 {
                    self.step(Phase::Eot);
                }
            }
            Phase::EndGap => self.step(Phase::Null),
            // The EOT ACK confirmed the whole file; a receiver that stays silent to the null
            // block has most likely ended the session already (rb exits on it), and its
            // lost ACK would otherwise fail a complete transfer.
            Phase::Null if !self.heard && self.tries + 1 >= NULL_TRIES => {
                self.phase = Phase::Done;
            }
            _ => {
                self.maybe_accepted = true;
                self.retry();
            }
        }
        self.poll(now_ms, frame)
    }

    fn receive(&mut self, now_ms: u32, bytes: &[u8]) {
        for &b in bytes {
            self.byte(now_ms, b);
        }
    }

    fn provide(&mut self, n: usize) {
        match self.reading {
            Some((block, len)) if n == len => {
                self.reading = None;
                self.filled = Some(block);
            }
            Some((_, len)) if n < len => self.fail(Fail::Source),
            _ => self.fail(Fail::Usage),
        }
    }

    /// A receiver does not read its UART while it handles a frame (ST's IAP programs a
    /// block or erases for the header with a polled USART: CANs sent then are lost), so with
    /// a frame's answer due the CANs wait for that answer, or for its deadline.
    fn cancel(&mut self) {
        if matches!(self.phase, Phase::Done | Phase::Failed(_)) || self.cancel_at.is_some() {
            return;
        }
        let answer_due = matches!(self.phase, Phase::Block | Phase::Eot | Phase::Null)
            && !self.send
            && self.quiet_until.is_none();
        if answer_due {
            self.cancel_at = Some(self.deadline);
        } else {
            self.cancel_now();
        }
    }
}

impl Sender {
    /// Fails with `Cancelled` and queues the CANs.
    fn cancel_now(&mut self) {
        self.fail(Fail::Cancelled);
        self.cancel_pending = true;
    }
}

/// Completes a block in place: `data` bytes are at `DATA_AT`; pads them to `wire` bytes with
/// 0x1A, writes the start byte, block number and CRC. Returns the frame length.
fn frame_block(frame: &mut [u8], number: u64, data: usize, wire: usize) -> usize {
    let n = number as u8;
    frame[0] = if wire == 128 { SOH } else { STX };
    frame[1] = n;
    frame[2] = !n;
    frame[DATA_AT + data..DATA_AT + wire].fill(PAD);
    let crc = crc16::XMODEM.checksum(&frame[DATA_AT..DATA_AT + wire]);
    frame[DATA_AT + wire..DATA_AT + wire + 2].copy_from_slice(&crc.to_be_bytes());
    wire + OVERHEAD
}

#[cfg(test)]
mod tests;
