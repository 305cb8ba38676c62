//! The receiver's flash and its power-safe resume record (docs/protocol.md §4).
//!
//! The record lives in its own erase unit ("meta"): a header naming the image, then an
//! append-only log of entries. Every update programs never-written bytes once, data is
//! always programmed before the entry that vouches for it, and every piece carries a CRC-32,
//! so a power cut at any point leaves either the old state or an unreadable (= absent) entry.

use super::frame::CRC32;

/// One of the receiver's flash areas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Area {
    /// Where the image goes.
    Slot,
    /// The resume record: one erase unit.
    Meta,
    /// The application the MCU runs: only ever read, by a receiver that applies deltas
    /// (the base a delta package is applied to; `Geometry::app_size` bytes, 0: none).
    App,
}

/// A flash operation failed (or the flash described itself inconsistently).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlashError;

/// The shape of the receiver's flash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// Bytes in the slot (the largest image).
    pub slot_size: u32,
    /// Bytes in the meta area, erased as one unit.
    pub meta_size: u32,
    /// The smallest programmable unit in bytes: a power of two up to 64 (8 for STM32L4/G0).
    pub program_unit: u32,
    /// Bytes of the application area a delta may read as its base (0: no delta applies).
    pub app_size: u32,
}

/// The flash a receiver writes, as a bootloader provides it. Addresses are relative to the
/// start of each area. Implementations report failures; they never need to check bounds the
/// receiver already keeps (it does, and it checks what `geometry` and `sector` answer).
pub trait Flash {
    fn geometry(&self) -> Geometry;
    /// The slot's erase unit containing `addr`, as `(start, length)`.
    fn sector(&self, addr: u32) -> (u32, u32);
    /// Erases the slot sector that starts at `start`, or the whole meta area (`start` is 0).
    /// Never the application area.
    fn erase(&mut self, area: Area, start: u32) -> Result<(), FlashError>;
    /// Programs `data` at `addr` (aligned to, and a multiple of, the program unit). Never the
    /// application area.
    fn write(&mut self, area: Area, addr: u32, data: &[u8]) -> Result<(), FlashError>;
    /// Reads `buf.len()` bytes at `addr` (of the application area: only below `app_size`).
    fn read(&mut self, area: Area, addr: u32, buf: &mut [u8]) -> Result<(), FlashError>;
}

/// Largest program unit supported.
pub(crate) const MAX_UNIT: u32 = 64;
/// Largest meta area (an STM32F4's 128 KiB sector fits; the bound keeps offsets far from
/// overflow). Only the used part is read at OPEN.
pub(crate) const MAX_META: u32 = 1 << 24;
/// Longest component id and version string in OPEN and in the record.
pub(crate) const MAX_NAME: usize = 32;
/// The record's layout version 2 (version 1, "QSL1", had no key apart from the SHA-256 and
/// no flags: a version 1 record reads as no record, and the image starts again from 0).
const MAGIC: [u8; 4] = *b"QSL2";
const HEADER_LEN: usize = 144;
const ENTRY_MIN: u32 = 16;
const PROGRESS: u8 = 1;
const COMMITTED: u8 = 2;
const ERASED: u8 = 3;

/// The geometry, checked; `FlashError` if it is unusable.
pub fn geometry(flash: &impl Flash) -> Result<Geometry, FlashError> {
    let g = flash.geometry();
    let u = g.program_unit;
    let ok = u.is_power_of_two()
        && u <= MAX_UNIT
        && g.slot_size.is_multiple_of(u)
        && g.meta_size.is_multiple_of(u)
        && g.meta_size >= entries_start(u) + 2 * entry_len(u)
        && g.meta_size <= MAX_META;
    ok.then_some(g).ok_or(FlashError)
}

/// The slot sector containing `addr`, checked against what a sector must be.
pub fn sector(flash: &impl Flash, g: &Geometry, addr: u32) -> Result<(u32, u32), FlashError> {
    let (start, len) = flash.sector(addr);
    let end = start.checked_add(len).ok_or(FlashError)?;
    let ok =
        start <= addr && addr < end && end <= g.slot_size && start.is_multiple_of(g.program_unit);
    ok.then_some((start, len)).ok_or(FlashError)
}

fn entry_len(unit: u32) -> u32 {
    ENTRY_MIN.max(unit)
}

fn entries_start(unit: u32) -> u32 {
    (HEADER_LEN as u32).next_multiple_of(unit)
}

/// Which image a record is about: what OPEN carries, and the SHA-256 the image was
/// committed with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageId {
    pub size: u32,
    /// OPEN's flags (`frame::flags`).
    pub flags: u8,
    /// What OPEN names the image by: its SHA-256, or with `flags::DIGEST_AT_COMMIT` the sender's
    /// identity for an image whose SHA-256 comes with COMMIT (a stream). A record resumes
    /// only the same key (and size, flags, component and version).
    pub key: [u8; 32],
    /// The image's SHA-256: the key, or for a deferred image COMMIT's once committed (the
    /// key until then). What a bootloader checks a committed image against.
    pub sha256: [u8; 32],
    pub component: [u8; MAX_NAME],
    pub component_len: u8,
    pub version: [u8; MAX_NAME],
    pub version_len: u8,
}

impl ImageId {
    /// No image (a receiver's id before its first OPEN).
    pub const EMPTY: ImageId = ImageId {
        size: 0,
        flags: 0,
        key: [0; 32],
        sha256: [0; 32],
        component: [0; MAX_NAME],
        component_len: 0,
        version: [0; MAX_NAME],
        version_len: 0,
    };

    /// An image named by its SHA-256 (no flags); `None` if a name is longer than
    /// [`MAX_NAME`].
    pub fn new(size: u32, sha256: [u8; 32], component: &[u8], version: &[u8]) -> Option<Self> {
        Self::with_flags(size, 0, sha256, component, version)
    }

    /// An image as OPEN names it: with `flags::DIGEST_AT_COMMIT`, `key` is the sender's identity and
    /// the SHA-256 is not known yet.
    pub fn with_flags(
        size: u32,
        flags: u8,
        key: [u8; 32],
        component: &[u8],
        version: &[u8],
    ) -> Option<Self> {
        let mut id = ImageId {
            size,
            flags,
            key,
            sha256: key,
            component: [0; MAX_NAME],
            component_len: u8::try_from(component.len()).ok()?,
            version: [0; MAX_NAME],
            version_len: u8::try_from(version.len()).ok()?,
        };
        id.component
            .get_mut(..component.len())?
            .copy_from_slice(component);
        id.version
            .get_mut(..version.len())?
            .copy_from_slice(version);
        Some(id)
    }

    pub fn component(&self) -> &[u8] {
        &self.component[..usize::from(self.component_len).min(MAX_NAME)]
    }

    pub fn version(&self) -> &[u8] {
        &self.version[..usize::from(self.version_len).min(MAX_NAME)]
    }

    /// Whether `other` is the same image as OPEN names it (the SHA-256 of a deferred image
    /// is COMMIT's, not part of its name).
    pub fn names(&self, other: &ImageId) -> bool {
        let head = |id: &ImageId| (id.size, id.flags, id.component_len, id.version_len);
        head(self) == head(other)
            && self.key == other.key
            && self.component == other.component
            && self.version == other.version
    }

    fn header(&self) -> [u8; HEADER_LEN] {
        let mut h = [0u8; HEADER_LEN];
        h[..4].copy_from_slice(&MAGIC);
        h[4..8].copy_from_slice(&self.size.to_le_bytes());
        h[8] = self.flags;
        h[9] = self.component_len;
        h[10] = self.version_len;
        h[12..44].copy_from_slice(&self.key);
        h[44..76].copy_from_slice(&self.sha256);
        h[76..108].copy_from_slice(&self.component);
        h[108..140].copy_from_slice(&self.version);
        let crc = CRC32.checksum(&h[..140]);
        h[140..].copy_from_slice(&crc.to_le_bytes());
        h
    }

    fn from_header(h: &[u8; HEADER_LEN]) -> Option<Self> {
        let crc = u32::from_le_bytes([h[140], h[141], h[142], h[143]]);
        if h[..4] != MAGIC || CRC32.checksum(&h[..140]) != crc {
            return None;
        }
        let field = |at: usize| -> Option<[u8; 32]> { h[at..at + 32].try_into().ok() };
        let id = ImageId {
            size: u32::from_le_bytes([h[4], h[5], h[6], h[7]]),
            flags: h[8],
            component_len: h[9],
            version_len: h[10],
            key: field(12)?,
            sha256: field(44)?,
            component: field(76)?,
            version: field(108)?,
        };
        let names_ok =
            usize::from(id.component_len) <= MAX_NAME && usize::from(id.version_len) <= MAX_NAME;
        names_ok.then_some(id)
    }
}

/// What a record says about its image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct State {
    /// Every byte below this is durable in the slot.
    pub progress: u32,
    /// The image was read back and matched its SHA-256.
    pub committed: bool,
    /// Every sector the image touches was erased (before any of it was written).
    pub erased: bool,
}

/// Where the log continues, kept in RAM while a session is open.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Log {
    /// Meta offset of the next entry.
    at: u32,
    /// A torn entry ends the log: rewrite the record before appending.
    dirty: bool,
}

impl Log {
    /// Whether the log ends in a torn entry (the record is rewritten before the next append).
    pub fn is_dirty(&self) -> bool {
        self.dirty
    }
}

/// Erases meta and writes a fresh record for `id`: the header, then `entry` (a tag and
/// value) if any, then ERASED if `erased`. ERASED goes last: it vouches that everything past
/// the recorded progress is erased, so it must never stand without that progress.
fn rewrite(
    flash: &mut impl Flash,
    g: &Geometry,
    id: &ImageId,
    entry: Option<(u8, u32)>,
    erased: bool,
) -> Result<Log, FlashError> {
    flash.erase(Area::Meta, 0)?;
    let mut h = [0xFF; HEADER_LEN.next_multiple_of(MAX_UNIT as usize)];
    h[..HEADER_LEN].copy_from_slice(&id.header());
    let len = entries_start(g.program_unit) as usize;
    flash.write(Area::Meta, 0, &h[..len])?;
    let mut log = Log {
        at: entries_start(g.program_unit),
        dirty: false,
    };
    if let Some((tag, value)) = entry {
        append_entry(flash, g, &mut log, tag, value)?;
    }
    if erased {
        append_entry(flash, g, &mut log, ERASED, id.size)?;
    }
    Ok(log)
}

/// A new record for `id` with nothing erased or written yet.
pub fn start(flash: &mut impl Flash, g: &Geometry, id: &ImageId) -> Result<Log, FlashError> {
    rewrite(flash, g, id, None, false)
}

/// A new record for `id` whose sectors are erased past `progress`, the bytes below it
/// durable.
pub fn restart(
    flash: &mut impl Flash,
    g: &Geometry,
    id: &ImageId,
    progress: u32,
) -> Result<Log, FlashError> {
    let entry = (progress > 0).then_some((PROGRESS, progress));
    rewrite(flash, g, id, entry, true)
}

/// Reads the record: the image it names, its state and where its log continues.
/// `None` if there is no valid record.
pub fn load(
    flash: &mut impl Flash,
    g: &Geometry,
) -> Result<Option<(ImageId, State, Log)>, FlashError> {
    let mut h = [0u8; HEADER_LEN];
    flash.read(Area::Meta, 0, &mut h)?;
    let Some(id) = ImageId::from_header(&h) else {
        return Ok(None);
    };
    let mut state = State {
        progress: 0,
        committed: false,
        erased: false,
    };
    let step = entry_len(g.program_unit);
    let mut log = Log {
        at: entries_start(g.program_unit),
        dirty: false,
    };
    let mut e = [0u8; MAX_UNIT as usize];
    let e = &mut e[..step as usize];
    while log.at + step <= g.meta_size {
        flash.read(Area::Meta, log.at, e)?;
        if e.iter().all(|&b| b == 0xFF) {
            break;
        }
        let crc = u32::from_le_bytes([e[8], e[9], e[10], e[11]]);
        let value = u32::from_le_bytes([e[4], e[5], e[6], e[7]]);
        let valid = CRC32.checksum(&e[..8]) == crc && value <= id.size;
        // Anything else (a torn entry, progress going back) ends the log.
        match (valid, e[0]) {
            (true, ERASED) if value == id.size => state.erased = true,
            (true, PROGRESS) if value >= state.progress => state.progress = value,
            (true, COMMITTED) if value == id.size => state.committed = true,
            _ => {
                log.dirty = true;
                break;
            }
        }
        log.at += step;
    }
    Ok(Some((id, state, log)))
}

/// Records that every sector the image touches is erased.
pub fn erased(
    flash: &mut impl Flash,
    g: &Geometry,
    log: &mut Log,
    id: &ImageId,
) -> Result<(), FlashError> {
    append(flash, g, log, id, ERASED, id.size)
}

/// Records that every byte below `progress` is durable.
pub fn progress(
    flash: &mut impl Flash,
    g: &Geometry,
    log: &mut Log,
    id: &ImageId,
    progress: u32,
) -> Result<(), FlashError> {
    append(flash, g, log, id, PROGRESS, progress)
}

/// Records that the image was read back and matched `id.sha256`. A deferred image's
/// record did not hold its SHA-256 yet: it is written again with it (a cut meanwhile leaves
/// no record or one without ERASED, and the image is sent again: slower, never wrong).
pub fn commit(
    flash: &mut impl Flash,
    g: &Geometry,
    log: &mut Log,
    id: &ImageId,
) -> Result<(), FlashError> {
    if id.flags & super::frame::flags::DIGEST_AT_COMMIT != 0 {
        *log = rewrite(flash, g, id, Some((COMMITTED, id.size)), true)?;
        return Ok(());
    }
    append(flash, g, log, id, COMMITTED, id.size)
}

/// A new record for `id`, an image written to the slot whole and read back matching (a
/// delta's target: there is no resuming a delta, so it has no log until it is complete).
pub fn committed(flash: &mut impl Flash, g: &Geometry, id: &ImageId) -> Result<Log, FlashError> {
    rewrite(flash, g, id, Some((COMMITTED, id.size)), true)
}

/// Erases the record, so that the slot holds nothing resumable or committed.
pub fn forget(flash: &mut impl Flash) -> Result<(), FlashError> {
    flash.erase(Area::Meta, 0)
}

fn append(
    flash: &mut impl Flash,
    g: &Geometry,
    log: &mut Log,
    id: &ImageId,
    tag: u8,
    value: u32,
) -> Result<(), FlashError> {
    if log.dirty || log.at + entry_len(g.program_unit) > g.meta_size {
        // Compaction: entries are only appended once the image is erased, and PROGRESS and
        // COMMITTED each say all there is to say, so this entry and ERASED make the record.
        *log = rewrite(flash, g, id, Some((tag, value)), true)?;
        return Ok(());
    }
    append_entry(flash, g, log, tag, value)
}

fn append_entry(
    flash: &mut impl Flash,
    g: &Geometry,
    log: &mut Log,
    tag: u8,
    value: u32,
) -> Result<(), FlashError> {
    let mut e = [0xFF; MAX_UNIT as usize];
    e[..4].copy_from_slice(&[tag, 0, 0, 0]);
    e[4..8].copy_from_slice(&value.to_le_bytes());
    let crc = CRC32.checksum(&e[..8]);
    e[8..12].copy_from_slice(&crc.to_le_bytes());
    let step = entry_len(g.program_unit);
    // Mark the place used before programming it: if this write fails half way, the log
    // must not be appended at the same place again.
    let at = log.at;
    log.at += step;
    log.dirty = true;
    flash.write(Area::Meta, at, &e[..step as usize])?;
    log.dirty = false;
    Ok(())
}

/// Whether `[from, to)` of `area` reads as erased.
pub fn is_blank(
    flash: &mut impl Flash,
    area: Area,
    from: u32,
    to: u32,
) -> Result<bool, FlashError> {
    let mut buf = [0u8; 64];
    let mut at = from;
    while at < to {
        let n = (to - at).min(buf.len() as u32);
        let chunk = &mut buf[..n as usize];
        flash.read(area, at, chunk)?;
        if chunk.iter().any(|&b| b != 0xFF) {
            return Ok(false);
        }
        at += n;
    }
    Ok(true)
}

/// The image the slot holds, if it was committed: what a bootloader checks before it
/// switches to (or copies) the slot.
pub fn stored_image(flash: &mut impl Flash) -> Result<Option<ImageId>, FlashError> {
    let g = geometry(flash)?;
    Ok(load(flash, &g)?.and_then(|(id, state, _)| state.committed.then_some(id)))
}
