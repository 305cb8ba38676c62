//! The sender against in-test receivers that behave like ST's IAP example and like
//! Forsberg's spec / lrzsz `rb`, on a simulated line with seeded faults.

use super::frame::{ACK, CAN, EOT, NAK, PAD, SOH, STX};
use super::*;
use crate::crc16;
use crate::trace;
use crate::transfer::Sender as _;
use std::cell::Cell;

std::thread_local! {
    /// What `run` answers a deferred sender's final check: passed (true) or failed; and
    /// how many times it was asked.
    static CHECK_PASSES: Cell<bool> = const { Cell::new(true) };
    static CHECKS: Cell<u32> = const { Cell::new(0) };
}

/// What the sender's line does to one frame or its answer.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fault {
    None,
    /// One bit of the frame flipped.
    Corrupt,
    /// The receiver's answer is lost.
    LoseReply,
    /// The frame never reaches the receiver (lrzsz `rb` purges its input after each ACK:
    /// a block that arrives before that purge is gone, and `rb` waits 5 s for it).
    Lost,
}

trait Receiver {
    /// Answer to one frame.
    fn frame(&mut self, f: &[u8]) -> Vec<u8>;
    /// The receiver's own timeout fired (nothing arrived for `idle_ms`).
    fn idle(&mut self) -> Vec<u8>;
    fn idle_ms(&self) -> u32;
    /// The stored file, if the session ended normally.
    fn result(&self) -> Option<Vec<u8>>;
}

/// A parsed block: number and data, or None for a bad frame.
fn parse(f: &[u8]) -> Option<(u8, &[u8])> {
    let wire = match *f.first()? {
        SOH => 128,
        STX => 1024,
        _ => return None,
    };
    if f.len() != wire + OVERHEAD || f[1] != !f[2] {
        return None;
    }
    let data = &f[3..3 + wire];
    let crc = u16::from_be_bytes([f[3 + wire], f[4 + wire]]);
    (crc16::XMODEM.checksum(data) == crc).then_some((f[1], data))
}

/// Name and size of a header block; like ST's `Str2Int`, a size that does not parse is 0.
fn header(data: &[u8]) -> (Vec<u8>, usize) {
    let nul = data.iter().position(|&b| b == 0).unwrap_or(data.len() - 1);
    let rest = &data[nul + 1..];
    let end = rest
        .iter()
        .position(|&b| b == 0 || b == b' ')
        .unwrap_or(rest.len());
    let size = core::str::from_utf8(&rest[..end])
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    (data[..nul].to_vec(), size)
}

/// ST's IAP receiver (STM32Cube `ymodem.c`): a bad frame gets `C`, any unexpected number a
/// NAK (duplicates included), stores whole blocks, EOT ACKed at once, `C` on its 1 s timeout.
#[derive(Default)]
struct St {
    expected: u8,
    size: usize,
    flash: Vec<u8>,
    errors: u32,
    begun: bool,
    done: bool,
    aborted: bool,
}

impl Receiver for St {
    fn frame(&mut self, f: &[u8]) -> Vec<u8> {
        if self.done || self.aborted {
            return vec![];
        }
        if f == [EOT] {
            self.expected = 0;
            return vec![ACK];
        }
        if f.starts_with(&[CAN, CAN]) {
            self.aborted = true;
            return vec![ACK];
        }
        let Some((n, data)) = parse(f) else {
            return self.idle();
        };
        self.errors = 0;
        if n != self.expected {
            return vec![NAK];
        }
        self.begun = true;
        self.expected = self.expected.wrapping_add(1);
        if n == 0 && self.flash.is_empty() && data[0] != 0 {
            self.size = header(data).1;
            return vec![ACK, CRC16];
        }
        if n == 0 && data[0] == 0 {
            self.done = true;
            return vec![ACK];
        }
        self.flash.extend_from_slice(data);
        vec![ACK]
    }
    fn idle(&mut self) -> Vec<u8> {
        if self.done || self.aborted {
            return vec![];
        }
        if self.begun {
            self.errors += 1;
        }
        if self.errors > 5 {
            self.aborted = true;
            vec![CAN, CAN]
        } else {
            vec![CRC16]
        }
    }
    fn idle_ms(&self) -> u32 {
        1000
    }
    fn result(&self) -> Option<Vec<u8>> {
        let pad = self.flash.get(self.size..)?;
        assert!(pad.iter().all(|&b| b == PAD), "ST stored more than padding");
        self.done.then(|| self.flash[..self.size].to_vec())
    }
}

/// The spec's receiver, as lrzsz `rb`: a bad frame gets NAK, a duplicate ACK, any other
/// number cancels; the first EOT gets NAK; stores `size` bytes.
#[derive(Default)]
struct Spec {
    expected: u8,
    size: usize,
    file: Vec<u8>,
    eots: u32,
    in_file: bool,
    done: bool,
    aborted: bool,
}

impl Receiver for Spec {
    fn frame(&mut self, f: &[u8]) -> Vec<u8> {
        if self.done || self.aborted {
            return vec![];
        }
        if f == [EOT] {
            if !self.in_file {
                return vec![ACK, CRC16];
            }
            self.eots += 1;
            if self.eots == 1 {
                return vec![NAK];
            }
            self.in_file = false;
            self.expected = 0;
            return vec![ACK, CRC16];
        }
        if f.starts_with(&[CAN, CAN]) {
            self.aborted = true;
            return vec![];
        }
        let Some((n, data)) = parse(f) else {
            return vec![NAK];
        };
        if n == self.expected.wrapping_sub(1) {
            return vec![ACK];
        }
        if n != self.expected {
            self.aborted = true;
            return vec![CAN, CAN];
        }
        self.expected = self.expected.wrapping_add(1);
        if n == 0 && !self.in_file {
            if data[0] == 0 {
                self.done = true;
                return vec![ACK];
            }
            self.size = header(data).1;
            self.in_file = true;
            return vec![ACK, CRC16];
        }
        let room = self.size - self.file.len();
        self.file.extend_from_slice(&data[..room.min(data.len())]);
        vec![ACK]
    }
    fn idle(&mut self) -> Vec<u8> {
        if self.done || self.aborted {
            return vec![];
        }
        vec![if self.in_file { NAK } else { CRC16 }]
    }
    fn idle_ms(&self) -> u32 {
        5000
    }
    fn result(&self) -> Option<Vec<u8>> {
        self.done.then(|| self.file.clone())
    }
}

struct Run {
    result: Result<(), Fail>,
    stats: Stats,
    /// The frames the sender wrote, in order.
    frames: Vec<Vec<u8>>,
    /// The simulated time at the end, in ms.
    ms: u32,
}

/// Runs one transfer; `fault(i)` decides the fate of the i-th frame.
fn run(
    rx: &mut dyn Receiver,
    image: &[u8],
    opts: Options,
    mut fault: impl FnMut(usize) -> Fault,
) -> Run {
    let mut s = Sender::new(b"fw.bin", image.len() as u64, opts).unwrap();
    let mut frame = vec![0u8; s.frame_size()];
    trace_begin(&opts, image, s.frame_size());
    let mut now = 0u32;
    let mut rx_quiet_since = 0u32;
    let mut pending = vec![CRC16];
    let mut frames = Vec::new();
    let result = loop {
        let action = s.poll(now, &mut frame);
        trace_poll(&s, now, action, &frame);
        match action {
            Action::Send(n) => {
                let mut f = frame[..n].to_vec();
                frames.push(f.clone());
                let fate = fault(frames.len() - 1);
                if fate == Fault::Corrupt {
                    let i = f.len() / 2;
                    f[i] ^= 0x10;
                }
                now += 1 + n as u32 / 12; // about 115200 baud
                if fate == Fault::Lost {
                    continue;
                }
                let answer = rx.frame(&f);
                rx_quiet_since = now;
                if fate != Fault::LoseReply {
                    pending.extend(answer);
                }
            }
            Action::Read { offset, at, len } => {
                let o = offset as usize;
                frame[at..at + len].copy_from_slice(&image[o..o + len]);
                trace::provide(len);
                s.provide(len);
            }
            Action::Digest { .. } => {
                // YMODEM carries no digest: only the check's verdict counts.
                CHECKS.with(|c| c.set(c.get() + 1));
                let n = if CHECK_PASSES.with(Cell::get) { 32 } else { 0 };
                trace::provide(n);
                s.provide(n);
            }
            Action::Wait { until_ms, .. } => {
                if !pending.is_empty() {
                    now += 1;
                    trace::receive(now, &pending);
                    s.receive(now, &pending);
                    pending.clear();
                    continue;
                }
                let rx_due = rx_quiet_since + rx.idle_ms();
                if rx_due < until_ms {
                    now = now.max(rx_due);
                    pending.extend(rx.idle());
                    rx_quiet_since = now;
                } else {
                    now = now.max(until_ms);
                }
            }
            Action::Done => break Ok(()),
            Action::Failed(f) => break Err(f),
        }
        assert!(frames.len() < 100_000, "runaway sender");
    };
    let st = s.stats();
    trace::end(&format!(
        "{{\"bytes\": {}, \"blocks\": {}, \"frames\": {}, \"retries\": {}, \"line_bytes\": {}}}",
        st.bytes, st.blocks, st.frames, st.retries, st.line_bytes
    ));
    Run {
        result,
        stats: s.stats(),
        frames,
        ms: now,
    }
}

/// `run`'s session as `qsota.YmodemSender("fw.bin", size, **options)`, for trace replay.
fn trace_begin(opts: &Options, image: &[u8], frame_size: usize) {
    let kwargs = format!(
        "{{\"block_size\": {}, \"timeout_ms\": {}, \"header_timeout_ms\": {}, \
         \"start_timeout_ms\": {}, \"end_gap_ms\": {}, \"retries\": {}, \"baud\": {}, \
         \"deferred\": {}}}",
        opts.block_size,
        opts.timeout_ms,
        opts.header_timeout_ms,
        opts.start_timeout_ms,
        opts.end_gap_ms,
        opts.retries,
        opts.baud,
        opts.deferred
    );
    let args = format!("[\"fw.bin\", {}]", image.len());
    trace::begin("ymodem", &args, &kwargs, frame_size);
    trace::source(image);
}

fn trace_poll(s: &Sender, now: u32, action: Action, frame: &[u8]) {
    let error = match action {
        Action::Failed(f) => f.name(),
        _ => "",
    };
    trace::poll(now, action, frame, s.block(), error);
}

fn image(len: usize) -> Vec<u8> {
    let mut x = 0x1234_5678u32 ^ len as u32;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// Runs and checks the one property that matters: success means the exact image.
fn exact(
    rx: &mut dyn Receiver,
    img: &[u8],
    opts: Options,
    fault: impl FnMut(usize) -> Fault,
) -> Run {
    let r = run(rx, img, opts, fault);
    if r.result.is_ok() {
        assert_eq!(
            rx.result().as_deref(),
            Some(img),
            "success with a wrong image"
        );
    }
    r
}

const SIZES: [usize; 10] = [0, 1, 127, 128, 129, 1023, 1024, 1025, 4096 + 100, 300_000];

#[test]
fn header_block_layout() {
    let mut s = Sender::new(b"a b.bin", 1025, Options::default()).unwrap();
    let mut frame = [0u8; 1029];
    s.receive(0, b"C");
    assert_eq!(s.poll(0, &mut frame), Action::Send(133));
    assert_eq!(&frame[..3], &[SOH, 0, 0xFF]);
    assert_eq!(&frame[3..16], b"a b.bin\x001025\x00");
    assert!(frame[16..131].iter().all(|&b| b == 0));
    assert_eq!(parse(&frame[..133]).map(|(n, _)| n), Some(0));
}

#[test]
fn long_name_gets_a_1k_header_and_bad_names_are_refused() {
    let name = [b'x'; 200];
    let mut s = Sender::new(&name, 5, Options::default()).unwrap();
    let mut frame = [0u8; 1029];
    s.receive(0, b"C");
    assert_eq!(s.poll(0, &mut frame), Action::Send(1029));
    assert_eq!(frame[0], STX);
    assert_eq!(&frame[203..206], b"\x005\x00");
    let opts = Options::default();
    assert_eq!(Sender::new(b"", 1, opts).err(), Some(Error::Length));
    assert_eq!(
        Sender::new(&[b'x'; 256], 1, opts).err(),
        Some(Error::Length)
    );
    assert_eq!(Sender::new(b"a\0b", 1, opts).err(), Some(Error::Syntax));
    let bad = |o: Options| Sender::new(b"f", 1, o).err();
    assert_eq!(
        bad(Options {
            block_size: 512,
            ..opts
        }),
        Some(Error::Arg)
    );
    assert_eq!(
        bad(Options {
            timeout_ms: 0,
            ..opts
        }),
        Some(Error::Range)
    );
    assert_eq!(
        bad(Options {
            end_gap_ms: u32::MAX,
            ..opts
        }),
        Some(Error::Range)
    );
}

#[test]
fn block_sizes_and_padding() {
    let _trace = trace::Recording::new("ymodem-block-sizes", 200);
    let img = image(1024 + 100);
    let r = exact(&mut Spec::default(), &img, Options::default(), |_| {
        Fault::None
    });
    let sizes: Vec<usize> = r.frames.iter().map(Vec::len).collect();
    // header, 1K block, 128-byte tail, EOT twice (spec NAKs the first), null block
    assert_eq!(sizes, [133, 1029, 133, 1, 1, 133]);
    assert!(r.frames[2][3 + 100..131].iter().all(|&b| b == PAD));
    let r = exact(
        &mut St::default(),
        &img,
        Options {
            block_size: 128,
            ..Options::default()
        },
        |_| Fault::None,
    );
    assert_eq!(r.frames.len(), 1 + 9 + 1 + 1);
    assert!(r.frames[1..10].iter().all(|f| f.len() == 133));
    // A known baud: 1K blocks only where a 1029-byte packet reaches ST's IAP well within
    // its 1 s packet timeout (9600: 1.07 s, so 128-byte blocks; 14400: 0.71 s).
    for (baud, data) in [
        (9600, 133),
        (14_400, 1029),
        (115_200, 1029),
        (MIN_BAUD, 133),
    ] {
        let opts = Options {
            baud,
            ..Options::default()
        };
        let r = exact(&mut St::default(), &img, opts, |_| Fault::None);
        assert_eq!(r.frames[1].len(), data, "{baud}");
        assert_eq!(Sender::new(b"f", 1, opts).unwrap().frame_size(), data);
    }
}

#[test]
fn a_baud_too_slow_for_any_block_is_refused() {
    let at = |baud| {
        Sender::new(
            b"f",
            1,
            Options {
                baud,
                ..Options::default()
            },
        )
        .err()
    };
    assert_eq!(at(1200), Some(Error::Range), "133 bytes take 1.1 s");
    assert_eq!(at(MIN_BAUD - 1), Some(Error::Range));
    assert_eq!(at(MIN_BAUD), None);
    assert_eq!(at(0), None, "unknown: the caller's block size");
    // The rules table refuses the same bauds before the core is asked (python/qsota/rules.py).
    let rules = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/python/qsota/rules.py"
    ))
    .unwrap();
    let row = std::format!("(\"baud\", GAP, 0, {MIN_BAUD}, _SLOW, None),");
    assert!(rules.lines().any(|l| l.trim() == row), "{row}");
}

#[test]
fn clean_transfers_of_every_size() {
    let _trace = trace::Recording::new("ymodem-clean", 100);
    for &len in &SIZES {
        let img = image(len);
        for rx in [
            &mut St::default() as &mut dyn Receiver,
            &mut Spec::default(),
        ] {
            let r = exact(rx, &img, Options::default(), |_| Fault::None);
            assert_eq!(r.result, Ok(()), "size {len}");
            assert_eq!(r.stats.bytes, len as u64);
            assert_eq!(r.stats.retries, 0);
        }
    }
}

/// The worst case of `rb`'s purge after each ACK (tests/test_ymodem.py's flake, issue 19
/// item 8): every data block's first transmission is lost. Each costs one `timeout_ms` (rb
/// stays silent for 5 s), never the transfer: the exact image, one retry per block, and the
/// time the clean transfer's plus exactly one timeout a block.
#[test]
fn a_receiver_that_purges_every_block_once_costs_one_timeout_per_block() {
    let img = image(300_000);
    let opts = Options::default();
    let blocks = img.len().div_ceil(1024);
    let clean = exact(&mut Spec::default(), &img, opts, |_| Fault::None);
    // Frame 0 is the header; then each block goes out twice, the first copy lost.
    let purged = |i: usize| {
        if (1..=2 * blocks).contains(&i) && i % 2 == 1 {
            Fault::Lost
        } else {
            Fault::None
        }
    };
    let r = exact(&mut Spec::default(), &img, opts, purged);
    assert_eq!(r.result, Ok(()));
    assert_eq!(r.stats.retries, blocks as u64);
    // The lost copy's airtime is the retransmission's: the rest is one timeout a block.
    let lost = r.ms - clean.ms;
    assert_eq!(
        lost,
        blocks as u32 * opts.timeout_ms,
        "{} ms, clean {}",
        r.ms,
        clean.ms
    );
}

#[test]
fn block_numbers_wrap_after_255() {
    let _trace = trace::Recording::new("ymodem-wrap", 200);
    let img = image(300 * 128);
    let opts = Options {
        block_size: 128,
        ..Options::default()
    };
    let r = exact(&mut St::default(), &img, opts, |_| Fault::None);
    assert_eq!(r.result, Ok(()));
    assert_eq!(r.frames[256][1], 0);
}

#[test]
fn a_lost_ack_anywhere_is_recovered_with_st_and_spec() {
    let _trace = trace::Recording::new("ymodem-lost-acks", 200);
    for &len in &[0usize, 1, 1025, 5000] {
        let img = image(len);
        let blocks = len.div_ceil(1024);
        // In a clean run frame 0 is the header and frames 1..=blocks the data blocks.
        for lost in 0..=blocks {
            for rx in [
                &mut St::default() as &mut dyn Receiver,
                &mut Spec::default(),
            ] {
                let r = exact(rx, &img, Options::default(), |i| {
                    if i == lost {
                        Fault::LoseReply
                    } else {
                        Fault::None
                    }
                });
                assert_eq!(r.result, Ok(()), "size {len}, lost ACK of frame {lost}");
                assert!(r.stats.retries >= 1);
            }
        }
    }
}

#[test]
fn lost_ack_of_the_last_block_with_st_uses_the_padding_probe() {
    let _trace = trace::Recording::new("ymodem-padding-probe", 200);
    let img = image(2048);
    let mut st = St::default();
    let r = exact(&mut st, &img, Options::default(), |i| {
        if i == 2 {
            Fault::LoseReply
        } else {
            Fault::None
        }
    });
    assert_eq!(r.result, Ok(()));
    // header, block 1, block 2 (ACK lost), block 2 again (NAK), probe 3 of pure padding
    let probe = &r.frames[4];
    assert_eq!((probe[0], probe[1]), (SOH, 3));
    assert!(probe[3..131].iter().all(|&b| b == PAD));
    assert_eq!(st.flash.len(), 2048 + 128);
}

#[test]
fn lost_replies_and_corruption_together() {
    let _trace = trace::Recording::new("ymodem-lost-and-corrupt", 200);
    // Every frame's answer lost once, then the retransmission corrupted, and so on.
    let img = image(6000);
    for rx in [
        &mut St::default() as &mut dyn Receiver,
        &mut Spec::default(),
    ] {
        let r = exact(rx, &img, Options::default(), |i| match i % 3 {
            1 => Fault::LoseReply,
            2 => Fault::Corrupt,
            _ => Fault::None,
        });
        // Success or a clean failure are both acceptable; a wrong image is not.
        let _ = r.result;
    }
}

/// A tiny deterministic generator for fault patterns.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as u32
    }
}

#[test]
fn seeded_faults_never_give_a_wrong_image() {
    let _trace = trace::Recording::new("ymodem-seeded-faults", 300);
    let mut outcomes = [0u32; 2];
    for seed in 0..2000u64 {
        let mut rng = Rng(seed);
        let len = [0, 1, 1000, 3000, 9000][seed as usize % 5];
        let img = image(len);
        let rate = 3 + seed % 20; // percent of frames hit
        let fault = |_| match rng.next() % 100 {
            r if r < rate as u32 / 2 => Fault::Corrupt,
            r if r < rate as u32 => Fault::LoseReply,
            _ => Fault::None,
        };
        let r = if seed % 2 == 0 {
            exact(&mut St::default(), &img, Options::default(), fault)
        } else {
            exact(&mut Spec::default(), &img, Options::default(), fault)
        };
        outcomes[usize::from(r.result.is_ok())] += 1;
    }
    // Most runs must succeed, or the sender gives up too easily.
    println!(
        "seeded fault runs: {} failed cleanly, {} exact",
        outcomes[0], outcomes[1]
    );
    assert!(outcomes[1] > 1950, "outcomes {outcomes:?}");
}

#[test]
fn header_wait_covers_a_full_erase_and_data_waits_are_short() {
    let opts = Options::default();
    let mut s = Sender::new(b"f", 5000, opts).unwrap();
    let mut frame = [0u8; 1029];
    s.receive(0, b"C");
    assert_eq!(s.poll(0, &mut frame), Action::Send(133));
    let until = opts.header_timeout_ms;
    assert_eq!(s.poll(until - 1, &mut frame), Action::wait(until));
    assert_eq!(s.poll(until, &mut frame), Action::Send(133));
    s.receive(until, &[ACK, CRC16]);
    assert!(matches!(s.poll(until, &mut frame), Action::Read { .. }));
    s.provide(1024);
    assert_eq!(s.poll(until, &mut frame), Action::Send(1029));
    let due = until + opts.timeout_ms;
    assert_eq!(s.poll(until, &mut frame), Action::wait(due));
    // The retransmission reuses the frame: no second read.
    assert_eq!(s.poll(due, &mut frame), Action::Send(1029));
    // With the baud rate known, the wait includes the frame's time on the wire.
    let mut s = Sender::new(b"f", 5000, Options { baud: 9600, ..opts }).unwrap();
    s.receive(0, b"C");
    assert!(matches!(s.poll(0, &mut frame), Action::Send(_)));
    assert_eq!(s.poll(0, &mut frame), Action::wait(30_000 + 139));
}

#[test]
fn receiver_cancel_stops_the_transfer() {
    let mut s = Sender::new(b"f", 5000, Options::default()).unwrap();
    let mut frame = [0u8; 1029];
    s.receive(0, b"C");
    assert_eq!(s.poll(0, &mut frame), Action::Send(133));
    s.receive(5, &[CAN, CAN]);
    assert_eq!(s.poll(6, &mut frame), Action::Failed(Fail::Cancelled));
}

#[test]
fn a_cancel_by_the_caller_sends_cans_when_the_receiver_listens() {
    let opts = Options::default();
    let mut frame = [0u8; 1029];
    let cans = |s: &mut Sender, now, frame: &mut [u8]| {
        assert_eq!(s.poll(now, frame), Action::Send(CANCEL.len()));
        assert_eq!(frame[..CANCEL.len()], CANCEL);
        assert_eq!(s.poll(now, frame), Action::Failed(Fail::Cancelled));
    };
    // Before the receiver asked: at once.
    let mut s = Sender::new(b"f", 5000, opts).unwrap();
    s.cancel();
    cans(&mut s, 0, &mut frame);
    s.cancel();
    assert_eq!(s.poll(1, &mut frame), Action::Failed(Fail::Cancelled));
    // The header is out: the receiver erases and reads nothing until it answers.
    let mut s = Sender::new(b"f", 5000, opts).unwrap();
    s.receive(0, b"C");
    assert_eq!(s.poll(0, &mut frame), Action::Send(133));
    s.cancel();
    let until_ms = opts.header_timeout_ms;
    assert_eq!(s.poll(10, &mut frame), Action::wait(until_ms));
    s.receive(8000, &[ACK]);
    cans(&mut s, 8000, &mut frame);
    // A data block is read but not sent: at once.
    let mut s = Sender::new(b"f", 5000, opts).unwrap();
    s.receive(0, b"C");
    assert!(matches!(s.poll(0, &mut frame), Action::Send(_)));
    s.receive(1, &[ACK, CRC16]);
    assert!(matches!(s.poll(1, &mut frame), Action::Read { .. }));
    s.provide(1024);
    s.cancel();
    cans(&mut s, 2, &mut frame);
    // A data block is out and its answer never comes: at its deadline.
    let mut s = Sender::new(b"f", 5000, opts).unwrap();
    s.receive(0, b"C");
    assert!(matches!(s.poll(0, &mut frame), Action::Send(_)));
    s.receive(1, &[ACK, CRC16]);
    assert!(matches!(s.poll(1, &mut frame), Action::Read { .. }));
    s.provide(1024);
    assert_eq!(s.poll(2, &mut frame), Action::Send(1029));
    s.cancel();
    let until_ms = 2 + opts.timeout_ms;
    assert_eq!(s.poll(3, &mut frame), Action::wait(until_ms));
    cans(&mut s, until_ms, &mut frame);
}

#[test]
fn silence_gives_timeout_and_queues_cans() {
    let opts = Options::default();
    let mut s = Sender::new(b"f", 5, opts).unwrap();
    let mut frame = [0u8; 1029];
    assert_eq!(s.poll(0, &mut frame), Action::wait(opts.start_timeout_ms));
    assert_eq!(s.poll(opts.start_timeout_ms, &mut frame), Action::Send(5));
    assert_eq!(&frame[..5], &[CAN; 5]);
    assert_eq!(
        s.poll(opts.start_timeout_ms, &mut frame),
        Action::Failed(Fail::Timeout)
    );
    // Started, then nobody answers: eleven headers, then Timeout.
    let mut s = Sender::new(b"f", 5, opts).unwrap();
    s.receive(0, b"C");
    let mut now = 0;
    let mut sent = 0;
    loop {
        match s.poll(now, &mut frame) {
            Action::Send(133) => sent += 1,
            Action::Wait { until_ms, .. } => now = until_ms,
            Action::Send(5) => {}
            other => {
                assert_eq!(other, Action::Failed(Fail::Timeout));
                break;
            }
        }
    }
    assert_eq!(sent, 11);
}

#[test]
fn nak_storm_gives_retries_and_each_retransmission_waits_for_quiet() {
    let mut s = Sender::new(b"f", 5, Options::default()).unwrap();
    let mut frame = [0u8; 1029];
    s.receive(0, b"C");
    let mut now = 0;
    for _ in 0..10 {
        assert_eq!(s.poll(now, &mut frame), Action::Send(133));
        s.receive(now, &[NAK]);
        // More noise keeps the line busy: the retransmission waits for 20 ms of quiet.
        s.receive(now + 5, b"CC");
        assert_eq!(s.poll(now + 10, &mut frame), Action::wait(now + 25));
        now += 25;
    }
    assert_eq!(s.poll(now, &mut frame), Action::Send(133));
    s.receive(now, &[NAK]);
    assert_eq!(s.poll(now, &mut frame), Action::Send(5));
    assert_eq!(s.poll(now, &mut frame), Action::Failed(Fail::Retries));
}

#[test]
fn short_source_and_misuse_fail_cleanly() {
    let mut s = Sender::new(b"f", 5000, Options::default()).unwrap();
    let mut frame = [0u8; 1029];
    s.receive(0, b"C");
    assert!(matches!(s.poll(0, &mut frame), Action::Send(_)));
    s.receive(0, &[ACK, CRC16]);
    assert!(matches!(
        s.poll(0, &mut frame),
        Action::Read {
            offset: 0,
            at: 3,
            len: 1024
        }
    ));
    s.provide(1000);
    assert_eq!(s.poll(0, &mut frame), Action::Send(5));
    assert_eq!(s.poll(0, &mut frame), Action::Failed(Fail::Source));

    let mut s = Sender::new(b"f", 5, Options::default()).unwrap();
    assert_eq!(s.poll(0, &mut [0u8; 100]), Action::Send(5));
    assert_eq!(s.poll(0, &mut [0u8; 100]), Action::Failed(Fail::Usage));
    let mut s = Sender::new(b"f", 5, Options::default()).unwrap();
    s.provide(3);
    assert_eq!(s.poll(0, &mut frame), Action::Send(5));
    assert_eq!(s.poll(0, &mut frame), Action::Failed(Fail::Usage));
}

#[test]
fn time_may_wrap_around() {
    let mut s = Sender::new(b"f", 5, Options::default()).unwrap();
    let mut frame = [0u8; 1029];
    let t0 = u32::MAX - 10;
    assert_eq!(
        s.poll(t0, &mut frame),
        Action::wait(t0.wrapping_add(60_000))
    );
    assert!(matches!(
        s.poll(t0.wrapping_add(100), &mut frame),
        Action::Wait { .. }
    ));
}

/// A sender of an empty file whose header was answered `ACK C` and whose EOT went at 1 ms.
fn an_empty_file_at_its_eot(opts: Options) -> Sender {
    let mut s = Sender::new(b"f", 0, opts).unwrap();
    let mut frame = [0u8; 1029];
    s.receive(0, b"C");
    assert_eq!(s.poll(0, &mut frame), Action::Send(133));
    s.receive(1, &[ACK, CRC16]);
    assert_eq!(s.poll(1, &mut frame), Action::Send(1));
    s
}

#[test]
fn a_silent_receiver_after_the_eot_ack_ends_the_batch() {
    // rb exits on the null block; its ACK can be lost. The EOT ACK already confirmed the
    // file, so a null block that stays unanswered ends the transfer as done.
    let opts = Options::default();
    let mut s = an_empty_file_at_its_eot(opts);
    let mut frame = [0u8; 1029];
    s.receive(2, &[ACK]);
    assert_eq!(s.poll(2, &mut frame), Action::wait(2 + opts.end_gap_ms));
    let mut now = 2 + opts.end_gap_ms;
    let mut nulls = 0;
    let result = loop {
        match s.poll(now, &mut frame) {
            Action::Send(133) => nulls += 1,
            Action::Wait { until_ms, .. } => now = until_ms,
            other => break other,
        }
    };
    assert_eq!(result, Action::Done);
    assert_eq!(nulls, NULL_TRIES);
    // A receiver that NAKs the null block instead is heard: that ends in Retries.
    let mut s = an_empty_file_at_its_eot(opts);
    s.receive(2, &[ACK, CRC16]);
    let mut now = 3;
    let result = loop {
        match s.poll(now, &mut frame) {
            Action::Send(133) => s.receive(now, &[NAK]),
            Action::Wait { until_ms, .. } => now = until_ms,
            Action::Send(5) => {}
            other => break other,
        }
    };
    assert_eq!(result, Action::Failed(Fail::Retries));
}

#[test]
fn a_damaged_null_block_is_sent_again_after_the_receivers_purge() {
    // A receiver by the book answers a damaged packet by waiting for 1 s of silence and only
    // then asking again. The null block's retry must come after that purge, or it extends
    // the purge, is lost too, and three such retries end the batch while the receiver waits.
    const PURGE_MS: u32 = 1000;
    let opts = Options::default();
    let mut s = an_empty_file_at_its_eot(opts);
    let mut frame = [0u8; 1029];
    s.receive(2, &[ACK, CRC16]);
    let sent = 2;
    assert_eq!(s.poll(sent, &mut frame), Action::Send(133));
    // The damaged null block's last byte arrives at once; the purge runs until PURGE_MS of
    // silence, and nothing may be sent before it ends.
    let Action::Wait { until_ms, .. } = s.poll(sent, &mut frame) else {
        panic!("the sender must wait for the answer to the null block");
    };
    assert!(
        until_ms > sent + PURGE_MS,
        "the retry at {until_ms} would land in the purge"
    );
    // The receiver asks again after its purge; the null block goes again and is ACKed.
    s.receive(sent + PURGE_MS + 1, b"C");
    assert_eq!(s.poll(sent + PURGE_MS + 1, &mut frame), Action::Send(133));
    s.receive(sent + PURGE_MS + 2, &[ACK]);
    assert_eq!(s.poll(sent + PURGE_MS + 2, &mut frame), Action::Done);
}

#[test]
fn a_receiver_restart_that_takes_block_256_for_a_header_fails_the_transfer() {
    let _trace = trace::Recording::new("ymodem-restart-256", 200);
    // The MCU resets just before block 256 (number 0): ST starts over, takes the block for
    // a header and answers ACK C. The sender must stop, not stream the rest of the image
    // into the start of the flash.
    struct Restarts {
        st: St,
        frames: usize,
        at: usize,
    }
    impl Receiver for Restarts {
        fn frame(&mut self, f: &[u8]) -> Vec<u8> {
            self.frames += 1;
            if self.frames == self.at {
                self.st = St::default();
            }
            self.st.frame(f)
        }
        fn idle(&mut self) -> Vec<u8> {
            self.st.idle()
        }
        fn idle_ms(&self) -> u32 {
            1000
        }
        fn result(&self) -> Option<Vec<u8>> {
            self.st.result()
        }
    }
    let img = image(300 * 128);
    let opts = Options {
        block_size: 128,
        ..Options::default()
    };
    for at in [255, 256, 257] {
        let mut rx = Restarts {
            st: St::default(),
            frames: 0,
            at,
        };
        let r = run(&mut rx, &img, opts, |_| Fault::None);
        assert!(r.result.is_err(), "restart at frame {at}: {:?}", r.result);
        if at == 257 {
            assert_eq!(r.result, Err(Fail::Protocol));
        }
    }
}

#[test]
fn a_deferred_image_is_checked_once_before_its_eot() {
    let _trace = trace::Recording::new("ymodem-deferred", 6);
    let opts = Options {
        deferred: true,
        ..Options::default()
    };
    for len in [0, 1, 3000] {
        let img = image(len);
        for rx in [
            &mut St::default() as &mut dyn Receiver,
            &mut Spec::default(),
        ] {
            CHECKS.with(|c| c.set(0));
            // A lost ACK of the last block and a corrupted EOT: asked once all the same.
            let r = exact(rx, &img, opts, |i| match i {
                4 => Fault::LoseReply,
                5 => Fault::Corrupt,
                _ => Fault::None,
            });
            assert_eq!(r.result, Ok(()), "len {len}");
            assert_eq!(CHECKS.with(Cell::get), 1, "len {len}");
        }
    }
}

#[test]
fn an_image_that_fails_its_check_is_cancelled_instead_of_its_eot() {
    let _trace = trace::Recording::new("ymodem-deferred-check", 2);
    let opts = Options {
        deferred: true,
        ..Options::default()
    };
    let img = image(2500);
    CHECK_PASSES.with(|c| c.set(false));
    for rx in [
        &mut St::default() as &mut dyn Receiver,
        &mut Spec::default(),
    ] {
        let r = run(rx, &img, opts, |_| Fault::None);
        assert_eq!(r.result, Err(Fail::Source));
        assert_eq!(r.frames.last().unwrap()[..], CANCEL);
        assert!(r.frames.iter().all(|f| f[..] != [EOT]));
        assert_eq!(rx.result(), None);
    }
    CHECK_PASSES.with(|c| c.set(true));
}
