//! The STM32 ROM bootloader sender's input path: arbitrary answers interleaved with polls as
//! time passes. It must never panic, never ask for anything outside the image or the frame,
//! and never send a frame longer than the frame buffer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qsota::stm32::{Options, Sender, FRAME_SIZE};
use qsota::transfer::Sender as _;

mod polls;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, data)) = data.split_first() else {
        return;
    };
    let size = u32::from(sel) * 61 + 1;
    let opts = Options {
        go: sel & 1 == 0,
        page_size: if sel & 2 == 0 { 0 } else { 128 },
        flash_size: if sel & 4 == 0 { 0 } else { 64 << 10 },
        timeout_ms: 30,
        erase_timeout_ms: 30,
        start_timeout_ms: 200,
        retries: 3,
        ..Options::default()
    };
    let Ok(mut tx) = Sender::new(size, opts) else {
        return;
    };
    let mut frame = vec![0u8; FRAME_SIZE];
    let mut now = 0u32;
    for piece in data.chunks(7) {
        if polls::burst(
            &mut tx,
            now,
            &mut frame,
            size.into(),
            |len| len,
            None,
            |_| (),
        )
        .is_some()
        {
            return;
        }
        tx.receive(now, piece);
        now = now.wrapping_add(u32::from(piece[0]) % 64);
    }
});
