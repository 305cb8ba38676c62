//! C ABI of the native protocol: the receiver for C bootloaders (flash through function
//! pointers, the bootloader's own code) and the sender for `_qsota`.

use super::{
    bytes, fits, get, init, out, qsota_action_t, sender_poll, sender_provide, sender_receive,
    status, InStorage,
};
use crate::native::frame::{MAX_FRAME, MAX_PAYLOAD};
use crate::native::receiver::{Config, Pipelined, Receiver, REPLY_MAX};
use crate::native::record::{self, Area, Flash, FlashError, Geometry};
use crate::native::sender::{Options, Sender};
use crate::Error;

/// Storage for one native receiver, in 8-byte words.
pub const QSOTA_NATIVE_RX_WORDS: usize = 160;
/// Storage for one native receiver with two frame buffers, in 8-byte words.
pub const QSOTA_NATIVE_RX2_WORDS: usize = 288;
/// Storage for one native sender, in 8-byte words.
pub const QSOTA_NATIVE_TX_WORDS: usize = 56;
/// The frame buffer a native sender needs (`qsota_native_tx_poll`).
pub const QSOTA_NATIVE_FRAME_SIZE: usize = 1038;
/// The output buffer a native receiver needs (`qsota_native_rx_receive`).
pub const QSOTA_NATIVE_REPLY_MAX: usize = 22;
/// `area` argument of the flash callbacks: the slot that receives the image.
pub const QSOTA_AREA_SLOT: i32 = 0;
/// `area` argument of the flash callbacks: the meta area holding the resume record.
pub const QSOTA_AREA_META: i32 = 1;

const _: () = {
    assert!(QSOTA_NATIVE_FRAME_SIZE == MAX_FRAME);
    assert!(QSOTA_NATIVE_REPLY_MAX == REPLY_MAX);
};

/// Caller-provided storage for a native receiver. Set it up with `qsota_native_rx_init`.
#[repr(C)]
pub struct qsota_native_rx_t {
    pub opaque: [u64; QSOTA_NATIVE_RX_WORDS],
}

/// Caller-provided storage for a native receiver with two frame buffers (it programs one
/// frame while the next arrives). Set it up with `qsota_native_rx2_init`.
#[repr(C)]
pub struct qsota_native_rx2_t {
    pub opaque: [u64; QSOTA_NATIVE_RX2_WORDS],
}

/// Caller-provided storage for a native sender. Set it up with `qsota_native_tx_init`.
#[repr(C)]
pub struct qsota_native_tx_t {
    pub opaque: [u64; QSOTA_NATIVE_TX_WORDS],
}

// SAFETY: both storage types are arrays of u64; `fits` is asserted below.
unsafe impl InStorage for Receiver {
    type Storage = qsota_native_rx_t;
    const MAGIC: u32 = 0x5153_4C52; // "QSLR"
}
// SAFETY: as above.
unsafe impl InStorage for Pipelined {
    type Storage = qsota_native_rx2_t;
    const MAGIC: u32 = 0x5153_4C50; // "QSLP"
}
// SAFETY: as above.
unsafe impl InStorage for Sender {
    type Storage = qsota_native_tx_t;
    const MAGIC: u32 = 0x5153_4C54; // "QSLT"
}
const _: () = assert!(fits::<Receiver>() && fits::<Pipelined>() && fits::<Sender>());

/// The bootloader's flash, for the receiver. Addresses are relative to each area's start.
/// Every callback returns 0 on success and anything else on failure; a null callback fails.
#[repr(C)]
pub struct qsota_flash_t {
    /// Passed to every callback.
    pub user: *mut core::ffi::c_void,
    /// Bytes in the slot (the largest image); a multiple of `program_unit`.
    pub slot_size: u32,
    /// Bytes in the meta area: one erase unit, at least 256 bytes, at most 16 MiB.
    pub meta_size: u32,
    /// Smallest programmable unit: 1, 2, 4, ... 64 bytes.
    pub program_unit: u32,
    /// Writes the start and length of the slot's erase unit containing `addr`.
    pub sector: Option<
        unsafe extern "C" fn(
            user: *mut core::ffi::c_void,
            addr: u32,
            start: *mut u32,
            len: *mut u32,
        ) -> i32,
    >,
    /// Erases the slot sector starting at `start`, or the whole meta area (`start` 0).
    pub erase:
        Option<unsafe extern "C" fn(user: *mut core::ffi::c_void, area: i32, start: u32) -> i32>,
    /// Programs `len` bytes (whole, aligned program units) at `addr`.
    pub write: Option<
        unsafe extern "C" fn(
            user: *mut core::ffi::c_void,
            area: i32,
            addr: u32,
            data: *const u8,
            len: usize,
        ) -> i32,
    >,
    /// Reads `len` bytes at `addr` into `buf`.
    pub read: Option<
        unsafe extern "C" fn(
            user: *mut core::ffi::c_void,
            area: i32,
            addr: u32,
            buf: *mut u8,
            len: usize,
        ) -> i32,
    >,
}

/// The C flash as a [`Flash`].
struct CFlash<'a>(&'a qsota_flash_t);

fn area_code(area: Area) -> i32 {
    match area {
        Area::Slot => QSOTA_AREA_SLOT,
        Area::Meta => QSOTA_AREA_META,
    }
}

fn ok(rc: i32) -> Result<(), FlashError> {
    if rc == 0 {
        Ok(())
    } else {
        Err(FlashError)
    }
}

impl Flash for CFlash<'_> {
    fn geometry(&self) -> Geometry {
        Geometry {
            slot_size: self.0.slot_size,
            meta_size: self.0.meta_size,
            program_unit: self.0.program_unit,
        }
    }

    fn sector(&self, addr: u32) -> (u32, u32) {
        let (mut start, mut len) = (0, 0);
        if let Some(f) = self.0.sector {
            // SAFETY: the bootloader's callback, given valid places for its answers.
            if unsafe { f(self.0.user, addr, &mut start, &mut len) } != 0 {
                return (0, 0); // an empty sector: the receiver treats it as a flash error
            }
        }
        (start, len)
    }

    fn erase(&mut self, area: Area, start: u32) -> Result<(), FlashError> {
        let f = self.0.erase.ok_or(FlashError)?;
        // SAFETY: the bootloader's callback.
        ok(unsafe { f(self.0.user, area_code(area), start) })
    }

    fn write(&mut self, area: Area, addr: u32, data: &[u8]) -> Result<(), FlashError> {
        let f = self.0.write.ok_or(FlashError)?;
        // SAFETY: the bootloader's callback; `data` is valid for `len` bytes.
        ok(unsafe {
            f(
                self.0.user,
                area_code(area),
                addr,
                data.as_ptr(),
                data.len(),
            )
        })
    }

    fn read(&mut self, area: Area, addr: u32, buf: &mut [u8]) -> Result<(), FlashError> {
        let f = self.0.read.ok_or(FlashError)?;
        // SAFETY: the bootloader's callback; `buf` is valid for `len` bytes of writes.
        ok(unsafe {
            f(
                self.0.user,
                area_code(area),
                addr,
                buf.as_mut_ptr(),
                buf.len(),
            )
        })
    }
}

/// Sets up a receiver in `rx`. `window`: DATA frames (of up to 1038 bytes) the bootloader's
/// UART buffering holds while it programs or erases flash (at least 1); `busy_ms`: the
/// longest it can go silent (a sector erase).
///
/// # Safety
/// `rx` is null or valid for writes of `qsota_native_rx_t`.
#[no_mangle]
pub unsafe extern "C" fn qsota_native_rx_init(
    rx: *mut qsota_native_rx_t,
    window: u16,
    busy_ms: u16,
) -> i32 {
    if window == 0 {
        return Error::Range.code();
    }
    // SAFETY: the caller's contract.
    unsafe { init(rx, Receiver::new(Config { window, busy_ms })) }
}

/// Takes received bytes from `data` until the receiver has an answer or `data` is used up;
/// programs flash as frames complete. Writes how many bytes it took to `consumed` and the
/// answer's length to `out_len`. Send `out[..out_len]` to the sender and call again with the
/// rest of `data` (possibly empty) until `out_len` is 0, which means all of `data` was taken.
/// `out_cap` must be at least `QSOTA_NATIVE_REPLY_MAX`.
///
/// # Safety
/// `rx` initialised by `qsota_native_rx_init`; `flash` valid, with callbacks that honour their
/// contracts; `data` valid for `len` bytes; `out` for `out_cap` bytes of writes; `consumed`
/// and `out_len` for a write each.
#[no_mangle]
pub unsafe extern "C" fn qsota_native_rx_receive(
    rx: *mut qsota_native_rx_t,
    flash: *const qsota_flash_t,
    data: *const u8,
    len: usize,
    out: *mut u8,
    out_cap: usize,
    consumed: *mut usize,
    out_len: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract.
    status(
        unsafe { rx_receive::<0>(rx, flash, data, len, out, out_cap, consumed, out_len) }
            .map(|_| ()),
    )
}

/// Writes 1 to `committed` if the receiver's session ended with the image read back,
/// matched and committed (the bootloader may switch to the slot), else 0; and the offset up
/// to which the open image is durable to `next` (null: not wanted).
///
/// # Safety
/// `rx` initialised; `committed` valid for a write; `next` null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn qsota_native_rx_state(
    rx: *mut qsota_native_rx_t,
    committed: *mut i32,
    next: *mut u32,
) -> i32 {
    // SAFETY: the caller's contract.
    status(unsafe { rx_state::<0>(rx, committed, next) })
}

/// Sets up a receiver with two frame buffers in `rx`: it moves an accepted DATA frame into
/// its second buffer and programs it `chunk` bytes per `qsota_native_rx2_receive` call
/// (rounded down to the program unit; 0: a whole frame), so that the bootloader reads its
/// UART between chunks while the next frame arrives. Pick `chunk` so that what the UART
/// receives while one chunk programs fits its buffering. `window`: DATA frames (of up to
/// 1038 bytes) that buffering holds (at least 1); the receiver announces one more, its
/// second buffer. `busy_ms`: the longest it can go silent (a sector erase).
///
/// # Safety
/// `rx` is null or valid for writes of `qsota_native_rx2_t`.
#[no_mangle]
pub unsafe extern "C" fn qsota_native_rx2_init(
    rx: *mut qsota_native_rx2_t,
    window: u16,
    busy_ms: u16,
    chunk: u16,
) -> i32 {
    if window == 0 {
        return Error::Range.code();
    }
    let config = Config { window, busy_ms };
    // SAFETY: the caller's contract.
    unsafe { init(rx, Pipelined::pipelined(config, chunk)) }
}

/// `qsota_native_rx_receive` for a two-buffer receiver: besides taking bytes it programs at
/// most one chunk of its staged frame per call, and it may leave bytes in `data` while a
/// complete frame waits for that. Writes 1 to `again` when the caller must call again at
/// once, without waiting for the UART (with the rest of `data` and whatever has arrived
/// since): it answered, left bytes, or has flash work pending; 0 when it is idle until new
/// bytes come.
///
/// # Safety
/// As `qsota_native_rx_receive`, `rx` initialised by `qsota_native_rx2_init`; `again` valid for
/// a write.
#[no_mangle]
pub unsafe extern "C" fn qsota_native_rx2_receive(
    rx: *mut qsota_native_rx2_t,
    flash: *const qsota_flash_t,
    data: *const u8,
    len: usize,
    out: *mut u8,
    out_cap: usize,
    consumed: *mut usize,
    out_len: *mut usize,
    again: *mut i32,
) -> i32 {
    // SAFETY: the caller's contract.
    status(unsafe {
        (|| {
            let again = super::out(again)?;
            let rx2 = rx_receive::<{ MAX_PAYLOAD }>(
                rx, flash, data, len, out, out_cap, consumed, out_len,
            )?;
            *again = i32::from(rx2.again(*consumed, len, *out_len));
            Ok(())
        })()
    })
}

/// `qsota_native_rx_state` for a two-buffer receiver (`next` counts programmed bytes only).
///
/// # Safety
/// As `qsota_native_rx_state`, `rx` initialised by `qsota_native_rx2_init`.
#[no_mangle]
pub unsafe extern "C" fn qsota_native_rx2_state(
    rx: *mut qsota_native_rx2_t,
    committed: *mut i32,
    next: *mut u32,
) -> i32 {
    // SAFETY: the caller's contract.
    status(unsafe { rx_state::<{ MAX_PAYLOAD }>(rx, committed, next) })
}

/// The body of `qsota_native_rx_receive` for either receiver; returns it for more questions.
///
/// # Safety
/// As `qsota_native_rx_receive`.
#[allow(clippy::too_many_arguments)]
unsafe fn rx_receive<'a, const S: usize>(
    rx: *mut <Receiver<S> as InStorage>::Storage,
    flash: *const qsota_flash_t,
    data: *const u8,
    len: usize,
    out: *mut u8,
    out_cap: usize,
    consumed: *mut usize,
    out_len: *mut usize,
) -> Result<&'a mut Receiver<S>, Error>
where
    Receiver<S>: InStorage,
{
    // SAFETY: the caller's contract.
    unsafe {
        let rx = get::<Receiver<S>>(rx)?;
        let flash = flash.as_ref().ok_or(Error::Null)?;
        let data = bytes(data, len)?;
        if out.is_null() {
            return Err(Error::Null);
        }
        let buf = core::slice::from_raw_parts_mut(out, out_cap);
        let (consumed, out_len) = (super::out(consumed)?, super::out(out_len)?);
        (*consumed, *out_len) = rx.receive(&mut CFlash(flash), data, buf)?;
        Ok(rx)
    }
}

/// The body of `qsota_native_rx_state` for either receiver.
///
/// # Safety
/// As `qsota_native_rx_state`.
unsafe fn rx_state<const S: usize>(
    rx: *mut <Receiver<S> as InStorage>::Storage,
    committed: *mut i32,
    next: *mut u32,
) -> Result<(), Error>
where
    Receiver<S>: InStorage,
{
    // SAFETY: the caller's contract.
    unsafe {
        get::<Receiver<S>>(rx).and_then(|rx| {
            *out(committed)? = i32::from(rx.committed().is_some());
            if let Some(next) = next.as_mut() {
                *next = rx.next();
            }
            Ok(())
        })
    }
}

/// What a bootloader checks at boot: writes 1 to `found` if the slot holds an image that
/// was read back, matched its SHA-256 and was committed, with its size and SHA-256; else 0
/// (also when the flash cannot be read: never switch to an image you cannot vouch for).
///
/// # Safety
/// `flash` valid; `found` and `size` valid for a write; `sha256` for 32 bytes of writes.
#[no_mangle]
pub unsafe extern "C" fn qsota_native_stored_image(
    flash: *const qsota_flash_t,
    found: *mut i32,
    size: *mut u32,
    sha256: *mut u8,
) -> i32 {
    // SAFETY: the caller's contract.
    status(unsafe {
        (|| {
            let flash = flash.as_ref().ok_or(Error::Null)?;
            let (found, size, sha) = (out(found)?, out(size)?, out(sha256.cast::<[u8; 32]>())?);
            let image = record::stored_image(&mut CFlash(flash)).ok().flatten();
            *found = i32::from(image.is_some());
            if let Some(id) = image {
                (*size, *sha) = (id.size, id.sha256);
            }
            Ok(())
        })()
    })
}

/// Native sender tuning (`qsota_native_options_default` fills in the defaults).
#[repr(C)]
pub struct qsota_native_options_t {
    /// Retransmission timeout (ms); 0: adaptive, from the measured round trip, between a
    /// frame's time on the line and the receiver's busy time + 1 s.
    pub rto_ms: u32,
    /// How long to wait for the receiver to answer at all (ms).
    pub open_timeout_ms: u32,
    /// Timeouts in a row without progress before giving up (0..=255).
    pub retries: u32,
    /// The line's rate, 0 if unknown (bounds the adaptive timeout below).
    pub baud: u32,
}

/// Writes the default options to `opts`.
///
/// # Safety
/// `opts` null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn qsota_native_options_default(opts: *mut qsota_native_options_t) -> i32 {
    let d = Options::default();
    // SAFETY: the caller's contract.
    status(unsafe { out(opts) }.map(|o| {
        *o = qsota_native_options_t {
            rto_ms: d.rto_ms,
            open_timeout_ms: d.open_timeout_ms,
            retries: u32::from(d.retries),
            baud: d.baud,
        }
    }))
}

fn options(o: &qsota_native_options_t) -> Result<Options, Error> {
    Ok(Options {
        rto_ms: o.rto_ms,
        open_timeout_ms: o.open_timeout_ms,
        retries: u8::try_from(o.retries).map_err(|_| Error::Range)?,
        baud: o.baud,
    })
}

/// Sets up a sender in `tx` for an image of `size` bytes with the 32-byte `sha256`, for the
/// component `comp` at version `ver` (each up to 32 bytes); `opts` null means the defaults.
/// `QSOTA_E_RANGE` for a size above 4 GB, a zero/huge timeout or retries above 255,
/// `QSOTA_E_LENGTH` for a long name.
///
/// # Safety
/// `tx` null or valid for writes of `qsota_native_tx_t`; `sha256` valid for 32 bytes; `comp`
/// and `ver` for their lengths; `opts` null or valid for reads.
#[no_mangle]
pub unsafe extern "C" fn qsota_native_tx_init(
    tx: *mut qsota_native_tx_t,
    size: u64,
    sha256: *const u8,
    comp: *const u8,
    comp_len: usize,
    ver: *const u8,
    ver_len: usize,
    opts: *const qsota_native_options_t,
) -> i32 {
    // SAFETY: the caller's contract.
    let sender = unsafe {
        (|| {
            let sha = bytes(sha256, 32)?.try_into().map_err(|_| Error::Length)?;
            // SAFETY: null or valid for reads (the caller's contract).
            let opts = match opts.as_ref() {
                None => Options::default(),
                Some(o) => options(o)?,
            };
            Sender::new(
                size,
                sha,
                bytes(comp, comp_len)?,
                bytes(ver, ver_len)?,
                opts,
            )
        })()
    };
    match sender {
        // SAFETY: the caller's contract.
        Ok(sender) => unsafe { init(tx, sender) },
        Err(e) => e.code(),
    }
}

/// What to do next (see `qsota_action_t`); `frame` is the driver's frame buffer of
/// `QSOTA_NATIVE_FRAME_SIZE` bytes, whose contents belong to the sender between calls.
///
/// # Safety
/// `tx` initialised; `frame` valid for `cap` bytes of reads and writes; `action` for a write.
#[no_mangle]
pub unsafe extern "C" fn qsota_native_tx_poll(
    tx: *mut qsota_native_tx_t,
    now_ms: u32,
    frame: *mut u8,
    cap: usize,
    action: *mut qsota_action_t,
) -> i32 {
    // SAFETY: the caller's contract.
    unsafe { sender_poll::<Sender>(tx, now_ms, frame, cap, action) }
}

/// After a `READ` action: the number of image bytes read (fewer only at the end of the
/// source, which fails the transfer with `source`).
///
/// # Safety
/// `tx` initialised.
#[no_mangle]
pub unsafe extern "C" fn qsota_native_tx_provide(tx: *mut qsota_native_tx_t, n: usize) -> i32 {
    // SAFETY: the caller's contract.
    unsafe { sender_provide::<Sender>(tx, n) }
}

/// Feeds `len` bytes received from the line at `now_ms`.
///
/// # Safety
/// `tx` initialised; `data` valid for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn qsota_native_tx_receive(
    tx: *mut qsota_native_tx_t,
    now_ms: u32,
    data: *const u8,
    len: usize,
) -> i32 {
    // SAFETY: the caller's contract.
    unsafe { sender_receive::<Sender>(tx, now_ms, data, len) }
}

/// A native sender's counters (`qsota_native_tx_stats`).
#[repr(C)]
pub struct qsota_native_stats_t {
    /// Image bytes the receiver holds.
    pub bytes: u64,
    /// DATA frames written, retransmissions included.
    pub frames: u64,
    /// Go-backs, timeouts and repeated OPEN/COMMIT frames.
    pub retries: u64,
    /// Bytes written to the line.
    pub line_bytes: u64,
    /// Where the receiver said the transfer starts.
    pub resumed_from: u64,
    /// Image bytes sent more than once.
    pub resent_bytes: u64,
    /// Times the receiver was found reset.
    pub reopens: u64,
    /// The receiver's window (frames) and payload per frame, 0 before it answered.
    pub window: u32,
    pub payload: u32,
    /// The receiver's ERROR code, 0 if none.
    pub error: i32,
    /// The retransmission timeout at the end, in ms (the adaptive one's last value).
    pub rto_ms: u32,
}

/// Writes the sender's counters to `stats`.
///
/// # Safety
/// `tx` initialised; `stats` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn qsota_native_tx_stats(
    tx: *mut qsota_native_tx_t,
    stats: *mut qsota_native_stats_t,
) -> i32 {
    // SAFETY: the caller's contract.
    status(unsafe {
        get::<Sender>(tx).and_then(|tx| {
            let s = tx.stats();
            let (window, payload) = tx.window();
            *out(stats)? = qsota_native_stats_t {
                bytes: s.bytes,
                frames: s.frames,
                retries: s.retries,
                line_bytes: s.line_bytes,
                resumed_from: s.resumed_from,
                resent_bytes: s.resent_bytes,
                reopens: s.reopens,
                window,
                payload,
                error: i32::from(s.error),
                rto_ms: s.rto_ms,
            };
            Ok(())
        })
    })
}
