//! Arbitrary bytes in arbitrary pieces: the parser never panics, never takes more than it
//! is given, and every frame it returns is one that `encode` produces byte for byte.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qsota::native::frame::{encode, Parser};

fn check<const N: usize>(data: &[u8], step: usize) {
    let mut p = Parser::<N>::new();
    let mut again = [0u8; N];
    for piece in data.chunks(step) {
        let mut at = 0;
        loop {
            let (used, ready) = p.feed(&piece[at..]);
            assert!(used <= piece.len() - at);
            at += used;
            if !ready {
                assert_eq!(at, piece.len());
                break;
            }
            let (kind, payload) = p.frame().expect("a ready frame");
            let n = encode(&mut again, kind, payload).expect("fits");
            assert_eq!(n, payload.len() + 10);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&step, data)) = data.split_first() else {
        return;
    };
    let step = usize::from(step).max(1);
    check::<64>(data, step);
    check::<1038>(data, step);
});
