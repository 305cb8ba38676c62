//! Sans-IO YMODEM sender (Forsberg, ymodem.txt), one file per batch, CRC-16 mode only.
//!
//! Frames: block 0 = `name NUL size` (decimal), NUL padded, in a 128-byte SOH block (STX if
//! the name is long); data blocks are 1024-byte STX blocks (or 128-byte SOH with
//! `block_size = 128`; a tail of at most 128 bytes always goes in one SOH block), padded with
//! 0x1A; then EOT until ACKed, then the end-of-batch null block.
//!
//! The sender's parts: `frame` holds the bytes and a block's framing, `transmit` builds
//! the header and puts the current frame out, `answer` reads the receiver's answers, with
//! the rules that recover lost ACKs.

use crate::transfer::{self, provided, reached, try_again, Action, Fail};
use crate::Error;

mod answer;
mod frame;
mod transmit;

pub(crate) use frame::OVERHEAD;
use frame::{CANCEL, CRC16};

/// What `reading` and `filled` hold for a deferred image's final check (no block has it).
const CHECK: u64 = u64::MAX;

/// The longest file name the header block carries.
pub(crate) const MAX_NAME: usize = 255;

/// How far probes may run ahead of the last confirmed block: one per ACK lost in a row.
const MAX_AHEAD: u8 = 2;
/// Quiet time the line needs after a NAK or `C` before the frame goes out again. A receiver
/// that lost a byte reads into the next frame and then answers each stray byte (ST: a `C`
/// each); retransmitting into that stream would keep it misaligned.
const QUIET_MS: u32 = 20;
/// Transmissions of the null block that may go unanswered before the batch counts as ended.
const NULL_TRIES: u8 = 3;
/// The longest wait for the null block's answer (or `timeout_ms` if shorter). The null block
/// makes no receiver write flash: it answers at once or, having ended the session, never
/// (lrzsz `rb` exits on it, and its exit flushes the pty's output, the final ACK with it).
/// A full `timeout_ms` here cost every rb session 6 s of silence. It must still exceed
/// XMODEM's purge: a receiver by the book that got a damaged null block asks again only
/// after 1 s of silence, and a retry sent at 1 s lands in that purge, extends it and is lost;
/// three such retries ended the batch as "done" while the receiver still waited for it.
const NULL_WAIT_MS: u32 = 1500;

/// The longest a packet may take on the wire, with the baud known. ST's IAP reads a whole
/// packet under one timeout of 1 s (AN4657's `ymodem.c`): at 9600 baud a 1K packet takes
/// 1.07 s, and the IAP cancels with the application area erased. A quarter of that second
/// stays for gaps between bytes (a UART driver refilling its FIFO).
pub const PACKET_BUDGET_MS: u32 = 750;
/// The lowest known baud at which a 128-byte packet fits [`PACKET_BUDGET_MS`].
pub const MIN_BAUD: u32 = 1774;

/// Whether a packet of `block` data bytes takes at most [`PACKET_BUDGET_MS`] at `baud` (8N1).
const fn fits(block: u16, baud: u32) -> bool {
    (block as u64 + OVERHEAD as u64) * 10 * 1000 <= PACKET_BUDGET_MS as u64 * baud as u64
}

/// Tuning; the defaults suit ST's IAP bootloader and lrzsz `rb`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// The largest data block: 1024 (STX) or 128 (SOH). With `baud` known, 128 where a 1K
    /// packet would take longer than [`PACKET_BUDGET_MS`] on the wire.
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
    /// Line speed, if known: each wait is extended by the frame's time on the wire, and the
    /// block size fits the receiver's packet timeout. 0 (unknown) or at least [`MIN_BAUD`].
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
        // Zero waits make no sense; above 2^31 ms wrapping time comparisons break. Below
        // MIN_BAUD no block reaches ST's IAP within its packet timeout.
        if times.iter().any(|&t| t == 0 || t > i32::MAX as u32)
            || (self.baud != 0 && self.baud < MIN_BAUD)
        {
            return Err(Error::Range);
        }
        Ok(())
    }

    /// The data block size used: `block_size`, or 128 where the baud is known and a 1K
    /// packet would not fit [`PACKET_BUDGET_MS`].
    pub fn block(&self) -> u16 {
        if self.baud != 0 && !fits(self.block_size, self.baud) {
            128
        } else {
            self.block_size
        }
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
    /// An earlier transmission of `cur` may have been accepted (see `answer`).
    maybe_accepted: bool,
    /// Blocks before `cur` that are sent but not confirmed (probes, see `answer`).
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
    /// A sender for the file `name` (1..=255 bytes, no NUL) of `size` bytes (below 4 GiB).
    pub fn new(name: &[u8], size: u64, opts: Options) -> Result<Self, Error> {
        opts.validate()?;
        if size > u64::from(u32::MAX) {
            return Err(Error::Range); // as every sender: an image below 4 GiB
        }
        let opts = Options {
            block_size: opts.block(),
            ..opts
        };
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
        match try_again(&mut self.tries, self.opts.retries, self.heard) {
            Ok(()) => self.send = true,
            Err(fail) => self.fail(fail),
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

    /// Fails with `Cancelled` and queues the CANs.
    fn cancel_now(&mut self) {
        self.fail(Fail::Cancelled);
        self.cancel_pending = true;
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
        match provided(&mut self.reading, n, |&(_, len)| len) {
            Ok((block, _)) => self.filled = Some(block),
            Err(fail) => self.fail(fail),
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

#[cfg(test)]
mod tests;
