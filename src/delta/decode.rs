//! The pieces of a detools patch below the bsdiff layer: its size fields and the two
//! compressions qsota applies (heatshrink, crle). Each decoder takes one patch byte at a time
//! and hands every byte it yields to `emit`, which answers whether the patch is now complete;
//! a decoder then requires that nothing of the stream is left but padding.
//!
//! Our own decoders rather than a crate's: the window size is read from the patch at run time
//! and the window lives in the caller's buffer, which neither heatshrink crate's decoder
//! offers (`heatshrink-lib` fixes the window at compile time and owns it, `embedded-heatshrink`
//! allocates), and crle has no crate.

use super::fault::Fault;

/// The largest size or offset a patch may state (2^30 - 1: a small int in MicroPython).
pub(crate) const MAX_SIZE: i64 = (1 << 30) - 1;

/// A detools size field: the first byte holds 6 value bits, the sign (0x40) and the
/// continuation (0x80); later bytes 7 value bits and the continuation. At most 5 bytes.
#[derive(Clone, Copy, Default)]
pub struct Size {
    value: i64,
    shift: u8,
    negative: bool,
}

impl Size {
    /// Takes one byte; the value once the field is complete.
    pub fn feed(&mut self, b: u8) -> Result<Option<i64>, Fault> {
        if self.shift == 0 {
            self.negative = b & 0x40 != 0;
            self.value = i64::from(b & 0x3f);
            self.shift = 6;
        } else if self.shift > 27 {
            return Err(Fault::Malformed);
        } else {
            self.value |= i64::from(b & 0x7f) << self.shift;
            self.shift += 7;
        }
        if b & 0x80 != 0 {
            return Ok(None);
        }
        let (value, negative) = (self.value, self.negative);
        *self = Size::default();
        if value > MAX_SIZE {
            return Err(Fault::Malformed);
        }
        Ok(Some(if negative { -value } else { value }))
    }
}

/// What `emit` answers once it took a byte, and what a decoder's step ends with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Go on.
    More,
    /// The output has no room left in this push: stop here. The decoder keeps what it has
    /// still to emit (the rest of a back-reference or a run) for `run`.
    Full,
    /// The patch is complete.
    Done,
}

/// Takes one decoded byte.
pub type Emit<'a> = &'a mut dyn FnMut(u8) -> Result<Flow, Fault>;

/// A heatshrink (LZSS) stream: a tag bit, then a literal byte (1) or a back-reference (0) of
/// `window` index bits and `lookahead` count bits, each stored minus one, most significant
/// bit first. The window starts zeroed, as heatshrink's decoder resets it.
pub struct Heatshrink {
    window_bits: u8,
    count_bits: u8,
    /// Bits not yet decoded (the low `pending` bits of `bits`).
    bits: u32,
    pending: u8,
    state: Symbol,
    /// Back-reference distance, once its index is read.
    distance: u16,
    /// Bytes of the back-reference still to copy.
    left: u16,
    /// Where the next byte goes in the window (wraps at the window size).
    head: u16,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Symbol {
    Tag,
    Literal,
    Index,
    Count,
    /// Copying `left` bytes from `distance` back.
    Copy,
}

impl Heatshrink {
    /// `params` is the stream's first byte: `(window - 4) << 4 | (lookahead - 3)`. heatshrink
    /// takes windows of 2^4 to 2^15 bytes and a lookahead below the window; `window` must
    /// hold 2^window bytes.
    pub fn new(params: u8, window: &mut [u8]) -> Result<Heatshrink, Fault> {
        let (window_bits, count_bits) = ((params >> 4) + 4, (params & 0x0f) + 3);
        if window_bits > 15 || count_bits >= window_bits {
            return Err(Fault::Malformed);
        }
        window
            .get_mut(..1 << window_bits)
            .ok_or(Fault::Window)?
            .fill(0);
        Ok(Heatshrink {
            window_bits,
            count_bits,
            bits: 0,
            pending: 0,
            state: Symbol::Tag,
            distance: 0,
            left: 0,
            head: 0,
        })
    }

    /// Decodes one stream byte. Once `emit` says the patch is complete, the rest of the byte
    /// may only be padding (fewer than 8 bits, no output).
    pub fn feed(&mut self, byte: u8, window: &mut [u8], emit: Emit) -> Result<Flow, Fault> {
        self.bits = (self.bits << 8) | u32::from(byte);
        self.pending += 8;
        self.run(window, emit)
    }

    /// Decodes what the bits taken so far hold: `More` when it needs the next byte.
    pub fn run(&mut self, window: &mut [u8], emit: Emit) -> Result<Flow, Fault> {
        let mask = (1u16 << self.window_bits) - 1;
        loop {
            let flow = if self.state == Symbol::Copy {
                if self.left == 0 {
                    self.state = Symbol::Tag;
                    continue;
                }
                self.left -= 1;
                let at = usize::from(self.head.wrapping_sub(self.distance) & mask);
                let c = window.get(at).copied().ok_or(Fault::Window)?;
                self.put(c, window, mask);
                emit(c)?
            } else {
                let need = match self.state {
                    Symbol::Tag => 1,
                    Symbol::Literal => 8,
                    Symbol::Index => self.window_bits,
                    _ => self.count_bits,
                };
                if self.pending < need {
                    return Ok(Flow::More);
                }
                self.pending -= need;
                let value = (self.bits >> self.pending) as u16 & ((1 << need) - 1);
                self.bits &= (1 << self.pending) - 1;
                match self.state {
                    Symbol::Literal => {
                        self.state = Symbol::Tag;
                        self.put(value as u8, window, mask);
                        emit(value as u8)?
                    }
                    Symbol::Tag => {
                        self.state = if value == 1 {
                            Symbol::Literal
                        } else {
                            Symbol::Index
                        };
                        Flow::More
                    }
                    Symbol::Index => {
                        (self.distance, self.state) = (value + 1, Symbol::Count);
                        Flow::More
                    }
                    _ => {
                        (self.left, self.state) = (value + 1, Symbol::Copy);
                        Flow::More
                    }
                }
            };
            if flow != Flow::More {
                return self.after(flow);
            }
        }
    }

    /// What a step that emitted ends with: complete only with nothing left to copy and no
    /// more than padding (fewer than 8 bits) left.
    fn after(&self, flow: Flow) -> Result<Flow, Fault> {
        let trailing = (self.state == Symbol::Copy && self.left > 0) || self.pending >= 8;
        if flow == Flow::Done && trailing {
            return Err(Fault::Trailing);
        }
        Ok(flow)
    }

    fn put(&mut self, c: u8, window: &mut [u8], mask: u16) {
        if let Some(slot) = window.get_mut(usize::from(self.head & mask)) {
            *slot = c;
        }
        self.head = self.head.wrapping_add(1);
    }
}

/// detools' crle: segments of a kind byte (0 scattered: a size, then that many bytes; 1
/// repeated: a count, then one byte to repeat) with plain 7-bit sizes.
pub struct Crle {
    state: Segment,
    value: i64,
    shift: u8,
    left: u32,
    /// The byte a repeated segment repeats.
    byte: u8,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Segment {
    Kind,
    ScatteredSize,
    Scattered,
    RepeatedSize,
    Repeated,
    /// Emitting `left` more copies of `byte`.
    Repeating,
}

impl Crle {
    pub fn new() -> Crle {
        Crle {
            state: Segment::Kind,
            value: 0,
            shift: 0,
            left: 0,
            byte: 0,
        }
    }

    pub fn feed(&mut self, byte: u8, emit: Emit) -> Result<Flow, Fault> {
        match self.state {
            Segment::Kind => {
                self.state = match byte {
                    0 => Segment::ScatteredSize,
                    1 => Segment::RepeatedSize,
                    _ => return Err(Fault::Malformed),
                };
                Ok(Flow::More)
            }
            Segment::ScatteredSize | Segment::RepeatedSize => {
                if self.shift > 28 {
                    return Err(Fault::Malformed);
                }
                self.value |= i64::from(byte & 0x7f) << self.shift;
                self.shift += 7;
                if byte & 0x80 != 0 {
                    return Ok(Flow::More);
                }
                if self.value > MAX_SIZE {
                    return Err(Fault::Malformed);
                }
                self.left = self.value as u32;
                (self.value, self.shift) = (0, 0);
                self.state = match (self.state, self.left) {
                    (_, 0) => Segment::Kind,
                    (Segment::ScatteredSize, _) => Segment::Scattered,
                    _ => Segment::Repeated,
                };
                Ok(Flow::More)
            }
            Segment::Scattered => {
                self.left -= 1;
                if self.left == 0 {
                    self.state = Segment::Kind;
                }
                let flow = emit(byte)?;
                if flow == Flow::Done && self.left > 0 {
                    return Err(Fault::Trailing);
                }
                Ok(flow)
            }
            Segment::Repeated | Segment::Repeating => {
                (self.byte, self.state) = (byte, Segment::Repeating);
                self.run(emit)
            }
        }
    }

    /// Emits what is left of a repeated segment.
    pub fn run(&mut self, emit: Emit) -> Result<Flow, Fault> {
        while self.state == Segment::Repeating {
            self.left -= 1;
            if self.left == 0 {
                self.state = Segment::Kind;
            }
            match emit(self.byte)? {
                Flow::More => {}
                Flow::Done if self.left > 0 => return Err(Fault::Trailing),
                flow => return Ok(flow),
            }
        }
        Ok(Flow::More)
    }
}
