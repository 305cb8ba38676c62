//! Sessions with OPEN's SIGNED flag (src/native/signed.rs): the receiver commits a delta's
//! result (or a whole image) only if it is an MCUboot image signed by one of its keys; every
//! other result ends in ERROR SIGNATURE with nothing committed.

use super::super::delta::{DeltaOpen, Patcher, HEAD, SIGNED};
use super::super::frame::code;
use super::super::receiver::DeltaReceiver;
use super::super::signed::{Signed, SignedReceiver};
use super::*;
use crate::delta::tests::package_to;
use crate::image::tests::{image as signed_image, public};

/// The product's keys, as a bootloader compiles them in (the second signs).
fn keys() -> &'static [[u8; 32]] {
    std::vec![public(9), public(1)].leak()
}

impl Make for SignedReceiver<'static> {
    fn make() -> Self {
        let config = Config {
            window: WINDOW - 1,
            busy_ms: 50,
        };
        let part = Signed::new(Patcher::new(std::vec![0u8; 256].leak()), keys()).unwrap();
        SignedReceiver::pipelined_with(config, 200, part)
    }
}

type S = Signed<'static>;

/// An MCUboot image of `body` signed by key `seed` (None: unsigned).
fn container(body: &[u8], seed: Option<u8>) -> Vec<u8> {
    signed_image(body, 32, &[], seed)
}

/// A sender of `image` (`signed`: with the SIGNED flag), as a delta package against `base`
/// (None: whole); and what it sends.
fn sender(image: &[u8], base: Option<&[u8]>, signed: bool) -> (Sender, Vec<u8>) {
    let sent = base.map_or_else(|| image.to_vec(), |b| package_to(b, image));
    let opts = Options {
        require_signature: signed,
        ..Options::default()
    };
    let mut tx = Sender::new(sent.len() as u64, &sha(&sent), b"mcu", b"1.2.3", opts).unwrap();
    if base.is_some() {
        tx.set_delta(DeltaOpen::from_package(&sent[..HEAD]).unwrap());
    }
    (tx, sent)
}

/// Sends `target` (a delta against `base` in the application area, or whole) to a signed
/// receiver; returns the result and the receiver's ERROR code.
fn send(target: &[u8], base: Option<&[u8]>, signed: bool) -> (Option<Result<(), Fail>>, u8) {
    let app = base.unwrap_or(&[]).to_vec();
    let mut mem = Mem::new(64 * 1024, 256);
    let mut flash = mem.flash(1024, 4);
    flash.app = &app;
    let (mut tx, sent) = sender(target, base, signed);
    let r = Wire::<P, S>::new(&mut flash, 3, Faults::default()).run(&mut tx, &sent, &mut never);
    assert_no_wrong_commit(&mut flash);
    match r {
        Some(Ok(())) => assert_committed(&mut flash, target),
        _ => assert!(
            record::stored_image(&mut flash).unwrap().is_none(),
            "committed"
        ),
    }
    (r, tx.stats().error)
}

fn body(seed: u64) -> Vec<u8> {
    image(6000, seed)
}

#[test]
fn a_result_signed_by_a_product_key_commits() {
    let base = container(&body(1), Some(1));
    let target = container(&body(2), Some(1));
    assert_eq!(send(&target, Some(&base), true), (Some(Ok(())), 0));
    // A whole image too (the check is at every SIGNED commit).
    assert_eq!(send(&target, None, true), (Some(Ok(())), 0));
}

#[test]
fn every_result_not_signed_by_a_product_key_is_refused_and_not_committed() {
    let base = container(&body(1), Some(1));
    let good = container(&body(2), Some(1));
    let mut bad_signature = good.clone();
    let at = bad_signature.len() - 10; // inside the Ed25519 TLV, the area's last
    bad_signature[at] ^= 1;
    let mut changed = good.clone();
    changed[100] ^= 1; // the body, after signing
    let cases = [
        ("another key", container(&body(2), Some(3))),
        ("a corrupted signature TLV", bad_signature),
        ("unsigned", container(&body(2), None)),
        ("changed after signing", changed),
        ("not an MCUboot image", body(2)),
    ];
    for (what, target) in cases {
        let refused = (Some(Err(Fail::Rejected)), code::SIGNATURE);
        assert_eq!(send(&target, Some(&base), true), refused, "{what}, delta");
        assert_eq!(send(&target, None, true), refused, "{what}, whole");
        // Without the flag the receiver commits it as the plain delta receiver would.
        assert_eq!(
            send(&target, Some(&base), false),
            (Some(Ok(())), 0),
            "{what}"
        );
    }
}

#[test]
fn receivers_without_the_check_refuse_the_flag_before_anything_is_erased() {
    let base = container(&body(1), Some(1));
    let target = container(&body(2), Some(1));
    let package = package_to(&base, &target);
    let d = DeltaOpen::from_package(&package).unwrap();
    let open = delta::delta_open(&package, 1 | SIGNED, &d);
    for (answer, untouched) in [
        delta::open_answer(&mut DeltaReceiver::make(), &open, &base),
        delta::open_answer(&mut Pipelined::make(), &open, &base),
    ] {
        assert_eq!(answer, (kind::ERROR, code::FLAGS));
        assert!(untouched);
    }
    let (answer, _) = delta::open_answer(&mut SignedReceiver::make(), &open, &base);
    assert_eq!(answer.0, kind::ACCEPT);
}

#[test]
fn a_lost_done_is_answered_again_only_for_a_checked_slot() {
    // Committed by a session without the flag, an unsigned result: a SIGNED session of the
    // same target then hears ERROR SIGNATURE, not DONE.
    let base = container(&body(1), Some(1));
    let target = container(&body(2), None);
    let mut mem = Mem::new(64 * 1024, 256);
    let mut flash = mem.flash(1024, 4);
    flash.app = &base;
    let (mut plain, package) = sender(&target, Some(&base), false);
    let mut wire = Wire::<P, S>::new(&mut flash, 1, Faults::default());
    assert_eq!(wire.run(&mut plain, &package, &mut never), Some(Ok(())));
    wire.reset();
    let (mut tx, _) = sender(&target, Some(&base), true);
    assert_eq!(
        wire.run(&mut tx, &package, &mut never),
        Some(Err(Fail::Rejected))
    );
    assert_eq!(tx.stats().error, code::SIGNATURE);
}

#[test]
fn a_bootloader_gives_one_to_four_keys() {
    let five = [public(1); 5];
    for keys in [&five[..0], &five[..]] {
        let made = Signed::new(Patcher::new(&mut []), keys);
        assert!(
            matches!(made, Err(crate::Error::Range)),
            "{} keys",
            keys.len()
        );
    }
    assert!(Signed::new(Patcher::new(&mut []), &five[..4]).is_ok());
}
