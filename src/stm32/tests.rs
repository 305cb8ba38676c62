//! The sender's frames and decisions against a scripted ROM (one answer per frame). The
//! simulator's `stm32-rom` personality tests it over a paced line with faults
//! (tools/qsota-mcu/src/stm32_rom_tests.rs).

use super::frame::{xor, ACK, EXT_ERASE, GET, GET_ID, GO, NACK, READ, SYNC, WRITE};
use super::*;
use crate::trace;
use crate::transfer::Sender as _;

const F4_FLASH: usize = 1 << 20;

/// Answers frames as an STM32F4's ROM would (flash from 0x08000000); `nack` lists the
/// commands it refuses (read protection).
struct Rom {
    flash: Vec<u8>,
    pending: Option<(u8, usize)>,
    nack: &'static [u8],
    log: Vec<Vec<u8>>,
    /// Programs the block written at this flash offset with one bit flipped in two bytes,
    /// as two line flips its XOR checksum cannot see would.
    blind_flip: Option<usize>,
    /// NACKs every other Read Memory address, as a line that damages them would.
    flaky_reads: bool,
    reads: u32,
    /// NACKs the first data frame of the block at this flash offset, as a damaged one.
    nack_write: Option<usize>,
}

impl Rom {
    fn new(nack: &'static [u8]) -> Rom {
        Rom {
            flash: vec![0x11; F4_FLASH],
            pending: None,
            nack,
            log: Vec::new(),
            blind_flip: None,
            flaky_reads: false,
            reads: 0,
            nack_write: None,
        }
    }

    fn answer(&mut self, f: &[u8]) -> Vec<u8> {
        self.log.push(f.to_vec());
        if let Some((cmd, off)) = self.pending.take() {
            if cmd == WRITE {
                let n = usize::from(f[0]) + 1;
                assert_eq!(xor(&f[..n + 2]), 0, "checksum");
                if self.nack_write == Some(off) {
                    self.nack_write = None;
                    return vec![NACK];
                }
                self.flash[off..off + n].copy_from_slice(&f[1..1 + n]);
                if self.blind_flip == Some(off) {
                    self.flash[off] ^= 1;
                    self.flash[off + 1] ^= 1;
                }
                return vec![ACK];
            }
            let n = usize::from(f[0]) + 1;
            assert_eq!(f[1], !f[0]);
            let mut a = vec![ACK];
            a.extend_from_slice(&self.flash[off..off + n]);
            return a;
        }
        if self.nack.contains(&f[0]) {
            return vec![NACK];
        }
        match f[0] {
            SYNC => vec![ACK],
            GET => vec![ACK, 7, 0x31, 0, 1, 2, 0x11, 0x21, 0x31, 0x44, ACK],
            GET_ID => vec![ACK, 1, 0x04, 0x13, ACK],
            EXT_ERASE => {
                let page = usize::from(u16::from_be_bytes([f[4], f[5]]));
                assert_eq!(xor(&f[2..]), 0);
                let (start, end) = (0..)
                    .map(|o| Layout::Sectors(16 << 10).page_of(o * 1024))
                    .find(|&(p, _)| p as usize == page)
                    .map(|(_, end)| {
                        let size = if page < 4 {
                            16 << 10
                        } else if page == 4 {
                            64 << 10
                        } else {
                            128 << 10
                        };
                        (end as usize - size, end as usize)
                    })
                    .unwrap();
                self.flash[start..end].fill(0xFF);
                vec![ACK, ACK]
            }
            READ if self.flaky_reads && {
                self.reads += 1;
                self.reads.is_multiple_of(2)
            } =>
            {
                vec![ACK, NACK]
            }
            cmd => {
                let addr = u32::from_be_bytes([f[2], f[3], f[4], f[5]]) as usize;
                assert_eq!(xor(&f[2..7]), 0);
                self.pending = (cmd != GO).then_some((cmd, addr - FLASH_BASE as usize));
                vec![ACK, ACK]
            }
        }
    }
}

/// Drives `s` against `rom` (answers 1 ms after each frame); the outcome.
fn run(s: &mut Sender, rom: &mut Rom, image: &[u8]) -> Action {
    run_late(s, rom, image, 1)
}

/// Drives `s` against `rom`, whose answers arrive `latency` ms after each frame (a
/// USB-serial adapter's latency timer), the sender polled meanwhile; the outcome. An answer
/// the sender knows the length of comes in two halves 1 ms apart: between them it must wait
/// for exactly the second half.
fn run_late(s: &mut Sender, rom: &mut Rom, image: &[u8], latency: u32) -> Action {
    let mut frame = [0u8; FRAME_SIZE];
    let mut now = 0u32;
    // Answers on their way: when each arrives, and whether the sender knew its length.
    let mut coming: std::collections::VecDeque<(u32, Vec<u8>, bool)> = Default::default();
    trace_begin(s, image);
    for _ in 0..100_000 {
        let action = step(s, now, &mut frame, image);
        match action {
            Action::Send(n) => {
                let reply = rom.answer(&frame[..n]);
                let known = (1..=reply.len()).contains(&s.expects());
                coming.push_back((now + latency, reply, known));
            }
            Action::Read { .. } => {}
            Action::Wait { until_ms, .. } => match coming.front() {
                Some(&(at, _, _)) if at <= until_ms => {
                    let (at, reply, known) = coming.pop_front().unwrap();
                    now = now.max(at);
                    deliver(s, &mut now, &mut frame, image, &reply, known);
                }
                _ => now = until_ms,
            },
            end => {
                trace_end(s);
                return end;
            }
        }
    }
    panic!("no end");
}

/// Gives `reply` to `s` at `now`: in two halves 1 ms apart if the sender knew its length,
/// checking that in between it waits for exactly the rest.
fn deliver(
    s: &mut Sender,
    now: &mut u32,
    frame: &mut [u8],
    image: &[u8],
    reply: &[u8],
    known: bool,
) {
    let (head, rest) = reply.split_at(if known { reply.len() / 2 } else { 0 });
    if !head.is_empty() {
        trace::receive(*now, head);
        s.receive(*now, head);
        let expects = loop {
            match step(s, *now, frame, image) {
                Action::Read { .. } => {}
                Action::Wait { expects, .. } => break expects,
                other => panic!("{other:?} after {head:02x?} of {reply:02x?}"),
            }
        };
        assert_eq!(expects, rest.len(), "after {head:02x?} of {reply:02x?}");
        *now += 1;
    }
    trace::receive(*now, rest);
    s.receive(*now, rest);
}

/// One poll of `s`, traced; a Read is served from `image` at once.
fn step(s: &mut Sender, now: u32, frame: &mut [u8], image: &[u8]) -> Action {
    let action = s.poll(now, frame);
    let error = match action {
        Action::Failed(f) => f.name(),
        _ => "",
    };
    trace::poll(now, action, frame, s.block(), error);
    if let Action::Read { offset, at, len } = action {
        let o = offset as usize;
        frame[at..at + len].copy_from_slice(&image[o..o + len]);
        trace::provide(len);
        s.provide(len);
    }
    action
}

/// `run`'s session as `qsota.Stm32Sender(size, **options)`, for trace replay.
fn trace_begin(s: &Sender, image: &[u8]) {
    let o = &s.opts;
    let kwargs = format!(
        "{{\"address\": {}, \"go\": {}, \"flash_size\": {}, \"page_size\": {}, \
         \"timeout_ms\": {}, \"erase_timeout_ms\": {}, \"start_timeout_ms\": {}, \
         \"retries\": {}, \"baud\": {}}}",
        o.address,
        o.go,
        o.flash_size,
        o.page_size,
        o.timeout_ms,
        o.erase_timeout_ms,
        o.start_timeout_ms,
        o.retries,
        o.baud
    );
    trace::begin("stm32", &format!("[{}]", s.size), &kwargs, FRAME_SIZE);
    trace::source(image);
}

fn trace_end(s: &Sender) {
    let st = s.stats();
    trace::end(&format!(
        "{{\"bytes\": {}, \"verified\": {}, \"frames\": {}, \"retries\": {}, \
         \"line_bytes\": {}, \"pid\": {}, \"version\": {}, \"erase_cmd\": {}, \
         \"pages\": {}, \"erase_ms\": {}, \"write_ms\": {}, \"verify_ms\": {}, \
         \"went\": {}, \"reason\": \"{}\"}}",
        st.bytes,
        st.verified,
        st.frames,
        st.retries,
        st.line_bytes,
        st.pid,
        st.version,
        st.erase_cmd,
        st.pages,
        st.erase_ms,
        st.write_ms,
        st.verify_ms,
        st.went,
        st.reason.map_or("", |r| r.text())
    ));
}

#[test]
fn sessions_of_every_size_class_end_with_the_image_in_flash() {
    let _trace = trace::Recording::new("stm32-sizes", 20);
    for len in [1, 255, 256, 257, 4096, 4097, 16 * 1024 + 300] {
        let img = image(len);
        let mut rom = Rom::new(&[]);
        let mut s = Sender::new(len as u32, Options::default()).unwrap();
        assert_eq!(run(&mut s, &mut rom, &img), Action::Done, "size {len}");
        assert_eq!(&rom.flash[..len], &img[..], "size {len}");
        assert_eq!(s.stats().verified, len as u64);
    }
    // A NACKed block write with answers 1 to 50 ms late: recovered, the image exact.
    for latency in [1, 20, 50] {
        let img = image(1000);
        let mut rom = Rom::new(&[]);
        rom.nack_write = Some(512);
        let mut s = Sender::new(img.len() as u32, Options::default()).unwrap();
        let end = run_late(&mut s, &mut rom, &img, latency);
        assert_eq!(end, Action::Done, "latency {latency}: {:?}", s.stats());
        assert_eq!(&rom.flash[..img.len()], &img[..]);
        assert_eq!(s.stats().retries, 1);
        assert_eq!(u32::from(s.latency), latency, "the latest answer seen");
    }
}

#[test]
fn the_waits_of_a_recovery_grow_with_the_answers_latency() {
    // A quiet line for 20 ms after the last byte and a probe's answer within 20 ms, each
    // plus the latest answer seen; a NACK that soon after the probes keeps the reason.
    let mut s = Sender::new(100, Options::default()).unwrap();
    let mut frame = [0u8; FRAME_SIZE];
    assert_eq!(s.poll(0, &mut frame), Action::Send(1));
    s.receive(45, &[ACK]); // autobaud answered 45 ms late
    assert_eq!(s.latency, 45);
    assert_eq!(s.poll(45, &mut frame), Action::Send(2)); // Get
    s.receive(46, &[NACK]); // refused at once: an error, then quiet
    assert_eq!(s.poll(46, &mut frame), Action::wait(46 + 20 + 45));
    assert_eq!(s.poll(111, &mut frame), Action::Send(1)); // the probe
    assert_eq!(s.poll(111, &mut frame), Action::wait(111 + 20 + 45));
}

fn image(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + i / 253) as u8).collect()
}

#[test]
fn bad_arguments_are_refused() {
    let d = Options::default();
    assert_eq!(Sender::new(0, d).err(), Some(Error::Range));
    for bad in [
        Options {
            address: FLASH_BASE + 4,
            ..d
        },
        Options {
            address: 0x0700_0000,
            ..d
        },
        Options { timeout_ms: 0, ..d },
        Options {
            erase_timeout_ms: 1 << 31,
            ..d
        },
    ] {
        assert_eq!(Sender::new(1, bad).err(), Some(Error::Range), "{bad:?}");
    }
}

#[test]
fn a_session_erases_only_what_the_image_covers_writes_verifies_and_goes() {
    let img = image(16 * 1024 + 300);
    let mut rom = Rom::new(&[]);
    let mut s = Sender::new(img.len() as u32, Options::default()).unwrap();
    assert_eq!(run(&mut s, &mut rom, &img), Action::Done);
    assert_eq!(&rom.flash[..img.len()], &img[..]);
    assert!(rom.flash[img.len()..img.len() + 4]
        .iter()
        .all(|&b| b == 0xFF));
    // Sector 2 onwards untouched.
    assert_eq!(rom.flash[32 << 10], 0x11);
    let log = &rom.log;
    assert_eq!(log[0], [SYNC]);
    assert_eq!(log[1], [GET, 0xFF]);
    assert_eq!(log[2], [GET_ID, 0xFD]);
    assert_eq!(log[3], [0x44, 0xBB, 0, 0, 0, 0, 0]);
    assert_eq!(log[4], [0x44, 0xBB, 0, 0, 0, 1, 1]);
    assert_eq!(log[5], [WRITE, 0xCE, 0x08, 0, 0, 0, 0x08]);
    assert_eq!((log[6].len(), log[6][0]), (258, 0xFF));
    assert_eq!(log[7], [WRITE, 0xCE, 0x08, 0, 1, 0, 0x09]);
    // The tail: 300 - 256 = 44 bytes, N = 43.
    let blocks = img.len().div_ceil(256);
    let tail = &log[5 + 2 * blocks - 1];
    assert_eq!((tail.len(), tail[0]), (46, 43));
    let reads = &log[5 + 2 * blocks..];
    assert_eq!(reads[0], [READ, 0xEE, 0x08, 0, 0, 0, 0x08]);
    assert_eq!(reads[1], [0xFF, 0x00]);
    assert_eq!(reads[2 * blocks - 1], [43, !43]);
    assert_eq!(reads[2 * blocks], [GO, 0xDE, 0x08, 0, 0, 0, 0x08]);
    let st = s.stats();
    assert_eq!(
        (st.pid, st.version, st.erase_cmd, st.pages),
        (0x413, 0x31, 0x44, 2)
    );
    assert_eq!(
        (st.bytes, st.verified, st.retries),
        (img.len() as u64, img.len() as u64, 0)
    );
    assert!(st.went);
}

#[test]
fn a_block_that_reads_back_different_fails_the_update_before_go() {
    let _trace = trace::Recording::new("stm32-read-back", 5);
    let img = image(1000);
    for flaky_reads in [false, true] {
        let mut rom = Rom::new(&[]);
        rom.blind_flip = Some(256);
        rom.flaky_reads = flaky_reads;
        let mut s = Sender::new(img.len() as u32, Options::default()).unwrap();
        assert_eq!(run(&mut s, &mut rom, &img), Action::Failed(Fail::Rejected));
        // Whatever the NACKs between the re-reads, the failure names the read-back.
        assert_eq!(s.stats().reason, Some(Reason::Mismatch), "{flaky_reads}");
        assert_eq!((s.block(), s.stats().verified), (1, 256));
        assert!(!s.stats().went && rom.log.iter().all(|f| f[0] != GO));
    }
}

#[test]
fn silence_is_a_timeout_with_the_autobaud_hint() {
    let mut s = Sender::new(10, Options::default()).unwrap();
    let mut frame = [0u8; FRAME_SIZE];
    let mut now = 0;
    let end = loop {
        match s.poll(now, &mut frame) {
            Action::Send(n) => assert_eq!(&frame[..n], [SYNC]),
            Action::Wait { until_ms, .. } => now = until_ms,
            end => break end,
        }
    };
    assert_eq!(end, Action::Failed(Fail::Timeout));
    assert_eq!(now, 5000);
    assert_eq!(s.stats().reason, Some(Reason::NoAnswer));
    assert_eq!(s.stats().frames, 50);
}

#[test]
fn read_protection_fails_before_any_erase() {
    let _trace = trace::Recording::new("stm32-read-protected", 5);
    // Late answers too: a NACK that may be a probe's keeps the first one's reason.
    for latency in [1, 10, 50] {
        let mut rom = Rom::new(&[0x44]);
        let mut s = Sender::new(
            100,
            Options {
                retries: 2,
                ..Options::default()
            },
        )
        .unwrap();
        assert_eq!(
            run_late(&mut s, &mut rom, &image(100), latency),
            Action::Failed(Fail::Rejected)
        );
        assert_eq!(s.stats().reason, Some(Reason::ReadProtected), "{latency}");
        assert_eq!(s.stats().pages, 0);
        assert!(rom.flash.iter().all(|&b| b == 0x11));
    }
}

#[test]
fn a_short_frame_buffer_or_source_fails_cleanly() {
    let mut s = Sender::new(10, Options::default()).unwrap();
    assert_eq!(s.poll(0, &mut [0u8; 16]), Action::Failed(Fail::Usage));
    // The source ends early.
    let mut rom = Rom::new(&[]);
    let mut s = Sender::new(600, Options::default()).unwrap();
    let mut frame = [0u8; FRAME_SIZE];
    let mut now = 0;
    let end = loop {
        match s.poll(now, &mut frame) {
            Action::Send(n) => {
                let r = rom.answer(&frame[..n]);
                now += 1;
                s.receive(now, &r);
            }
            Action::Read { len, .. } => s.provide(len - 1),
            Action::Wait { until_ms, .. } => now = until_ms,
            end => break end,
        }
    };
    assert_eq!(end, Action::Failed(Fail::Source));
}

#[test]
fn reasons_have_texts() {
    for (i, r) in Reason::ALL.iter().enumerate() {
        assert_eq!(*r as usize, i);
        assert_eq!(r.text().is_empty(), *r == Reason::None);
    }
}

#[test]
fn a_cancel_stops_between_frames_and_sends_nothing_more() {
    let img = image(4096);
    let mut rom = Rom::new(&[]);
    let mut s = Sender::new(img.len() as u32, Options::default()).unwrap();
    let mut frame = [0u8; FRAME_SIZE];
    let mut now = 0;
    // Up to Get ID's answer: the PID is known, nothing is erased yet.
    while s.stats().pid == 0 {
        match s.poll(now, &mut frame) {
            Action::Send(n) => {
                let reply = rom.answer(&frame[..n]);
                now += 1;
                s.receive(now, &reply);
            }
            a => panic!("{a:?}"),
        }
    }
    let sent = rom.log.len();
    s.cancel();
    assert_eq!(s.poll(now, &mut frame), Action::Failed(Fail::Cancelled));
    assert_eq!(rom.log.len(), sent);
    assert_eq!(s.stats().pid, 0x413);
    assert!(rom.flash.iter().all(|&b| b == 0x11), "nothing erased");
    // After the end, a cancel changes nothing.
    let mut s = Sender::new(img.len() as u32, Options::default()).unwrap();
    assert_eq!(run(&mut s, &mut Rom::new(&[]), &img), Action::Done);
    s.cancel();
    assert_eq!(s.poll(now, &mut frame), Action::Done);
}
