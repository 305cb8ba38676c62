//! C ABI of the native receiver that applies delta packages (OPEN's DELTA flag,
//! docs/protocol.md): the two-buffer receiver of [`super::native_rx`] with the delta applier.
//! A bootloader links this file's functions only if it takes deltas (`./build.sh size`:
//! `receiver-delta-cortex-m3`); its flash gives the application area's size and reads it
//! (`qsota_flash_t.app_size`, `QSOTA_AREA_APP`).

use super::native_rx::{qsota_flash_t, rx2_receive, rx_state};
use super::{fits, init, status, InStorage};
use crate::native::delta::Patcher;
use crate::native::frame::MAX_PAYLOAD;
use crate::native::receiver::{Config, DeltaReceiver};
use crate::Error;

/// Storage for one delta receiver, in 8-byte words (its heatshrink window is the buffer
/// given to `qsota_native_rxd_init`).
pub const QSOTA_NATIVE_RXD_WORDS: usize = 392;

/// Caller-provided storage for a native receiver that applies delta packages. Set it up
/// with `qsota_native_rxd_init`.
#[repr(C)]
pub struct qsota_native_rxd_t {
    pub opaque: [u64; QSOTA_NATIVE_RXD_WORDS],
}

// SAFETY: the storage type is an array of u64; `fits` is asserted below.
unsafe impl InStorage for DeltaReceiver<'static> {
    type Storage = qsota_native_rxd_t;
    const MAGIC: u32 = 0x5153_4C44; // "QSLD"
}
const _: () = assert!(fits::<DeltaReceiver<'static>>());

/// Sets up, in `rx`, the two-buffer receiver of `qsota_native_rx2_init` (same `window`,
/// `busy_ms` and `chunk`) that also takes delta packages: it applies each DATA frame, as
/// it is staged, to the application area into the slot. `hs_window` (`hs_window_len`
/// bytes) holds the heatshrink window: a package made with a larger one (2^window bytes,
/// `qsota delta --window`, 8 by default: 256 bytes) is refused (ERROR `DELTA`).
///
/// # Safety
/// `rx` null or valid for writes of `qsota_native_rxd_t`; `hs_window` null (with 0) or
/// valid for reads and writes of `hs_window_len` bytes, used by nobody else while `rx` is
/// in use.
#[no_mangle]
pub unsafe extern "C" fn qsota_native_rxd_init(
    rx: *mut qsota_native_rxd_t,
    window: u16,
    busy_ms: u16,
    chunk: u16,
    hs_window: *mut u8,
    hs_window_len: usize,
) -> i32 {
    if window == 0 {
        return Error::Range.code();
    }
    // SAFETY: the caller's contract.
    let hs = match unsafe { window_buffer(hs_window, hs_window_len) } {
        Ok(hs) => hs,
        Err(e) => return e.code(),
    };
    let config = Config { window, busy_ms };
    let receiver = DeltaReceiver::pipelined_with(config, chunk, Patcher::new(hs));
    // SAFETY: the caller's contract.
    unsafe { init(rx, receiver) }
}

/// The heatshrink window buffer an init was given: empty for null with 0.
///
/// # Safety
/// `hs_window` null or valid for reads and writes of `len` bytes, used by nobody else while
/// the receiver is in use.
pub(super) unsafe fn window_buffer(
    hs_window: *mut u8,
    len: usize,
) -> Result<&'static mut [u8], Error> {
    match (hs_window.is_null(), len) {
        (true, 0) => Ok(&mut []),
        (true, _) => Err(Error::Null),
        // SAFETY: the caller's contract.
        (false, _) => Ok(unsafe { core::slice::from_raw_parts_mut(hs_window, len) }),
    }
}

/// `qsota_native_rx2_receive` for a delta receiver.
///
/// # Safety
/// As `qsota_native_rx2_receive`, `rx` initialised by `qsota_native_rxd_init`.
#[no_mangle]
pub unsafe extern "C" fn qsota_native_rxd_receive(
    rx: *mut qsota_native_rxd_t,
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
    unsafe {
        rx2_receive::<Patcher<'static>>(
            rx, flash, data, len, out, out_cap, consumed, out_len, again,
        )
    }
}

/// `qsota_native_rx2_state` for a delta receiver.
///
/// # Safety
/// As `qsota_native_rx_state`, `rx` initialised by `qsota_native_rxd_init`.
#[no_mangle]
pub unsafe extern "C" fn qsota_native_rxd_state(
    rx: *mut qsota_native_rxd_t,
    committed: *mut i32,
    next: *mut u32,
) -> i32 {
    // SAFETY: the caller's contract.
    status(unsafe { rx_state::<{ MAX_PAYLOAD }, Patcher<'static>>(rx, committed, next) })
}
