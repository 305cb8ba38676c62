//! The YMODEM sender's input path: arbitrary received bytes interleaved with polls as time
//! passes. It must never panic and never ask for anything outside the file or the frame.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qsota::transfer::Sender as _;
use qsota::ymodem::{Options, Sender};

mod polls;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, data)) = data.split_first() else {
        return;
    };
    let size = u64::from(sel) * 37;
    let opts = Options {
        block_size: if sel & 1 == 0 { 1024 } else { 128 },
        timeout_ms: 50,
        header_timeout_ms: 200,
        start_timeout_ms: 200,
        end_gap_ms: 20,
        retries: 3,
        baud: 0,
        // A deferred image (its check asked for before EOT) on every other size.
        deferred: sel & 2 != 0,
    };
    let Ok(mut tx) = Sender::new(b"fw.bin", size, opts) else {
        return;
    };
    let mut frame = vec![0u8; tx.frame_size()];
    let mut now = 0u32;
    for piece in data.chunks(5) {
        // Sometimes the image fails its final check.
        let digest = opts
            .deferred
            .then_some(if piece[0] == 0xEE { 0 } else { 32 });
        if polls::burst(&mut tx, now, &mut frame, size, |len| len, digest, |_| ()).is_some() {
            return;
        }
        tx.receive(now, piece);
        now = now.wrapping_add(u32::from(piece[0]) * 2);
    }
});
