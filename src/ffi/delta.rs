//! C ABI of [`delta::Package`]: apply a delta package pushed in pieces, reading the base and
//! writing the target through the caller's callbacks (`qsota_delta_io_t`).

use super::{bytes, fits, get, init, out, status, InStorage};
use crate::delta::{Base, Fault, IoError, Package, Sink, DIGEST_LEN};
use crate::Error;

/// Storage for one delta context, in 8-byte words (the heatshrink window is the caller's
/// buffer given to `qsota_delta_init`).
pub const QSOTA_DELTA_WORDS: usize = 80;

/// Caller-provided storage for a delta context. Set it up with `qsota_delta_init`.
#[repr(C)]
pub struct qsota_delta_t {
    pub opaque: [u64; QSOTA_DELTA_WORDS],
}

// SAFETY: `qsota_delta_t` is an array of u64; `fits` is asserted below.
unsafe impl InStorage for Package<'static> {
    type Storage = qsota_delta_t;
    const MAGIC: u32 = 0x5153_4431; // "QSD1"
}
const _: () = assert!(fits::<Package<'static>>());

/// The base and the target, for `qsota_delta_push` and `qsota_delta_finish`.
#[repr(C)]
pub struct qsota_delta_io_t {
    /// Passed to both callbacks.
    pub user: *mut core::ffi::c_void,
    /// Reads `len` base bytes at `offset` (always inside the base) into `buf`; 0 on success.
    pub read: Option<
        unsafe extern "C" fn(
            user: *mut core::ffi::c_void,
            offset: u32,
            buf: *mut u8,
            len: usize,
        ) -> i32,
    >,
    /// Writes the next `len` target bytes (at most 256 a call); 0 on success.
    pub write: Option<
        unsafe extern "C" fn(user: *mut core::ffi::c_void, data: *const u8, len: usize) -> i32,
    >,
}

struct CIo<'a>(&'a qsota_delta_io_t);

impl Base for CIo<'_> {
    fn read(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), IoError> {
        let f = self.0.read.ok_or(IoError)?;
        // SAFETY: the caller's callback, given a buffer valid for `buf.len()` bytes.
        match unsafe { f(self.0.user, offset, buf.as_mut_ptr(), buf.len()) } {
            0 => Ok(()),
            _ => Err(IoError),
        }
    }
}

impl Sink for CIo<'_> {
    fn write(&mut self, data: &[u8]) -> Result<(), IoError> {
        let f = self.0.write.ok_or(IoError)?;
        // SAFETY: the caller's callback, given `data.len()` readable bytes.
        match unsafe { f(self.0.user, data.as_ptr(), data.len()) } {
            0 => Ok(()),
            _ => Err(IoError),
        }
    }
}

/// `qsota_delta_fault`'s codes: 1 + the position in `delta::Fault::ALL`.
pub const QSOTA_DELTA_MALFORMED: i32 = 1;
pub const QSOTA_DELTA_UNSUPPORTED: i32 = 2;
pub const QSOTA_DELTA_WINDOW: i32 = 3;
pub const QSOTA_DELTA_TOO_LARGE: i32 = 4;
pub const QSOTA_DELTA_BASE_RANGE: i32 = 5;
pub const QSOTA_DELTA_BASE_READ: i32 = 6;
pub const QSOTA_DELTA_WRITE: i32 = 7;
pub const QSOTA_DELTA_TRAILING: i32 = 8;
pub const QSOTA_DELTA_TRUNCATED: i32 = 9;
pub const QSOTA_DELTA_MAGIC: i32 = 10;
pub const QSOTA_DELTA_EXTENSION: i32 = 11;
pub const QSOTA_DELTA_BASE_MISMATCH: i32 = 12;
pub const QSOTA_DELTA_TARGET_MISMATCH: i32 = 13;
pub const QSOTA_DELTA_NO_EXTENSION: i32 = 14;

/// The C code of a fault.
pub(super) fn fault_code(fault: Fault) -> i32 {
    Fault::ALL
        .iter()
        .position(|&f| f == fault)
        .map_or(0, |i| i as i32 + 1)
}

/// Runs `f` on the context, recording the fault a `delta::Fault` names.
///
/// # Safety
/// As [`get`].
unsafe fn with(
    d: *mut qsota_delta_t,
    f: impl FnOnce(&mut Package<'static>) -> Result<(), Fault>,
) -> i32 {
    // SAFETY: the caller's contract.
    status(unsafe { get::<Package<'static>>(d) }.and_then(|p| f(p).map_err(|_| Error::Delta)))
}

/// Sets up a context for a package against a base of `base_size` bytes giving at most
/// `limit` bytes. `window` (`window_len` bytes; null with 0 is fine) holds the heatshrink
/// window: 2^window bytes of the patch's parameters (256 for detools' default 8/7), else
/// the package fails with `QSOTA_DELTA_WINDOW`. With `check_base` non-zero the base's
/// SHA-256 is read through `read` and compared with the header's when the header is in;
/// with 0 the caller has checked it (`qsota_delta_header`).
///
/// # Safety
/// `d` null or valid for writes of `qsota_delta_t`; `window` null or valid for reads and
/// writes of `window_len` bytes, used by nobody else until `d` is initialised again or
/// dropped.
#[no_mangle]
pub unsafe extern "C" fn qsota_delta_init(
    d: *mut qsota_delta_t,
    window: *mut u8,
    window_len: usize,
    base_size: u32,
    limit: u32,
    check_base: i32,
) -> i32 {
    let window: &'static mut [u8] = match (window.is_null(), window_len) {
        (true, 0) => &mut [],
        (true, _) => return Error::Null.code(),
        // SAFETY: the caller's contract: valid and unshared while `d` is in use.
        (false, _) => unsafe { core::slice::from_raw_parts_mut(window, window_len) },
    };
    let package = Package::new(window, base_size, limit, check_base != 0);
    // SAFETY: the caller's contract.
    unsafe { init(d, package) }
}

/// The window a package needs, from its first `len` bytes: 2^window bytes of its patch's
/// heatshrink parameters, 0 when it needs none (compression none or crle, an empty target,
/// or a package `qsota_delta_push` will refuse and say why); `QSOTA_E_LENGTH` until `head`
/// holds the byte that tells (at most the first 71 bytes are read). For a caller that
/// allocates the window `qsota_delta_init` takes once the package's first bytes are in.
///
/// # Safety
/// `head` null or valid for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn qsota_delta_window_len(head: *const u8, len: usize) -> i32 {
    // SAFETY: the caller's contract.
    match unsafe { bytes(head, len) }.map(crate::delta::window_len) {
        Ok(Some(n)) => n as i32, // at most 2^15
        Ok(None) => Error::Length.code(),
        Err(e) => e.code(),
    }
}

/// Takes the next `len` package bytes. `QSOTA_E_DELTA` when the package cannot be applied
/// (`qsota_delta_fault` says why; every later call fails the same way).
///
/// # Safety
/// `d` initialised; `io` null or valid, its callbacks safe to call as documented; `data`
/// null or valid for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn qsota_delta_push(
    d: *mut qsota_delta_t,
    io: *const qsota_delta_io_t,
    data: *const u8,
    len: usize,
) -> i32 {
    let mut consumed = 0;
    // SAFETY: the caller's contract.
    unsafe { qsota_delta_push_within(d, io, data, len, usize::MAX, &mut consumed) }
}

/// `qsota_delta_push` writing at most `room` target bytes: writes how many of the `len`
/// bytes it took to `consumed`. It stops early only when less than 256 bytes of room are
/// left, keeping what it still has to write for the next call (which may pass no bytes), so
/// a `room` of 256 or more always makes progress. For a caller that hands the target on in
/// a buffer of its own: a few patch bytes can stand for a long run of output.
///
/// # Safety
/// As `qsota_delta_push`; `consumed` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn qsota_delta_push_within(
    d: *mut qsota_delta_t,
    io: *const qsota_delta_io_t,
    data: *const u8,
    len: usize,
    room: usize,
    consumed: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract.
    status(unsafe {
        (|| {
            let io = io.as_ref().ok_or(Error::Null)?;
            let data = bytes(data, len)?;
            let consumed = out(consumed)?;
            let p = get::<Package<'static>>(d)?;
            let room = u32::try_from(room).unwrap_or(u32::MAX);
            *consumed = p
                .push_within(data, &mut CIo(io), room)
                .map_err(|_| Error::Delta)?;
            Ok(())
        })()
    })
}

/// Ends the package: writes the target's size to `size` and its SHA-256 to `sha256` (32
/// bytes), checked against the package's extension where it has one. `QSOTA_E_DELTA` when
/// the target is incomplete or not the package's.
///
/// # Safety
/// `d` initialised; `size` valid for a write; `sha256` valid for 32 bytes of writes.
#[no_mangle]
pub unsafe extern "C" fn qsota_delta_finish(
    d: *mut qsota_delta_t,
    size: *mut u32,
    sha256: *mut u8,
) -> i32 {
    // SAFETY: the caller's contract.
    unsafe {
        let (Ok(size), false) = (out(size), sha256.is_null()) else {
            return Error::Null.code();
        };
        let sha256 = core::slice::from_raw_parts_mut(sha256, 32);
        with(d, |p| {
            let (n, sha) = p.finish()?;
            *size = n;
            sha256.copy_from_slice(&sha);
            Ok(())
        })
    }
}

/// The package's header, once its 64 bytes are in: the base's SHA-256 (32 bytes) and, with
/// qsota's extension (`has_extension` 1), the base size and the first 20 bytes of the
/// target's SHA-256; without (a package made for ESP), `has_extension` 0, the size 0 and
/// the digest zeros. `QSOTA_E_STATE` before the header is in.
///
/// # Safety
/// `d` initialised; `base_sha256` valid for 32 bytes of writes, `target_digest` for 20;
/// the others valid for a write.
#[no_mangle]
pub unsafe extern "C" fn qsota_delta_header(
    d: *mut qsota_delta_t,
    base_sha256: *mut u8,
    has_extension: *mut i32,
    base_size: *mut u32,
    target_digest: *mut u8,
) -> i32 {
    // SAFETY: the caller's contract.
    status(unsafe {
        (|| {
            let p = get::<Package<'static>>(d)?;
            let header = p.header().ok_or(Error::State)?;
            if base_sha256.is_null() || target_digest.is_null() {
                return Err(Error::Null);
            }
            core::slice::from_raw_parts_mut(base_sha256, 32).copy_from_slice(&header.base_sha256);
            let e = header.extension;
            *out(has_extension)? = i32::from(e.is_some());
            *out(base_size)? = e.map_or(0, |e| e.base_size);
            core::slice::from_raw_parts_mut(target_digest, DIGEST_LEN)
                .copy_from_slice(&e.map_or([0; DIGEST_LEN], |e| e.target_digest));
            Ok(())
        })()
    })
}

/// The target's size once the patch has stated it; `QSOTA_E_STATE` before.
///
/// # Safety
/// `d` initialised; `size` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn qsota_delta_target_size(d: *mut qsota_delta_t, size: *mut u32) -> i32 {
    // SAFETY: the caller's contract.
    status(unsafe {
        (|| {
            let n = get::<Package<'static>>(d)?
                .target_size()
                .ok_or(Error::State)?;
            *out(size)? = n;
            Ok(())
        })()
    })
}

/// Why the context failed: a `QSOTA_DELTA_*` code, or 0 while it has not.
///
/// # Safety
/// `d` initialised.
#[no_mangle]
pub unsafe extern "C" fn qsota_delta_fault(d: *mut qsota_delta_t) -> i32 {
    // SAFETY: the caller's contract.
    match unsafe { get::<Package<'static>>(d) } {
        Ok(p) => p.fault().map_or(0, fault_code),
        Err(e) => e.code(),
    }
}

/// The name of a `QSOTA_DELTA_*` code (`malformed`, `base_mismatch`, ...: Python's
/// `DeltaError.code`), NUL-terminated and static; `""` for an unknown code.
#[no_mangle]
pub extern "C" fn qsota_delta_fault_name(fault: i32) -> *const core::ffi::c_char {
    let index = usize::try_from(fault).ok().and_then(|i| i.checked_sub(1));
    index
        .and_then(|i| NAMES.get(i))
        .map_or(c"", |name| *name)
        .as_ptr()
}

/// The faults' names as C strings, in `Fault::ALL`'s order (a test keeps them equal).
const NAMES: [&core::ffi::CStr; 14] = [
    c"malformed",
    c"unsupported",
    c"window",
    c"too_large",
    c"base_range",
    c"base_read",
    c"write",
    c"trailing",
    c"truncated",
    c"magic",
    c"extension",
    c"base_mismatch",
    c"target_mismatch",
    c"no_extension",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::QSOTA_E_DELTA;

    #[test]
    fn fault_codes_and_names_match_the_core() {
        let codes = [
            QSOTA_DELTA_MALFORMED,
            QSOTA_DELTA_UNSUPPORTED,
            QSOTA_DELTA_WINDOW,
            QSOTA_DELTA_TOO_LARGE,
            QSOTA_DELTA_BASE_RANGE,
            QSOTA_DELTA_BASE_READ,
            QSOTA_DELTA_WRITE,
            QSOTA_DELTA_TRAILING,
            QSOTA_DELTA_TRUNCATED,
            QSOTA_DELTA_MAGIC,
            QSOTA_DELTA_EXTENSION,
            QSOTA_DELTA_BASE_MISMATCH,
            QSOTA_DELTA_TARGET_MISMATCH,
            QSOTA_DELTA_NO_EXTENSION,
        ];
        for (i, fault) in Fault::ALL.iter().enumerate() {
            assert_eq!(fault_code(*fault), codes[i]);
            assert_eq!(fault_code(*fault), i as i32 + 1);
            // SAFETY: a static NUL-terminated string.
            let name = unsafe { core::ffi::CStr::from_ptr(qsota_delta_fault_name(codes[i])) };
            assert_eq!(name.to_bytes(), fault.name().as_bytes());
        }
        for bad in [0, 15, -1, i32::MIN, i32::MAX] {
            // SAFETY: as above.
            assert!(unsafe { core::ffi::CStr::from_ptr(qsota_delta_fault_name(bad)) }.is_empty());
        }
    }

    /// A package through the C ABI, pushed a byte at a time.
    #[test]
    fn a_package_applies_through_the_c_abi() {
        use std::vec::Vec;
        struct Io {
            base: Vec<u8>,
            out: Vec<u8>,
        }
        unsafe extern "C" fn read(
            user: *mut core::ffi::c_void,
            at: u32,
            buf: *mut u8,
            n: usize,
        ) -> i32 {
            // SAFETY: `user` is the test's `Io`; `buf` holds `n` bytes.
            let io = unsafe { &*(user as *const Io) };
            // SAFETY: `buf` holds `n` bytes, and the applier reads within the base.
            unsafe { core::ptr::copy_nonoverlapping(io.base[at as usize..].as_ptr(), buf, n) };
            0
        }
        unsafe extern "C" fn write(user: *mut core::ffi::c_void, data: *const u8, n: usize) -> i32 {
            // SAFETY: as above.
            let io = unsafe { &mut *(user as *mut Io) };
            // SAFETY: `data` holds `n` readable bytes.
            let data = unsafe { core::slice::from_raw_parts(data, n) };
            io.out.extend_from_slice(data);
            0
        }
        let base: Vec<u8> = (0..500u32).map(|i| (i * 7) as u8).collect();
        // A none-compressed patch: the base's first 300 bytes, then 3 extra bytes.
        let mut patch = std::vec![0x00, 0x80 | (303 & 0x3f) as u8, (303 >> 6) as u8, 0];
        patch.extend_from_slice(&[0x80 | (300 & 0x3f) as u8, (300 >> 6) as u8]);
        patch.extend_from_slice(&[0; 300]);
        patch.extend_from_slice(&[3, 9, 9, 9, 0]);
        let mut target = base[..300].to_vec();
        target.extend_from_slice(&[9, 9, 9]);
        let mut io = Io {
            base,
            out: Vec::new(),
        };
        let header = crate::delta::Header {
            base_sha256: sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(
                &io.base,
            ))
            .into(),
            extension: None,
        };
        let mut pkg = header.to_bytes().to_vec();
        pkg.extend_from_slice(&patch);
        let mut window = [0u8; 16];
        let mut d = qsota_delta_t {
            opaque: [0; QSOTA_DELTA_WORDS],
        };
        let cio = qsota_delta_io_t {
            user: (&mut io as *mut Io).cast(),
            read: Some(read),
            write: Some(write),
        };
        // SAFETY: valid storage, window, io and data throughout.
        unsafe {
            assert_eq!(
                qsota_delta_init(&mut d, window.as_mut_ptr(), 16, 500, 1000, 1),
                0
            );
            for b in &pkg {
                assert_eq!(qsota_delta_push(&mut d, &cio, b, 1), 0);
            }
            let (mut size, mut sha) = (0u32, [0u8; 32]);
            assert_eq!(qsota_delta_finish(&mut d, &mut size, sha.as_mut_ptr()), 0);
            assert_eq!(size, 303);
            assert_eq!(qsota_delta_fault(&mut d), 0);
            assert_eq!(
                qsota_delta_push(&mut d, &cio, pkg.as_ptr(), 1),
                QSOTA_E_DELTA
            );
            assert_eq!(qsota_delta_fault(&mut d), QSOTA_DELTA_TRAILING);
        }
        assert_eq!(io.out, target);
    }
}
