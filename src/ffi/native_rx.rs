//! C ABI of the native protocol's receiver, for C bootloaders: flash through function
//! pointers, the bootloader's own code. (The sender, for `_qsota`, is [`super::native_tx`].)

use super::{bytes, fits, get, init, out, status, InStorage};
use crate::native::delta::{NoDelta, Patching};
use crate::native::frame::MAX_PAYLOAD;
use crate::native::receiver::{Config, Pipelined, Receiver, REPLY_MAX};
use crate::native::record::{self, Area, Flash, FlashError, Geometry};
use crate::Error;

/// Storage for one native receiver, in 8-byte words.
pub const QSOTA_NATIVE_RX_WORDS: usize = 160;
/// Storage for one native receiver with two frame buffers, in 8-byte words.
pub const QSOTA_NATIVE_RX2_WORDS: usize = 288;
/// The output buffer a native receiver needs (`qsota_native_rx_receive`).
pub const QSOTA_NATIVE_REPLY_MAX: usize = 22;
/// `area` argument of the flash callbacks: the slot that receives the image.
pub const QSOTA_AREA_SLOT: i32 = 0;
/// `area` argument of the flash callbacks: the meta area holding the resume record.
pub const QSOTA_AREA_META: i32 = 1;
/// `area` argument of the read callback: the application area, the base a delta applies to
/// (only a delta receiver reads it, only below `app_size`; it never erases or writes it).
pub const QSOTA_AREA_APP: i32 = 2;

const _: () = assert!(QSOTA_NATIVE_REPLY_MAX == REPLY_MAX);

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
const _: () = assert!(fits::<Receiver>() && fits::<Pipelined>());

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
    /// Bytes of the application area a delta receiver may read as a delta's base
    /// (`QSOTA_AREA_APP`); 0 (a receiver without delta): none.
    pub app_size: u32,
}

/// The C flash as a [`Flash`].
pub(super) struct CFlash<'a>(pub(super) &'a qsota_flash_t);

fn area_code(area: Area) -> i32 {
    match area {
        Area::Slot => QSOTA_AREA_SLOT,
        Area::Meta => QSOTA_AREA_META,
        Area::App => QSOTA_AREA_APP,
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
            app_size: self.0.app_size,
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
        unsafe { rx_receive::<0, NoDelta>(rx, flash, data, len, out, out_cap, consumed, out_len) }
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
    status(unsafe { rx_state::<0, NoDelta>(rx, committed, next) })
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
    unsafe { rx2_receive::<NoDelta>(rx, flash, data, len, out, out_cap, consumed, out_len, again) }
}

/// The body of `qsota_native_rx2_receive` for a two-buffer receiver whose delta part is `D`.
///
/// # Safety
/// As `qsota_native_rx2_receive`.
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn rx2_receive<D: Patching>(
    rx: *mut <Receiver<MAX_PAYLOAD, D> as InStorage>::Storage,
    flash: *const qsota_flash_t,
    data: *const u8,
    len: usize,
    out: *mut u8,
    out_cap: usize,
    consumed: *mut usize,
    out_len: *mut usize,
    again: *mut i32,
) -> i32
where
    Receiver<MAX_PAYLOAD, D>: InStorage,
{
    // SAFETY: the caller's contract.
    status(unsafe {
        (|| {
            let again = super::out(again)?;
            let rx2 = rx_receive::<{ MAX_PAYLOAD }, D>(
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
    status(unsafe { rx_state::<{ MAX_PAYLOAD }, NoDelta>(rx, committed, next) })
}

/// The body of `qsota_native_rx_receive` for every receiver; returns it for more questions.
///
/// # Safety
/// As `qsota_native_rx_receive`.
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn rx_receive<'a, const S: usize, D: Patching>(
    rx: *mut <Receiver<S, D> as InStorage>::Storage,
    flash: *const qsota_flash_t,
    data: *const u8,
    len: usize,
    out: *mut u8,
    out_cap: usize,
    consumed: *mut usize,
    out_len: *mut usize,
) -> Result<&'a mut Receiver<S, D>, Error>
where
    Receiver<S, D>: InStorage,
{
    // SAFETY: the caller's contract.
    unsafe {
        let rx = get::<Receiver<S, D>>(rx)?;
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

/// The body of `qsota_native_rx_state` for every receiver.
///
/// # Safety
/// As `qsota_native_rx_state`.
pub(super) unsafe fn rx_state<const S: usize, D: Patching>(
    rx: *mut <Receiver<S, D> as InStorage>::Storage,
    committed: *mut i32,
    next: *mut u32,
) -> Result<(), Error>
where
    Receiver<S, D>: InStorage,
{
    // SAFETY: the caller's contract.
    unsafe {
        get::<Receiver<S, D>>(rx).and_then(|rx| {
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
