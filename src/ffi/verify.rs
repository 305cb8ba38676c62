//! C ABI of [`Verifier`].

use super::{bytes, fits, get, init, out, status, InStorage};
use crate::midstate::STATE_LEN;
use crate::verify::{CrcPolicy, CrcVariant, Verifier};
use crate::Error;

/// Storage for one verifier, in 8-byte words.
pub const QSOTA_VERIFIER_WORDS: usize = 112;

/// Caller-provided storage for a verifier (a static, a stack variable, or part of a
/// MicroPython object). Set it up with `qsota_verifier_init`.
#[repr(C)]
pub struct qsota_verifier_t {
    pub opaque: [u64; QSOTA_VERIFIER_WORDS],
}

// SAFETY: `qsota_verifier_t` is an array of u64; `fits` is asserted below.
unsafe impl InStorage for Verifier {
    type Storage = qsota_verifier_t;
    const MAGIC: u32 = 0x5153_5631; // "QSV1"
}
const _: () = assert!(fits::<Verifier>());

/// Bytes of a verifier's exported state (`qsota_verifier_export`).
pub const QSOTA_VERIFIER_STATE_LEN: usize = 140;
const _: () = assert!(QSOTA_VERIFIER_STATE_LEN == STATE_LEN);

/// The expected CRC may match either variant (`qsota_verifier_set_crc_variant`).
pub const QSOTA_CRC_AUTO: i32 = 0;
/// CRC-32/MPEG-2, the variant Quectel documents.
pub const QSOTA_CRC_MPEG2: i32 = 1;
/// CRC-32/ISO-HDLC, the zlib one.
pub const QSOTA_CRC_ISO_HDLC: i32 = 2;

/// `md5` in a check's mismatch mask.
pub const QSOTA_FIELD_MD5: u32 = 1;
/// `sha256` in a check's mismatch mask.
pub const QSOTA_FIELD_SHA256: u32 = 2;
/// `crc` in a check's mismatch mask.
pub const QSOTA_FIELD_CRC: u32 = 4;
/// `size` in a check's mismatch mask.
pub const QSOTA_FIELD_SIZE: u32 = 8;
/// The signed image (`qsota_verifier_image` says why) in a check's mismatch mask.
pub const QSOTA_FIELD_SIGNATURE: u32 = 16;

// cbindgen needs literals; these keep them equal to the core's bits.
const _: () = {
    use crate::verify::field;
    assert!(QSOTA_FIELD_MD5 == field::MD5);
    assert!(QSOTA_FIELD_SHA256 == field::SHA256);
    assert!(QSOTA_FIELD_CRC == field::CRC);
    assert!(QSOTA_FIELD_SIZE == field::SIZE);
    assert!(QSOTA_FIELD_SIGNATURE == field::SIGNATURE);
};

fn variant_code(variant: Option<CrcVariant>) -> i32 {
    match variant {
        None => QSOTA_CRC_AUTO,
        Some(CrcVariant::Mpeg2) => QSOTA_CRC_MPEG2,
        Some(CrcVariant::IsoHdlc) => QSOTA_CRC_ISO_HDLC,
    }
}

fn variant_from_code(code: i32) -> Result<Option<CrcVariant>, Error> {
    match code {
        QSOTA_CRC_AUTO => Ok(None),
        QSOTA_CRC_MPEG2 => Ok(Some(CrcVariant::Mpeg2)),
        QSOTA_CRC_ISO_HDLC => Ok(Some(CrcVariant::IsoHdlc)),
        _ => Err(Error::Arg),
    }
}

/// Runs `f` on the verifier in `v`, giving a status code.
///
/// # Safety
/// As [`get`].
pub(super) unsafe fn with(
    v: *mut qsota_verifier_t,
    f: impl FnOnce(&mut Verifier) -> Result<(), Error>,
) -> i32 {
    // SAFETY: the caller's contract.
    status(unsafe { get::<Verifier>(v) }.and_then(f))
}

/// Sets up a fresh verifier in `v`: no expectations, CRC variant auto.
///
/// # Safety
/// `v` is null or valid for writes of `qsota_verifier_t`.
#[no_mangle]
pub unsafe extern "C" fn qsota_verifier_init(v: *mut qsota_verifier_t) -> i32 {
    // SAFETY: the caller's contract.
    unsafe { init(v, Verifier::new()) }
}

/// Feeds `len` bytes at `data` (null is fine when `len` is 0).
/// `QSOTA_E_STATE` once the verifier is final.
///
/// # Safety
/// `v` as for `qsota_verifier_init`, initialised; `data` valid for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn qsota_verifier_update(
    v: *mut qsota_verifier_t,
    data: *const u8,
    len: usize,
) -> i32 {
    // SAFETY: the caller's contract.
    unsafe { with(v, |v| v.update(bytes(data, len)?)) }
}

/// Expects the MD5 given as `len` hex digits (32, either case).
/// `QSOTA_E_LENGTH` or `QSOTA_E_SYNTAX` for a malformed digest.
///
/// # Safety
/// As `qsota_verifier_update`.
#[no_mangle]
pub unsafe extern "C" fn qsota_verifier_expect_md5(
    v: *mut qsota_verifier_t,
    hex: *const u8,
    len: usize,
) -> i32 {
    // SAFETY: the caller's contract.
    unsafe { with(v, |v| v.expect_md5_hex(bytes(hex, len)?)) }
}

/// Expects the SHA-256 given as `len` hex digits (64, either case).
///
/// # Safety
/// As `qsota_verifier_update`.
#[no_mangle]
pub unsafe extern "C" fn qsota_verifier_expect_sha256(
    v: *mut qsota_verifier_t,
    hex: *const u8,
    len: usize,
) -> i32 {
    // SAFETY: the caller's contract.
    unsafe { with(v, |v| v.expect_sha256_hex(bytes(hex, len)?)) }
}

/// Expects the CRC-32 printed as text: `0x` hex, hex with letters, or digits only, which
/// may be decimal or hex (a match under either reading counts).
/// `QSOTA_E_SYNTAX` for anything else, `QSOTA_E_RANGE` when no reading fits in 32 bits.
///
/// # Safety
/// As `qsota_verifier_update`.
#[no_mangle]
pub unsafe extern "C" fn qsota_verifier_expect_crc_text(
    v: *mut qsota_verifier_t,
    text: *const u8,
    len: usize,
) -> i32 {
    // SAFETY: the caller's contract.
    unsafe { with(v, |v| v.expect_crc_text(bytes(text, len)?)) }
}

/// Expects the CRC-32 `value`.
///
/// # Safety
/// As `qsota_verifier_update`.
#[no_mangle]
pub unsafe extern "C" fn qsota_verifier_expect_crc(v: *mut qsota_verifier_t, value: u32) -> i32 {
    // SAFETY: the caller's contract.
    unsafe {
        with(v, |v| {
            v.expect_crc(value);
            Ok(())
        })
    }
}

/// Expects an image of exactly `size` bytes.
///
/// # Safety
/// As `qsota_verifier_update`.
#[no_mangle]
pub unsafe extern "C" fn qsota_verifier_expect_size(v: *mut qsota_verifier_t, size: u64) -> i32 {
    // SAFETY: the caller's contract.
    unsafe {
        with(v, |v| {
            v.expect_size(size);
            Ok(())
        })
    }
}

/// Which variant the expected CRC may match, and so which are computed: `QSOTA_CRC_AUTO`
/// (both), `QSOTA_CRC_MPEG2` or `QSOTA_CRC_ISO_HDLC` (only that one, saving the other's
/// time); `QSOTA_E_ARG` for any other value, `QSOTA_E_STATE` once data has been fed.
///
/// # Safety
/// As `qsota_verifier_update`.
#[no_mangle]
pub unsafe extern "C" fn qsota_verifier_set_crc_variant(
    v: *mut qsota_verifier_t,
    variant: i32,
) -> i32 {
    // SAFETY: the caller's contract.
    unsafe {
        with(v, |v| {
            let policy = variant_from_code(variant)?.map_or(CrcPolicy::Auto, CrcPolicy::Only);
            v.set_crc_policy(policy)
        })
    }
}

/// The variant code for a name: `auto`, `mpeg2` or `iso-hdlc`; `QSOTA_E_ARG` otherwise.
///
/// # Safety
/// `name` valid for `len` bytes; `variant` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn qsota_crc_variant_from_name(
    name: *const u8,
    len: usize,
    variant: *mut i32,
) -> i32 {
    // SAFETY: the caller's contract.
    status(unsafe {
        bytes(name, len).and_then(|name| {
            let policy = CrcPolicy::from_name(name)?;
            let dst = out(variant)?;
            *dst = match policy {
                CrcPolicy::Auto => QSOTA_CRC_AUTO,
                CrcPolicy::Only(v) => variant_code(Some(v)),
            };
            Ok(())
        })
    })
}

/// Writes the 16-byte MD5 of everything fed to `digest`; makes the verifier final.
///
/// # Safety
/// As `qsota_verifier_update`; `digest` valid for 16 bytes of writes.
#[no_mangle]
pub unsafe extern "C" fn qsota_verifier_md5(v: *mut qsota_verifier_t, digest: *mut u8) -> i32 {
    // SAFETY: the caller's contract.
    unsafe {
        with(v, |v| {
            let dst = out(digest.cast::<[u8; 16]>())?;
            *dst = v.md5();
            Ok(())
        })
    }
}

/// Writes the 32-byte SHA-256 of everything fed to `digest`; makes the verifier final.
///
/// # Safety
/// As `qsota_verifier_update`; `digest` valid for 32 bytes of writes.
#[no_mangle]
pub unsafe extern "C" fn qsota_verifier_sha256(v: *mut qsota_verifier_t, digest: *mut u8) -> i32 {
    // SAFETY: the caller's contract.
    unsafe {
        with(v, |v| {
            let dst = out(digest.cast::<[u8; 32]>())?;
            *dst = v.sha256();
            Ok(())
        })
    }
}

/// Writes the CRC-32 (`QSOTA_CRC_MPEG2` or `QSOTA_CRC_ISO_HDLC`) of everything fed and
/// makes the verifier final, as the digests do; `QSOTA_E_STATE` for a variant that
/// `qsota_verifier_set_crc_variant` excluded.
///
/// # Safety
/// As `qsota_verifier_update`; `crc` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn qsota_verifier_crc32(
    v: *mut qsota_verifier_t,
    variant: i32,
    crc: *mut u32,
) -> i32 {
    // SAFETY: the caller's contract.
    unsafe {
        with(v, |v| {
            let variant = variant_from_code(variant)?.ok_or(Error::Arg)?;
            let dst = out(crc)?;
            *dst = v.crc32(variant)?;
            Ok(())
        })
    }
}

/// Writes the number of bytes fed so far.
///
/// # Safety
/// As `qsota_verifier_update`; `size` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn qsota_verifier_size(v: *mut qsota_verifier_t, size: *mut u64) -> i32 {
    // SAFETY: the caller's contract.
    unsafe {
        with(v, |v| {
            let dst = out(size)?;
            *dst = v.size();
            Ok(())
        })
    }
}

/// Compares with the expectations and makes the verifier final. Writes the mask of
/// `QSOTA_FIELD_*` that did not match (0: all expectations hold) and returns `QSOTA_OK`.
///
/// # Safety
/// As `qsota_verifier_update`; `mismatch` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn qsota_verifier_check(v: *mut qsota_verifier_t, mismatch: *mut u32) -> i32 {
    // SAFETY: the caller's contract.
    unsafe {
        with(v, |v| {
            let mismatch = out(mismatch)?;
            *mismatch = v.check();
            Ok(())
        })
    }
}

/// Writes the variant the expected CRC matched in the last check (`QSOTA_CRC_AUTO`: none).
///
/// # Safety
/// As `qsota_verifier_update`; `variant` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn qsota_verifier_crc_matched(
    v: *mut qsota_verifier_t,
    variant: *mut i32,
) -> i32 {
    // SAFETY: the caller's contract.
    unsafe {
        with(v, |v| {
            let dst = out(variant)?;
            *dst = variant_code(v.crc_matched());
            Ok(())
        })
    }
}

/// Whether the verifier is final (1) or still takes data (0), written to `is_final`.
///
/// # Safety
/// As `qsota_verifier_update`; `is_final` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn qsota_verifier_is_final(
    v: *mut qsota_verifier_t,
    is_final: *mut i32,
) -> i32 {
    // SAFETY: the caller's contract.
    unsafe {
        with(v, |v| {
            let dst = out(is_final)?;
            *dst = i32::from(v.is_final());
            Ok(())
        })
    }
}

/// Writes the verifier's state after the bytes fed so far (`QSOTA_VERIFIER_STATE_LEN`
/// bytes, versioned and checked: docs/api.md, "Verifier state") to `state`. A fresh
/// verifier with the same expectations that imports it continues from there.
/// `QSOTA_E_STATE` once final, and for a verifier that expects a signature.
///
/// # Safety
/// As `qsota_verifier_update`; `state` valid for `QSOTA_VERIFIER_STATE_LEN` bytes of writes.
#[no_mangle]
pub unsafe extern "C" fn qsota_verifier_export(v: *mut qsota_verifier_t, state: *mut u8) -> i32 {
    // SAFETY: the caller's contract.
    unsafe {
        with(v, |v| {
            let dst = out(state.cast::<[u8; QSOTA_VERIFIER_STATE_LEN]>())?;
            *dst = v.export()?;
            Ok(())
        })
    }
}

/// Continues from the `len` bytes of an exported state, before the first byte is fed.
/// `QSOTA_E_LENGTH`: not `QSOTA_VERIFIER_STATE_LEN` bytes; `QSOTA_E_SYNTAX`: not a state
/// (damaged: its check value or a field); `QSOTA_E_RANGE`: a later version of the record;
/// `QSOTA_E_ARG`: made with another CRC variant than this verifier's; `QSOTA_E_STATE`:
/// data was fed, the verifier is final, or it expects a signature. Nothing changes on an
/// error.
///
/// # Safety
/// As `qsota_verifier_update`; `state` valid for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn qsota_verifier_import(
    v: *mut qsota_verifier_t,
    state: *const u8,
    len: usize,
) -> i32 {
    // SAFETY: the caller's contract.
    unsafe { with(v, |v| v.import(bytes(state, len)?)) }
}
