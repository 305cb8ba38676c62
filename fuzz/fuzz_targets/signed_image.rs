//! The MCUboot image parser and signature check take any bytes in any pieces without a
//! panic, and pass every byte on to the Verifier's SHA-256 exactly once.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qsota::image::SignedImage;
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
    let first = checker.check();
    assert_eq!(checker.check(), first);
    assert_eq!(checker.verdict(), Some(first));
});
