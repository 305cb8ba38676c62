//! Sans-IO client for MCUboot's serial recovery: SMP image upload over the console UART
//! (MCUboot `boot/boot_serial/src/boot_serial.c`; framing in [`console`]).
//!
//! Steps, each a request answered by the MCU (retransmitted after `timeout_ms`, at most
//! `retries` times):
//! 1. `enter` (optional): `os reset` with `boot_mode: 1` to the application's SMP server,
//!    then `boot_ms` of ignoring the line while the MCU restarts into MCUboot (a Zephyr
//!    application answers and keeps running for 250 ms before it resets);
//! 2. `params` (`os` 6): MCUboot's receive buffer (`buf_size`); a bootloader built without
//!    it answers "not supported", and MCUboot's default of 512 bytes is used. Each request
//!    is then as large as that buffer (and `Options::buf_size`) allows;
//! 3. probe (`resume`): an upload request at offset `size` without data, which MCUboot
//!    answers with the offset it expects (0 when no upload is under way), so that a new
//!    send continues an interrupted one;
//! 4. upload (`img` 1): `{image, len, off: 0, sha, data}` first (MCUboot erases the slot),
//!    then `{off, data}`. Every answer carries the next offset MCUboot wants, and the next
//!    request starts there: a lost answer, a retransmission of a request MCUboot already
//!    wrote, or a chunk it shortened to its flash alignment costs bytes, never the image;
//! 5. list (`img` 0): MCUboot lists an image only after it validated it (hash and
//!    signature); the slot must list the image's own SHA-256 (its hash TLV, `hash`).
//!    A resumed upload that does not validate (the interrupted one was another image) is
//!    sent once more from offset 0;
//! 6. `reset` (optional): MCUboot boots the image. Its answer may be lost on the way; after
//!    two unanswered tries the transfer still counts as done (the image is verified).
//!
//! [`Sender::lister`] makes a sender that uploads nothing: `params`, then the list, whose
//! entries [`each_listed`] reads from [`Sender::image_list`] (what `qsota probe` shows).
//!
//! In recovery the upload goes straight into the primary slot: from the first chunk on, the
//! old application is gone, and the MCU stays in MCUboot until a valid image is in place.
//!
//! The sender's parts: `transmit` puts the current step's request out, `steps` decides
//! what MCUboot's answer leads to; `request` and `answer` are the requests' and answers'
//! bytes.

mod answer;
pub(crate) mod cbor;
pub mod console;
mod request;
mod steps;
mod transmit;

use crate::transfer::{self, provided, reached, try_again, Action, Fail};
use crate::Error;
use answer::parse;
pub use answer::{each_listed, Listed};
use console::{encoded_len, HEADER};
use request::Req;

/// The largest request sent when `Options::buf_size` is 0.
pub(crate) const DEFAULT_BUF: u16 = 2048;
/// The smallest request buffer that holds a first upload request with data.
pub(crate) const MIN_BUF: u16 = 128;
/// Unanswered resets after which the transfer counts as done.
const RESET_TRIES: u8 = 2;

/// Tuning; see the module doc for what each step does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Image number (multi-image MCUboot), sent in the first chunk.
    pub image: u8,
    /// The largest request (its decoded length on the line, as MCUboot's `buf_size`
    /// counts it), 128 to 65535; 0: [`DEFAULT_BUF`], or 512 without `params`.
    pub buf_size: u16,
    /// Ask the application to reset into MCUboot first (`os reset`, boot mode 1).
    pub enter: bool,
    /// Continue an upload MCUboot has under way (see the module doc).
    pub resume: bool,
    /// Reset the MCU after the image is verified.
    pub reset: bool,
    /// Wait for an answer (ms).
    pub timeout_ms: u32,
    /// Wait for the answer to the first chunk (MCUboot erases the slot first) and to the
    /// image list (it hashes and checks the whole image) (ms).
    pub erase_timeout_ms: u32,
    /// After `enter`: time for the MCU to restart into MCUboot (ms).
    pub boot_ms: u32,
    /// Retransmissions of one request before giving up.
    pub retries: u8,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            image: 0,
            buf_size: 0,
            enter: false,
            resume: true,
            reset: true,
            timeout_ms: 3000,
            erase_timeout_ms: 30_000,
            boot_ms: 1000,
            retries: 10,
        }
    }
}

impl Options {
    fn validate(&self) -> Result<(), Error> {
        if self.buf_size != 0 && self.buf_size < MIN_BUF {
            return Err(Error::Range);
        }
        let times = [self.timeout_ms, self.erase_timeout_ms, self.boot_ms];
        if times.iter().any(|&t| t == 0 || t > i32::MAX as u32) {
            return Err(Error::Range);
        }
        Ok(())
    }

    fn cap(&self) -> u16 {
        if self.buf_size == 0 {
            DEFAULT_BUF
        } else {
            self.buf_size
        }
    }
}

/// Where the transfer is (`Stats::step`), for messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Step {
    Enter = 0,
    Boot = 1,
    Params = 2,
    Probe = 3,
    Upload = 4,
    List = 5,
    Reset = 6,
    Done = 7,
}

impl Step {
    /// Every step, in code order.
    pub const ALL: [Step; 8] = [
        Step::Enter,
        Step::Boot,
        Step::Params,
        Step::Probe,
        Step::Upload,
        Step::List,
        Step::Reset,
        Step::Done,
    ];

    /// The step's name, for messages.
    pub const fn name(self) -> &'static str {
        match self {
            Step::Enter => "enter",
            Step::Boot => "boot",
            Step::Params => "params",
            Step::Probe => "probe",
            Step::Upload => "upload",
            Step::List => "list",
            Step::Reset => "reset",
            Step::Done => "done",
        }
    }
}

/// What MCUboot's `rc` (its `MGMT_ERR_*` code) means, for messages; "?" for a code it does
/// not define (they run from 0 to 10).
pub const fn rc_text(rc: i32) -> &'static str {
    match rc {
        0 => "ok",
        1 => "unknown error",
        2 => "out of memory",
        3 => "invalid request (offset, size or image)",
        4 => "timeout",
        5 => "no such image or slot",
        6 => "bad state",
        7 => "message too large",
        8 => "not supported",
        9 => "image corrupt",
        10 => "busy",
        _ => "?",
    }
}

/// Counters for the caller's report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stats {
    /// Image bytes MCUboot has written (the offset it last asked for).
    pub bytes: u64,
    /// Requests written, retransmissions included.
    pub frames: u64,
    /// Retransmissions, answers that made no progress, restarts.
    pub retries: u64,
    /// Bytes written to the line.
    pub line_bytes: u64,
    /// Upload requests that moved MCUboot's offset.
    pub chunks: u64,
    /// The offset a probe continued from (0: a fresh upload).
    pub resumed_from: u64,
    /// Image bytes sent more than once.
    pub resent_bytes: u64,
    /// The request size in use (after `params`; 0 before).
    pub buf_size: u16,
    /// Image bytes in a full upload request.
    pub chunk: u16,
    /// MCUboot's last error code (`rc`), 0 if none.
    pub rc: i32,
    /// The step in progress, or the one that failed.
    pub step: Step,
    /// The image hash MCUboot listed for the slot (valid when `listed`).
    pub hash: [u8; 32],
    /// MCUboot listed the uploaded image as valid.
    pub listed: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Waiting for the MCU to restart into MCUboot until `deadline`.
    Boot,
    /// A request of this step is out (or due).
    Request(Step),
    Done,
    Failed(Fail),
}

/// An SMP (MCUboot serial recovery) sender for one image of `size` bytes.
#[derive(Clone, Debug)]
pub struct Sender {
    opts: Options,
    size: u64,
    /// SHA-256 of the whole file, sent in the first chunk.
    sha: [u8; 32],
    /// The image's own hash (its SHA-256 TLV), which MCUboot lists once it validated it.
    hash: [u8; 32],
    phase: Phase,
    /// The request in the frame buffer.
    req: Req,
    seq: u8,
    /// The next poll must (re)send the request.
    send: bool,
    /// Length of the framed request in the frame buffer, ready to resend.
    framed: Option<usize>,
    /// A `Read` of this many bytes is out.
    reading: Option<usize>,
    /// The frame holds the image bytes of the next upload request, not yet framed.
    filled: bool,
    /// The offset the next upload request starts at, and its data length.
    off: u64,
    len: usize,
    /// Request size in use.
    buf: u16,
    /// The probe found the whole image already written (verified before anything is sent).
    complete: bool,
    /// The upload was restarted from 0 after a resumed one failed.
    restarted: bool,
    /// Made by [`Sender::lister`]: done once MCUboot answered the image list.
    list_only: bool,
    tries: u8,
    heard: bool,
    deadline: u32,
    decoder: console::Decoder,
    stats: Stats,
}

impl Sender {
    /// A sender for an image of `size` bytes (1 to 2^32-1) whose file has the SHA-256
    /// `sha` and whose hash TLV (what MCUboot lists) is `hash`.
    pub fn new(size: u64, sha: [u8; 32], hash: [u8; 32], opts: Options) -> Result<Self, Error> {
        opts.validate()?;
        if size == 0 || size > u64::from(u32::MAX) {
            return Err(Error::Range);
        }
        Ok(Sender {
            opts,
            size,
            sha,
            hash,
            phase: Phase::Request(if opts.enter {
                Step::Enter
            } else {
                Step::Params
            }),
            req: (0, 0, 0, 0),
            seq: 0,
            send: true,
            framed: None,
            reading: None,
            filled: false,
            off: 0,
            len: 0,
            buf: 0,
            complete: false,
            restarted: false,
            list_only: false,
            tries: 0,
            heard: false,
            deadline: 0,
            decoder: console::Decoder::new(),
            stats: Stats {
                bytes: 0,
                frames: 0,
                retries: 0,
                line_bytes: 0,
                chunks: 0,
                resumed_from: 0,
                resent_bytes: 0,
                buf_size: 0,
                chunk: 0,
                rc: 0,
                step: if opts.enter {
                    Step::Enter
                } else {
                    Step::Params
                },
                hash: [0; 32],
                listed: false,
            },
        })
    }

    /// A sender that uploads nothing: after `params` (and `enter`, if asked) it asks for the
    /// image list and is done when MCUboot answers it; then [`Sender::image_list`] has it.
    pub fn lister(opts: Options) -> Result<Self, Error> {
        let mut s = Sender::new(1, [0; 32], [0; 32], opts)?;
        s.list_only = true;
        Ok(s)
    }

    /// A lister's answer once it is done: the CBOR body of MCUboot's image list, for
    /// [`each_listed`].
    pub fn image_list(&self) -> Option<&[u8]> {
        if !self.list_only || self.phase != Phase::Done {
            return None;
        }
        self.decoder.last().map(|p| &p[HEADER..])
    }

    /// The frame buffer size `poll` needs: the largest request's lines.
    pub fn frame_size(&self) -> usize {
        encoded_len(usize::from(self.opts.cap()))
    }

    /// Counters so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    fn fail(&mut self, fail: Fail) {
        self.phase = Phase::Failed(fail);
        self.send = false;
        self.reading = None;
    }

    /// Moves to `step`: its request goes out at the next poll.
    fn begin(&mut self, step: Step) {
        self.phase = Phase::Request(step);
        self.stats.step = step;
        self.framed = None;
        self.filled = false;
        self.send = true;
        self.tries = 0;
        self.heard = false;
    }

    fn retry(&mut self) {
        self.stats.retries += 1;
        match try_again(&mut self.tries, self.opts.retries, self.heard) {
            Ok(()) => self.send = true,
            Err(fail) => self.fail(fail),
        }
    }

    /// The next upload request starts at `off` (from MCUboot's answer).
    fn upload_from(&mut self, off: u64) {
        self.off = off;
        self.begin(Step::Upload);
    }
}

impl transfer::Sender for Sender {
    fn poll(&mut self, now_ms: u32, frame: &mut [u8]) -> Action {
        match self.phase {
            Phase::Failed(fail) => return Action::Failed(fail),
            Phase::Done => return Action::Done,
            _ => {}
        }
        if frame.len() < self.frame_size() || self.reading.is_some() {
            self.fail(Fail::Usage);
            return Action::Failed(Fail::Usage);
        }
        if self.send {
            return self.transmit(now_ms, frame);
        }
        if !reached(now_ms, self.deadline) {
            return Action::wait(self.deadline);
        }
        match self.phase {
            Phase::Boot => {
                self.decoder = console::Decoder::new();
                self.begin(Step::Params);
            }
            Phase::Request(Step::Reset) if self.tries + 1 >= RESET_TRIES => {
                self.phase = Phase::Done;
                self.stats.step = Step::Done;
            }
            _ => self.retry(),
        }
        self.poll(now_ms, frame)
    }

    fn receive(&mut self, now_ms: u32, bytes: &[u8]) {
        for &b in bytes {
            let Some(packet) = self.decoder.byte(b) else {
                continue;
            };
            // Answers count only to a request that is out; during Boot the line is noise.
            let out = self.framed.is_some() && !self.send;
            if !out || !matches!(self.phase, Phase::Request(_)) {
                continue;
            }
            if let Some(a) = parse(packet, self.req, self.opts.image) {
                self.answer(now_ms, a);
            }
        }
    }

    fn provide(&mut self, n: usize) {
        match provided(&mut self.reading, n, |&len| len) {
            Ok(_) => self.filled = true,
            Err(fail) => self.fail(fail),
        }
    }

    /// SMP has no abort: requests go out whole, so stopping at once leaves MCUboot waiting
    /// for the next one, with the offset it holds (a new send resumes there in this boot).
    fn cancel(&mut self) {
        if !matches!(self.phase, Phase::Done | Phase::Failed(_)) {
            self.fail(Fail::Cancelled);
        }
    }
}

#[cfg(test)]
mod tests;
