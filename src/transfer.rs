//! What every sans-IO image sender (YMODEM, the native link protocol) shares: the actions it
//! asks its driver for, and why a transfer failed.
//!
//! A sender never reads, writes, sleeps or looks at a clock. The driver (Python's
//! `qsota.send`, a C loop, the host simulator) owns one frame buffer and loops:
//!
//! ```text
//! loop {
//!     match sender.poll(now_ms, &mut frame) {
//!         Action::Send(n)               => write frame[..n] to the line,
//!         Action::Read { offset, at, len } => read image bytes [offset, offset+len) into
//!                                          frame[at..at+len], then sender.provide(got),
//!         Action::Wait { until_ms }      => wait for input (sender.receive(now_ms, bytes))
//!                                          or until until_ms,
//!         Action::Done                   => finished: the receiver has the whole image,
//!         Action::Failed(fail)           => give up with `fail`,
//!     }
//! }
//! ```
//!
//! Image bytes go straight into the frame buffer, where the sender frames them in place:
//! no copy and no allocation per block. `now_ms` is milliseconds on any clock that does not
//! go backwards during one transfer (the driver passes time since the transfer started).

/// A sans-IO image sender: what the driver loop above calls.
pub trait Sender {
    /// What to do next; `frame` is the driver's frame buffer (at least the sender's frame
    /// size), whose contents belong to the sender between calls.
    fn poll(&mut self, now_ms: u32, frame: &mut [u8]) -> Action;
    /// Feeds bytes received from the line at `now_ms`.
    fn receive(&mut self, now_ms: u32, bytes: &[u8]);
    /// After [`Action::Read`]: the number of image bytes read (fewer only at the end of the
    /// source, which fails the transfer with [`Fail::Source`]).
    fn provide(&mut self, n: usize);
}

/// `now` is at or after `deadline` on a wrapping millisecond clock.
pub(crate) fn reached(now: u32, deadline: u32) -> bool {
    now.wrapping_sub(deadline) as i32 >= 0
}

/// What the driver should do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Write the first `n` bytes of the frame buffer to the line, then poll again.
    Send(usize),
    /// Read `len` image bytes starting at image offset `offset` into the frame buffer at
    /// `at`, then call `provide` with the number of bytes read (fewer only at end of file).
    Read { offset: u64, at: usize, len: usize },
    /// Nothing to send: feed received bytes with `receive`, or poll again at `until_ms`.
    Wait { until_ms: u32 },
    /// The receiver acknowledged the whole image.
    Done,
    /// The transfer failed; the sender has already queued what tells the receiver to stop.
    Failed(Fail),
}

/// Why a transfer failed. Python sees `TransferError.code`, the name from [`Fail::name`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fail {
    /// The receiver did not answer in time (it never started, or went silent).
    Timeout,
    /// The receiver cancelled (for YMODEM: two CAN bytes).
    Cancelled,
    /// A block or frame was rejected more times than the retry limit allows.
    Retries,
    /// The receiver answered something the protocol does not allow.
    Protocol,
    /// The image source gave fewer bytes than its declared size.
    Source,
    /// The receiver refused the image (native protocol: wrong size, no space, bad digest).
    Rejected,
    /// The caller misused the sender (wrong frame buffer size, `provide` out of turn).
    Usage,
}

impl Fail {
    /// The failure's name, as Python's `TransferError.code`.
    pub const fn name(self) -> &'static str {
        match self {
            Fail::Timeout => "timeout",
            Fail::Cancelled => "cancelled",
            Fail::Retries => "retries",
            Fail::Protocol => "protocol",
            Fail::Source => "source",
            Fail::Rejected => "rejected",
            Fail::Usage => "usage",
        }
    }
}
