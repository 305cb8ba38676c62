//! The receiver under arbitrary input: raw bytes, well-formed frames with arbitrary fields,
//! flash failures, power cuts and resets, on an arbitrary flash geometry, with one frame
//! buffer or two (the pipelined receiver, at an arbitrary chunk size), with or without the
//! delta applier (OPEN's DELTA flag: a small package of an edit of the application area,
//! sent whole or fuzzed), or with it and the signature check (OPEN's SIGNED flag: the good
//! image is an MCUboot image signed by the receiver's key, the package's target is not
//! signed). It must never panic, never program a byte twice without an erase,
//! and never commit an image whose bytes differ from the SHA-256 its record names.
#![no_main]

use ed25519_compact::{KeyPair, Seed};
use libfuzzer_sys::fuzz_target;
use qsota::ffi::native_rx::QSOTA_NATIVE_REPLY_MAX;
use qsota::image::key_hash;
use qsota::native::delta::{DeltaOpen, Patcher, Patching, DELTA, SIGNED};
use qsota::native::frame::encode;
use qsota::native::ram::RamFlash;
use qsota::native::receiver::{Config, Pipelined, Receiver};
use qsota::native::record;
use qsota::native::signed::Signed;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

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
    let chunk = u16::from(w >> 4) * 72; // 0 (whole frames) .. 1080
    match (w & 8 == 0, z & 0x80 == 0) {
        (true, _) => run(input, g, w, z, Receiver::new),
        (false, true) => run(input, g, w, z, |config| Pipelined::pipelined(config, chunk)),
        // No heatshrink window: the package here is uncompressed.
        (false, false) if input.byte().is_some_and(|b| b & 1 == 1) => {
            run(input, g, w, z, |config| {
                let part = Signed::new(Patcher::new(&mut []), &signed().1).unwrap();
                Receiver::pipelined_with(config, chunk, part)
            })
        }
        (false, false) => run(input, g, w, z, |config| {
            Receiver::pipelined_with(config, chunk, Patcher::new(&mut []))
        }),
    }
});

/// The image the program sends (3000 bytes, an MCUboot image signed by the key) and the key.
fn signed() -> &'static (Vec<u8>, [[u8; 32]; 1]) {
    static SIGNED_IMAGE: OnceLock<(Vec<u8>, [[u8; 32]; 1])> = OnceLock::new();
    SIGNED_IMAGE.get_or_init(|| {
        let kp = KeyPair::from_seed(Seed::new([7; 32]));
        // Header: magic, load address, hdr_size 32, no protected TLVs, img_size, flags,
        // version; then the body and the TLV area (its info, SHA-256, key hash, signature:
        // 144 bytes).
        let body_len = 3000 - 32 - 144;
        let mut image = Vec::new();
        image.extend(0x96f3_b83du32.to_le_bytes());
        image.extend([0; 4]);
        image.extend([32, 0, 0, 0]);
        image.extend((body_len as u32).to_le_bytes());
        image.extend([0; 16]);
        image.extend((0..body_len as u32).map(|i| (i * 7) as u8));
        let hash: [u8; 32] = Sha256::digest(&image).into();
        let tlv = |kind: u8, value: &[u8]| {
            [&[kind, 0][..], &(value.len() as u16).to_le_bytes(), value].concat()
        };
        let entries = [
            tlv(0x10, &hash),
            tlv(0x01, &key_hash(&kp.pk)),
            tlv(0x24, &*kp.sk.sign(hash, None)),
        ]
        .concat();
        image.extend(0x6907u16.to_le_bytes());
        image.extend(((entries.len() + 4) as u16).to_le_bytes());
        image.extend(entries);
        assert_eq!(image.len(), 3000);
        (image, [*kp.pk])
    })
}

/// A detools size field.
fn size_field(out: &mut Vec<u8>, mut v: usize) {
    let mut b = (v & 0x3F) as u8;
    v >>= 6;
    loop {
        out.push(b | if v > 0 { 0x80 } else { 0 });
        if v == 0 {
            return;
        }
        b = (v & 0x7F) as u8;
        v >>= 7;
    }
}

/// A package (uncompressed sequential patch) that makes an edit of `base`: its first 2000
/// bytes changed, 500 new ones after; and the target.
fn package(base: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let diff: Vec<u8> = (0..2000u32).map(|i| (i % 3) as u8).collect();
    let extra: Vec<u8> = (0..500u32).map(|i| (i * 13) as u8).collect();
    let mut target: Vec<u8> = base[..2000]
        .iter()
        .zip(&diff)
        .map(|(b, d)| b.wrapping_add(*d))
        .collect();
    target.extend_from_slice(&extra);
    let mut patch = vec![0u8];
    size_field(&mut patch, target.len());
    patch.push(0); // data format: none
    size_field(&mut patch, diff.len());
    patch.extend_from_slice(&diff);
    size_field(&mut patch, extra.len());
    patch.extend_from_slice(&extra);
    size_field(&mut patch, 0);
    let mut p = vec![0x10, 0xde, 0xcd, 0xfc];
    p.extend_from_slice(&Sha256::digest(base));
    p.extend_from_slice(b"QSD1");
    p.extend_from_slice(&(base.len() as u32).to_le_bytes());
    p.extend_from_slice(&Sha256::digest(&target)[..20]);
    p.extend_from_slice(&patch);
    (p, target)
}

fn run<const S: usize, D: Patching>(
    mut input: Input,
    g: u8,
    w: u8,
    z: u8,
    make: impl Fn(Config) -> Receiver<S, D>,
) {
    let sector = 256u32 << (g & 3); // 256 .. 2048
    let unit = 1u32 << (g >> 2 & 7); // 1 .. 128 (above 64 the receiver must refuse)
    let meta_size = [128usize, 256, 512][usize::from(g >> 5) % 3];
    // 1 to 16 KiB, not always a whole number of sectors (the last one then fails to erase).
    let mut slot = vec![0u8; 1024 * (1 + usize::from(z & 15)) + usize::from(z >> 4) * 64];
    let mut meta = vec![0u8; meta_size];
    // The application area: a delta's base.
    let app: Vec<u8> = (0..3000u32).map(|i| (i * 5 + 1) as u8).collect();
    let (package, _) = package(&app);
    let delta = DeltaOpen::from_package(&package).unwrap();
    let package_sha: [u8; 32] = Sha256::digest(&package).into();
    let mut flash = RamFlash::new(&mut slot, &mut meta, sector, unit);
    flash.app = &app[..3000 - usize::from(z >> 6 & 1)]; // sometimes one byte short
    let config = Config {
        window: u16::from(w & 7),
        busy_ms: 10,
    };
    let mut rx = make(config);
    let mut out = [0u8; QSOTA_NATIVE_REPLY_MAX];
    let mut frame = [0u8; 1100];
    // A small image the program can send correctly, so that commits are reachable.
    let image = &signed().0;
    let sha: [u8; 32] = Sha256::digest(image).into();
    // What DATA sends: the package after a delta OPEN, else the image.
    let mut sending: &[u8] = image;
    while let Some(op) = input.byte() {
        let bytes: &[u8] = match op % 8 {
            // Raw bytes.
            0 => {
                let n = usize::from(input.byte().unwrap_or(0));
                input.bytes(n)
            }
            // OPEN of the good image or package (op bit 6), or with fuzzed fields.
            1 | 2 => {
                let mut p = [0u8; 40 + DeltaOpen::LEN];
                p[0] = 1;
                let mut len = 40;
                sending = if op & 0x40 == 0 {
                    p[2..6].copy_from_slice(&3000u32.to_le_bytes());
                    p[6..38].copy_from_slice(&sha);
                    image
                } else {
                    p[1] = DELTA;
                    p[2..6].copy_from_slice(&(package.len() as u32).to_le_bytes());
                    p[6..38].copy_from_slice(&package_sha);
                    delta.write(&mut p[40..]);
                    len += DeltaOpen::LEN;
                    &package
                };
                if op & 0x20 != 0 {
                    p[1] |= SIGNED;
                }
                if op % 8 == 2 {
                    let fuzzed = input.bytes(len);
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
                    let from = (off as usize).min(sending.len());
                    let n = len.min(sending.len() - from);
                    p[4..4 + n].copy_from_slice(&sending[from..from + n]);
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
