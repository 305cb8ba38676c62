//! The C ABI. Rules every function here follows:
//! - contexts live in caller-provided storage (`qsota_*_t`, sized by the header's
//!   constants) and are set up by their `_init` function, which stamps a magic number that
//!   every other call checks, so an uninitialised or mixed-up context is an error, not UB;
//! - results are `int32_t` status codes: `QSOTA_OK` or a negative `QSOTA_E_*`;
//! - no call can panic, unwind or allocate; only those given a `qsota_flash_t` (the native
//!   receiver's) call back into the caller, through its callbacks.
//!
//! `include/qsota.h` is generated from this module by cbindgen and checked by the tests.

use crate::transfer::{Action, Fail};
use crate::Error;
use core::mem::{align_of, size_of};

pub mod delta;
#[cfg(not(feature = "bootloader"))]
pub mod image;
#[cfg(not(feature = "bootloader"))]
pub mod mcuboot;
pub mod native_rx;
pub mod native_rxd;
#[cfg(feature = "signed-receiver")]
pub mod native_rxs;
#[cfg(not(feature = "bootloader"))]
pub mod native_tx;
#[cfg(not(feature = "bootloader"))]
pub mod stm32;
#[cfg(not(feature = "bootloader"))]
pub mod verify;
#[cfg(not(feature = "bootloader"))]
pub mod ymodem;

/// Success.
pub const QSOTA_OK: i32 = 0;
/// A required pointer argument was null.
pub const QSOTA_E_NULL: i32 = -1;
/// The context is not initialised, of another kind, or in the wrong state for this call.
pub const QSOTA_E_STATE: i32 = -2;
/// A value has the wrong length.
pub const QSOTA_E_LENGTH: i32 = -3;
/// A value contains a character that is not allowed.
pub const QSOTA_E_SYNTAX: i32 = -4;
/// A number is out of range.
pub const QSOTA_E_RANGE: i32 = -5;
/// An enumerated argument has no such value.
pub const QSOTA_E_ARG: i32 = -6;
/// An output buffer is too small.
pub const QSOTA_E_BUFFER: i32 = -7;
/// A delta patch or package cannot be applied: `qsota_delta_fault` says why.
pub const QSOTA_E_DELTA: i32 = -8;

// cbindgen needs literals; these keep them equal to the core's codes.
const _: () = {
    assert!(QSOTA_E_NULL == Error::Null.code());
    assert!(QSOTA_E_STATE == Error::State.code());
    assert!(QSOTA_E_LENGTH == Error::Length.code());
    assert!(QSOTA_E_SYNTAX == Error::Syntax.code());
    assert!(QSOTA_E_RANGE == Error::Range.code());
    assert!(QSOTA_E_ARG == Error::Arg.code());
    assert!(QSOTA_E_BUFFER == Error::Buffer.code());
    assert!(QSOTA_E_DELTA == Error::Delta.code());
};

/// Storage alignment of every context, in bytes (the storage types are arrays of `uint64_t`).
pub const QSOTA_CONTEXT_ALIGN: usize = 8;

/// A context in caller storage: a magic number naming its kind, then the value.
#[repr(C)]
struct Slot<T> {
    magic: u32,
    value: T,
}

/// A Rust type that lives in a C storage type `S`.
///
/// # Safety
/// `S` must be a `#[repr(C)]` array of `u64` large enough for `Slot<Self>`; [`fits`]
/// checks that at compile time for each implementation.
unsafe trait InStorage: Sized {
    type Storage;
    const MAGIC: u32;
}

/// Compile-time proof that `T` fits its storage.
const fn fits<T: InStorage>() -> bool {
    size_of::<Slot<T>>() <= size_of::<T::Storage>()
        && align_of::<Slot<T>>() <= QSOTA_CONTEXT_ALIGN
        && align_of::<T::Storage>() == QSOTA_CONTEXT_ALIGN
}

/// Writes a fresh `value` into `storage`.
///
/// # Safety
/// `storage` is null or valid for writes of `T::Storage`.
unsafe fn init<T: InStorage>(storage: *mut T::Storage, value: T) -> i32 {
    if storage.is_null() {
        return QSOTA_E_NULL;
    }
    // SAFETY: non-null, valid for writes (caller), large and aligned enough (`fits`).
    unsafe {
        storage.cast::<Slot<T>>().write(Slot {
            magic: T::MAGIC,
            value,
        })
    };
    QSOTA_OK
}

/// The context in `storage`, if it was initialised as a `T`.
///
/// # Safety
/// `storage` is null or valid for reads and writes of `T::Storage`, not aliased for `'a`.
unsafe fn get<'a, T: InStorage>(storage: *mut T::Storage) -> Result<&'a mut T, Error> {
    if storage.is_null() {
        return Err(Error::Null);
    }
    let slot = storage.cast::<Slot<T>>();
    // SAFETY: the magic is a plain u32 at offset 0 of valid, aligned storage; reading it is
    // fine whatever the storage holds, and only a matching magic lets us read `value`.
    unsafe {
        if (*slot).magic != T::MAGIC {
            return Err(Error::State);
        }
        Ok(&mut (*slot).value)
    }
}

/// Turns a result into a status code.
fn status(result: Result<(), Error>) -> i32 {
    match result {
        Ok(()) => QSOTA_OK,
        Err(e) => e.code(),
    }
}

/// A byte slice from a C pointer and length; a null pointer is only fine with length 0.
///
/// # Safety
/// Unless null, `ptr` is valid for reads of `len` bytes for `'a`.
unsafe fn bytes<'a>(ptr: *const u8, len: usize) -> Result<&'a [u8], Error> {
    match (ptr.is_null(), len) {
        (true, 0) => Ok(&[]),
        (true, _) => Err(Error::Null),
        // SAFETY: the caller's contract.
        (false, _) => Ok(unsafe { core::slice::from_raw_parts(ptr, len) }),
    }
}

/// A place to write one output value, or `Error::Null`.
///
/// # Safety
/// Unless null, `ptr` is valid for writes of a `T`.
unsafe fn out<'a, T>(ptr: *mut T) -> Result<&'a mut T, Error> {
    // SAFETY: the caller's contract.
    unsafe { ptr.as_mut() }.ok_or(Error::Null)
}

/// Writes `text` into `buf` of `cap` bytes, NUL-terminated; `QSOTA_E_BUFFER` if it does not
/// fit. The C ABI's texts from the core (`qsota_stm32_reason`, `qsota_image_problem`).
///
/// # Safety
/// `buf` null or valid for `cap` bytes of writes.
#[cfg(not(feature = "bootloader"))]
unsafe fn write_text(text: &str, buf: *mut u8, cap: usize) -> i32 {
    let text = text.as_bytes();
    if buf.is_null() {
        return QSOTA_E_NULL;
    }
    if text.len() >= cap {
        return QSOTA_E_BUFFER;
    }
    // SAFETY: `buf` is valid for `cap` > text.len() bytes (the caller's contract).
    unsafe {
        core::ptr::copy_nonoverlapping(text.as_ptr(), buf, text.len());
        *buf.add(text.len()) = 0;
    }
    QSOTA_OK
}

/// `qsota_X_poll` of any sender.
///
/// # Safety
/// `s` null or valid for reads and writes of `S::Storage`; `frame` null or valid for `cap`
/// bytes of reads and writes; `action` null or valid for a write.
#[cfg(not(feature = "bootloader"))]
unsafe fn sender_poll<S: InStorage + crate::transfer::Sender>(
    s: *mut S::Storage,
    now_ms: u32,
    frame: *mut u8,
    cap: usize,
    action: *mut qsota_action_t,
) -> i32 {
    // SAFETY: the caller's contract.
    status(unsafe {
        (|| {
            let s = get::<S>(s)?;
            let action = out(action)?;
            if frame.is_null() {
                return Err(Error::Null);
            }
            let frame = core::slice::from_raw_parts_mut(frame, cap);
            *action = s.poll(now_ms, frame).into();
            Ok(())
        })()
    })
}

/// `qsota_X_receive` of any sender.
///
/// # Safety
/// `s` as for [`sender_poll`]; `data` null or valid for `len` bytes.
#[cfg(not(feature = "bootloader"))]
unsafe fn sender_receive<S: InStorage + crate::transfer::Sender>(
    s: *mut S::Storage,
    now_ms: u32,
    data: *const u8,
    len: usize,
) -> i32 {
    // SAFETY: the caller's contract.
    status(unsafe {
        get::<S>(s).and_then(|s| {
            s.receive(now_ms, bytes(data, len)?);
            Ok(())
        })
    })
}

/// `qsota_X_provide` of any sender.
///
/// # Safety
/// `s` as for [`sender_poll`].
#[cfg(not(feature = "bootloader"))]
unsafe fn sender_provide<S: InStorage + crate::transfer::Sender>(
    s: *mut S::Storage,
    n: usize,
) -> i32 {
    // SAFETY: the caller's contract.
    status(unsafe { get::<S>(s) }.map(|s| s.provide(n)))
}

/// `qsota_action_t.kind`: write `len` bytes of the frame buffer to the line.
pub const QSOTA_ACTION_SEND: i32 = 1;
/// `qsota_action_t.kind`: read `len` image bytes at `offset` into the frame at `at`, then
/// call the sender's `provide` with the number read.
pub const QSOTA_ACTION_READ: i32 = 2;
/// `qsota_action_t.kind`: feed received bytes, or poll again at `until_ms`; `len` more bytes
/// of the answer are expected (0: unknown).
pub const QSOTA_ACTION_WAIT: i32 = 3;
/// `qsota_action_t.kind`: the receiver has the whole image.
pub const QSOTA_ACTION_DONE: i32 = 4;
/// `qsota_action_t.kind`: the transfer failed with `fail` (a `QSOTA_FAIL_*`).
pub const QSOTA_ACTION_FAILED: i32 = 5;
/// `qsota_action_t.kind` (senders made for an image checked at its end only): check the
/// image, write its SHA-256 to the frame at `at` and call `provide(32)`, or `provide(0)` if
/// the check failed (`transfer::Action::Digest`).
pub const QSOTA_ACTION_DIGEST: i32 = 6;

/// `qsota_action_t.fail` codes, in the order of `transfer::Fail` (names: `qsota_fail_name`).
pub const QSOTA_FAIL_TIMEOUT: i32 = 1;
pub const QSOTA_FAIL_CANCELLED: i32 = 2;
pub const QSOTA_FAIL_RETRIES: i32 = 3;
pub const QSOTA_FAIL_PROTOCOL: i32 = 4;
pub const QSOTA_FAIL_SOURCE: i32 = 5;
pub const QSOTA_FAIL_REJECTED: i32 = 6;
pub const QSOTA_FAIL_USAGE: i32 = 7;

/// Each failure with its name as a C string (a test keeps them equal to `Fail::name`).
const FAILS: [(Fail, &core::ffi::CStr); 7] = [
    (Fail::Timeout, c"timeout"),
    (Fail::Cancelled, c"cancelled"),
    (Fail::Retries, c"retries"),
    (Fail::Protocol, c"protocol"),
    (Fail::Source, c"source"),
    (Fail::Rejected, c"rejected"),
    (Fail::Usage, c"usage"),
];

/// What a sender's `poll` asks its driver to do (`transfer::Action` for C).
#[repr(C)]
pub struct qsota_action_t {
    /// A `QSOTA_ACTION_*`.
    pub kind: i32,
    /// `QSOTA_ACTION_FAILED`: a `QSOTA_FAIL_*`; otherwise 0.
    pub fail: i32,
    /// `SEND`: bytes to write; `READ`: bytes to read; `WAIT`: bytes of the answer still to
    /// come, where the sender knows, else 0.
    pub len: usize,
    /// `READ`: where the bytes go in the frame buffer; `DIGEST`: where the SHA-256 goes.
    pub at: usize,
    /// `READ`: image offset of the bytes.
    pub offset: u64,
    /// `WAIT`: when to poll again at the latest.
    pub until_ms: u32,
}

impl From<Action> for qsota_action_t {
    fn from(action: Action) -> Self {
        let mut a = qsota_action_t {
            kind: 0,
            fail: 0,
            len: 0,
            at: 0,
            offset: 0,
            until_ms: 0,
        };
        match action {
            Action::Send(n) => (a.kind, a.len) = (QSOTA_ACTION_SEND, n),
            Action::Read { offset, at, len } => {
                (a.kind, a.offset, a.at, a.len) = (QSOTA_ACTION_READ, offset, at, len)
            }
            Action::Wait { until_ms, expects } => {
                (a.kind, a.until_ms, a.len) = (QSOTA_ACTION_WAIT, until_ms, expects)
            }
            Action::Digest { at } => (a.kind, a.at) = (QSOTA_ACTION_DIGEST, at),
            Action::Done => a.kind = QSOTA_ACTION_DONE,
            Action::Failed(f) => {
                a.kind = QSOTA_ACTION_FAILED;
                a.fail = FAILS
                    .iter()
                    .position(|&(x, _)| x == f)
                    .map_or(0, |i| i as i32 + 1);
            }
        }
        a
    }
}

/// The name of a `QSOTA_FAIL_*` code (`timeout`, `cancelled`, ...: Python's
/// `TransferError.code`), NUL-terminated and static; `""` for an unknown code.
#[no_mangle]
pub extern "C" fn qsota_fail_name(fail: i32) -> *const core::ffi::c_char {
    let index = usize::try_from(fail).ok().and_then(|i| i.checked_sub(1));
    index
        .and_then(|i| FAILS.get(i))
        .map_or(c"", |&(_, name)| name)
        .as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_codes_and_names_match_the_core() {
        let codes = [
            QSOTA_FAIL_TIMEOUT,
            QSOTA_FAIL_CANCELLED,
            QSOTA_FAIL_RETRIES,
            QSOTA_FAIL_PROTOCOL,
            QSOTA_FAIL_SOURCE,
            QSOTA_FAIL_REJECTED,
            QSOTA_FAIL_USAGE,
        ];
        assert_eq!(codes, [1, 2, 3, 4, 5, 6, 7]);
        for (i, (fail, name)) in FAILS.iter().enumerate() {
            let a = qsota_action_t::from(Action::Failed(*fail));
            assert_eq!(a.fail, i as i32 + 1);
            assert_eq!(name.to_bytes(), fail.name().as_bytes());
            // SAFETY: qsota_fail_name returns a static NUL-terminated string.
            let c = unsafe { core::ffi::CStr::from_ptr(qsota_fail_name(a.fail)) };
            assert_eq!(c, *name);
        }
        for bad in [0, 8, -1, i32::MIN, i32::MAX] {
            // SAFETY: as above.
            assert!(unsafe { core::ffi::CStr::from_ptr(qsota_fail_name(bad)) }.is_empty());
        }
    }
}
