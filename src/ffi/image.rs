//! C ABI of the signed-image check of a verifier ([`crate::image`]).

use super::verify::{qsota_verifier_t, with};
use super::{bytes, out};
use crate::image::{tlv_hash, Fault, MAX_KEYS, PROBLEMS};
use crate::Error;

/// The most keys `qsota_verifier_expect_signature` takes.
pub const QSOTA_MAX_KEYS: usize = 4;
const _: () = assert!(QSOTA_MAX_KEYS == MAX_KEYS);

/// `qsota_image_t.error`: the image is signed by one of the keys (or not checked yet).
pub const QSOTA_IMAGE_OK: i32 = 0;
/// The first four bytes are not MCUboot's magic 0x96f3b83d (`a`: them, little-endian).
pub const QSOTA_IMAGE_E_MAGIC: i32 = 1;
/// `ih_hdr_size` (`a`) is below 32.
pub const QSOTA_IMAGE_E_HEADER_SIZE: i32 = 2;
/// `ih_flags` (`a`) says encrypted: the hash covers a plain text that is not in the file.
pub const QSOTA_IMAGE_E_ENCRYPTED: i32 = 3;
/// The file ends inside the header (`a`: its size).
pub const QSOTA_IMAGE_E_TRUNCATED_HEADER: i32 = 4;
/// The file ends inside the body (`a`: body bytes present, `b`: `ih_img_size`).
pub const QSOTA_IMAGE_E_TRUNCATED_BODY: i32 = 5;
/// The file ends inside the TLV areas (`a`: bytes after the body).
pub const QSOTA_IMAGE_E_TRUNCATED_TLVS: i32 = 6;
/// A TLV area starts with the wrong magic (`a`: it, `b`: its offset).
pub const QSOTA_IMAGE_E_TLV_MAGIC: i32 = 7;
/// The protected area's total (`a`) is not `ih_protect_tlv_size` (`b`).
pub const QSOTA_IMAGE_E_PROTECTED_SIZE: i32 = 8;
/// A TLV (at offset `a`) runs past its area's end.
pub const QSOTA_IMAGE_E_TLV_OVERRUN: i32 = 9;
/// A hash, key hash or signature TLV (type `a`) has the wrong length (`b`).
pub const QSOTA_IMAGE_E_TLV_LENGTH: i32 = 10;
/// Bytes (`a` of them) follow the TLV area.
pub const QSOTA_IMAGE_E_TRAILING: i32 = 11;
/// No SHA-256 TLV (0x10).
pub const QSOTA_IMAGE_E_HASH_MISSING: i32 = 12;
/// The SHA-256 TLV is not the hash of header, body and protected TLVs.
pub const QSOTA_IMAGE_E_HASH_MISMATCH: i32 = 13;
/// No key hash TLV (0x01): the image is not signed.
pub const QSOTA_IMAGE_E_KEY_MISSING: i32 = 14;
/// The key hash names none of the keys (`a`: its first 4 bytes, big-endian).
pub const QSOTA_IMAGE_E_KEY_UNKNOWN: i32 = 15;
/// No Ed25519 signature TLV (0x24) after the key hash of a known key.
pub const QSOTA_IMAGE_E_SIGNATURE_MISSING: i32 = 16;
/// The Ed25519 signature does not verify with the key (`a`: its index in the keys).
pub const QSOTA_IMAGE_E_SIGNATURE_BAD: i32 = 17;
/// A TLV of a hash or signature scheme not supported (`a`: its type: SHA-384/512, pure).
pub const QSOTA_IMAGE_E_UNSUPPORTED: i32 = 18;

// cbindgen needs literals; these keep them equal to the core's.
const _: () = {
    assert!(QSOTA_IMAGE_E_MAGIC == Fault::Magic as i32);
    assert!(QSOTA_IMAGE_E_HEADER_SIZE == Fault::HeaderSize as i32);
    assert!(QSOTA_IMAGE_E_ENCRYPTED == Fault::Encrypted as i32);
    assert!(QSOTA_IMAGE_E_TRUNCATED_HEADER == Fault::TruncatedHeader as i32);
    assert!(QSOTA_IMAGE_E_TRUNCATED_BODY == Fault::TruncatedBody as i32);
    assert!(QSOTA_IMAGE_E_TRUNCATED_TLVS == Fault::TruncatedTlvs as i32);
    assert!(QSOTA_IMAGE_E_TLV_MAGIC == Fault::TlvMagic as i32);
    assert!(QSOTA_IMAGE_E_PROTECTED_SIZE == Fault::ProtectedSize as i32);
    assert!(QSOTA_IMAGE_E_TLV_OVERRUN == Fault::TlvOverrun as i32);
    assert!(QSOTA_IMAGE_E_TLV_LENGTH == Fault::TlvLength as i32);
    assert!(QSOTA_IMAGE_E_TRAILING == Fault::Trailing as i32);
    assert!(QSOTA_IMAGE_E_HASH_MISSING == Fault::HashMissing as i32);
    assert!(QSOTA_IMAGE_E_HASH_MISMATCH == Fault::HashMismatch as i32);
    assert!(QSOTA_IMAGE_E_KEY_MISSING == Fault::KeyMissing as i32);
    assert!(QSOTA_IMAGE_E_KEY_UNKNOWN == Fault::KeyUnknown as i32);
    assert!(QSOTA_IMAGE_E_SIGNATURE_MISSING == Fault::SignatureMissing as i32);
    assert!(QSOTA_IMAGE_E_SIGNATURE_BAD == Fault::SignatureBad as i32);
    assert!(QSOTA_IMAGE_E_UNSUPPORTED == Fault::Unsupported as i32);
};

/// What `qsota_verifier_image` reports about the signed image.
#[repr(C)]
pub struct qsota_image_t {
    /// `QSOTA_IMAGE_OK` or a `QSOTA_IMAGE_E_*` (valid after `qsota_verifier_check`).
    pub error: i32,
    /// The index of the key that signed it, or -1.
    pub key: i32,
    /// The values the error's message shows (see each `QSOTA_IMAGE_E_*`).
    pub a: u64,
    pub b: u64,
    /// 1 once the header was read (the fields below are valid), else 0.
    pub has_header: i32,
    pub load_addr: u32,
    /// The body is `img_size` bytes at file offset `hdr_size`.
    pub hdr_size: u32,
    pub img_size: u32,
    pub flags: u32,
    pub version_major: u8,
    pub version_minor: u8,
    pub version_revision: u16,
    pub version_build: u32,
    /// 1 once the body has passed (`body_sha256` is valid), else 0.
    pub has_body: i32,
    /// The SHA-256 of the body alone: what a bootloader that takes the raw application
    /// checks (the native protocol's `sha256`), computed in the verifier's pass.
    pub body_sha256: [u8; 32],
}

/// Expects an MCUboot image (`imgtool sign`, Ed25519) signed by one of `n_keys` keys: raw
/// 32-byte Ed25519 public keys, one after the other at `keys`; they are copied. Only before
/// the first byte (`QSOTA_E_STATE` after); `QSOTA_E_RANGE` unless 1 to `QSOTA_MAX_KEYS`.
/// `qsota_verifier_check` then sets `QSOTA_FIELD_SIGNATURE` unless the image holds.
///
/// # Safety
/// `v` as for `qsota_verifier_update`; `keys` valid for `32 * n_keys` bytes.
#[no_mangle]
pub unsafe extern "C" fn qsota_verifier_expect_signature(
    v: *mut qsota_verifier_t,
    keys: *const u8,
    n_keys: usize,
) -> i32 {
    let len = n_keys.checked_mul(32).ok_or(Error::Range);
    // SAFETY: the caller's contract.
    unsafe { with(v, |v| v.expect_signature(bytes(keys, len?)?)) }
}

/// Fills `image` with what the verifier knows about the signed image: its header fields as
/// soon as they were read, the verdict after `qsota_verifier_check`. `QSOTA_E_STATE` when
/// `qsota_verifier_expect_signature` was not called.
///
/// # Safety
/// As `qsota_verifier_update`; `image` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn qsota_verifier_image(
    v: *mut qsota_verifier_t,
    image: *mut qsota_image_t,
) -> i32 {
    // SAFETY: the caller's contract.
    unsafe {
        with(v, |v| {
            let dst = out(image)?;
            let signed = v.image().ok_or(Error::State)?;
            let h = signed.header().unwrap_or_default();
            let (error, key, a, b) = match signed.verdict() {
                Some(Ok(key)) => (QSOTA_IMAGE_OK, i32::from(key), 0, 0),
                Some(Err(p)) => (p.fault as i32, -1, p.a, p.b),
                None => (QSOTA_IMAGE_OK, -1, 0, 0),
            };
            *dst = qsota_image_t {
                error,
                key,
                a,
                b,
                has_header: i32::from(signed.header().is_some()),
                load_addr: h.load_addr,
                hdr_size: u32::from(h.hdr_size),
                img_size: h.img_size,
                flags: h.flags,
                version_major: h.version.0,
                version_minor: h.version.1,
                version_revision: h.version.2,
                version_build: h.version.3,
                has_body: i32::from(signed.body_sha256().is_some()),
                body_sha256: signed.body_sha256().unwrap_or([0; 32]),
            };
            Ok(())
        })
    }
}

/// The message of image problem `error` (a `QSOTA_IMAGE_E_*`), in C's printf syntax with
/// the problem's `a` and `b` for its conversions (`%u`, `%0Nx`), into `buf` of `cap` bytes,
/// NUL-terminated (`""` for any other code); `QSOTA_E_BUFFER` if it does not fit (128
/// always does).
///
/// # Safety
/// `buf` null or valid for `cap` bytes of writes.
#[no_mangle]
pub unsafe extern "C" fn qsota_image_problem(error: i32, buf: *mut u8, cap: usize) -> i32 {
    let text = usize::try_from(error)
        .ok()
        .and_then(|e| PROBLEMS.get(e.wrapping_sub(1)))
        .map_or("", |t| t);
    // SAFETY: the caller's contract.
    unsafe { super::write_text(text, buf, cap) }
}

/// Writes the SHA-256 TLV (0x10) of an MCUboot image to `hash` (32 bytes) and sets `found`
/// to 1, or sets `found` to 0 unless the header and the TLV areas parse up to it (no keys:
/// nothing is checked but the format). `head` is the image's start (its 32-byte header at
/// least, or all of it); where it stops before the TLV areas, `tail` is the file from
/// offset `tail_at` on (at or before the body's end), the body between skipped: a reader of
/// a file reads its two ends.
///
/// # Safety
/// `head` and `tail` valid for `head_len` and `tail_len` bytes of reads (or null with
/// length 0); `hash` for 32 bytes of writes; `found` for a write.
#[no_mangle]
pub unsafe extern "C" fn qsota_image_tlv_hash(
    head: *const u8,
    head_len: usize,
    tail: *const u8,
    tail_len: usize,
    tail_at: u64,
    hash: *mut u8,
    found: *mut i32,
) -> i32 {
    // SAFETY: the caller's contract.
    let result = unsafe {
        (|| {
            let got = tlv_hash(bytes(head, head_len)?, bytes(tail, tail_len)?, tail_at);
            let (hash, found) = (out(hash.cast::<[u8; 32]>())?, out(found)?);
            *found = i32::from(got.is_some());
            *hash = got.unwrap_or([0; 32]);
            Ok(())
        })()
    };
    super::status(result)
}
