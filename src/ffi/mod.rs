//! The C ABI. Rules every function here follows:
//! - contexts live in caller-provided storage (`qsota_*_t`, sized by the header's
//!   constants) and are set up by their `_init` function, which stamps a magic number that
//!   every other call checks, so an uninitialised or mixed-up context is an error, not UB;
//! - results are `int32_t` status codes: `QSOTA_OK` or a negative `QSOTA_E_*`;
//! - no call can panic, unwind, allocate or call back into the caller.
//!
//! `include/qsota.h` is generated from this module by cbindgen and checked by the tests.

use crate::Error;
use core::mem::{align_of, size_of};

pub mod verify;

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

// cbindgen needs literals; these keep them equal to the core's codes.
const _: () = {
    assert!(QSOTA_E_NULL == Error::Null.code());
    assert!(QSOTA_E_STATE == Error::State.code());
    assert!(QSOTA_E_LENGTH == Error::Length.code());
    assert!(QSOTA_E_SYNTAX == Error::Syntax.code());
    assert!(QSOTA_E_RANGE == Error::Range.code());
    assert!(QSOTA_E_ARG == Error::Arg.code());
    assert!(QSOTA_E_BUFFER == Error::Buffer.code());
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
