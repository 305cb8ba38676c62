//! The receiver: the MCU side of the native protocol, sans-IO (docs/protocol.md §3-4).
//!
//! A bootloader feeds it the bytes its UART received and sends back what it answers; the
//! receiver programs flash through [`Flash`] as frames arrive. It keeps no clock: the sender
//! owns every timer, so a receiver only ever reacts.
//!
//! Two shapes share the code: [`Receiver`] (one frame buffer: it programs a frame within the
//! call that completes it) and [`Pipelined`] (a second buffer: it moves an accepted frame
//! there and programs it a chunk per call, so the bootloader keeps reading its UART and the
//! next frame arrives meanwhile; it announces one more frame of window). Both acknowledge a
//! frame only once it is durable.
//!
//! Either can take delta packages (OPEN's DELTA flag) with a [`Patcher`] as its delta part
//! ([`Receiver::new_with`], [`Receiver::pipelined_with`], [`DeltaReceiver`]): each frame is then applied to the
//! application area into the slot (super::delta). Without, the DELTA flag is refused and
//! none of that code is linked.

use super::delta::{DeltaOpen, NoDelta, Patcher, Patching, DELTA, SIGNED};
use super::frame::{self, code, flags, kind, Parser, MAX_FRAME, MAX_PAYLOAD, OVERHEAD};
use super::record::{self, Area, Flash, FlashError, Geometry, ImageId, Log};
use super::VERSION;
use crate::Error;
use sha2::{Digest, Sha256};

/// Room `receive` needs in its output buffer for any answer (`QSOTA_NATIVE_REPLY_MAX`).
pub(crate) const REPLY_MAX: usize = OVERHEAD + 12;

/// What the bootloader tells the sender about itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// DATA frames its UART buffering can hold while it programs or erases flash.
    pub window: u16,
    /// The longest it can go silent (a sector erase), in milliseconds.
    pub busy_ms: u16,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Session {
    Idle,
    Open,
    /// Read back and matched: the bootloader may switch to the slot.
    Committed,
}

enum Reply {
    None,
    Accept {
        resume: u32,
        window: u16,
        busy_ms: u16,
    },
    Ack(u32),
    Nak(u32),
    Done(u32),
    Error(u8, u32),
}

/// What the second frame buffer of a [`Pipelined`] receiver holds: an accepted DATA
/// frame's bytes, programmed at `next` a chunk at a time (always empty in a [`Receiver`]).
struct Stage {
    /// Bytes held (0: empty) and of those already programmed (at most `MAX_PAYLOAD`).
    len: u16,
    done: u16,
    /// Bytes programmed per call (a multiple of the program unit once open).
    chunk: u16,
}

/// A native receiver. With `STAGE = 0` (the default) about 1.2 KB, most of it the frame
/// buffer; [`Pipelined`] adds a second buffer of `MAX_PAYLOAD` bytes, a [`Patcher`] as `D`
/// the delta applier. The logic is all in `Core`, once for both (an MCU's flash is small),
/// handed the second buffer to use.
pub struct Receiver<const STAGE: usize = 0, D = NoDelta> {
    core: Core<D>,
    stage: [u8; STAGE],
}

/// The receiver's state and logic; `stage` arguments are its second buffer (empty: none).
struct Core<D> {
    parser: Parser<MAX_FRAME>,
    /// The parser holds a complete frame not handled yet (it waits for the stage).
    waiting: bool,
    stage: Stage,
    config: Config,
    session: Session,
    id: ImageId,
    geometry: Geometry,
    log: Log,
    /// Every byte below `next` is durable in the slot.
    next: u32,
    /// Frames beyond `next` dropped since the last NAK, `None` if no NAK is outstanding.
    gap_drops: Option<u16>,
    /// The delta part.
    delta: D,
}

/// A receiver with a second frame buffer (see the module doc).
pub type Pipelined = Receiver<MAX_PAYLOAD>;

/// A receiver with a second frame buffer that applies delta packages (see the module doc).
pub type DeltaReceiver<'w> = Receiver<MAX_PAYLOAD, Patcher<'w>>;

impl Receiver {
    /// A receiver with one frame buffer; `config.window` counts that buffer and the frames
    /// its UART buffering holds while it programs.
    pub fn new(config: Config) -> Self {
        Self::new_with(config, NoDelta)
    }
}

impl<D: Patching> Receiver<0, D> {
    /// [`Receiver::new`] with the delta part `delta` (a [`Patcher`]: it applies packages).
    pub fn new_with(config: Config, delta: D) -> Self {
        Receiver {
            core: Core::new(config, MAX_PAYLOAD as u16, delta),
            stage: [],
        }
    }
}

impl Pipelined {
    /// A receiver that programs `chunk` bytes per call (rounded to the program unit; 0: a
    /// whole frame). Pick `chunk` so that the UART buffering holds what arrives while one
    /// chunk programs. It announces `config.window + 1`: its second buffer holds a frame.
    pub fn pipelined(config: Config, chunk: u16) -> Self {
        Self::pipelined_with(config, chunk, NoDelta)
    }
}

impl<D: Patching> Receiver<MAX_PAYLOAD, D> {
    /// [`Pipelined::pipelined`] with the delta part `delta` (a [`Patcher`]: a
    /// [`DeltaReceiver`]). Built in place: a bootloader's stack has no room for a moved copy.
    pub fn pipelined_with(config: Config, chunk: u16, delta: D) -> Self {
        let whole = MAX_PAYLOAD as u16;
        let chunk = if chunk == 0 { whole } else { chunk.min(whole) };
        let mut core = Core::new(config, chunk, delta);
        core.config.window = core.config.window.saturating_add(1);
        Receiver {
            core,
            stage: [0; MAX_PAYLOAD],
        }
    }
}

impl<const STAGE: usize, D: Patching> Receiver<STAGE, D> {
    /// Takes received bytes from `data` until it has an answer for the sender or `data` is used
    /// up. Returns how many bytes it took and the length of the answer written to `out`. Send
    /// the answer and call again with the rest of `data` (possibly empty: a frame can wait in
    /// the buffer). `out` needs `QSOTA_NATIVE_REPLY_MAX` bytes.
    ///
    /// [`Receiver`]: call again until the answer's length is 0, which means all of `data` was
    /// taken. [`Pipelined`]: each call also programs at most one chunk of its staged frame,
    /// and it may leave bytes in `data` while a complete frame waits for that; call again,
    /// without waiting for the UART, as long as [`Receiver::again`] says so.
    pub fn receive(
        &mut self,
        flash: &mut impl Flash,
        data: &[u8],
        out: &mut [u8],
    ) -> Result<(usize, usize), Error> {
        self.core.receive(&mut self.stage, flash, data, out)
    }

    /// Whether to call [`Receiver::receive`] again at once, without waiting for the UART,
    /// after a call that took `used` of `len` bytes and answered `out_len` bytes: it answered,
    /// left bytes, or has flash work pending. (Always false for an idle [`Receiver`] that
    /// took everything and answered nothing.)
    pub fn again(&self, used: usize, len: usize, out_len: usize) -> bool {
        out_len > 0 || used < len || self.core.stage.len > 0 || self.core.waiting
    }

    /// The offset up to which the open image is durable.
    pub fn next(&self) -> u32 {
        self.core.next
    }

    /// The image of the open (or committed) session.
    pub fn image(&self) -> Option<&ImageId> {
        (self.core.session != Session::Idle).then_some(&self.core.id)
    }

    /// The image this session left in the slot, read back and committed: the bootloader
    /// may switch. (For a delta, the target: `image` is the package.)
    pub fn committed(&self) -> Option<ImageId> {
        let c = &self.core;
        (c.session == Session::Committed).then(|| match c.delta.session() {
            Some(d) => ImageId {
                size: d.target_size,
                sha256: c.delta.target_sha256(),
                ..c.id
            },
            None => c.id,
        })
    }

    /// Damaged frames dropped so far.
    pub fn dropped(&self) -> u32 {
        self.core.parser.dropped()
    }
}

impl<D: Patching> Core<D> {
    fn new(config: Config, chunk: u16, delta: D) -> Self {
        Core {
            parser: Parser::new(),
            waiting: false,
            stage: Stage {
                len: 0,
                done: 0,
                chunk,
            },
            config: Config {
                window: config.window.max(1),
                busy_ms: config.busy_ms,
            },
            session: Session::Idle,
            id: ImageId::EMPTY,
            geometry: Geometry {
                slot_size: 0,
                meta_size: 0,
                program_unit: 1,
                app_size: 0,
            },
            log: Log::default(),
            next: 0,
            gap_drops: None,
            delta,
        }
    }

    fn receive(
        &mut self,
        stage: &mut [u8],
        flash: &mut impl Flash,
        data: &[u8],
        out: &mut [u8],
    ) -> Result<(usize, usize), Error> {
        if out.len() < REPLY_MAX {
            return Err(Error::Buffer);
        }
        let mut used = 0;
        // Until the parser wants more: after a resync, frames can wait in its buffer.
        loop {
            if !self.waiting {
                let (n, ready) = self.parser.feed(&data[used..]);
                used += n;
                self.waiting = ready;
            }
            if self.stage.len > 0 {
                let reply = self.step(stage, flash);
                return Ok((used, encode(reply, out)));
            }
            if !self.waiting {
                return Ok((used, 0));
            }
            self.waiting = false;
            let reply = self.handle(stage, flash);
            let len = encode(reply, out);
            if len > 0 {
                return Ok((used, len));
            }
        }
    }

    fn handle(&mut self, stage: &mut [u8], flash: &mut impl Flash) -> Reply {
        let Some((kind, payload)) = self.parser.frame() else {
            return Reply::None;
        };
        match kind {
            kind::OPEN => match parse_open::<D>(payload) {
                Ok((id, delta, signed)) => self.open(flash, id, delta, signed),
                Err(code) => Reply::Error(code, 0),
            },
            kind::DATA => match frame::u32_at(payload, 0) {
                Some(offset) => {
                    let len = payload.len() - 4;
                    self.data(stage, flash, offset, len)
                }
                None => Reply::None,
            },
            kind::COMMIT => {
                // A deferred image is checked against COMMIT's SHA-256, any other against
                // OPEN's (as is a deferred image's COMMIT without one: its key, which no
                // image reads back as, so DIGEST).
                let want = match <[u8; 32]>::try_from(payload) {
                    Ok(sha256) if self.id.flags & flags::DIGEST_AT_COMMIT != 0 => sha256,
                    _ => self.id.sha256,
                };
                self.commit(flash, want)
            }
            kind::ABORT => {
                self.session = Session::Idle;
                Reply::None
            }
            _ => Reply::None,
        }
    }

    fn accept(&self) -> Reply {
        Reply::Accept {
            resume: self.next,
            window: self.config.window,
            busy_ms: self.config.busy_ms,
        }
    }

    fn fail(&mut self, code: u8) -> Reply {
        self.session = Session::Idle;
        Reply::Error(code, self.next)
    }

    fn open(
        &mut self,
        flash: &mut impl Flash,
        id: ImageId,
        delta: Option<DeltaOpen>,
        signed: bool,
    ) -> Reply {
        if self.session != Session::Idle
            && self.id.names(&id)
            && self.delta.session() == delta.as_ref()
            && self.delta.signed() == signed
        {
            // The sender probes after a timeout and then sends from `next`: a gap in what
            // follows is new, so it gets a NAK at once.
            self.gap_drops = None;
            return self.accept();
        }
        self.session = Session::Idle;
        let Ok(g) = record::geometry(flash) else {
            return self.fail(code::FLASH);
        };
        // An empty image is refused as one too large is: committing nothing would leave the
        // MCU without an application while the sender reports success.
        let size = delta.map_or(id.size, |d| d.target_size);
        if size == 0 || size > g.slot_size {
            return Reply::Error(code::SIZE, 0);
        }
        self.delta.start(delta, signed);
        let started = match delta {
            None => resume(flash, &g, &id).map_err(|_| code::FLASH),
            Some(d) => self.open_delta(flash, &g, &id, &d),
        };
        match started {
            Ok((next, log, committed)) => {
                // A slot committed earlier (its DONE lost) answers DONE only if it passes
                // this session's check too.
                if committed.is_some() {
                    if let Err(code) = self.delta.check(flash, size) {
                        return self.fail(code);
                    }
                }
                let unit = g.program_unit as u16; // at most 64: checked by `geometry`
                self.stage.chunk = (self.stage.chunk / unit).max(1) * unit;
                self.geometry = g;
                self.id = id;
                self.next = next;
                self.log = log;
                self.gap_drops = None;
                self.session = match committed {
                    Some(sha256) => {
                        self.id.sha256 = sha256;
                        Session::Committed
                    }
                    None => Session::Open,
                };
                self.accept()
            }
            Err(code) => self.fail(code),
        }
    }

    /// Where a delta session starts: done if the slot holds its target committed (a COMMIT
    /// whose DONE was lost), else from 0 once the base checked out, the record is gone and
    /// the slot erased for the target. A delta never resumes: the applier's state is in RAM.
    fn open_delta(
        &mut self,
        flash: &mut impl Flash,
        g: &Geometry,
        id: &ImageId,
        d: &DeltaOpen,
    ) -> Result<(u32, Log, Option<[u8; 32]>), u8> {
        let loaded = record::load(flash, g).map_err(|_| code::FLASH)?;
        if let Some((stored, state, log)) = loaded {
            let same = stored.size == d.target_size
                && stored.sha256[..d.target_digest.len()] == d.target_digest
                && (stored.component(), stored.version()) == (id.component(), id.version());
            if same && state.committed {
                self.delta.set_target_sha256(stored.sha256);
                return Ok((id.size, log, Some(id.sha256)));
            }
        }
        self.delta.check_base(flash, g)?;
        let end = d.target_size.next_multiple_of(g.program_unit);
        record::forget(flash)
            .and_then(|()| erase(flash, g, 0, end))
            .map_err(|_| code::FLASH)?;
        Ok((0, Log::default(), None))
    }

    fn data(&mut self, stage: &mut [u8], flash: &mut impl Flash, offset: u32, len: usize) -> Reply {
        if self.session == Session::Idle {
            return Reply::Error(code::NOT_OPEN, 0);
        }
        if offset < self.next || self.next == self.id.size {
            return Reply::Ack(self.next);
        }
        if offset > self.next {
            return self.gap();
        }
        let want = (self.id.size - self.next).min(MAX_PAYLOAD as u32) as usize;
        let unit = self.geometry.program_unit as usize;
        let last = len == want && offset + want as u32 == self.id.size;
        if len == 0 || len > want || (!last && !len.is_multiple_of(unit)) {
            return self.fail(code::ARGUMENT);
        }
        if !stage.is_empty() {
            // Moved to the second buffer; the ACK comes once `step` has programmed it.
            let from = self.parser.frame().and_then(|(_, p)| p.get(4..4 + len));
            let to = stage.get_mut(..len);
            if let (Some(from), Some(to)) = (from, to) {
                to.copy_from_slice(from);
                (self.stage.len, self.stage.done) = (len as u16, 0);
            }
            return Reply::None;
        }
        let block = self.parser.frame().and_then(|(_, p)| p.get(4..4 + len));
        let stored = match block {
            Some(b) => store(&mut self.delta, flash, &self.geometry, self.next, b),
            None => Err(code::FLASH),
        };
        match stored {
            Ok(()) => self.programmed(flash, len),
            Err(code) => self.fail(code),
        }
    }

    /// `len` bytes at `next` are stored: record them (a delta has no record until its
    /// commit), then acknowledge.
    fn programmed(&mut self, flash: &mut impl Flash, len: usize) -> Reply {
        self.next += len as u32;
        if self.delta.session().is_none() {
            let g = &self.geometry;
            if record::progress(flash, g, &mut self.log, &self.id, self.next).is_err() {
                return self.fail(code::FLASH);
            }
        }
        self.gap_drops = None;
        Reply::Ack(self.next)
    }

    /// Programs the next chunk of the staged frame; once all of it is, records it and
    /// acknowledges.
    fn step(&mut self, stage: &[u8], flash: &mut impl Flash) -> Reply {
        let s = &mut self.stage;
        let (done, len) = (s.done, s.len);
        let n = (len - done).min(s.chunk);
        let at = self.next + u32::from(done);
        let result = match stage.get(usize::from(done)..usize::from(done + n)) {
            Some(c) => store(&mut self.delta, flash, &self.geometry, at, c),
            None => Err(code::FLASH),
        };
        s.done += n;
        if result.is_err() || s.done == len {
            (s.len, s.done) = (0, 0);
        }
        match result {
            Err(code) => self.fail(code),
            Ok(()) if self.stage.len > 0 => Reply::None,
            Ok(()) => self.programmed(flash, usize::from(len)),
        }
    }

    /// A frame beyond `next`: frames were lost. Answers NAK once per gap, and again only after
    /// more than a window of drops (those can only come after the sender went back).
    fn gap(&mut self) -> Reply {
        match self.gap_drops {
            Some(n) if n < self.config.window => {
                self.gap_drops = Some(n + 1);
                Reply::None
            }
            _ => {
                self.gap_drops = Some(0);
                Reply::Nak(self.next)
            }
        }
    }

    /// COMMIT: the image must read back as `want`.
    fn commit(&mut self, flash: &mut impl Flash, want: [u8; 32]) -> Reply {
        match self.session {
            Session::Idle => Reply::Error(code::NOT_OPEN, 0),
            Session::Committed if want == self.id.sha256 => Reply::Done(self.id.size),
            Session::Committed => Reply::Error(code::DIGEST, self.next),
            Session::Open if self.next != self.id.size => Reply::Error(code::STATE, self.next),
            Session::Open if self.delta.session().is_some() => self.commit_delta(flash),
            Session::Open => {
                let checked = match read_back(flash, self.id.size) {
                    Ok(digest) if digest == want => {
                        self.id.sha256 = digest;
                        self.delta.check(flash, self.id.size)
                    }
                    Ok(_) => Err(code::DIGEST),
                    Err(FlashError) => return self.fail(code::FLASH),
                };
                if let Err(refused) = checked {
                    // Nothing may resume into a slot that failed its check: from 0 again.
                    self.next = 0;
                    return match record::forget(flash) {
                        Ok(()) => self.fail(refused),
                        Err(FlashError) => self.fail(code::FLASH),
                    };
                }
                match record::commit(flash, &self.geometry, &mut self.log, &self.id) {
                    Ok(()) => {
                        self.session = Session::Committed;
                        Reply::Done(self.id.size)
                    }
                    Err(FlashError) => self.fail(code::FLASH),
                }
            }
        }
    }

    /// The whole package is in: the target is complete, and the slot reads back with its
    /// digest. Then a record names it, committed. On a mismatch nothing vouches for the slot
    /// (its record went at OPEN) and the next OPEN starts over.
    fn commit_delta(&mut self, flash: &mut impl Flash) -> Reply {
        let Some(&d) = self.delta.session() else {
            return self.fail(code::STATE);
        };
        self.next = 0;
        if let Err(code) = self.delta.finish(flash, &self.geometry) {
            return self.fail(code);
        }
        let sha256 = match read_back(flash, d.target_size) {
            Ok(sha) if sha[..d.target_digest.len()] == d.target_digest => sha,
            Ok(_) => return self.fail(code::DIGEST),
            Err(FlashError) => return self.fail(code::FLASH),
        };
        if let Err(code) = self.delta.check(flash, d.target_size) {
            return self.fail(code);
        }
        let target = ImageId {
            size: d.target_size,
            key: sha256,
            sha256,
            ..self.id
        };
        match record::committed(flash, &self.geometry, &target) {
            Ok(log) => {
                self.log = log;
                self.delta.set_target_sha256(sha256);
                (self.next, self.session) = (self.id.size, Session::Committed);
                Reply::Done(self.id.size)
            }
            Err(FlashError) => self.fail(code::FLASH),
        }
    }
}

/// Puts `data`, the DATA bytes at `at`, where they go: through the delta part in a delta
/// session, else programmed as they are.
fn store<D: Patching>(
    delta: &mut D,
    flash: &mut impl Flash,
    g: &Geometry,
    at: u32,
    data: &[u8],
) -> Result<(), u8> {
    if delta.session().is_some() {
        return delta.apply(flash, g, data);
    }
    program(flash, g, at, data).map_err(|_| code::FLASH)
}

/// Where a transfer of `id` starts: from its record if the flash holds one for the same
/// image, else from 0 after erasing. Returns `(next, log, committed)`, `committed` the
/// SHA-256 the record's image was committed with (a deferred image's is not in OPEN).
fn resume(
    flash: &mut impl Flash,
    g: &Geometry,
    id: &ImageId,
) -> Result<(u32, Log, Option<[u8; 32]>), FlashError> {
    let found = record::load(flash, g)?.filter(|(stored, _, _)| stored.names(id));
    let Some((stored, state, log)) = found else {
        return fresh(flash, g, id);
    };
    if state.committed {
        return Ok((id.size, log, Some(stored.sha256)));
    }
    if !state.erased {
        return fresh(flash, g, id);
    }
    let mut next = state.progress;
    let mut rewrite = log.is_dirty();
    let mut erase_to = None;
    if next < id.size {
        // What the next frame would program, and the rest of its sector, must still be
        // erased; if a cut write left bits programmed there, go back to the sector's start
        // and erase again.
        let (start, size) = record::sector(flash, g, next)?;
        let frame_end = next
            .saturating_add(MAX_PAYLOAD as u32)
            .min(id.size.next_multiple_of(g.program_unit));
        let end = (start + size).max(frame_end);
        if !record::is_blank(flash, Area::Slot, next, end)? {
            rewrite |= start != next;
            next = start;
            erase_to = Some(end);
        }
    }
    let log = if rewrite {
        record::restart(flash, g, id, next)?
    } else {
        log
    };
    // After the record: a cut in between finds the same bytes not blank again.
    if let Some(end) = erase_to {
        erase(flash, g, next, end)?;
    }
    Ok((next, log, None))
}

/// Programs `data` at `at` of the slot: its whole program units straight from `data`, a
/// last partial unit padded with 0xFF in a unit of its own. (`data` is a frame in the
/// parser's buffer, and what follows it there may be the next frame: not ours to pad over.)
fn program(flash: &mut impl Flash, g: &Geometry, at: u32, data: &[u8]) -> Result<(), FlashError> {
    let unit = g.program_unit as usize;
    let whole = data.len() - data.len() % unit;
    if whole > 0 {
        flash.write(Area::Slot, at, &data[..whole])?;
    }
    let tail = &data[whole..];
    if !tail.is_empty() {
        let mut padded = [0xFF; record::MAX_UNIT as usize];
        padded[..tail.len()].copy_from_slice(tail);
        flash.write(Area::Slot, at + whole as u32, &padded[..unit])?;
    }
    Ok(())
}

/// Erases every slot sector from the one at `from` up to the one containing `to - 1`.
fn erase(flash: &mut impl Flash, g: &Geometry, from: u32, to: u32) -> Result<(), FlashError> {
    let mut pos = from;
    while pos < to {
        let (start, size) = record::sector(flash, g, pos)?;
        flash.erase(Area::Slot, start)?;
        pos = start + size;
    }
    Ok(())
}

/// A new image: a new record, every sector the image touches erased, then ERASED recorded.
/// Erasing here, before ACCEPT, keeps the data phase free of erase stalls (an STM32F4 sector
/// takes up to 2 s) that no affordable window could cover.
fn fresh(
    flash: &mut impl Flash,
    g: &Geometry,
    id: &ImageId,
) -> Result<(u32, Log, Option<[u8; 32]>), FlashError> {
    let mut log = record::start(flash, g, id)?;
    erase(flash, g, 0, id.size.next_multiple_of(g.program_unit))?;
    record::erased(flash, g, &mut log, id)?;
    Ok((0, log, None))
}

/// The SHA-256 of the slot's first `size` bytes, read back from flash.
fn read_back(flash: &mut impl Flash, size: u32) -> Result<[u8; 32], FlashError> {
    let mut sha = Sha256::new();
    read_slot(flash, size, |bytes| sha.update(bytes))?;
    Ok(sha.finalize().into())
}

/// Reads the slot's first `size` bytes in order, a piece at a time, into `each`.
pub(super) fn read_slot(
    flash: &mut impl Flash,
    size: u32,
    mut each: impl FnMut(&[u8]),
) -> Result<(), FlashError> {
    let mut buf = [0u8; 128];
    let mut at = 0;
    while at < size {
        let n = (size - at).min(buf.len() as u32);
        flash.read(Area::Slot, at, &mut buf[..n as usize])?;
        each(&buf[..n as usize]);
        at += n;
    }
    Ok(())
}

/// OPEN's payload: `version, flags, size u32, key[32], comp_len, comp, ver_len, ver`, and
/// with the DELTA flag what [`DeltaOpen`] holds; then whether it has the SIGNED flag. A flag
/// `D` does not take is refused (FLAGS).
fn parse_open<D: Patching>(p: &[u8]) -> Result<(ImageId, Option<DeltaOpen>, bool), u8> {
    match p.first() {
        Some(&VERSION) => {}
        Some(_) => return Err(code::VERSION),
        None => return Err(code::ARGUMENT),
    }
    let flags = *p.get(1).ok_or(code::ARGUMENT)?;
    if flags & !(D::FLAGS | flags::DIGEST_AT_COMMIT) != 0 {
        return Err(code::FLAGS);
    }
    let fields = || -> Option<(ImageId, Option<DeltaOpen>, bool)> {
        let size = frame::u32_at(p, 2)?;
        let key: [u8; 32] = p.get(6..38)?.try_into().ok()?;
        let comp_len = usize::from(*p.get(38)?);
        let comp = p.get(39..39 + comp_len)?;
        let ver_len = usize::from(*p.get(39 + comp_len)?);
        let end = 40 + comp_len + ver_len;
        let ver = p.get(40 + comp_len..end)?;
        let deferred = flags & flags::DIGEST_AT_COMMIT;
        let delta = match flags & D::FLAGS & DELTA {
            0 if p.len() == end => None,
            0 => return None,
            // DELTA with DIGEST_AT_COMMIT: a streamed package goes with DELTA alone.
            _ if deferred != 0 => return None,
            _ => Some(DeltaOpen::parse(p.get(end..)?)?),
        };
        let signed = flags & D::FLAGS & SIGNED != 0;
        Some((
            ImageId::with_flags(size, deferred, key, comp, ver)?,
            delta,
            signed,
        ))
    };
    fields().ok_or(code::ARGUMENT)
}

fn encode(reply: Reply, out: &mut [u8]) -> usize {
    let mut p = [0u8; 12];
    let (kind, len) = match reply {
        Reply::None => return 0,
        Reply::Accept {
            resume,
            window,
            busy_ms,
        } => {
            p[0] = VERSION;
            p[2..4].copy_from_slice(&(MAX_PAYLOAD as u16).to_le_bytes());
            p[4..6].copy_from_slice(&window.to_le_bytes());
            p[6..8].copy_from_slice(&busy_ms.to_le_bytes());
            p[8..12].copy_from_slice(&resume.to_le_bytes());
            (kind::ACCEPT, 12)
        }
        Reply::Ack(n) => {
            p[..4].copy_from_slice(&n.to_le_bytes());
            (kind::ACK, 4)
        }
        Reply::Nak(n) => {
            p[..4].copy_from_slice(&n.to_le_bytes());
            (kind::NAK, 4)
        }
        Reply::Done(n) => {
            p[..4].copy_from_slice(&n.to_le_bytes());
            (kind::DONE, 4)
        }
        Reply::Error(code, n) => {
            p[0] = code;
            p[1..5].copy_from_slice(&n.to_le_bytes());
            (kind::ERROR, 5)
        }
    };
    frame::encode(out, kind, &p[..len]).unwrap_or(0)
}
