//! The whole simulator over TCP, driven by a scripted sender: each personality's answers,
//! the line's pacing and FIFO, and the faults.

use crate::test_sender::*;
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};

/// A fast MCU: 1 Mbaud, instant flash, 16 sectors of 4 KiB.
const FAST: [&str; 8] = [
    "--baud",
    "1000000",
    "--flash-scale",
    "0",
    "--sector-size",
    "4K",
    "--flash-size",
    "64K",
];
const SEC: Duration = Duration::from_secs(1);
const ST_BANNER: &[u8] = b"Waiting for the file to be sent ... (press 'a' to abort)\n\r";

fn st(extra: &[&str]) -> Sim {
    let mut args = FAST.to_vec();
    args.extend_from_slice(extra);
    let mut sim = Sim::start(&args);
    sim.expect(ST_BANNER, SEC);
    sim
}

fn spec(extra: &[&str]) -> Sim {
    let mut args = vec!["--personality", "spec"];
    args.extend_from_slice(&FAST);
    args.extend_from_slice(extra);
    let mut sim = Sim::start(&args);
    sim.expect(&[C], SEC);
    sim
}

fn sha256(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Sends `frame`; the MCU must answer `reply` within a second.
fn exchange(sim: &mut Sim, frame: &[u8], reply: &[u8]) {
    sim.send(frame);
    sim.expect(reply, SEC);
}

/// The MCU prints `text` (ST's menu messages) next.
fn assert_text(sim: &mut Sim, text: &str) {
    let got = String::from_utf8_lossy(&sim.read_for(Duration::from_millis(200))).into_owned();
    assert!(got.contains(text), "{got:?}");
}

fn assert_new_image(r: &Report, img: &[u8]) {
    let s = &r.summary;
    assert_eq!(s["result"], "ok", "{s}");
    assert_eq!(s["app_state"], "new", "{s}");
    assert_eq!(s["size"], img.len());
    assert_eq!(s["bytes"], img.len());
    assert_eq!(s["sha256"], sha256(img));
    assert_eq!(r.image, img);
}

/// `sim` after it took the header of `img` and its first block; the image's blocks.
fn past_block_0(mut sim: Sim, img: &[u8]) -> (Sim, Vec<Vec<u8>>) {
    let b = blocks(img);
    exchange(&mut sim, &header("a", img.len()), &[ACK, C]);
    exchange(&mut sim, &b[0], &[ACK]);
    (sim, b)
}

#[test]
fn st_receives_every_size() {
    for len in [0, 1, 127, 128, 129, 1023, 1024, 1025, 5000] {
        let img = image(len, len as u8);
        let mut sim = st(&[]);
        exchange(&mut sim, &header("fw v2.bin", len), &[ACK, C]);
        for b in blocks(&img) {
            exchange(&mut sim, &b, &[ACK]);
        }
        exchange(&mut sim, &[EOT], &[ACK]);
        exchange(&mut sim, &null_header(), &[ACK]);
        assert_text(&mut sim, "Programming Completed Successfully!");
        let r = sim.finish();
        assert_new_image(&r, &img);
        assert_eq!(r.summary["name"], "fw v2.bin");
        assert_eq!(r.summary["blocks"], img.len().div_ceil(1024));
        assert_eq!(
            r.summary["flash"]["erases"], 16,
            "the whole area, every time"
        );
    }
}

#[test]
fn st_asks_with_c_every_second_and_sends_no_c_after_eot() {
    let mut sim = st(&[]);
    let t = Instant::now();
    sim.expect(&[C], 2 * SEC);
    assert!(
        t.elapsed() >= Duration::from_millis(900),
        "{:?}",
        t.elapsed()
    );
    let img = image(300, 1);
    exchange(&mut sim, &header("a", img.len()), &[ACK, C]);
    exchange(&mut sim, &blocks(&img)[0], &[ACK]);
    exchange(&mut sim, &[EOT], &[ACK]);
    assert_eq!(sim.read_for(Duration::from_millis(800)), b"");
    sim.expect(&[C], SEC);
    exchange(&mut sim, &null_header(), &[ACK]);
    let r = sim.finish();
    assert_new_image(&r, &img);
    assert_eq!(r.summary["errors"], 1, "the timeout after EOT counts");
}

#[test]
fn st_naks_the_block_it_already_has_after_a_lost_ack() {
    let img = image(4000, 2);
    let (mut sim, b) = past_block_0(st(&["--drop-ack", "2"]), &img);
    sim.send(&b[1]);
    assert_eq!(sim.read_for(Duration::from_millis(300)), b"", "ACK lost");
    exchange(&mut sim, &b[1], &[NAK]);
    exchange(&mut sim, &b[1], &[NAK]);
    // A sender that moves on after the NAK gets the rest through intact.
    for blk in &b[2..] {
        exchange(&mut sim, blk, &[ACK]);
    }
    exchange(&mut sim, &[EOT], &[ACK]);
    exchange(&mut sim, &null_header(), &[ACK]);
    let r = sim.finish();
    assert_new_image(&r, &img);
    assert_eq!(r.summary["retries"], 2);
    assert_eq!(r.summary["faults"]["dropped_acks"], serde_json::json!([2]));
}

#[test]
fn st_answers_bad_packets_with_c_and_cancels_after_more_than_five() {
    let img = image(2048, 3);
    let (mut sim, b) = past_block_0(st(&[]), &img);
    let mut bad = b[1].clone();
    bad[500] ^= 0x10;
    for _ in 0..5 {
        exchange(&mut sim, &bad, &[C]);
    }
    exchange(&mut sim, &bad, &[CAN, CAN]);
    // ST does not stop there: a good packet is still taken.
    exchange(&mut sim, &b[1], &[ACK]);
    let r = sim.finish();
    assert_eq!(r.summary["result"], "incomplete");
    assert_eq!(r.summary["errors"], 6);
    assert_eq!(r.summary["app_state"], "partial");
}

#[test]
fn st_acks_a_sender_cancel() {
    let mut sim = st(&[]);
    exchange(&mut sim, &header("a", 5000), &[ACK, C]);
    exchange(&mut sim, &[CAN, CAN], &[ACK]);
    assert_text(&mut sim, "Aborted by user.");
    let r = sim.finish();
    assert_eq!(r.summary["result"], "cancelled");
    assert_eq!(r.summary["app_state"], "erased");
}

#[test]
fn st_refuses_an_image_larger_than_the_area_but_still_erases() {
    let mut sim = st(&[]);
    exchange(
        &mut sim,
        &header("big", (64 << 10) + 2),
        &[CAN, CAN, ACK, C],
    );
    assert_text(
        &mut sim,
        "The image size is higher than the allowed space memory!",
    );
    let r = sim.finish();
    assert_eq!(r.summary["result"], "error");
    assert_eq!(r.summary["app_state"], "erased");
}

#[test]
fn st_erases_the_whole_area_before_it_acks_the_header_and_loses_bytes_meanwhile() {
    // 8 sectors of 50 ms: the header's ACK comes after 400 ms; a block sent right behind the
    // header overruns the 16-byte FIFO.
    let mut sim = Sim::start(&[
        "--baud",
        "115200",
        "--fifo",
        "16",
        "--sector-size",
        "4K",
        "--flash-size",
        "32K",
        "--erase-ms",
        "50",
    ]);
    sim.expect(ST_BANNER, SEC);
    let img = image(1024, 4);
    let t = Instant::now();
    sim.send(&header("a", img.len()));
    exchange(&mut sim, &blocks(&img)[0], &[ACK, C]);
    assert!(
        t.elapsed() >= Duration::from_millis(400),
        "{:?}",
        t.elapsed()
    );
    // What the FIFO kept is a packet's start whose rest never comes: `C` after 1 s.
    sim.expect(&[C], 2 * SEC);
    exchange(&mut sim, &blocks(&img)[0], &[ACK]);
    let r = sim.finish();
    // The block's first bytes may have come before the erase began, then the FIFO took 16.
    let overruns = r.summary["faults"]["overruns"].as_u64().unwrap();
    assert!((900..=1029 - 16).contains(&overruns), "{overruns}");
    assert_eq!(r.summary["flash"]["erases"], 8);
    assert!(r.summary["flash"]["busy_ms"].as_u64().unwrap() >= 400);
}

#[test]
fn a_reset_loses_ram_state_and_keeps_flash() {
    let img = image(4096, 5);
    let (mut sim, b) = past_block_0(st(&["--reset-at", "2048"]), &img);
    sim.send(&b[1]);
    // No ACK: the MCU reboots into a fresh bootloader, which greets again.
    sim.expect(ST_BANNER, SEC);
    let r = sim.finish();
    assert_eq!(r.summary["faults"]["resets"], 1);
    assert_eq!(r.summary["result"], "incomplete");
    assert_eq!(r.summary["app_state"], "partial");
    assert_eq!(&r.image[..2048], &img[..2048]);
    assert!(r.image[2048..].iter().all(|&b| b == 0xFF));
}

#[test]
fn spec_receives_with_eot_nak_and_erases_lazily() {
    for len in [1, 1025, 5000] {
        let img = image(len, 6);
        let mut sim = spec(&[]);
        exchange(&mut sim, &header("fw.bin", len), &[ACK, C]);
        for b in blocks(&img) {
            exchange(&mut sim, &b, &[ACK]);
        }
        exchange(&mut sim, &[EOT], &[NAK]);
        exchange(&mut sim, &[EOT], &[ACK, C]);
        exchange(&mut sim, &null_header(), &[ACK]);
        let r = sim.finish();
        assert_new_image(&r, &img);
        assert_eq!(r.summary["flash"]["erases"], len.div_ceil(4096));
        assert_eq!(
            r.summary["flash"]["programmed"], len,
            "padding is not programmed"
        );
    }
}

#[test]
fn spec_acks_duplicates_naks_bad_blocks_after_a_quiet_second() {
    let img = image(3000, 7);
    let (mut sim, b) = past_block_0(spec(&[]), &img);
    exchange(&mut sim, &b[0], &[ACK]);
    let mut bad = b[1].clone();
    bad[3] ^= 1;
    let t = Instant::now();
    sim.send(&bad);
    sim.expect(&[NAK], 2 * SEC);
    assert!(t.elapsed() >= SEC, "purges for a second: {:?}", t.elapsed());
    exchange(&mut sim, &b[1], &[ACK]);
    exchange(&mut sim, &b[0], &[CAN, CAN]);
    let r = sim.finish();
    assert_eq!(r.summary["result"], "error");
    assert_eq!(r.summary["reason"], "block out of sequence");
    assert_eq!(r.summary["retries"], 1);
    assert_eq!(r.summary["errors"], 1);
}

#[test]
fn the_line_is_never_faster_than_its_baud_rate() {
    // 20 blocks of 1029 bytes at 115200 baud: at least 1.79 s however fast the host is.
    let img = image(20 << 10, 8);
    let mut sim = spec(&["--baud", "115200"]); // the last --baud is the one that counts
    let t = Instant::now();
    let mut sent = 0;
    for b in blocks(&img) {
        if sent == 0 {
            exchange(&mut sim, &header("a", img.len()), &[ACK, C]);
        }
        exchange(&mut sim, &b, &[ACK]);
        sent += b.len();
    }
    let line_time = Duration::from_secs_f64(sent as f64 * 10.0 / 115_200.0);
    assert!(
        t.elapsed() >= line_time,
        "{:?} < {line_time:?}",
        t.elapsed()
    );
    let r = sim.finish();
    assert_eq!(r.summary["line"]["to_mcu"], sent + 133);
}

#[test]
fn every_byte_flipped_means_nothing_is_accepted() {
    let mut sim = Sim::start(
        &[
            &FAST[..],
            &["--bitflip-rate", "1", "--reply-drop-rate", "0"],
        ]
        .concat(),
    );
    sim.expect(ST_BANNER, SEC);
    sim.send(&header("a", 100));
    // Noise to ST: `C`s, and flipped bytes may read as CAN CAN or a user's 'a'.
    let replies = sim.read_for(Duration::from_millis(1500));
    assert!(
        replies.starts_with(&[C]) && !replies.contains(&ACK),
        "{replies:02x?}"
    );
    let r = sim.finish();
    assert_eq!(r.summary["faults"]["bitflips"], 133);
    assert_eq!(r.summary["app_state"], "old");
    assert_eq!(r.summary["name"], serde_json::Value::Null);
}

#[test]
fn lost_replies_never_reach_the_module() {
    let mut sim = Sim::start(&[&FAST[..], &["--reply-drop-rate", "1"]].concat());
    assert_eq!(sim.read_for(Duration::from_millis(1300)), b"");
    let r = sim.finish();
    let f = &r.summary["faults"];
    assert_eq!(f["reply_dropped"], r.summary["line"]["to_module"]);
    assert!(f["reply_dropped"].as_u64().unwrap() > ST_BANNER.len() as u64);
}

#[test]
fn noise_never_crashes_a_personality() {
    for personality in ["stm32-iap", "spec"] {
        for seed in 1..4u64 {
            let mut sim = Sim::start(&[&FAST[..], &["--personality", personality]].concat());
            let mut x = seed;
            let noise: Vec<u8> = (0..16 << 10)
                .map(|_| {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    (x >> 56) as u8
                })
                .collect();
            for chunk in noise.chunks(1024) {
                if !sim.try_send(chunk) {
                    break;
                }
            }
            let r = sim.finish();
            assert_ne!(
                r.summary["result"], "ok",
                "{personality} {seed}: {}",
                r.summary
            );
            assert!(r.summary["bytes"].as_u64().unwrap() < 16 << 10);
        }
    }
}

/// The core's sender against both personalities: clean runs, lost ACKs, seeded faults. The
/// invariant: the sender reports success only when the MCU holds the exact image.
#[test]
fn core_sender_against_both_personalities() {
    let img = image(10_000, 9);
    let mut runs: Vec<(&str, Vec<String>)> = Vec::new();
    for personality in ["stm32-iap", "spec"] {
        runs.push((personality, vec![]));
        for at in ["0", "1", "5", "10"] {
            runs.push((personality, vec!["--drop-ack".into(), at.into()]));
        }
        for seed in 1..=4 {
            let rate = "0.0003".to_string();
            let faults = [
                "--bitflip-rate",
                "--drop-rate",
                "--reply-bitflip-rate",
                "--reply-drop-rate",
            ];
            let mut args: Vec<String> = faults
                .iter()
                .flat_map(|f| [f.to_string(), rate.clone()])
                .collect();
            args.extend(["--seed".into(), seed.to_string()]);
            runs.push((personality, args));
        }
    }
    std::thread::scope(|scope| {
        for (personality, extra) in &runs {
            let img = &img;
            scope.spawn(move || {
                let mut args: Vec<&str> = FAST.to_vec();
                args.extend(["--personality", personality]);
                args.extend(extra.iter().map(String::as_str));
                let mut sim = Sim::start(&args);
                let sent = send_with_core(&mut sim, "fw.bin", img, 1_000_000);
                let r = sim.finish();
                let s = &r.summary;
                let faultless = extra.iter().all(|a| a != "--seed");
                if sent.is_ok() || faultless {
                    assert!(sent.is_ok(), "{personality} {extra:?}: {sent:?} {s}");
                    assert_eq!(s["sha256"], sha256(img), "{personality} {extra:?}: {s}");
                    assert_eq!(r.image, *img);
                }
            });
        }
    });
}
