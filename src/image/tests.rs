//! Images built here the way imgtool builds them (tests/test_image.py checks imgtool's own).

use super::*;
use crate::verify::Verifier;
use ed25519_compact::{KeyPair, Seed};
use std::vec::Vec;

fn keypair(seed: u8) -> KeyPair {
    KeyPair::from_seed(Seed::new([seed; 32]))
}

fn public(seed: u8) -> [u8; 32] {
    *keypair(seed).pk
}

fn tlv(kind: u16, value: &[u8]) -> Vec<u8> {
    let mut t = kind.to_le_bytes().to_vec();
    t.extend((value.len() as u16).to_le_bytes());
    t.extend(value);
    t
}

fn area(magic: u16, entries: &[Vec<u8>]) -> Vec<u8> {
    let body: Vec<u8> = entries.concat();
    let mut a = magic.to_le_bytes().to_vec();
    a.extend(((body.len() + 4) as u16).to_le_bytes());
    a.extend(body);
    a
}

/// An image of `body` signed by key `seed` (None: unsigned), with `protected` TLVs.
fn image(body: &[u8], hdr_size: u16, protected: &[Vec<u8>], seed: Option<u8>) -> Vec<u8> {
    let prot = if protected.is_empty() {
        Vec::new()
    } else {
        area(0x6908, protected)
    };
    let mut out = Vec::new();
    out.extend(MAGIC.to_le_bytes());
    out.extend(0x0800_8000u32.to_le_bytes());
    out.extend(hdr_size.to_le_bytes());
    out.extend((prot.len() as u16).to_le_bytes());
    out.extend((body.len() as u32).to_le_bytes());
    out.extend(0u32.to_le_bytes());
    out.extend([1, 2, 3, 0, 4, 0, 0, 0, 0, 0, 0, 0]);
    out.resize(usize::from(hdr_size), 0);
    out.extend(body);
    out.extend(&prot);
    let hash: [u8; 32] = Sha256::digest(&out).into();
    let mut entries = vec![tlv(TLV_SHA256, &hash)];
    if let Some(seed) = seed {
        let kp = keypair(seed);
        entries.push(tlv(TLV_KEYHASH, &key_hash(&kp.pk)));
        entries.push(tlv(TLV_ED25519, &*kp.sk.sign(hash, None)));
    }
    out.extend(area(0x6907, &entries));
    out
}

fn keys(seeds: &[u8]) -> Vec<u8> {
    seeds.iter().flat_map(|&s| public(s)).collect()
}

/// Runs `data` through a checker in pieces of `piece` bytes; also checks that the
/// Verifier's SHA-256 is the file's, and the body's SHA-256 the body's once it passed.
fn run(data: &[u8], trusted: &[u8], piece: usize) -> Result<u8, Problem> {
    let mut s = SignedImage::new(&keys(trusted)).unwrap();
    let mut sha = Sha256::new();
    for chunk in data.chunks(piece) {
        s.update(&mut sha, chunk);
    }
    assert_eq!(sha.finalize()[..], Sha256::digest(data)[..]);
    let body = s
        .header()
        .and_then(|h| data.get(usize::from(h.hdr_size)..h.body_end() as usize));
    let want = body.map(|b| <[u8; 32]>::from(Sha256::digest(b)));
    assert_eq!(s.body_sha256(), want, "piece {piece}");
    s.check()
}

fn fault(data: &[u8], trusted: &[u8]) -> Fault {
    run(data, trusted, 1000).unwrap_err().fault
}

fn body() -> Vec<u8> {
    (0..3000u32).map(|i| (i * 7 + i / 256) as u8).collect()
}

#[test]
fn signed_images_pass_in_any_pieces() {
    let counter = tlv(0x50, &7u32.to_le_bytes());
    for img in [
        image(&body(), 32, &[], Some(1)),
        image(&body(), 0x200, std::slice::from_ref(&counter), Some(1)),
        image(&[], 32, &[counter], Some(1)),
    ] {
        for piece in [1, 2, 3, 31, 32, 33, 64, 4096, img.len()] {
            assert_eq!(run(&img, &[1], piece), Ok(0), "piece {piece}");
        }
        assert_eq!(run(&img, &[5, 6, 1], 100), Ok(2));
    }
}

#[test]
fn header_fields() {
    let img = image(&body(), 64, &[], Some(1));
    let mut s = SignedImage::new(&keys(&[1])).unwrap();
    s.update(&mut Sha256::new(), &img[..40]);
    let h = s.header().unwrap();
    assert_eq!(
        (h.load_addr, h.hdr_size, h.img_size, h.version),
        (0x0800_8000, 64, 3000, (1, 2, 3, 4))
    );
}

#[test]
fn tampering_is_named() {
    let img = image(&body(), 32, &[], Some(1));
    let mut bad = img.clone();
    bad[100] ^= 1;
    assert_eq!(fault(&bad, &[1]), Fault::HashMismatch);
    let tlvs = 32 + 3000;
    let mut bad = img.clone();
    bad[tlvs + 8] ^= 1; // in the hash TLV's value
    assert_eq!(fault(&bad, &[1]), Fault::HashMismatch);
    let mut bad = img.clone();
    bad[img.len() - 1] ^= 1; // in the signature
    assert_eq!(fault(&bad, &[1]), Fault::SignatureBad);
    let mut bad = img.clone();
    bad[tlvs + 4 + 36 + 4] ^= 1; // in the key hash
    assert_eq!(fault(&bad, &[1]), Fault::KeyUnknown);
    let mut bad = img.clone();
    bad[2] ^= 1;
    assert_eq!(fault(&bad, &[1]), Fault::Magic);
    let mut bad = img.clone();
    bad[tlvs] ^= 1;
    assert_eq!(fault(&bad, &[1]), Fault::TlvMagic);
    let mut bad = img.clone();
    bad[tlvs + 6] = 31; // the hash TLV's length
    assert_eq!(fault(&bad, &[1]), Fault::TlvLength);
    let mut bad = img.clone();
    bad[tlvs + 2] -= 1; // the area's total: the signature runs past it
    assert_eq!(fault(&bad, &[1]), Fault::TlvOverrun);
    let mut bad = img.clone();
    bad[8] = 16; // ih_hdr_size
    assert_eq!(fault(&bad, &[1]), Fault::HeaderSize);
    let mut bad = img.clone();
    bad[16] = 4; // ENCRYPTED_AES128
    assert_eq!(fault(&bad, &[1]), Fault::Encrypted);
}

#[test]
fn protected_area_is_hashed_and_sized() {
    let counter = tlv(0x50, &7u32.to_le_bytes());
    let img = image(&body(), 32, &[counter], Some(1));
    let prot = 32 + 3000;
    let mut bad = img.clone();
    bad[prot + 8] ^= 1; // the counter's value
    assert_eq!(fault(&bad, &[1]), Fault::HashMismatch);
    let mut bad = img.clone();
    bad[10] += 4; // ih_protect_tlv_size
    assert_eq!(fault(&bad, &[1]), Fault::ProtectedSize);
    let mut bad = img.clone();
    bad[prot] = 0x07; // a plain area where the protected one belongs
    assert_eq!(fault(&bad, &[1]), Fault::TlvMagic);
}

#[test]
fn keys_and_signatures() {
    let img = image(&body(), 32, &[], Some(1));
    assert_eq!(fault(&img, &[2]), Fault::KeyUnknown);
    assert_eq!(
        fault(&image(&body(), 32, &[], None), &[1]),
        Fault::KeyMissing
    );
    let p = run(&img, &[2], 100).unwrap_err();
    assert_eq!(
        p.a,
        u64::from(u32::from_be_bytes(
            key_hash(&public(1))[..4].try_into().unwrap()
        ))
    );
    // A key hash naming our key, followed by no signature.
    let mut short = img.clone();
    short.truncate(img.len() - 68);
    short[32 + 3000 + 2..][..2].copy_from_slice(&(4u16 + 36 + 36).to_le_bytes());
    assert_eq!(fault(&short, &[1]), Fault::SignatureMissing);
    // Another key's signature behind our key's hash.
    let mut forged = img.clone();
    let hash = &img[32 + 3000 + 8..][..32];
    let sig = keypair(2).sk.sign(hash, None);
    let n = forged.len();
    forged[n - 64..].copy_from_slice(&*sig);
    assert_eq!(
        run(&forged, &[1, 2], 100).unwrap_err(),
        Problem {
            fault: Fault::SignatureBad,
            a: 0,
            b: 0
        }
    );
}

#[test]
fn truncation_and_trailing_data() {
    let img = image(&body(), 32, &[], Some(1));
    let cut = |n: usize| run(&img[..n], &[1], 50).unwrap_err();
    assert_eq!((cut(0).fault, cut(0).a), (Fault::TruncatedHeader, 0));
    assert_eq!((cut(31).fault, cut(31).a), (Fault::TruncatedHeader, 31));
    assert_eq!(
        (cut(100).fault, cut(100).a, cut(100).b),
        (Fault::TruncatedBody, 68, 3000)
    );
    assert_eq!((cut(3032).fault, cut(3032).a), (Fault::TruncatedTlvs, 0));
    assert_eq!((cut(3040).fault, cut(3040).a), (Fault::TruncatedTlvs, 8));
    assert_eq!(cut(img.len() - 1).fault, Fault::TruncatedTlvs);
    let mut long = img.clone();
    long.extend([0xff; 5]);
    assert_eq!(
        run(&long, &[1], 7).unwrap_err(),
        Problem {
            fault: Fault::Trailing,
            a: 5,
            b: 0
        }
    );
}

#[test]
fn key_list_bounds() {
    assert!(SignedImage::new(&[0; 32 * MAX_KEYS]).is_ok());
    assert_eq!(SignedImage::new(&[]).err(), Some(Error::Range));
    assert_eq!(
        SignedImage::new(&[0; 32 * (MAX_KEYS + 1)]).err(),
        Some(Error::Range)
    );
    assert_eq!(SignedImage::new(&[0; 33]).err(), Some(Error::Length));
}

#[test]
fn verifier_checks_the_signature_in_its_pass() {
    let img = image(&body(), 32, &[], Some(1));
    let mut v = Verifier::new();
    v.expect_signature(&keys(&[1])).unwrap();
    v.update(&img).unwrap();
    assert_eq!(v.check(), 0);
    assert_eq!(v.sha256()[..], Sha256::digest(&img)[..]);
    let mut v = Verifier::new();
    v.expect_signature(&keys(&[2])).unwrap();
    v.update(&img).unwrap();
    assert_eq!(v.check(), crate::verify::field::SIGNATURE);
    assert_eq!(v.check(), crate::verify::field::SIGNATURE);
    let mut v = Verifier::new();
    v.update(b"x").unwrap();
    assert_eq!(v.expect_signature(&keys(&[1])), Err(Error::State));
}

#[test]
fn tlv_hash_reads_the_hash_tlv_of_signed_and_unsigned_images() {
    for (hdr_size, protected, seed) in [
        (32, std::vec![], Some(1)),
        (64, std::vec![tlv(0x50, &[9; 5])], None),
    ] {
        let data = image(&body(), hdr_size, &protected, seed);
        let prot_len = if protected.is_empty() { 0 } else { 4 + 9 };
        let hashed = usize::from(hdr_size) + body().len() + prot_len;
        let want: [u8; 32] = Sha256::digest(&data[..hashed]).into();
        let end = data.len() as u64;
        assert_eq!(tlv_hash(&data, &[], end), Some(want));
        assert_eq!(
            tlv_hash(&data[..hashed + 20], &[], end),
            None,
            "cut in the hash TLV"
        );
        // The two ends of a file, the body between skipped, however they overlap.
        let body_end = usize::from(hdr_size) + body().len();
        for (head, at) in [
            (32, body_end),
            (32, body_end - 7),
            (100, 60),
            (body_end + 3, 40),
        ] {
            let got = tlv_hash(&data[..head], &data[at..], at as u64);
            assert_eq!(got, Some(want), "head {head}, tail at {at}");
        }
        let late = (body_end + 1) as u64;
        assert_eq!(tlv_hash(&data[..32], &data[body_end + 1..], late), None);
    }
    assert_eq!(tlv_hash(&body(), &[], 0), None, "no header");
}

/// The quoted texts between the line that starts with `start` and the next line that starts
/// with `end`, in `file` (relative to the repository).
fn quoted_lines(file: &str, start: &str, end: &str) -> Vec<std::string::String> {
    let path = std::format!("{}/{file}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip_while(|l| !l.starts_with(start))
        .skip(1)
        .take_while(|l| !l.starts_with(end))
        .filter_map(|l| l.split('"').nth(1).map(std::string::String::from))
        .collect()
}

#[test]
fn the_pure_twin_prints_the_cores_problem_texts() {
    let pure: Vec<_> = quoted_lines("python/qsota/pure/image.py", "_PROBLEMS = (", ")")
        .iter()
        .map(|t| t.replace("%d", "%u"))
        .collect();
    assert_eq!(pure, PROBLEMS);
    let shown = |fault, a, b| std::format!("{}", Problem { fault, a, b });
    assert_eq!(
        shown(Fault::Magic, 0x7373_7373, 0),
        "image: bad magic 0x73737373 (not an MCUboot image)"
    );
    assert_eq!(
        shown(Fault::TlvMagic, 0x6906, 1056),
        "tlv: bad magic 0x6906 at offset 1056"
    );
    assert_eq!(
        shown(Fault::TruncatedBody, 10, 20),
        "image: truncated body (10 of 20 bytes)"
    );
    assert_eq!(shown(Fault::TlvLength, 2, 5), "tlv: type 0x02 has length 5");
    assert_eq!(
        shown(Fault::HashMissing, 0, 0),
        "hash: no SHA-256 TLV (0x10)"
    );
}
