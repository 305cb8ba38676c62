//! The SMP (MCUboot serial recovery) sender against arbitrary answers: line noise, and
//! well-framed answers to its current request (right header, CRC and base64) whose CBOR body
//! is arbitrary, so the reader and every step's decisions see any input. It must never
//! panic, never ask for anything outside the image or the frame, and never finish without
//! having been told the listed hash it expects. A lister (`Sender::lister`, the probe's) must
//! end with the list it was given, which `each_listed` reads without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qsota::mcuboot::console::{encode, encoded_len, Decoder, HEADER, WRAP};
use qsota::mcuboot::{each_listed, Options, Sender};
use qsota::transfer::{Action, Sender as _};

mod polls;

const HASH: [u8; 32] = [0x11; 32];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, data)) = data.split_first() else {
        return;
    };
    let size = 1 + u64::from(sel) * 97;
    let opts = Options {
        buf_size: [0, 128, 300, 1024][usize::from(sel & 3)],
        enter: sel & 4 != 0,
        resume: sel & 8 != 0,
        timeout_ms: 50,
        erase_timeout_ms: 80,
        boot_ms: 20,
        retries: 3,
        ..Options::default()
    };
    let lister = sel & 16 != 0;
    let made = if lister {
        Sender::lister(opts)
    } else {
        Sender::new(size, [0; 32], HASH, opts)
    };
    let Ok(mut tx) = made else {
        return;
    };
    let mut frame = vec![0u8; tx.frame_size()];
    let mut request = Vec::new();
    let mut now = 0u32;
    for piece in data.split(|&b| b == 0xA5) {
        let sent = |sent: &[u8]| {
            let mut d = Decoder::<4096>::new();
            for &b in sent {
                if let Some(p) = d.byte(b) {
                    request = p[..HEADER].to_vec();
                }
            }
        };
        match polls::burst(&mut tx, now, &mut frame, size, |len| len, None, sent) {
            Some(Action::Done) if lister => {
                let list = tx.image_list().expect("a lister ends with the list");
                let _ = each_listed(list, |e| assert!(e.version.len() <= list.len()));
                return;
            }
            Some(Action::Done) => {
                assert!(tx.stats().listed && tx.image_list().is_none());
                return;
            }
            Some(_) => return,
            None => {}
        }
        // Odd pieces: an answer to the request that is out; even ones: raw line bytes.
        if piece.first().is_some_and(|b| b & 1 == 1) && request.len() == HEADER {
            let body = &piece[1..piece.len().min(400)];
            let packet = HEADER + body.len();
            let mut out = vec![0u8; encoded_len(packet + WRAP)];
            let at = out.len() - packet - WRAP + 2;
            out[at..at + HEADER].copy_from_slice(&request);
            out[at] += 1;
            out[at + 2..at + 4].copy_from_slice(&(body.len() as u16).to_be_bytes());
            out[at + HEADER..at + packet].copy_from_slice(body);
            encode(&mut out, packet);
            tx.receive(now, &out);
        } else {
            tx.receive(now, piece);
        }
        now = now.wrapping_add(u32::from(piece.first().copied().unwrap_or(7)));
    }
});
