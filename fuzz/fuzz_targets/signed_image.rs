//! The MCUboot image parser and signature check take any bytes in any pieces without a
//! panic, and pass every byte on to the Verifier's SHA-256 exactly once; `tlv_hash` reads
//! a file's two ends as it reads the whole.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qsota::image::{tlv_hash, SignedImage};
use sha2::{Digest, Sha256};

fuzz_target!(|data: &[u8]| {
    // The first byte sets the piece size, the next 32 the trusted key.
    let Some((&piece, rest)) = data.split_first() else {
        return;
    };
    let (key, image) = rest.split_at(rest.len().min(32));
    let Ok(mut checker) = SignedImage::new(key) else {
        return;
    };
    let mut sha = Sha256::new();
    for chunk in image.chunks(usize::from(piece).max(1)) {
        checker.update(&mut sha, chunk);
    }
    assert_eq!(sha.finalize()[..], Sha256::digest(image)[..]);
    // The piece byte also splits the image into a head and a tail that starts at or before
    // the head's end: both halves together say what the whole says.
    let head = image.len().min(usize::from(piece) * 16);
    let at = head.saturating_sub(usize::from(piece % 7));
    let whole = tlv_hash(image, &[], image.len() as u64);
    let split = tlv_hash(&image[..head], &image[at..], at as u64);
    if head >= 32 {
        assert_eq!(split, whole);
    }
    let first = checker.check();
    assert_eq!(checker.check(), first);
    assert_eq!(checker.verdict(), Some(first));
});
