//! The receiver under arbitrary input: raw bytes, well-formed frames with arbitrary fields,
//! flash failures, power cuts and resets, on an arbitrary flash geometry, with one frame
//! buffer or two (the pipelined receiver, at an arbitrary chunk size). It must never
//! panic, never program a byte twice without an erase, and never commit an image whose
//! bytes differ from the SHA-256 it was opened with.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qsota::ffi::native_rx::QSOTA_NATIVE_REPLY_MAX;
use qsota::native::frame::encode;
use qsota::native::ram::RamFlash;
use qsota::native::receiver::{Config, Pipelined, Receiver};
use qsota::native::record;
use sha2::{Digest, Sha256};

/// Reads the fuzz input as a little program.
struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }
    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.0.len());
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        a
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let (Some(g), Some(w), Some(z)) = (input.byte(), input.byte(), input.byte()) else {
        return;
    };
    if w & 8 == 0 {
        run(input, g, w, z, Receiver::new);
    } else {
        let chunk = u16::from(w >> 4) * 72; // 0 (whole frames) .. 1080
        run(input, g, w, z, |config| Pipelined::pipelined(config, chunk));
    }
});

fn run<const S: usize>(
    mut input: Input,
    g: u8,
    w: u8,
    z: u8,
    make: impl Fn(Config) -> Receiver<S>,
) {
    let sector = 256u32 << (g & 3); // 256 .. 2048
    let unit = 1u32 << (g >> 2 & 7); // 1 .. 128 (above 64 the receiver must refuse)
    let meta_size = [128usize, 256, 512][usize::from(g >> 5) % 3];
    // 1 to 16 KiB, not always a whole number of sectors (the last one then fails to erase).
    let mut slot = vec![0u8; 1024 * (1 + usize::from(z & 15)) + usize::from(z >> 4) * 64];
    let mut meta = vec![0u8; meta_size];
    let mut flash = RamFlash::new(&mut slot, &mut meta, sector, unit);
    let config = Config {
        window: u16::from(w & 7),
        busy_ms: 10,
    };
    let mut rx = make(config);
    let mut out = [0u8; QSOTA_NATIVE_REPLY_MAX];
    let mut frame = [0u8; 1100];
    // A small image the program can send correctly, so that commits are reachable.
    let image: Vec<u8> = (0..3000u32).map(|i| (i * 7) as u8).collect();
    let sha: [u8; 32] = Sha256::digest(&image).into();
    while let Some(op) = input.byte() {
        let bytes: &[u8] = match op % 8 {
            // Raw bytes.
            0 => {
                let n = usize::from(input.byte().unwrap_or(0));
                input.bytes(n)
            }
            // OPEN of the good image, or with fuzzed fields.
            1 | 2 => {
                let mut p = [0u8; 48];
                p[0] = 1;
                p[2..6].copy_from_slice(&3000u32.to_le_bytes());
                p[6..38].copy_from_slice(&sha);
                let mut len = 40;
                if op % 8 == 2 {
                    let fuzzed = input.bytes(48);
                    p[..fuzzed.len()].copy_from_slice(fuzzed);
                    len = fuzzed.len();
                }
                let n = encode(&mut frame, 0x01, &p[..len]).unwrap();
                &frame[..n]
            }
            // DATA: the good image's bytes at a chosen offset, or fuzzed bytes.
            3 | 4 => {
                let off = u32::from(input.byte().unwrap_or(0)) * 64;
                let len = usize::from(input.byte().unwrap_or(0)) * 8;
                let mut p = [0u8; 1028];
                p[..4].copy_from_slice(&off.to_le_bytes());
                let len = len.min(1024);
                if op % 8 == 3 {
                    let from = (off as usize).min(image.len());
                    let n = len.min(image.len() - from);
                    p[4..4 + n].copy_from_slice(&image[from..from + n]);
                } else {
                    let fuzzed = input.bytes(len);
                    p[4..4 + fuzzed.len()].copy_from_slice(fuzzed);
                }
                let n = encode(&mut frame, 0x02, &p[..4 + len]).unwrap();
                &frame[..n]
            }
            5 => {
                let n = encode(&mut frame, 0x03 + (op >> 7), &[]).unwrap();
                &frame[..n]
            }
            // A flash failure or power cut a few operations from now.
            6 => {
                let n = u32::from(input.byte().unwrap_or(0) & 31);
                if op & 0x80 == 0 {
                    flash.fail_after = Some(n);
                } else {
                    flash.cut_after = Some(n);
                }
                continue;
            }
            // Reset: RAM lost, power back.
            _ => {
                flash.power_on();
                rx = make(config);
                continue;
            }
        };
        let mut at = 0;
        loop {
            let (used, len) = rx.receive(&mut flash, &bytes[at..], &mut out).unwrap();
            let again = rx.again(used, bytes.len() - at, len);
            at += used;
            if !again {
                assert_eq!(at, bytes.len(), "idle, yet input left");
                break;
            }
        }
    }
    assert_eq!(flash.violations, 0, "programmed a byte twice");
    flash.power_on();
    flash.fail_after = None;
    if let Ok(Some(id)) = record::stored_image(&mut flash) {
        let stored: [u8; 32] = Sha256::digest(&flash.slot[..id.size as usize]).into();
        assert_eq!(stored, id.sha256, "committed a wrong image");
    }
}
