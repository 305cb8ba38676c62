//! C ABI of the native receiver that checks signatures (cargo feature `signed-receiver`,
//! OPEN's SIGNED flag, docs/protocol.md): the delta receiver of [`super::native_rxd`] that,
//! in a session with the SIGNED flag, commits only an MCUboot image signed by one of the
//! keys given at init (`./build.sh size`: `receiver-signed-cortex-m3`).

use super::native_rx::{qsota_flash_t, rx2_receive, rx_state};
use super::native_rxd::window_buffer;
use super::{fits, init, status, InStorage};
use crate::native::delta::Patcher;
use crate::native::frame::MAX_PAYLOAD;
use crate::native::receiver::Config;
use crate::native::signed::{Signed, SignedReceiver};
use crate::Error;

/// Storage for one signature-checking receiver, in 8-byte words (its heatshrink window is
/// the buffer given to `qsota_native_rxs_init`).
pub const QSOTA_NATIVE_RXS_WORDS: usize = 388;

/// Caller-provided storage for a native receiver that applies delta packages and checks
/// signatures. Set it up with `qsota_native_rxs_init`.
#[repr(C)]
pub struct qsota_native_rxs_t {
    pub opaque: [u64; QSOTA_NATIVE_RXS_WORDS],
}

// SAFETY: the storage type is an array of u64; `fits` is asserted below.
unsafe impl InStorage for SignedReceiver<'static> {
    type Storage = qsota_native_rxs_t;
    const MAGIC: u32 = 0x5153_4C53; // "QSLS"
}
const _: () = assert!(fits::<SignedReceiver<'static>>());

/// Sets up, in `rx`, the delta receiver of `qsota_native_rxd_init` (same arguments) that
/// also takes OPEN's SIGNED flag: in such a session it commits the slot only if it holds an
/// MCUboot image (SHA-256 TLV, Ed25519 signature) signed by one of `keys`, `n_keys` raw
/// 32-byte Ed25519 public keys (1 to 4) the bootloader compiled in; else ERROR `SIGNATURE`.
/// `QSOTA_E_RANGE` for another number of keys.
///
/// # Safety
/// As `qsota_native_rxd_init`; `keys` valid for reads of `32 * n_keys` bytes, unchanged
/// while `rx` is in use.
#[allow(clippy::too_many_arguments)]
#[no_mangle]
pub unsafe extern "C" fn qsota_native_rxs_init(
    rx: *mut qsota_native_rxs_t,
    window: u16,
    busy_ms: u16,
    chunk: u16,
    hs_window: *mut u8,
    hs_window_len: usize,
    keys: *const u8,
    n_keys: usize,
) -> i32 {
    if window == 0 {
        return Error::Range.code();
    }
    if keys.is_null() {
        return Error::Null.code();
    }
    // SAFETY: the caller's contract.
    let hs = match unsafe { window_buffer(hs_window, hs_window_len) } {
        Ok(hs) => hs,
        Err(e) => return e.code(),
    };
    // SAFETY: the caller's contract; [u8; 32] has alignment 1.
    let keys: &'static [[u8; 32]] = unsafe { core::slice::from_raw_parts(keys.cast(), n_keys) };
    let part = match Signed::new(Patcher::new(hs), keys) {
        Ok(part) => part,
        Err(e) => return e.code(),
    };
    let config = Config { window, busy_ms };
    let receiver = SignedReceiver::pipelined_with(config, chunk, part);
    // SAFETY: the caller's contract.
    unsafe { init(rx, receiver) }
}

/// `qsota_native_rx2_receive` for a signature-checking receiver.
///
/// # Safety
/// As `qsota_native_rx2_receive`, `rx` initialised by `qsota_native_rxs_init`.
#[no_mangle]
pub unsafe extern "C" fn qsota_native_rxs_receive(
    rx: *mut qsota_native_rxs_t,
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
        rx2_receive::<Signed<'static>>(rx, flash, data, len, out, out_cap, consumed, out_len, again)
    }
}

/// `qsota_native_rx2_state` for a signature-checking receiver.
///
/// # Safety
/// As `qsota_native_rx_state`, `rx` initialised by `qsota_native_rxs_init`.
#[no_mangle]
pub unsafe extern "C" fn qsota_native_rxs_state(
    rx: *mut qsota_native_rxs_t,
    committed: *mut i32,
    next: *mut u32,
) -> i32 {
    // SAFETY: the caller's contract.
    status(unsafe { rx_state::<{ MAX_PAYLOAD }, Signed<'static>>(rx, committed, next) })
}
