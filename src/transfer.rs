//! What every sans-IO image sender (YMODEM, the native protocol) shares: the actions it
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
//!         Action::Wait { until_ms, expects } => wait for input (sender.receive(now_ms,
//!                                          bytes)) or until until_ms; about `expects` bytes
//!                                          of the answer are still to come (0: unknown),
//!         Action::Digest { at }          => the image is all acknowledged: check it and
//!                                          write its SHA-256 to frame[at..at+32], then
//!                                          sender.provide(32), or provide(0) if it failed,
//!         Action::Done                   => finished: the receiver has the whole image,
//!         Action::Failed(fail)           => give up with `fail`,
//!     }
//! }
//! ```
//!
//! Image bytes go straight into the frame buffer, where the sender frames them in place:
//! no copy and no allocation per block. `now_ms` is milliseconds on any clock that does not
//! go backwards during one transfer (the driver passes time since the transfer started).
//! [`drive`] is that loop for Rust hosts, over an [`Io`].

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
    /// The caller gives up (a user's Ctrl-C): the next polls send what tells the receiver
    /// to stop (YMODEM: CANs; native: ABORT, which keeps the receiver's resume record), then
    /// give [`Fail::Cancelled`]. A sender may first wait for the answer it is owed (a
    /// receiver busy with a frame may not be reading its UART). Call it between steps, not
    /// while a `Read` is outstanding; nothing happens after `Done` or `Failed`.
    fn cancel(&mut self);
}

/// What [`drive`] needs from its surroundings: a clock, the line and the image.
pub trait Io {
    type Error;
    /// Milliseconds on a clock that does not go backwards during the transfer.
    fn now_ms(&mut self) -> u32;
    /// Writes all of `bytes` to the line.
    fn write(&mut self, bytes: &[u8]) -> Result<(), Self::Error>;
    /// Reads what the line has into `buf`, waiting at most until `until_ms` for the first
    /// byte; 0 when nothing came (returning early with 0 is allowed: the driver polls again).
    /// About `expects` bytes of the answer are still to come (0: unknown): once the first
    /// arrived, a line that knows its speed may sleep through the rest and take them in one
    /// read rather than wake for each.
    fn read(&mut self, buf: &mut [u8], until_ms: u32, expects: usize)
        -> Result<usize, Self::Error>;
    /// Reads image bytes from `offset` into `buf`; fewer than `buf.len()` only at its end.
    fn read_image(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, Self::Error>;
    /// The image's SHA-256 after its final check, for a sender made for an image checked
    /// only at its end (a stream: see [`Action::Digest`]); `None` if it failed the check or
    /// cannot be had (the default: a host's image is checked before it is sent).
    fn image_digest(&mut self) -> Option<[u8; 32]> {
        None
    }
}

/// Why [`drive`] ended without the receiver acknowledging the image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop<E> {
    /// The sender failed (after it sent what stops the receiver).
    Failed(Fail),
    /// The line or the image failed. An image read error has also failed the sender with
    /// [`Fail::Source`] and sent its abort; a line error ends at once.
    Io(E),
}

/// The driver loop of the module doc, for Rust hosts (the `qsota` command, the simulator's
/// tests): runs `sender` to its end over `io` with the caller's frame buffer (at least the
/// sender's frame size) and receive buffer. `stop` is asked after every step whether the
/// caller wants to give up (it sees the sender, so it can stop at a state as well as on a
/// signal); once it says yes the sender is cancelled (see [`Sender::cancel`]).
pub fn drive<S: Sender + ?Sized, I: Io>(
    sender: &mut S,
    io: &mut I,
    frame: &mut [u8],
    rx: &mut [u8],
    mut stop: impl FnMut(&S) -> bool,
) -> Result<(), Stop<I::Error>> {
    let mut cancelled = false;
    let mut source_error = None;
    loop {
        if !cancelled && stop(sender) {
            cancelled = true;
            sender.cancel();
        }
        let now = io.now_ms();
        match sender.poll(now, frame) {
            Action::Send(n) => io.write(&frame[..n]).map_err(Stop::Io)?,
            Action::Read { offset, at, len } => {
                match io.read_image(offset, &mut frame[at..at + len]) {
                    Ok(n) => sender.provide(n),
                    Err(e) => {
                        source_error = Some(e);
                        sender.provide(0);
                    }
                }
            }
            Action::Wait { until_ms, expects } => {
                let n = io.read(rx, until_ms, expects).map_err(Stop::Io)?;
                if n > 0 {
                    let now = io.now_ms();
                    sender.receive(now, &rx[..n]);
                }
            }
            Action::Digest { at } => match io.image_digest() {
                Some(digest) => {
                    frame[at..at + 32].copy_from_slice(&digest);
                    sender.provide(32);
                }
                None => sender.provide(0),
            },
            Action::Done => return Ok(()),
            Action::Failed(fail) => {
                return Err(source_error.map_or(Stop::Failed(fail), Stop::Io));
            }
        }
    }
}

/// `now` is at or after `deadline` on a wrapping millisecond clock.
pub(crate) fn reached(now: u32, deadline: u32) -> bool {
    now.wrapping_sub(deadline) as i32 >= 0
}

/// What the driver should do next.
#[must_use = "an action is what the driver must do next"]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Write the first `n` bytes of the frame buffer to the line, then poll again.
    Send(usize),
    /// Read `len` image bytes starting at image offset `offset` into the frame buffer at
    /// `at`, then call `provide` with the number of bytes read (fewer only at end of file).
    Read { offset: u64, at: usize, len: usize },
    /// Nothing to send: feed received bytes with `receive`, or poll again at `until_ms`.
    /// `expects` is how many more bytes the answer being waited for needs, where the sender
    /// knows (the ROM bootloader's 257-byte read), else 0: a driver that wakes at the first
    /// byte of an answer can sleep through the rest instead of guessing it.
    Wait { until_ms: u32, expects: usize },
    /// Only from a sender made for an image that is checked at its end (a stream, whose
    /// bytes went to the receiver as they arrived), once the receiver has acknowledged every
    /// byte and before the step that makes it take the image (the native protocol's COMMIT,
    /// YMODEM's EOT): run the image's final check, write its SHA-256 (32 bytes) into the
    /// frame buffer at `at` and call `provide(32)`, or `provide(0)` if the check failed. The
    /// sender then stops the receiver, which keeps its old firmware, and fails with
    /// [`Fail::Source`].
    Digest { at: usize },
    /// The receiver acknowledged the whole image.
    Done,
    /// The transfer failed; the sender has already queued what tells the receiver to stop.
    Failed(Fail),
}

impl Action {
    /// A [`Action::Wait`] until `until_ms` for an answer of unknown length (or none).
    pub const fn wait(until_ms: u32) -> Action {
        Action::Wait {
            until_ms,
            expects: 0,
        }
    }
}

/// The contract of [`Sender::provide`] for a sender's pending `reading` (whose length
/// `len` gives): `n` must be that length; fewer means the source ended early
/// ([`Fail::Source`]), no read pending or more is misuse ([`Fail::Usage`]). The read ends
/// either way; on success it is returned, to be sent.
pub(crate) fn provided<T>(
    reading: &mut Option<T>,
    n: usize,
    len: impl Fn(&T) -> usize,
) -> Result<T, Fail> {
    match reading.take() {
        Some(read) if n == len(&read) => Ok(read),
        Some(read) if n < len(&read) => Err(Fail::Source),
        _ => Err(Fail::Usage),
    }
}

/// Counts another try of a step, or says why the step failed once `limit` retries are
/// spent: [`Fail::Retries`] when the receiver was `heard` since the step began, else
/// [`Fail::Timeout`]. The YMODEM and MCUboot senders' retry rule.
pub(crate) fn try_again(tries: &mut u8, limit: u8, heard: bool) -> Result<(), Fail> {
    if *tries >= limit {
        return Err(if heard { Fail::Retries } else { Fail::Timeout });
    }
    *tries += 1;
    Ok(())
}

/// Why a transfer failed. Python sees `TransferError.code`, the name from [`Fail::name`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fail {
    /// The receiver did not answer in time (it never started, or went silent).
    Timeout,
    /// The receiver cancelled (for YMODEM: two CAN bytes), or the caller did
    /// ([`Sender::cancel`]).
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
    /// Every failure, in the order of the C ABI's `QSOTA_FAIL_*` codes (1 to 7).
    pub const ALL: [Fail; 7] = [
        Fail::Timeout,
        Fail::Cancelled,
        Fail::Retries,
        Fail::Protocol,
        Fail::Source,
        Fail::Rejected,
        Fail::Usage,
    ];

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

    /// What the failure means, the start of every failure's message (`qsota.TransferError`
    /// and the `qsota` command's).
    pub const fn message(self) -> &'static str {
        match self {
            Fail::Timeout => "the receiver did not answer",
            Fail::Cancelled => "the receiver cancelled the transfer",
            Fail::Retries => "too many retransmissions",
            Fail::Protocol => "the receiver broke the protocol",
            Fail::Source => "the source gave fewer bytes than its size",
            Fail::Rejected => "the receiver refused the image",
            Fail::Usage => "the sender was misused",
        }
    }
}
