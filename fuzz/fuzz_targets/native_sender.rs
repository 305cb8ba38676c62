//! The native sender's input path: arbitrary received bytes and well-formed answers with
//! arbitrary fields, interleaved with polls as time passes. It must never panic and never
//! ask for anything outside the image or the frame buffer. The input is also read as a delta
//! package's head (`DeltaOpen::from_package`, which must not panic either): where it is one,
//! the sender sends a delta OPEN.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qsota::native::delta::DeltaOpen;
use qsota::native::frame::encode;
use qsota::native::sender::{Options, Sender};
use qsota::transfer::Sender as _;

mod polls;

const SIZE: u64 = 5000;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the timer: fixed (even) or adaptive, the line's rate, and
    // (the top bit) a deferred image, whose SHA-256 is asked for at the end; an input of odd
    // length asks for the receiver's signature check (OPEN's SIGNED flag).
    let pick = data.first().copied().unwrap_or(0);
    let opts = Options {
        rto_ms: if pick & 1 == 0 { 50 } else { 0 },
        open_timeout_ms: 500,
        retries: 3,
        baud: u32::from((pick >> 1) & 0x3F) * 19_200,
        deferred: pick & 0x80 != 0,
        require_signature: data.len() % 2 == 1,
    };
    let mut tx = Sender::new(SIZE, &[7; 32], b"mcu", b"1", opts).unwrap();
    if let Ok(delta) = DeltaOpen::from_package(data.get(1..).unwrap_or_default()) {
        tx.set_delta(delta);
    }
    let mut frame = vec![0u8; tx.frame_size()];
    let mut answer = [0u8; 64];
    let mut now = 0u32;
    for piece in data.chunks(17) {
        // Sometimes a short read (the source ended early).
        let given = |len| if piece[0] == 0xEE { len / 2 } else { len };
        // Sometimes the image fails its final check.
        let digest = opts
            .deferred
            .then_some(if piece[0] == 0xEE { 0 } else { 32 });
        if polls::burst(&mut tx, now, &mut frame, SIZE, given, digest, |_| ()).is_some() {
            return;
        }
        let (&head, body) = piece.split_first().unwrap();
        if head & 1 == 0 {
            tx.receive(now, piece);
        } else {
            let kind = 0x80 | (head >> 1 & 7);
            let n = encode(&mut answer, kind, &body[..body.len().min(12)]).unwrap();
            tx.receive(now, &answer[..n]);
        }
        now = now.wrapping_add(u32::from(head) * 3);
    }
});
