//! The sender against an in-test model of MCUboot's serial recovery (`bs_upload`,
//! `bs_list`, `bs_mcumgr_params`, `bs_reset` as boot_serial.c implements them) on a line
//! with seeded faults. The model only decides what MCUboot would; the real one is in
//! tests/test_mcuboot.py (qemu).

use super::*;
use crate::trace;
use crate::transfer::Sender as _;
use console::WRAP;
use std::vec::Vec;

const SHA: [u8; 32] = [0x5A; 32];

/// An image with a recognisable hash: the model "validates" a slot by comparing it with
/// the image it was built for, and lists `hash_of(image)`.
fn image(size: usize, seed: u32) -> Vec<u8> {
    (0..size as u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13 ^ seed) as u8)
        .collect()
}

fn hash_of(image: &[u8]) -> [u8; 32] {
    let mut h = [0u8; 32];
    for (i, &b) in image.iter().enumerate() {
        h[i % 32] = h[i % 32].wrapping_mul(31).wrapping_add(b);
    }
    h
}

fn packet(p: &[u8]) -> Vec<u8> {
    let mut buf = std::vec![0u8; encoded_len(p.len() + WRAP)];
    let at = buf.len() - p.len() - WRAP + 2;
    buf[at..at + p.len()].copy_from_slice(p);
    let n = console::encode(&mut buf, p.len());
    buf.truncate(n);
    buf
}

/// MCUboot in serial recovery, or (`app`) the application's SMP server before `os reset`.
struct Mcu {
    app: bool,
    params: bool,
    buf: usize,
    align: usize,
    valid: Vec<u8>,
    slot: Vec<u8>,
    curr_off: usize,
    img_size: usize,
    erases: u32,
    resets: u32,
    decoder: console::Decoder<4200>,
}

impl Mcu {
    fn new(valid: &[u8]) -> Self {
        Mcu {
            app: false,
            params: true,
            buf: 1024,
            align: 8,
            valid: valid.to_vec(),
            slot: std::vec![0xFF; valid.len() + 4096],
            curr_off: 0,
            img_size: 0,
            erases: 0,
            resets: 0,
            decoder: console::Decoder::new(),
        }
    }

    fn holds_image(&self) -> bool {
        self.slot[..self.valid.len()] == self.valid[..]
    }

    /// MCUboot restarts (power cut, watchdog): upload state is RAM, the slot stays.
    fn restart(&mut self) {
        self.curr_off = 0;
        self.img_size = 0;
        self.decoder = console::Decoder::new();
    }

    fn input(&mut self, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for &b in bytes {
            if let Some(p) = self.decoder.byte(b) {
                let p = p.to_vec();
                out.extend(self.request(&p));
            }
        }
        out
    }

    fn request(&mut self, p: &[u8]) -> Vec<u8> {
        if p.len() > self.buf - WRAP {
            return Vec::new(); // too long for dec_buf: dropped
        }
        let (group, id) = (u16::from_be_bytes([p[4], p[5]]), p[7]);
        let body = &p[HEADER..];
        let mut out = Vec::new();
        let put = |out: &mut Vec<u8>, k: &[u8], v: u64| {
            let mut b = [0u8; 64];
            let at = cbor::text(&mut b, 0, k);
            let at = cbor::head(&mut b, at, cbor::UINT, v);
            out.extend_from_slice(&b[..at]);
        };
        out.push(0xBF);
        match (group, id) {
            (0, 6) if self.params && !self.app => {
                put(&mut out, b"buf_size", self.buf as u64);
                put(&mut out, b"buf_count", 1);
            }
            (0, 5) => {
                put(&mut out, b"rc", 0);
                self.resets += 1;
                self.app = false;
            }
            (1, 1) => match self.upload(body) {
                Ok(off) => {
                    put(&mut out, b"rc", 0);
                    put(&mut out, b"off", off as u64);
                }
                Err(rc) => put(&mut out, b"rc", rc),
            },
            (1, 0) => {
                // As MCUboot built with the image state and hash groups lists a valid image.
                out.extend_from_slice(b"\x66images\x9f");
                if self.holds_image() {
                    out.extend_from_slice(b"\xbf\x68bootable\xf5\x69confirmed\xf5");
                    put(&mut out, b"slot", 0);
                    out.extend_from_slice(b"\x64hash\x58\x20");
                    out.extend_from_slice(&hash_of(&self.valid));
                    out.extend_from_slice(b"\x67version\x651.2.3\xff");
                }
                out.push(0xFF);
            }
            _ => put(&mut out, b"rc", 8),
        }
        out.push(0xFF);
        let mut rsp = p[..HEADER].to_vec();
        rsp[0] += 1;
        rsp[2..4].copy_from_slice(&(out.len() as u16).to_be_bytes());
        rsp.extend_from_slice(&out);
        let mut line = b"[00:00:02.000,000] <dbg> serial_recovery: RX\r\n".to_vec();
        line.extend(packet(&rsp));
        line
    }

    fn upload(&mut self, body: &[u8]) -> Result<usize, u64> {
        let (mut off, mut len, mut data) = (None, None, None);
        cbor::Reader::new(body)
            .map(|r, k| match k {
                b"off" => r.uint().map(|v| off = Some(v as usize)),
                b"len" => r.uint().map(|v| len = Some(v as usize)),
                b"data" => r.bytes().map(|v| data = Some(v.to_vec())),
                _ => r.skip(),
            })
            .ok_or(3u64)?;
        let (Some(off), Some(data)) = (off, data) else {
            return Err(3);
        };
        if off == 0 {
            let len = len.ok_or(3u64)?;
            if len > self.slot.len() {
                return Err(3);
            }
            self.slot.fill(0xFF);
            self.erases += 1;
            self.curr_off = 0;
            self.img_size = len;
        } else if off != self.curr_off {
            return Ok(self.curr_off);
        } else if self.curr_off + data.len() > self.img_size {
            return Err(3);
        }
        let mut n = data.len() - data.len() % self.align;
        if self.curr_off + data.len() == self.img_size {
            n = data.len();
        }
        self.slot[self.curr_off..self.curr_off + n].copy_from_slice(&data[..n]);
        self.curr_off += n;
        Ok(self.curr_off)
    }
}

#[derive(Default)]
struct Faults {
    seed: u64,
    /// Per mille of frames (either way) that get a byte flipped, lost or dropped whole.
    rate: u64,
    /// MCUboot restarts when it holds this offset (once).
    restart_at: Option<usize>,
}

impl Faults {
    fn roll(&mut self) -> u64 {
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        self.seed
    }

    fn damage(&mut self, mut bytes: Vec<u8>) -> Vec<u8> {
        if bytes.is_empty() || self.roll() % 1000 >= self.rate {
            return bytes;
        }
        let at = (self.roll() as usize) % bytes.len();
        match self.roll() % 3 {
            0 => bytes[at] ^= 1 << (self.roll() % 8),
            1 => drop(bytes.remove(at)),
            _ => bytes.clear(),
        }
        bytes
    }
}

/// Runs a session: the sender against `mcu` with `faults`. Returns the final action.
fn run(tx: &mut Sender, mcu: &mut Mcu, image: &[u8], faults: &mut Faults) -> Action {
    let mut frame = std::vec![0u8; tx.frame_size()];
    let mut now = 0u32;
    trace_begin(tx, image);
    for _ in 0..200_000 {
        let action = tx.poll(now, &mut frame);
        let error = match action {
            Action::Failed(f) => f.name(),
            _ => "",
        };
        trace::poll(now, action, &frame, tx.stats().chunks, error);
        match action {
            Action::Send(n) => {
                let wire = faults.damage(frame[..n].to_vec());
                now += 1 + n as u32 / 12;
                let reply = mcu.input(&wire);
                if faults.restart_at.is_some_and(|at| mcu.curr_off >= at) {
                    faults.restart_at = None;
                    mcu.restart();
                    continue;
                }
                let reply = faults.damage(reply);
                for piece in reply.chunks(7) {
                    trace::receive(now, piece);
                    tx.receive(now, piece);
                }
            }
            Action::Read { offset, at, len } => {
                let o = offset as usize;
                frame[at..at + len].copy_from_slice(&image[o..o + len]);
                trace::provide(len);
                tx.provide(len);
            }
            Action::Wait { until_ms, .. } => {
                assert!(until_ms.wrapping_sub(now) < 1 << 31);
                now = until_ms;
            }
            end => {
                trace_end(tx);
                return end;
            }
        }
    }
    panic!("the session did not end");
}

/// `run`'s session as `qsota.McubootSender(size, sha256, hash, **options)`, for trace replay.
fn trace_begin(tx: &Sender, image: &[u8]) {
    let o = &tx.opts;
    let kwargs = std::format!(
        "{{\"image\": {}, \"buf_size\": {}, \"enter\": {}, \"resume\": {}, \
         \"reset\": {}, \"timeout_ms\": {}, \"erase_timeout_ms\": {}, \"boot_ms\": {}, \
         \"retries\": {}}}",
        o.image,
        o.buf_size,
        o.enter,
        o.resume,
        o.reset,
        o.timeout_ms,
        o.erase_timeout_ms,
        o.boot_ms,
        o.retries
    );
    let args = std::format!(
        "[{}, \"hex:{}\", \"hex:{}\"]",
        tx.size,
        trace::hex(&tx.sha),
        trace::hex(&tx.hash)
    );
    trace::begin("mcuboot", &args, &kwargs, tx.frame_size());
    trace::source(image);
}

fn trace_end(tx: &Sender) {
    let st = tx.stats();
    let hash = if st.listed {
        std::format!("\"{}\"", trace::hex(&st.hash))
    } else {
        std::string::String::from("null")
    };
    trace::end(&std::format!(
        "{{\"bytes\": {}, \"frames\": {}, \"retries\": {}, \"line_bytes\": {}, \
         \"chunks\": {}, \"resumed_from\": {}, \"resent_bytes\": {}, \"buf_size\": {}, \
         \"chunk\": {}, \"step\": {}, \"rc\": {}, \"hash\": {hash}}}",
        st.bytes,
        st.frames,
        st.retries,
        st.line_bytes,
        st.chunks,
        st.resumed_from,
        st.resent_bytes,
        st.buf_size,
        st.chunk,
        st.step as u8,
        st.rc
    ));
}

fn sender(img: &[u8], opts: Options) -> Sender {
    Sender::new(img.len() as u64, SHA, hash_of(img), opts).unwrap()
}

#[test]
fn a_clean_upload_fills_every_request_and_verifies() {
    for (buf, cap, size) in [
        (1024, 0, 70_001),
        (512, 0, 3000),
        (2048, 700, 10_000),
        (1024, 0, 5),
    ] {
        let img = image(size, 1);
        let mut mcu = Mcu::new(&img);
        mcu.buf = buf;
        let mut tx = sender(
            &img,
            Options {
                buf_size: cap,
                ..Options::default()
            },
        );
        assert_eq!(
            run(&mut tx, &mut mcu, &img, &mut Faults::default()),
            Action::Done
        );
        assert!(mcu.holds_image());
        let st = tx.stats();
        let want = if cap == 0 { buf } else { cap as usize };
        assert_eq!(st.buf_size as usize, want);
        assert_eq!(
            (st.bytes, st.retries, st.listed, st.hash),
            (size as u64, 0, true, hash_of(&img))
        );
        assert_eq!((mcu.resets, mcu.erases), (1, 1));
        // A full request at offset 1: the chunk, the map head, `off`, `data` and their
        // heads fill the buffer.
        if size > 10_000 {
            assert_eq!(
                st.chunk as usize + 1 + 4 + 1 + 5 + 3,
                want - WRAP - HEADER,
                "{st:?}"
            );
        }
    }
}

#[test]
fn chunk_size_never_overflows_mcuboot_buffer() {
    // The model drops any request longer than its buffer: every size must still get through.
    for buf in [
        128u16, 129, 150, 255, 256, 300, 400, 512, 1000, 1024, 2048, 4096,
    ] {
        for size in [1usize, 23, 24, 300, 5000] {
            let img = image(size, buf.into());
            let mut mcu = Mcu::new(&img);
            mcu.buf = buf.into();
            let mut tx = sender(
                &img,
                Options {
                    buf_size: buf,
                    ..Options::default()
                },
            );
            assert_eq!(
                run(&mut tx, &mut mcu, &img, &mut Faults::default()),
                Action::Done,
                "{buf} {size}"
            );
            assert!(mcu.holds_image());
            assert_eq!(tx.stats().retries, 0, "{buf} {size}");
        }
    }
}

#[test]
fn without_params_the_default_buffer_is_512() {
    let img = image(4000, 2);
    let mut mcu = Mcu::new(&img);
    (mcu.params, mcu.buf) = (false, 512);
    let mut tx = sender(&img, Options::default());
    assert_eq!(
        run(&mut tx, &mut mcu, &img, &mut Faults::default()),
        Action::Done
    );
    assert_eq!(tx.stats().buf_size, 512);
}

#[test]
fn enter_resets_the_application_then_waits_for_mcuboot() {
    let img = image(3000, 3);
    let mut mcu = Mcu::new(&img);
    mcu.app = true;
    let mut tx = sender(
        &img,
        Options {
            enter: true,
            ..Options::default()
        },
    );
    assert_eq!(
        run(&mut tx, &mut mcu, &img, &mut Faults::default()),
        Action::Done
    );
    assert_eq!(mcu.resets, 2); // into recovery, then out with the new image
}

#[test]
fn a_new_send_continues_where_mcuboot_is() {
    let img = image(50_000, 4);
    let mut mcu = Mcu::new(&img);
    // The first send stops half-way (the module restarted): the frames stop coming.
    let mut tx = sender(&img, Options::default());
    let mut frame = std::vec![0u8; tx.frame_size()];
    let mut now = 0;
    while mcu.curr_off < 25_000 {
        match tx.poll(now, &mut frame) {
            Action::Send(n) => {
                let r = mcu.input(&frame[..n]);
                tx.receive(now, &r);
            }
            Action::Read { offset, at, len } => {
                let o = offset as usize;
                frame[at..at + len].copy_from_slice(&img[o..o + len]);
                tx.provide(len);
            }
            Action::Wait { until_ms, .. } => now = until_ms,
            other => panic!("{other:?}"),
        }
    }
    let held = mcu.curr_off;
    let mut tx = sender(&img, Options::default());
    assert_eq!(
        run(&mut tx, &mut mcu, &img, &mut Faults::default()),
        Action::Done
    );
    assert_eq!(tx.stats().resumed_from, held as u64);
    assert_eq!(mcu.erases, 1);
    assert!(mcu.holds_image());
    // Sent again when complete: verified without a byte of upload.
    let mut tx = sender(&img, Options::default());
    assert_eq!(
        run(&mut tx, &mut mcu, &img, &mut Faults::default()),
        Action::Done
    );
    // params, probe, list, reset
    assert_eq!((tx.stats().frames, mcu.erases), (4, 1));
}

#[test]
fn a_resumed_upload_of_another_image_starts_over() {
    let old = image(30_000, 5);
    let img = image(30_000, 6);
    let mut mcu = Mcu::new(&img);
    // MCUboot holds half of another image of the same size.
    mcu.slot[..15_000].copy_from_slice(&old[..15_000]);
    (mcu.curr_off, mcu.img_size) = (15_000, 30_000);
    let mut tx = sender(&img, Options::default());
    assert_eq!(
        run(&mut tx, &mut mcu, &img, &mut Faults::default()),
        Action::Done
    );
    assert!(mcu.holds_image());
    assert_eq!(mcu.erases, 1);
}

#[test]
fn an_image_mcuboot_does_not_validate_is_rejected() {
    let img = image(8000, 7);
    let mut mcu = Mcu::new(&image(8000, 8)); // MCUboot validates only another image
    let mut tx = sender(&img, Options::default());
    assert_eq!(
        run(&mut tx, &mut mcu, &img, &mut Faults::default()),
        Action::Failed(Fail::Rejected)
    );
    assert_eq!(tx.stats().step, Step::List);
    assert_eq!(mcu.resets, 0, "a rejected image must not be booted");
}

#[test]
fn an_image_larger_than_the_slot_gets_mcuboot_rc() {
    let img = image(8000, 9);
    let mut mcu = Mcu::new(&img);
    mcu.slot.truncate(4000);
    let mut tx = sender(
        &img,
        Options {
            resume: false,
            ..Options::default()
        },
    );
    assert_eq!(
        run(&mut tx, &mut mcu, &img, &mut Faults::default()),
        Action::Failed(Fail::Rejected)
    );
    assert_eq!((tx.stats().rc, tx.stats().step), (3, Step::Upload));
}

#[test]
fn silence_is_a_timeout_after_the_retries() {
    let img = image(100, 1);
    let mut tx = sender(
        &img,
        Options {
            retries: 3,
            timeout_ms: 500,
            ..Options::default()
        },
    );
    let mut frame = std::vec![0u8; tx.frame_size()];
    let (mut now, mut sent) = (0, 0);
    let end = loop {
        match tx.poll(now, &mut frame) {
            Action::Send(_) => sent += 1,
            Action::Wait { until_ms, .. } => now = until_ms,
            other => break other,
        }
    };
    assert_eq!((end, sent, now), (Action::Failed(Fail::Timeout), 4, 2000));
    assert_eq!(tx.stats().step, Step::Params);
}

#[test]
fn seeded_faults_never_end_in_a_wrong_image() {
    let _trace = trace::Recording::new("mcuboot-seeded-faults", 60);
    let (mut done, mut failed) = (0, 0);
    for seed in 1..=400u64 {
        let size = 500 + (seed as usize * 733) % 20_000;
        let img = image(size, seed as u32);
        let mut mcu = Mcu::new(&img);
        mcu.buf = [256, 512, 1024, 2048][seed as usize % 4];
        mcu.align = [1, 4, 8, 16][(seed / 4) as usize % 4];
        let mut faults = Faults {
            seed: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15),
            rate: 30 + seed % 100,
            restart_at: (seed % 5 == 0).then_some(size / 2),
        };
        let opts = Options {
            timeout_ms: 300,
            retries: 8,
            enter: seed % 7 == 0,
            ..Options::default()
        };
        mcu.app = opts.enter;
        let mut tx = sender(&img, opts);
        match run(&mut tx, &mut mcu, &img, &mut faults) {
            Action::Done => {
                assert!(mcu.holds_image(), "seed {seed}: done with a wrong slot");
                done += 1;
            }
            Action::Failed(f) => {
                assert!(
                    matches!(f, Fail::Timeout | Fail::Retries | Fail::Rejected),
                    "{seed} {f:?}"
                );
                failed += 1;
            }
            other => panic!("{other:?}"),
        }
    }
    println!("seeded SMP fault runs: {done} done, {failed} failed");
    assert!(done >= 360, "done {done}, failed {failed}");
}

#[test]
fn a_lister_uploads_nothing_and_reads_the_image_list() {
    let img = image(3000, 4);
    let mut mcu = Mcu::new(&img);
    for holds in [false, true] {
        if holds {
            mcu.slot[..img.len()].copy_from_slice(&img);
        }
        let mut tx = Sender::lister(Options::default()).unwrap();
        assert_eq!(
            run(&mut tx, &mut mcu, &[], &mut Faults::default()),
            Action::Done
        );
        let mut found = Vec::new();
        each_listed(tx.image_list().unwrap(), |e| found.push(e)).unwrap();
        let want = Listed {
            slot: Some(0),
            version: b"1.2.3",
            hash: Some(hash_of(&img)),
            bootable: true,
            confirmed: true,
            ..Listed::default()
        };
        assert_eq!(found, if holds { vec![want] } else { vec![] });
        assert_eq!(
            (tx.stats().frames, tx.stats().bytes),
            (2, 0),
            "params, list"
        );
        assert_eq!((mcu.erases, mcu.resets, mcu.img_size), (0, 0, 0));
    }
    // An uploading sender has no list to show.
    let mut tx = sender(&img, Options::default());
    assert_eq!(
        run(&mut tx, &mut mcu, &img, &mut Faults::default()),
        Action::Done
    );
    assert_eq!(tx.image_list(), None);
}

#[test]
fn the_image_list_reader_passes_over_what_it_does_not_show() {
    let mut found = Vec::new();
    // {"images": [{"version": 5, "pending": "yes", "slot": 1, "x": [1, {}]}], "rc": 0}
    let body = b"\xa2\x66images\x81\xa4\x67version\x05\x67pending\x63yes\x64slot\x01\
                 \x61x\x82\x01\xa0\x62rc\x00";
    each_listed(body, |e| found.push(e)).unwrap();
    let want = Listed {
        slot: Some(1),
        ..Listed::default()
    };
    assert_eq!(found, vec![want]);
    // Truncated, or not a map: no list.
    assert_eq!(each_listed(&body[..body.len() - 3], |_| {}), None);
    assert_eq!(each_listed(b"\x80", |_| {}), None);
}

#[test]
fn bad_options_and_misuse() {
    let o = Options::default();
    assert_eq!(Sender::new(0, SHA, SHA, o).unwrap_err(), Error::Range);
    assert_eq!(Sender::new(1 << 32, SHA, SHA, o).unwrap_err(), Error::Range);
    for bad in [
        Options { buf_size: 127, ..o },
        Options { timeout_ms: 0, ..o },
        Options {
            boot_ms: 1 << 31,
            ..o
        },
    ] {
        assert_eq!(Sender::new(1, SHA, SHA, bad).unwrap_err(), Error::Range);
    }
    let mut tx = Sender::new(10, SHA, SHA, o).unwrap();
    assert_eq!(tx.frame_size(), encoded_len(2048));
    let mut small = [0u8; 100];
    assert_eq!(tx.poll(0, &mut small), Action::Failed(Fail::Usage));
    let mut tx = Sender::new(10, SHA, SHA, o).unwrap();
    tx.provide(3);
    assert_eq!(tx.poll(0, &mut [0u8; 4000]), Action::Failed(Fail::Usage));
}
