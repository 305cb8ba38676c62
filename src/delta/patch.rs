//! A detools sequential patch, applied as it arrives.
//!
//! Layout: one byte `p1u3u4` (pad, patch type 0 = sequential, compression), the target's
//! size (a [`Size`] field), then, compressed unless the target is empty: for heatshrink its
//! parameter byte; the data-format patch's size (0: qsota applies no data-format patches);
//! then chunks until the target is complete: a diff size and that many bytes added to the
//! base's bytes from the current base offset, an extra size and that many bytes copied, and
//! an adjustment added to the base offset. The patch ends with the last adjustment.
//!
//! The output goes through one [`PIECE`]-byte buffer: the base bytes a diff needs are read
//! into it and the diff added in place, extra bytes are copied into it, and it is written
//! when full and at the end. So the base is read and the target written in pieces of at most
//! [`PIECE`] bytes, the same pieces whatever the patch's chunking on arrival.
//!
//! [`Applier::push_within`] bounds what one push writes (a run of one byte or a
//! back-reference can yield far more than a few patch bytes suggest): the applier stops
//! taking input once the room left is below a piece, keeping what it still has to emit for
//! the next push. The output is the same, in the same pieces.

use super::decode::{Crle, Flow, Heatshrink, Size};
use super::fault::{Fault, Latch};
use super::io::{Base, Io, IoError, Sink};

/// The output buffer's size: the largest piece read from the base or written to the target.
pub const PIECE: usize = 256;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Step {
    /// The first byte (patch type, compression).
    Kind,
    ToSize,
    /// heatshrink's parameter byte, the first of the compressed stream.
    Params,
    DataFormat,
    DiffSize,
    Diff,
    ExtraSize,
    Extra,
    Adjust,
    Done,
}

enum Codec {
    None,
    Crle(Crle),
    /// heatshrink before its parameter byte.
    HeatshrinkParams,
    Heatshrink(Heatshrink),
}

/// The bsdiff layer: sizes, diff and extra bytes, adjustments, and the output buffer.
struct Body {
    step: Step,
    size: Size,
    base_len: u32,
    limit: u32,
    to_size: u32,
    to_pos: u32,
    /// Bytes left in the current diff or extra chunk.
    left: u32,
    /// The current chunk has diff or extra bytes (a chunk that does nothing is malformed:
    /// that bounds the work a few patch bytes can cause).
    moved: bool,
    /// The base offset of the next diff byte (adjustments may take it below 0 for a while).
    from: i64,
    /// Output bytes ready in `buf`.
    fill: usize,
    /// `buf[fill..loaded]` holds base bytes that diff bytes are still to be added to.
    loaded: usize,
    /// Bytes the sink may still take in this push.
    room: u32,
    /// The codec stopped on a full output with bytes still to emit.
    stalled: bool,
    buf: [u8; PIECE],
}

/// Applies one detools sequential patch (see the module's doc).
pub struct Applier<'w> {
    window: &'w mut [u8],
    codec: Codec,
    body: Body,
    latch: Latch,
}

impl<'w> Applier<'w> {
    /// An applier for a patch against a base of `base_len` bytes giving at most `limit`
    /// bytes; `window` holds the heatshrink window (2^window bytes; empty is fine for the
    /// other compressions).
    pub fn new(window: &'w mut [u8], base_len: u32, limit: u32) -> Applier<'w> {
        Applier {
            window,
            codec: Codec::None,
            body: Body {
                step: Step::Kind,
                size: Size::default(),
                base_len,
                limit,
                to_size: 0,
                to_pos: 0,
                left: 0,
                moved: false,
                from: 0,
                fill: 0,
                loaded: 0,
                room: 0,
                stalled: false,
                buf: [0; PIECE],
            },
            latch: Latch::default(),
        }
    }

    /// A new patch in the same window buffer (an MCU's receiver starting over).
    pub fn reset(&mut self, base_len: u32, limit: u32) {
        let window = core::mem::take(&mut self.window);
        *self = Applier::new(window, base_len, limit);
    }

    /// The target's size, once the patch has stated it.
    pub fn target_size(&self) -> Option<u32> {
        match self.body.step {
            Step::Kind | Step::ToSize => None,
            _ => Some(self.body.to_size),
        }
    }

    /// The patch is complete (the whole target is written).
    pub fn is_done(&self) -> bool {
        self.latch.fault().is_none() && self.body.step == Step::Done
    }

    /// Takes the next patch bytes, reading the base and writing the target as they say.
    pub fn push(&mut self, data: &[u8], io: &mut impl Io) -> Result<(), Fault> {
        self.push_within(data, io, u32::MAX).map(|_| ())
    }

    /// As [`Applier::push`], writing at most `room` bytes: returns how many of `data` it
    /// took. It stops early only when less than a [`PIECE`] of room is left, so `room` of
    /// at least a piece always makes progress (a push of no bytes emits what an earlier one
    /// left over).
    pub fn push_within(
        &mut self,
        data: &[u8],
        io: &mut impl Io,
        room: u32,
    ) -> Result<usize, Fault> {
        let (window, codec, body) = (&mut *self.window, &mut self.codec, &mut self.body);
        self.latch.run(|| take(window, codec, body, data, io, room))
    }

    /// Ends the patch: the size of the target, all of it written, or why not.
    pub fn finish(&mut self) -> Result<u32, Fault> {
        let body = &self.body;
        self.latch.run(|| match body.step {
            Step::Done => Ok(body.to_size),
            _ => Err(Fault::Truncated),
        })
    }

    /// The output buffer, as scratch space before the patch starts (the package hashes the
    /// base through it).
    pub(super) fn scratch(&mut self) -> &mut [u8] {
        &mut self.body.buf
    }
}

/// The target's size a patch states in its first bytes (its kind byte and size field: at
/// most 6 bytes are read); `Truncated` if `patch` ends before it.
pub fn target_size(patch: &[u8]) -> Result<u32, Fault> {
    struct Nothing;
    impl Base for Nothing {
        fn read(&mut self, _: u32, _: &mut [u8]) -> Result<(), IoError> {
            Err(IoError)
        }
    }
    impl Sink for Nothing {
        fn write(&mut self, _: &[u8]) -> Result<(), IoError> {
            Err(IoError)
        }
    }
    let mut a = Applier::new(&mut [], 0, u32::MAX);
    for &b in patch {
        a.push(&[b], &mut Nothing)?;
        if let Some(n) = a.target_size() {
            return Ok(n);
        }
    }
    Err(Fault::Truncated)
}

/// The window a patch needs, from its first bytes: 2^window bytes of its heatshrink
/// parameter byte; 0 for compression none or crle, an empty target, or a patch [`Applier`]
/// refuses (it says why when it is pushed); None until `patch` holds the byte that tells
/// (the kind byte, or heatshrink's parameter byte: at most 7 bytes are read). A caller
/// with no fixed window sizes its buffer so. Read here rather than through an [`Applier`],
/// whose code a second [`Io`] would copy.
pub fn window_len(patch: &[u8]) -> Option<usize> {
    let (&kind, rest) = patch.split_first()?;
    if kind != 0x04 {
        return Some(0); // not heatshrink in a sequential patch
    }
    let mut size = Size::default();
    for (i, &b) in rest.iter().enumerate() {
        match size.feed(b) {
            Ok(None) => continue,
            Ok(Some(n)) if n > 0 => {
                let bits = (rest.get(i + 1)? >> 4) + 4;
                return Some(if bits <= 15 { 1 << bits } else { 0 });
            }
            _ => return Some(0),
        }
    }
    None
}

/// Takes patch bytes: the first ones here, the rest through the codec to the body; returns
/// how many it took.
fn take(
    window: &mut [u8],
    codec: &mut Codec,
    body: &mut Body,
    data: &[u8],
    io: &mut impl Io,
    room: u32,
) -> Result<usize, Fault> {
    if room < PIECE as u32 {
        return Ok(0);
    }
    body.room = room;
    if body.stalled {
        body.stalled = false;
        let emit = &mut |x| body.put(x, io);
        let flow = match codec {
            Codec::Crle(crle) => crle.run(emit)?,
            Codec::Heatshrink(hs) => hs.run(window, emit)?,
            _ => Flow::More,
        };
        if flow == Flow::Full {
            body.stalled = true;
            return Ok(0);
        }
    }
    for (i, &b) in data.iter().enumerate() {
        let flow = match body.step {
            Step::Kind => {
                *codec = body.kind(b)?;
                Flow::More
            }
            Step::ToSize => {
                body.target_size(b, matches!(codec, Codec::HeatshrinkParams))?;
                Flow::More
            }
            Step::Params => {
                *codec = Codec::Heatshrink(Heatshrink::new(b, window)?);
                body.step = Step::DataFormat;
                Flow::More
            }
            Step::Done => return Err(Fault::Trailing),
            _ => {
                let emit = &mut |x| body.put(x, io);
                match codec {
                    Codec::None => emit(b)?,
                    Codec::Crle(crle) => crle.feed(b, emit)?,
                    Codec::Heatshrink(hs) => hs.feed(b, window, emit)?,
                    Codec::HeatshrinkParams => return Err(Fault::Malformed),
                }
            }
        };
        if flow == Flow::Full {
            body.stalled = true;
            return Ok(i + 1);
        }
    }
    Ok(data.len())
}

impl Body {
    /// The first byte: returns the codec, which for heatshrink starts at its parameter byte.
    fn kind(&mut self, b: u8) -> Result<Codec, Fault> {
        let (pad, patch_type, compression) = (b >> 7, (b >> 4) & 7, b & 0x0f);
        if pad != 0 || patch_type > 2 {
            return Err(Fault::Malformed);
        }
        if patch_type != 0 {
            return Err(Fault::Unsupported);
        }
        self.step = Step::ToSize;
        match compression {
            0 => Ok(Codec::None),
            2 => Ok(Codec::Crle(Crle::new())),
            4 => Ok(Codec::HeatshrinkParams),
            1 | 3 | 5 | 6 => Err(Fault::Unsupported),
            _ => Err(Fault::Malformed),
        }
    }

    fn target_size(&mut self, b: u8, heatshrink: bool) -> Result<(), Fault> {
        let Some(size) = self.size.feed(b)? else {
            return Ok(());
        };
        let size = u32::try_from(size).map_err(|_| Fault::Malformed)?;
        if size > self.limit {
            return Err(Fault::TooLarge);
        }
        self.to_size = size;
        self.step = match (size, heatshrink) {
            (0, _) => Step::Done,
            (_, true) => Step::Params,
            _ => Step::DataFormat,
        };
        Ok(())
    }

    /// One byte of the decompressed stream: whether the patch is now complete, or the sink
    /// has less than a piece of room left.
    fn put(&mut self, b: u8, io: &mut impl Io) -> Result<Flow, Fault> {
        match self.step {
            Step::Diff => self.diff(b, io)?,
            Step::Extra => self.extra(b, io)?,
            Step::Done => return Err(Fault::Trailing),
            // Sizes write nothing (but the last adjustment's flush, which ends the patch).
            step => {
                let Some(value) = self.size.feed(b)? else {
                    return Ok(Flow::More);
                };
                match step {
                    Step::DataFormat if value > 0 => return Err(Fault::Unsupported),
                    Step::DataFormat if value < 0 => return Err(Fault::Malformed),
                    Step::DataFormat => self.step = Step::DiffSize,
                    Step::DiffSize => {
                        self.moved = false;
                        self.chunk(value, Step::Diff, Step::ExtraSize)?
                    }
                    Step::ExtraSize => self.chunk(value, Step::Extra, Step::Adjust)?,
                    Step::Adjust => return self.adjust(value, io),
                    _ => return Err(Fault::Malformed),
                }
                return Ok(Flow::More);
            }
        }
        Ok(if self.room < PIECE as u32 {
            Flow::Full
        } else {
            Flow::More
        })
    }

    fn chunk(&mut self, size: i64, data: Step, next: Step) -> Result<(), Fault> {
        let size = u32::try_from(size).map_err(|_| Fault::Malformed)?;
        if size > self.to_size - self.to_pos {
            return Err(Fault::Malformed);
        }
        self.left = size;
        self.moved |= size > 0;
        self.step = if size > 0 { data } else { next };
        Ok(())
    }

    fn adjust(&mut self, by: i64, out: &mut impl Sink) -> Result<Flow, Fault> {
        if !self.moved && by == 0 {
            return Err(Fault::Malformed);
        }
        self.from = self.from.saturating_add(by);
        if self.to_pos < self.to_size {
            self.step = Step::DiffSize;
            return Ok(Flow::More);
        }
        self.flush(out)?;
        self.step = Step::Done;
        Ok(Flow::Done)
    }

    fn diff(&mut self, d: u8, io: &mut impl Io) -> Result<(), Fault> {
        if self.fill == self.loaded {
            if self.fill == PIECE {
                self.flush(io)?;
            }
            let n = (PIECE - self.fill).min(self.left as usize);
            let end = self.from + n as i64;
            if self.from < 0 || end > i64::from(self.base_len) {
                return Err(Fault::BaseRange);
            }
            let buf = &mut self.buf[self.fill..self.fill + n];
            Base::read(io, self.from as u32, buf).map_err(|_| Fault::BaseRead)?;
            self.loaded = self.fill + n;
        }
        self.buf[self.fill] = self.buf[self.fill].wrapping_add(d);
        self.fill += 1;
        self.from += 1;
        self.advance(Step::ExtraSize);
        Ok(())
    }

    fn extra(&mut self, b: u8, out: &mut impl Sink) -> Result<(), Fault> {
        if self.fill == PIECE {
            self.flush(out)?;
        }
        self.buf[self.fill] = b;
        self.fill += 1;
        self.loaded = self.fill;
        self.advance(Step::Adjust);
        Ok(())
    }

    fn advance(&mut self, next: Step) {
        self.to_pos += 1;
        self.left -= 1;
        if self.left == 0 {
            self.step = next;
        }
    }

    fn flush(&mut self, out: &mut impl Sink) -> Result<(), Fault> {
        if self.fill > 0 {
            out.write(&self.buf[..self.fill])
                .map_err(|_| Fault::Write)?;
            self.room = self.room.saturating_sub(self.fill as u32);
        }
        (self.fill, self.loaded) = (0, 0);
        Ok(())
    }
}
