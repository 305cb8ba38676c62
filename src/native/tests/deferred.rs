//! Deferred images (protocol version 2, `flags::DIGEST_AT_COMMIT`): a stream's image, named in OPEN
//! by the sender's identity, its SHA-256 given by the driver (`Action::Digest`) once every
//! byte is acknowledged and carried by COMMIT; and how either side meets the other version.

use super::*;
use crate::native::frame::flags;

const KEY: [u8; 32] = [0x5A; 32];

fn deferred(data: &[u8]) -> Sender {
    let opts = Options {
        deferred: true,
        ..Options::default()
    };
    sender_with(data.len(), KEY, opts)
}

/// The record names the image by its key and holds the SHA-256 COMMIT carried.
fn assert_committed_deferred(flash: &mut RamFlash, data: &[u8]) {
    assert_eq!(flash.violations, 0);
    let id = record::stored_image(flash).unwrap().expect("committed");
    let want = ImageId::with_flags(
        data.len() as u32,
        flags::DIGEST_AT_COMMIT,
        KEY,
        b"mcu",
        b"1.2.3",
    );
    assert!(id.names(&want.unwrap()), "{id:?}");
    assert_eq!(id.sha256, sha(data));
    assert!(flash.slot[..data.len()] == *data);
}

#[test]
fn a_deferred_image_commits_with_the_sha256_of_commit() {
    let _trace = trace::Recording::new("native-deferred", 20);
    for &size in &[1usize, 1024, 1025, 10_000] {
        for faults in [
            Faults::default(),
            Faults {
                drop: 300,
                flip: 300,
                reorder: 0,
            },
        ] {
            let data = image(size, size as u64 + 3);
            let mut mem = Mem::new(16 * 1024, 256);
            let mut flash = mem.flash(1024, 8);
            let mut tx = deferred(&data);
            let r = Wire::<0>::new(&mut flash, size as u64, faults).run(&mut tx, &data, &mut never);
            assert_eq!(r, Some(Ok(())), "size {size}");
            assert_committed_deferred(&mut flash, &data);
            // Sent again, it is found committed by its key: nothing to send.
            let mut again = deferred(&data);
            let r =
                Wire::<P>::new(&mut flash, 1, Faults::default()).run(&mut again, &data, &mut never);
            assert_eq!(r, Some(Ok(())));
            assert_eq!(again.stats().frames, 0);
        }
    }
}

#[test]
fn power_cuts_in_a_deferred_transfer_never_commit_a_wrong_image() {
    let data = image(6_000, 31);
    let mut mem = Mem::new(8 * 1024, 256);
    let mut flash = mem.flash(1024, 8);
    Wire::<0>::new(&mut flash, 0, Faults::default()).run(&mut deferred(&data), &data, &mut never);
    let total = flash.ops;
    for cut in 0..total {
        let mut mem = Mem::new(8 * 1024, 256);
        let mut flash = mem.flash(1024, 8);
        flash.cut_after = Some(cut);
        let mut tx = deferred(&data);
        let mut wire = Wire::<P>::new(&mut flash, cut.into(), Faults::default());
        assert_eq!(
            wire.run(&mut tx, &data, &mut never),
            Some(Ok(())),
            "cut {cut}"
        );
        assert_eq!(wire.resets, 1, "cut {cut}");
        assert_committed_deferred(&mut flash, &data);
    }
}

#[test]
fn an_image_that_fails_its_final_check_is_aborted_and_kept_for_a_resume() {
    let _trace = trace::Recording::new("native-deferred-check", 4);
    let data = image(9_000, 32);
    let mut mem = Mem::new(16 * 1024, 256);
    let mut flash = mem.flash(1024, 8);
    let mut wire = Wire::<0>::new(&mut flash, 7, Faults::default());
    wire.digest = Some(None);
    let mut tx = deferred(&data);
    assert_eq!(
        wire.run(&mut tx, &data, &mut never),
        Some(Err(Fail::Source))
    );
    assert!(record::stored_image(wire.flash).unwrap().is_none());
    // ABORT reached the receiver (it answers DATA with NOT_OPEN now); its record stands.
    let mut tx = deferred(&data);
    wire.digest = None;
    assert_eq!(wire.run(&mut tx, &data, &mut never), Some(Ok(())));
    assert_eq!((tx.stats().resumed_from, tx.stats().frames), (9_000, 0));
    assert_committed_deferred(&mut flash, &data);
}

#[test]
fn a_sha256_that_is_not_the_images_is_refused_and_forgotten() {
    let data = image(5_000, 33);
    let mut mem = Mem::new(8 * 1024, 256);
    let mut flash = mem.flash(1024, 8);
    let mut wire = Wire::<P>::new(&mut flash, 8, Faults::default());
    wire.digest = Some(Some(sha(&data[1..])));
    let mut tx = deferred(&data);
    assert_eq!(
        wire.run(&mut tx, &data, &mut never),
        Some(Err(Fail::Rejected))
    );
    assert_eq!(tx.stats().error, crate::native::frame::code::DIGEST);
    assert!(record::stored_image(wire.flash).unwrap().is_none());
    wire.digest = None;
    let mut tx = deferred(&data);
    assert_eq!(wire.run(&mut tx, &data, &mut never), Some(Ok(())));
    assert_eq!(tx.stats().resumed_from, 0);
}

#[test]
fn a_key_is_no_sha256_the_two_kinds_of_image_never_resume_each_other() {
    let data = image(8_000, 34);
    let mut mem = Mem::new(16 * 1024, 256);
    let mut flash = mem.flash(1024, 8);
    let mut wire = Wire::<0>::new(&mut flash, 9, Faults::default());
    // A plain image whose SHA-256 happens to be the key: half sent.
    let mut plain = sender_claiming(data.len(), KEY);
    assert_eq!(
        wire.run(&mut plain, &data, &mut |tx, _| tx.stats().bytes >= 4_000),
        None
    );
    wire.fwd.clear();
    let mut tx = deferred(&data);
    assert_eq!(wire.run(&mut tx, &data, &mut never), Some(Ok(())));
    assert_eq!(tx.stats().resumed_from, 0);
    assert_committed_deferred(&mut flash, &data);
}

fn open_v(version: u8, flags: u8, data: &[u8]) -> Vec<u8> {
    let mut p = vec![version, flags];
    p.extend_from_slice(&(data.len() as u32).to_le_bytes());
    p.extend_from_slice(&KEY);
    p.extend_from_slice(&[0, 0]);
    sealed(kind::OPEN, &p)
}

/// A fresh receiver's last answer to `bytes`: its type and its first payload byte.
fn last_answer(bytes: &[u8]) -> (u8, u8) {
    let mut mem = Mem::new(8 * 1024, 256);
    let mut flash = mem.flash(1024, 8);
    let mut rx = receiver();
    let mut out = [0u8; REPLY_MAX];
    let (mut at, mut last) = (0, (0, 0));
    loop {
        let (used, len) = rx.receive(&mut flash, &bytes[at..], &mut out).unwrap();
        let again = rx.again(used, bytes.len() - at, len);
        at += used;
        if len > 0 {
            last = (out[2], out[6]);
        }
        if !again {
            return last;
        }
    }
}

#[test]
fn the_receiver_refuses_what_it_does_not_know_at_open() {
    use crate::native::frame::code;
    let data = image(2_000, 35);
    // Another version, or a flag it does not know: refused at OPEN, so that a sender learns
    // at once.
    for (version, flags, why) in [(2, 0, code::VERSION), (1, 0x80, code::FLAGS)] {
        let got = last_answer(&open_v(version, flags, &data));
        assert_eq!(got, (kind::ERROR, why), "version {version} flags {flags}");
    }
    assert_eq!(
        last_answer(&open_v(1, flags::DIGEST_AT_COMMIT, &data)),
        (kind::ACCEPT, 1)
    );
    // A deferred image's COMMIT without its SHA-256 is checked against its key, which no
    // image reads back as (DIGEST); a plain image's COMMIT is checked against OPEN's SHA-256,
    // whatever it carries.
    let body = [data_frame(&data, 0, 1024), data_frame(&data, 1024, 976)].concat();
    let deferred_commit = [open_v(1, flags::DIGEST_AT_COMMIT, &data), body.clone()].concat();
    let without = [deferred_commit.clone(), sealed(kind::COMMIT, &[])].concat();
    assert_eq!(last_answer(&without), (kind::ERROR, code::DIGEST));
    let with = [deferred_commit, sealed(kind::COMMIT, &sha(&data))].concat();
    assert_eq!(last_answer(&with).0, kind::DONE);
    let plain = [open_frame(&data), body, sealed(kind::COMMIT, &[0; 32])].concat();
    assert_eq!(last_answer(&plain).0, kind::DONE);
}

#[test]
fn a_receiver_without_the_flag_fails_a_deferred_sender_at_open() {
    use crate::native::frame::code;
    // It answers OPEN with ERROR FLAGS: the sender stops there (rejected), and says so.
    let data = image(3_000, 36);
    let mut tx = deferred(&data);
    let mut frame = vec![0u8; tx.frame_size()];
    let Action::Send(_) = tx.poll(0, &mut frame) else {
        panic!("no OPEN")
    };
    assert_eq!((frame[6], frame[7]), (1, flags::DIGEST_AT_COMMIT));
    tx.receive(1, &sealed(kind::ERROR, &[code::FLAGS, 0, 0, 0, 0]));
    let mut action = tx.poll(2, &mut frame);
    if let Action::Send(_) = action {
        assert_eq!(frame[2], kind::ABORT);
        action = tx.poll(3, &mut frame);
    }
    assert_eq!(action, Action::Failed(Fail::Rejected));
    assert_eq!(tx.stats().error, code::FLAGS);
}
