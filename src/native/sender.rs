//! The sender: the module side of the native protocol, sans-IO (docs/protocol.md §3). It
//! implements the actions of [`crate::transfer`], so the one Python driver runs it.

use super::delta::{DeltaOpen, DELTA, SIGNED};
use super::frame::{
    self, code, flags, kind, Parser, DATA_AT, HEADER_LEN, MAX_FRAME, MAX_PAYLOAD, OVERHEAD,
};
use super::record::{ImageId, MAX_NAME};
use super::VERSION;
use crate::transfer::{self, reached, Action, Fail, Sender as _};
use crate::Error;

/// Tuning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Retransmission timeout in ms; 0: adaptive (see [`Rtt`]).
    pub rto_ms: u32,
    /// How long to keep repeating OPEN before the receiver first answers (ms).
    pub open_timeout_ms: u32,
    /// Timeouts in a row without progress before giving up.
    pub retries: u8,
    /// The line's rate (8N1), 0 if unknown: the adaptive timeout is never shorter than a
    /// DATA frame's time on the line.
    pub baud: u32,
    /// The receiver must commit the image (a delta package's result) only if it is an
    /// MCUboot image signed by one of its keys: OPEN's SIGNED flag (a receiver without the
    /// check refuses it, ERROR FLAGS).
    pub require_signature: bool,
    /// The image is checked only at its end (a stream): the 32 bytes given for its SHA-256
    /// are an identity the receiver resumes by, OPEN says so (`flags::DIGEST_AT_COMMIT`),
    /// and once every byte is acknowledged the sender asks for the SHA-256
    /// ([`Action::Digest`]), which COMMIT carries; a failed check ABORTs instead.
    pub deferred: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            rto_ms: 0,
            open_timeout_ms: 60_000,
            retries: 10,
            baud: 0,
            require_signature: false,
            deferred: false,
        }
    }
}

/// The smallest margin of the adaptive timeout over the smoothed round trip: two ticks of
/// the millisecond clock (a sample can be a tick off at each end).
const GRANULARITY_MS: u32 = 2;

/// The adaptive retransmission timer, RFC 6298 with its integer form (SRTT x 8, RTTVAR x 4,
/// alpha 1/8, beta 1/4, K 4): a round trip is timed from a DATA frame's first sending to
/// the acknowledgement that covers it, one frame at a time, never for a frame sent again
/// (Karn). `rto = srtt + max(G, 4 rttvar)`, at least the frame's time on the line and at
/// most `max` (the receiver's `busy_ms` + 1 s, the fixed timeout of old, which also stands
/// until the first sample); each timeout doubles it up to `max` until the next sample.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Rtt {
    srtt8: u32,
    rttvar4: u32,
    sampled: bool,
    /// The frame being timed: its end offset and when it went out.
    timing: Option<(u32, u32)>,
    floor: u32,
    max: u32,
}

impl Rtt {
    /// A round trip of `r` ms; returns the new timeout.
    fn sample(&mut self, r: u32) -> u32 {
        let r = r.min(self.max);
        if self.sampled {
            let err = r.abs_diff(self.srtt8 >> 3);
            self.srtt8 = self.srtt8 - (self.srtt8 >> 3) + r;
            self.rttvar4 = self.rttvar4 - (self.rttvar4 >> 2) + err;
        } else {
            (self.srtt8, self.rttvar4, self.sampled) = (r << 3, r << 1, true);
        }
        let rto = (self.srtt8 >> 3) + self.rttvar4.max(GRANULARITY_MS);
        rto.max(self.floor).min(self.max)
    }
}

/// Counters for the caller's report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Image bytes the receiver has acknowledged (including what it already had).
    pub bytes: u64,
    /// DATA frames written, retransmissions included.
    pub frames: u64,
    /// Go-backs (NAK or timeout) and repeated OPEN/COMMIT frames.
    pub retries: u64,
    /// Bytes written to the line.
    pub line_bytes: u64,
    /// Where the receiver said the transfer starts (the first ACCEPT's resume offset).
    pub resumed_from: u64,
    /// Image bytes sent more than once in this transfer.
    pub resent_bytes: u64,
    /// Times the receiver was found reset and the transfer opened again.
    pub reopens: u64,
    /// The receiver's ERROR code, 0 if none.
    pub error: u8,
    /// The retransmission timeout in ms at the end (the adaptive one's last value).
    pub rto_ms: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Open,
    Data,
    Commit,
    Done,
    Failed(Fail),
}

/// A native sender for one image.
pub struct Sender {
    opts: Options,
    id: ImageId,
    /// The image is a delta package the receiver applies (OPEN's DELTA flag).
    delta: Option<DeltaOpen>,
    parser: Parser<64>,
    phase: Phase,
    /// Negotiated in ACCEPT.
    payload: u32,
    window: u32,
    rto: u32,
    /// The round-trip estimate, when `opts.rto_ms` is 0.
    rtt: Option<Rtt>,
    /// The receiver holds every byte below `acked`.
    acked: u32,
    /// The next DATA frame's offset.
    next: u32,
    /// The end of the furthest DATA frame ever sent.
    high: u32,
    /// OPEN or COMMIT must go out at the next poll.
    send: bool,
    /// A `Read` of `.1` bytes at `.0` is out.
    reading: Option<(u32, usize)>,
    /// A `Digest` is out; its answer is in the frame buffer; the SHA-256 COMMIT carries.
    asked_digest: bool,
    digest_in_frame: bool,
    digest: Option<[u8; 32]>,
    /// The frame buffer holds image bytes at this offset, not yet framed.
    filled: Option<(u32, usize)>,
    tries: u8,
    heard: bool,
    abort_pending: bool,
    /// An ACCEPT has come: OPENs from now on are probes that count as retries.
    opened: bool,
    /// When the first OPEN went out.
    started: Option<u32>,
    deadline: u32,
    stats: Stats,
}

impl Sender {
    /// A sender for an image of `size` bytes with this SHA-256 (with `opts.deferred`, this
    /// identity), for the receiver's component `component` at version `version` (each at
    /// most 32 bytes).
    pub fn new(
        size: u64,
        sha256: &[u8; 32],
        component: &[u8],
        version: &[u8],
        opts: Options,
    ) -> Result<Self, Error> {
        let size = u32::try_from(size).map_err(|_| Error::Range)?;
        if component.len() > MAX_NAME || version.len() > MAX_NAME {
            return Err(Error::Length);
        }
        if opts.open_timeout_ms == 0
            || opts.open_timeout_ms > i32::MAX as u32
            || opts.rto_ms > i32::MAX as u32
        {
            return Err(Error::Range);
        }
        let flags = if opts.deferred {
            flags::DIGEST_AT_COMMIT
        } else {
            0
        };
        let id =
            ImageId::with_flags(size, flags, *sha256, component, version).ok_or(Error::Length)?;
        Ok(Sender {
            opts,
            id,
            delta: None,
            parser: Parser::new(),
            phase: Phase::Open,
            payload: 0,
            window: 0,
            rto: 1000,
            rtt: (opts.rto_ms == 0).then_some(Rtt::default()),
            acked: 0,
            next: 0,
            high: 0,
            send: true,
            reading: None,
            asked_digest: false,
            digest_in_frame: false,
            digest: None,
            filled: None,
            tries: 0,
            heard: false,
            abort_pending: false,
            opened: false,
            started: None,
            deadline: 0,
            stats: Stats::default(),
        })
    }

    /// Sends the image as a delta package that the receiver applies to its application
    /// area (OPEN's DELTA flag with `delta`, from the package's first bytes:
    /// [`DeltaOpen::from_package`]). Before the first poll.
    ///
    /// A deferred package (a stream) goes with DELTA alone: the receiver checks the target
    /// it makes against OPEN's target digest, never the package against a SHA-256, so its
    /// key is only the name it resumes a session by. COMMIT still waits for the driver's
    /// final check ([`Action::Digest`]; a failed one ABORTs) and carries nothing.
    pub fn set_delta(&mut self, delta: DeltaOpen) {
        self.id.flags &= !flags::DIGEST_AT_COMMIT;
        self.delta = Some(delta);
    }

    /// The frame buffer size `poll` needs.
    pub fn frame_size(&self) -> usize {
        MAX_FRAME
    }

    /// Counters so far.
    pub fn stats(&self) -> Stats {
        Stats {
            rto_ms: self.rto,
            ..self.stats
        }
    }

    /// The receiver's window in frames and payload per frame (0 before ACCEPT).
    pub fn window(&self) -> (u32, u32) {
        (self.window, self.payload)
    }

    fn fail(&mut self, fail: Fail) {
        self.abort_pending = fail != Fail::Rejected;
        self.phase = Phase::Failed(fail);
        self.reading = None;
        self.filled = None;
    }

    /// A step timed out: try again, or give up after `retries` in a row without progress.
    /// A window that times out is not sent again blindly: OPEN asks the receiver where it
    /// stands (an in-session receiver answers its `next`, a reset one its resume offset), so
    /// a reset costs at most the one window in flight.
    fn retry(&mut self) {
        self.stats.retries += 1;
        if let Some(rtt) = self.rtt.as_mut().filter(|_| self.opened) {
            rtt.timing = None;
            self.rto = self.rto.saturating_mul(2).min(rtt.max);
        }
        if self.tries >= self.opts.retries {
            return self.fail(if self.heard {
                Fail::Retries
            } else {
                Fail::Timeout
            });
        }
        self.tries += 1;
        if self.phase == Phase::Data {
            self.phase = Phase::Open;
        }
        self.send = true;
    }

    fn go_back(&mut self, to: u32) {
        self.next = to;
        self.filled = None;
        if let Some(rtt) = self.rtt.as_mut() {
            // The timed frame goes out again: its acknowledgement would time nothing.
            rtt.timing = rtt.timing.filter(|&(end, _)| end <= to);
        }
    }

    /// The receiver was reset: open again (it answers where to resume).
    fn reopen(&mut self) {
        self.stats.reopens += 1;
        self.phase = Phase::Open;
        self.retry();
    }

    fn answer(&mut self, now_ms: u32, kind: u8, p: &[u8]) {
        if matches!(self.phase, Phase::Done | Phase::Failed(_)) {
            return;
        }
        let offset = frame::u32_at(p, 0);
        match (self.phase, kind) {
            (Phase::Open, kind::ACCEPT) => self.accept(now_ms, p),
            (Phase::Data, kind::ACK) => {
                if let Some(n) = offset.filter(|&n| n > self.acked && n <= self.high) {
                    self.progress(now_ms, n);
                }
            }
            (Phase::Data, kind::NAK) => {
                if let Some(n) = offset.filter(|&n| n >= self.acked && n <= self.high) {
                    self.progress(now_ms, n);
                    if self.next > n {
                        self.stats.retries += 1;
                        self.go_back(n);
                    }
                }
            }
            (Phase::Commit, kind::DONE) if offset == Some(self.id.size) => {
                self.heard = true;
                self.phase = Phase::Done;
            }
            (Phase::Data | Phase::Commit, kind::ERROR) if p.first() == Some(&code::NOT_OPEN) => {
                self.heard = true;
                self.reopen();
            }
            (_, kind::ERROR) => {
                self.heard = true;
                self.stats.error = p.first().copied().unwrap_or(0);
                // NOT_OPEN while opening is stale: the answer to DATA sent before the reset.
                if self.stats.error != code::NOT_OPEN {
                    let fail = if self.stats.error == code::STATE {
                        Fail::Protocol
                    } else {
                        Fail::Rejected
                    };
                    self.fail(fail);
                }
            }
            _ => {}
        }
    }

    fn accept(&mut self, now_ms: u32, p: &[u8]) {
        let field = |at| frame::u16_at(p, at).map(u32::from);
        let (Some(&VERSION), Some(payload), Some(window), Some(busy), Some(resume)) =
            (p.first(), field(2), field(4), field(6), frame::u32_at(p, 8))
        else {
            return self.fail(Fail::Protocol);
        };
        if payload == 0 || window == 0 || resume > self.id.size {
            return self.fail(Fail::Protocol);
        }
        self.heard = true;
        if !self.opened {
            self.stats.resumed_from = u64::from(resume);
        }
        self.payload = payload.min(MAX_PAYLOAD as u32);
        self.window = window;
        match self.rtt.as_mut() {
            None => self.rto = self.opts.rto_ms,
            Some(rtt) => {
                rtt.max = busy + 1000;
                rtt.floor = frame_ms(self.payload, self.opts.baud).min(rtt.max);
                if !rtt.sampled {
                    self.rto = rtt.max;
                }
            }
        }
        self.phase = Phase::Data;
        if resume > self.acked || self.stats.bytes == 0 {
            self.tries = 0;
        }
        self.acked = resume;
        self.high = self.high.max(resume);
        self.go_back(resume);
        self.stats.bytes = u64::from(resume);
        self.opened = true;
        self.deadline = now_ms.wrapping_add(self.rto);
    }

    /// The receiver holds every byte below `n`.
    fn progress(&mut self, now_ms: u32, n: u32) {
        self.heard = true;
        if let Some(rtt) = self.rtt.as_mut() {
            if let Some((_, sent)) = rtt.timing.filter(|&(end, _)| n >= end) {
                rtt.timing = None;
                self.rto = rtt.sample(now_ms.wrapping_sub(sent));
            }
        }
        if n > self.acked {
            self.acked = n;
            self.stats.bytes = u64::from(n);
            self.tries = 0;
            self.deadline = now_ms.wrapping_add(self.rto);
            if self.next < n {
                self.go_back(n);
            }
        }
    }

    fn poll_open(&mut self, now_ms: u32, frame: &mut [u8]) -> Action {
        let started = *self.started.get_or_insert(now_ms);
        if self.send {
            self.send = false;
            self.deadline = now_ms.wrapping_add(self.rto);
            let len = self.open_payload(&mut frame[HEADER_LEN..]);
            return self.emit(frame, kind::OPEN, len);
        }
        if !self.opened && reached(now_ms, started.wrapping_add(self.opts.open_timeout_ms)) {
            self.fail(if self.heard {
                Fail::Retries
            } else {
                Fail::Timeout
            });
            return self.poll(now_ms, frame);
        }
        if reached(now_ms, self.deadline) {
            // The first OPEN waits out `open_timeout_ms` (the MCU may be booting); later
            // ones count as retries.
            if self.opened {
                self.retry();
            } else {
                self.stats.retries += 1;
                self.send = true;
            }
            return self.poll(now_ms, frame);
        }
        Action::wait(self.deadline)
    }

    fn poll_data(&mut self, now_ms: u32, frame: &mut [u8]) -> Action {
        if let Some((offset, len)) = self.filled.take() {
            frame[HEADER_LEN..DATA_AT].copy_from_slice(&offset.to_le_bytes());
            let end = offset + len as u32;
            if let Some(rtt) = self.rtt.as_mut() {
                if rtt.timing.is_none() && end > self.high {
                    rtt.timing = Some((end, now_ms));
                }
            }
            self.stats.frames += 1;
            self.stats.resent_bytes += u64::from(self.high.min(end).saturating_sub(offset));
            self.high = self.high.max(end);
            self.next = end;
            return self.emit(frame, kind::DATA, 4 + len);
        }
        if self.acked == self.id.size {
            self.phase = Phase::Commit;
            self.send = true;
            self.tries = 0;
            return self.poll(now_ms, frame);
        }
        if reached(now_ms, self.deadline) {
            self.retry();
            return self.poll(now_ms, frame);
        }
        let in_flight = self.next - self.acked;
        if self.next < self.id.size && in_flight < self.window * self.payload {
            let len = (self.id.size - self.next).min(self.payload) as usize;
            self.reading = Some((self.next, len));
            return Action::Read {
                offset: u64::from(self.next),
                at: DATA_AT,
                len,
            };
        }
        Action::wait(self.deadline)
    }

    fn poll_commit(&mut self, now_ms: u32, frame: &mut [u8]) -> Action {
        if self.send {
            let digest = &mut frame[HEADER_LEN..HEADER_LEN + 32];
            if self.opts.deferred && self.digest.is_none() {
                // Asked once, when every byte is acknowledged; kept for COMMIT's repeats.
                if !self.digest_in_frame {
                    self.asked_digest = true;
                    return Action::Digest { at: HEADER_LEN };
                }
                self.digest = digest.try_into().ok();
            }
            self.send = false;
            // The answer waits for the read-back of the whole image, which no round trip
            // predicts: the adaptive timer's longest timeout.
            let wait = self.rtt.map_or(self.rto, |rtt| rtt.max);
            self.deadline = now_ms.wrapping_add(wait);
            let len = match self.digest {
                Some(sha256) if self.id.flags & flags::DIGEST_AT_COMMIT != 0 => {
                    digest.copy_from_slice(&sha256);
                    32
                }
                _ => 0,
            };
            return self.emit(frame, kind::COMMIT, len);
        }
        if reached(now_ms, self.deadline) {
            self.retry();
            return self.poll(now_ms, frame);
        }
        Action::wait(self.deadline)
    }

    /// OPEN's payload, written to `p`; returns its length.
    fn open_payload(&self, p: &mut [u8]) -> usize {
        let (comp, ver) = (self.id.component(), self.id.version());
        p[0] = VERSION;
        p[1] = self.id.flags
            | if self.delta.is_some() { DELTA } else { 0 }
            | if self.opts.require_signature {
                SIGNED
            } else {
                0
            };
        p[2..6].copy_from_slice(&self.id.size.to_le_bytes());
        p[6..38].copy_from_slice(&self.id.key);
        p[38] = comp.len() as u8;
        p[39..39 + comp.len()].copy_from_slice(comp);
        let v = 39 + comp.len();
        p[v] = ver.len() as u8;
        p[v + 1..v + 1 + ver.len()].copy_from_slice(ver);
        let end = v + 1 + ver.len();
        match &self.delta {
            Some(d) => {
                d.write(&mut p[end..]);
                end + DeltaOpen::LEN
            }
            None => end,
        }
    }

    /// Frames the `len` payload bytes already in `frame` and asks the driver to send them.
    fn emit(&mut self, frame: &mut [u8], kind: u8, len: usize) -> Action {
        if kind == kind::ABORT {
            frame[HEADER_LEN] = 0;
        }
        match frame::seal(frame, kind, len) {
            Some(n) => {
                self.stats.line_bytes += n as u64;
                Action::Send(n)
            }
            None => {
                self.fail(Fail::Usage);
                Action::Failed(Fail::Usage)
            }
        }
    }
}

/// A DATA frame of `payload` bytes on an 8N1 line at `baud` (0: unknown, 0 ms), rounded up.
fn frame_ms(payload: u32, baud: u32) -> u32 {
    if baud == 0 {
        return 0;
    }
    let bits = u64::from(payload + (OVERHEAD + 4) as u32) * 10 * 1000;
    bits.div_ceil(u64::from(baud)) as u32
}

impl transfer::Sender for Sender {
    fn poll(&mut self, now_ms: u32, frame: &mut [u8]) -> Action {
        if let Phase::Failed(fail) = self.phase {
            if self.abort_pending && frame.len() > OVERHEAD {
                self.abort_pending = false;
                return self.emit(frame, kind::ABORT, 1);
            }
            return Action::Failed(fail);
        }
        if self.phase == Phase::Done {
            return Action::Done;
        }
        if frame.len() < MAX_FRAME || self.reading.is_some() || self.asked_digest {
            self.fail(Fail::Usage);
            return self.poll(now_ms, frame);
        }
        match self.phase {
            Phase::Open => self.poll_open(now_ms, frame),
            Phase::Data => self.poll_data(now_ms, frame),
            _ => self.poll_commit(now_ms, frame),
        }
    }

    fn receive(&mut self, now_ms: u32, bytes: &[u8]) {
        let mut used = 0;
        // Until the parser wants more: after a resync, frames can wait in its buffer.
        loop {
            let (n, ready) = self.parser.feed(&bytes[used..]);
            used += n;
            if !ready {
                break;
            }
            if let Some((kind, payload)) = self.parser.frame() {
                let mut p = [0u8; 16];
                let len = payload.len().min(p.len());
                p[..len].copy_from_slice(&payload[..len]);
                self.answer(now_ms, kind, &p[..len]);
            }
        }
    }

    fn provide(&mut self, n: usize) {
        if self.asked_digest {
            self.asked_digest = false;
            self.digest_in_frame = n == 32;
            match n {
                32 => {}
                0..32 => self.fail(Fail::Source), // the image failed its check
                _ => self.fail(Fail::Usage),
            }
            return;
        }
        match self.reading.take() {
            Some((offset, len)) if n == len => self.filled = Some((offset, len)),
            Some((_, len)) if n < len => self.fail(Fail::Source),
            _ => self.fail(Fail::Usage),
        }
    }

    fn cancel(&mut self) {
        if !matches!(self.phase, Phase::Done | Phase::Failed(_)) {
            self.fail(Fail::Cancelled);
        }
    }
}
