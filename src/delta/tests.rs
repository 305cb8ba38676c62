//! The applier against patches written here from random edit scripts (every compression,
//! several heatshrink parameters, any push chunking), the package's checks, and every fault.
//! Real detools patches are tests/test_delta.py's. The seeded sessions are recorded for
//! tests/test_traces.py, which replays them on `qsota.pure.delta`.

use super::decode::MAX_SIZE;
use super::*;
use crate::trace;
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::format;
use std::string::String;
use std::vec;
use std::vec::Vec;

use crate::test_rng::Rng;

// The encoders `qsota delta` writes patches with.
#[path = "../../tools/qsota-cli/src/delta/encode.rs"]
mod encode;
use encode::{size, Compression};

const COMPRESSIONS: [Compression; 6] = [
    Compression::None,
    Compression::Crle,
    Compression::Heatshrink {
        window: 8,
        lookahead: 7,
    },
    Compression::Heatshrink {
        window: 8,
        lookahead: 4,
    },
    Compression::Heatshrink {
        window: 4,
        lookahead: 3,
    },
    Compression::Heatshrink {
        window: 11,
        lookahead: 6,
    },
];

fn patch(stream: &[u8], to_size: usize, c: Compression) -> Vec<u8> {
    encode::patch(stream, to_size as u64, c).unwrap()
}

/// A random edit of `base`: the decompressed patch stream and the target it gives.
fn edit(base: &[u8], rng: &mut Rng) -> (Vec<u8>, Vec<u8>) {
    // (diff bytes, extra bytes, adjustment) per chunk.
    let mut chunks: Vec<(Vec<u8>, Vec<u8>, i64)> = Vec::new();
    let mut target = Vec::new();
    let mut from = 0i64;
    for _ in 0..1 + rng.below(12) {
        let room = (base.len() as i64 - from).max(0) as u64;
        let n = rng.below(room.min(3000) + 1) as usize;
        let mut diff = Vec::new();
        let at = (from as usize).min(base.len());
        for &b in &base[at..at + n] {
            let t = if rng.below(10) == 0 {
                rng.next() as u8
            } else {
                b
            };
            target.push(t);
            diff.push(t.wrapping_sub(b));
        }
        from += n as i64;
        let n = if rng.below(3) == 0 {
            0
        } else {
            rng.below(600) as usize
        };
        let extra = if rng.below(2) == 0 {
            vec![rng.next() as u8; n]
        } else {
            rng.bytes(n)
        };
        target.extend_from_slice(&extra);
        let to = rng.below(base.len() as u64 + 1) as i64;
        let adjust = if diff.is_empty() && extra.is_empty() && to == from {
            1
        } else {
            to - from
        };
        from += adjust;
        chunks.push((diff, extra, adjust));
    }
    // The patch ends with the chunk that completes the target.
    while chunks
        .last()
        .is_some_and(|(d, e, _)| d.is_empty() && e.is_empty())
    {
        chunks.pop();
    }
    let mut stream = vec![0];
    for (diff, extra, adjust) in chunks {
        size(diff.len() as i64, &mut stream);
        stream.extend_from_slice(&diff);
        size(extra.len() as i64, &mut stream);
        stream.extend_from_slice(&extra);
        size(adjust, &mut stream);
    }
    (stream, target)
}

/// The base; its reads go to the session's log.
struct Mem<'a> {
    data: &'a [u8],
    log: &'a RefCell<Vec<String>>,
    fail: bool,
}

impl Base for Mem<'_> {
    fn read(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), IoError> {
        let at = offset as usize;
        assert!(at + buf.len() <= self.data.len(), "read outside the base");
        assert!(!buf.is_empty() && buf.len() <= PIECE);
        self.log
            .borrow_mut()
            .push(format!("[\"b\", {offset}, {}]", buf.len()));
        if self.fail {
            return Err(IoError);
        }
        buf.copy_from_slice(&self.data[at..at + buf.len()]);
        Ok(())
    }
}

/// The target; its writes go to the session's log.
struct Out<'a> {
    data: Vec<u8>,
    log: &'a RefCell<Vec<String>>,
    fail: bool,
}

impl Sink for Out<'_> {
    fn write(&mut self, data: &[u8]) -> Result<(), IoError> {
        assert!(!data.is_empty() && data.len() <= PIECE);
        self.log
            .borrow_mut()
            .push(format!("[\"w\", \"{}\"]", trace::hex(data)));
        if self.fail {
            return Err(IoError);
        }
        self.data.extend_from_slice(data);
        Ok(())
    }
}

/// An empty base and a target, for the tests that drive an applier by hand.
fn nothing(log: &RefCell<Vec<String>>) -> (Mem<'_>, Out<'_>) {
    let mem = Mem {
        data: &[],
        log,
        fail: false,
    };
    let out = Out {
        data: Vec::new(),
        log,
        fail: false,
    };
    (mem, out)
}

/// What a session applies: a bare patch or a package.
#[allow(clippy::large_enum_variant)] // one per test session
enum Target<'w> {
    Patch(Applier<'w>),
    Package(Package<'w>),
}

/// How a session goes wrong on purpose.
#[derive(Clone, Copy, Default)]
struct Setup {
    package: bool,
    window: usize,
    limit: u32,
    base_fails: bool,
    write_fails: bool,
    /// Each push may write this many bytes (`push_within`); None: no bound (`push`).
    room: Option<u32>,
}

/// What a session gave: `finish`'s result (size, SHA-256 for a package) and the output.
type Outcome = (Result<(u32, Option<[u8; 32]>), Fault>, Vec<u8>);

/// Pushes `input` in random pieces (some of 1 to 4 bytes), recording the session for the
/// replay: `["d", hex, room]` a push (room -1: no bound), then the base reads `["b", offset,
/// length]` and writes `["w", hex]` it made in order, then `["k", taken]` or `["f", fault]`;
/// at the end `["x", size, sha256 or null]` or `["f", fault]` for `finish`. With a `room`,
/// what a push did not take is pushed again, and pushes of nothing follow the input while
/// they still write.
fn run(base: &[u8], input: &[u8], setup: Setup, rng: &mut Rng) -> Outcome {
    let kwargs = format!(
        "{{\"limit\": {}, \"window\": {}, \"package\": {}, \"base_fails\": {}, \
         \"write_fails\": {}}}",
        setup.limit, setup.window, setup.package, setup.base_fails, setup.write_fails
    );
    trace::begin("delta", &format!("[{}]", base.len()), &kwargs, 0);
    trace::source(base);
    let log = RefCell::new(Vec::new());
    let mut mem = Mem {
        data: base,
        log: &log,
        fail: setup.base_fails,
    };
    let mut out = Out {
        data: Vec::new(),
        log: &log,
        fail: setup.write_fails,
    };
    let mut window = vec![0u8; setup.window];
    let (len, limit) = (base.len() as u32, setup.limit);
    let mut target = if setup.package {
        Target::Package(Package::new(&mut window, len, limit, true))
    } else {
        Target::Patch(Applier::new(&mut window, len, limit))
    };
    let room = setup.room.unwrap_or(u32::MAX);
    let mut rest = input;
    let mut draining = false;
    while !rest.is_empty() || draining {
        let most = if rng.below(4) == 0 { 4 } else { 700 };
        let n = (1 + rng.below(most) as usize).min(rest.len());
        let bound = setup.room.map_or(-1, i64::from);
        trace::push(|| format!("[\"d\", \"{}\", {bound}]", trace::hex(&rest[..n])));
        let before = out.data.len();
        let io = &mut Pair(&mut mem, &mut out);
        let pushed = match &mut target {
            Target::Patch(a) => a.push_within(&rest[..n], io, room),
            Target::Package(p) => p.push_within(&rest[..n], io, room),
        };
        for line in log.borrow_mut().drain(..) {
            trace::push(|| line);
        }
        let taken = match pushed {
            Ok(taken) => taken,
            Err(fault) => {
                trace::push(|| format!("[\"f\", \"{}\"]", fault.name()));
                return (Err(fault), out.data);
            }
        };
        trace::push(|| format!("[\"k\", {taken}]"));
        assert!(out.data.len() - before <= room as usize);
        rest = &rest[taken..];
        draining = rest.is_empty() && out.data.len() > before;
    }
    let finished = match &mut target {
        Target::Patch(a) => a.finish().map(|n| (n, None)),
        Target::Package(p) => p.finish().map(|(n, sha)| (n, Some(sha))),
    };
    trace::push(|| match finished {
        Ok((n, Some(sha))) => format!("[\"x\", {n}, \"{}\"]", trace::hex(&sha)),
        Ok((n, None)) => format!("[\"x\", {n}, null]"),
        Err(fault) => format!("[\"f\", \"{}\"]", fault.name()),
    });
    (finished, out.data)
}

fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// A package with qsota's extension (or, `esp`, without) around `patch`.
fn package(base: &[u8], target: &[u8], patch: &[u8], esp: bool) -> Vec<u8> {
    let header = Header {
        base_sha256: sha256(base),
        extension: (!esp).then(|| Extension {
            base_size: base.len() as u32,
            target_digest: sha256(target)[..DIGEST_LEN].try_into().unwrap(),
        }),
    };
    let mut p = header.to_bytes().to_vec();
    p.extend_from_slice(patch);
    p
}

const LIMIT: u32 = MAX_SIZE as u32;
const PATCH: Setup = Setup {
    package: false,
    window: 1 << 11,
    limit: LIMIT,
    base_fails: false,
    write_fails: false,
    room: None,
};

#[test]
fn random_edits_apply_exactly_in_every_compression_and_chunking() {
    let _rec = trace::Recording::new("delta-edits", 240);
    let mut rng = Rng(0x5eed_de17a);
    for seed in 0..240u64 {
        let c = COMPRESSIONS[seed as usize % COMPRESSIONS.len()];
        let len = match seed % 4 {
            0 => 0,
            1 => 1 + rng.below(300) as usize,
            _ => 1 + rng.below(8000) as usize,
        };
        let base = rng.bytes(len);
        let (stream, target) = edit(&base, &mut rng);
        let patch = patch(&stream, target.len(), c);
        // Every third session bounds what a push writes, to a piece or a little more.
        let setup = Setup {
            package: seed % 2 == 1,
            room: (seed % 3 == 2).then(|| PIECE as u32 + rng.below(700) as u32),
            ..PATCH
        };
        let input = if setup.package {
            package(&base, &target, &patch, seed % 4 == 3)
        } else {
            patch
        };
        let (result, out) = run(&base, &input, setup, &mut rng);
        let sha = setup.package.then(|| sha256(&target));
        assert_eq!(result, Ok((target.len() as u32, sha)), "seed {seed} {c:?}");
        assert_eq!(out, target, "seed {seed} {c:?}");
    }
}

/// A small valid case: base, target, and the patch in compression `c`.
fn case(seed: u64, c: Compression) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    loop {
        let len = 64 + rng.below(700) as usize;
        let base = rng.bytes(len);
        let (stream, target) = edit(&base, &mut rng);
        if !target.is_empty() {
            let patch = patch(&stream, target.len(), c);
            return (base, target, patch);
        }
    }
}

#[test]
fn every_cut_is_truncated_and_no_changed_byte_gives_a_wrong_target() {
    let _rec = trace::Recording::new("delta-damage", 400);
    let mut rng = Rng(7);
    for (i, c) in COMPRESSIONS.into_iter().enumerate() {
        let (base, target, patch) = case(i as u64, c);
        let pkg = package(&base, &target, &patch, false);
        for (input, package) in [(&patch, false), (&pkg, true)] {
            let setup = Setup { package, ..PATCH };
            for cut in 0..input.len() {
                let (result, out) = run(&base, &input[..cut], setup, &mut rng);
                assert_eq!(result, Err(Fault::Truncated), "{c:?} cut {cut}");
                assert!(target.starts_with(&out));
            }
            for _ in 0..60 {
                let mut bad = input.clone();
                let at = rng.below(bad.len() as u64) as usize;
                bad[at] ^= 1 << rng.below(8);
                let (result, out) = run(&base, &bad, setup, &mut rng);
                assert!(out.len() <= LIMIT as usize);
                // Only a change that leaves the target as it is (the last adjustment's) may
                // pass a package.
                if package && result.is_ok() {
                    assert_eq!(out, target, "{c:?}: byte {at} changed, not caught");
                }
            }
        }
    }
}

#[test]
fn each_fault_is_reported_and_stays() {
    let _rec = trace::Recording::new("delta-faults", 100);
    let mut rng = Rng(11);
    let (base, target, patch) = case(3, Compression::None);
    let (_, _, hs) = case(
        3,
        Compression::Heatshrink {
            window: 8,
            lookahead: 7,
        },
    );
    let with = |at: usize, b: u8, p: &[u8]| {
        let mut p = p.to_vec();
        p[at] = b;
        p
    };
    let mut more = patch.clone();
    more.push(0);
    let mut pkg_more = package(&base, &target, &patch, false);
    pkg_more.push(0);
    let mut ext_lie = package(&base, &target, &patch, false);
    ext_lie[44] ^= 1;
    let mut base_size_lie = package(&base, &target, &patch, false);
    base_size_lie[40] ^= 1;
    let mut noop = vec![0, 4, 0, 0, 0, 0];
    noop.extend_from_slice(&[0, 4, 1, 2, 3, 4, 0]);
    let cases: Vec<(Vec<u8>, Setup, &[u8], Fault)> = vec![
        (vec![0x01, 4], PATCH, &base, Fault::Unsupported), // lzma
        (vec![0x10, 4], PATCH, &base, Fault::Unsupported), // in-place
        (vec![0x30, 4], PATCH, &base, Fault::Malformed),
        (vec![0x80, 4], PATCH, &base, Fault::Malformed),
        (vec![0x07, 4], PATCH, &base, Fault::Malformed),
        (vec![0x00, 4, 1, 0], PATCH, &base, Fault::Unsupported), // a data-format patch
        (vec![0x00, 0x44], PATCH, &base, Fault::Malformed),      // a negative size
        (
            vec![0x00, 0x80, 0x80, 0x80, 0x80, 0x80, 0],
            PATCH,
            &base,
            Fault::Malformed,
        ),
        (vec![0x04, 4, 0xc0], PATCH, &base, Fault::Malformed), // window 2^16
        (vec![0x04, 4, 0x45], PATCH, &base, Fault::Malformed), // lookahead 8 >= window 8
        (vec![0x02, 4, 2], PATCH, &base, Fault::Malformed),    // crle kind 2
        (vec![0x00, 4, 0, 5], PATCH, &base, Fault::Malformed), // a diff past the target
        (noop, PATCH, &base, Fault::Malformed),
        (
            hs.clone(),
            Setup {
                window: 255,
                ..PATCH
            },
            &base,
            Fault::Window,
        ),
        (
            patch.clone(),
            Setup {
                limit: target.len() as u32 - 1,
                ..PATCH
            },
            &base,
            Fault::TooLarge,
        ),
        (patch.clone(), PATCH, &base[..8], Fault::BaseRange),
        (
            patch.clone(),
            Setup {
                base_fails: true,
                ..PATCH
            },
            &base,
            Fault::BaseRead,
        ),
        (
            patch.clone(),
            Setup {
                write_fails: true,
                ..PATCH
            },
            &base,
            Fault::Write,
        ),
        (more, PATCH, &base, Fault::Trailing),
        (vec![0x04, 0, 0], PATCH, &base, Fault::Trailing),
        (
            pkg_more,
            Setup {
                package: true,
                ..PATCH
            },
            &base,
            Fault::Trailing,
        ),
        (
            with(0, 0x11, &package(&base, &target, &patch, true)),
            Setup {
                package: true,
                ..PATCH
            },
            &base,
            Fault::Magic,
        ),
        (
            with(60, 1, &package(&base, &target, &patch, true)),
            Setup {
                package: true,
                ..PATCH
            },
            &base,
            Fault::Extension,
        ),
        (
            with(37, 1, &package(&base, &target, &patch, true)),
            Setup {
                package: true,
                ..PATCH
            },
            &base,
            Fault::Extension,
        ),
        (
            with(5, 1, &package(&base, &target, &patch, true)),
            Setup {
                package: true,
                ..PATCH
            },
            &base,
            Fault::BaseMismatch,
        ),
        (
            package(&base, &target, &patch, false),
            Setup {
                package: true,
                ..PATCH
            },
            &base[1..],
            Fault::BaseMismatch,
        ),
        (
            base_size_lie,
            Setup {
                package: true,
                ..PATCH
            },
            &base,
            Fault::BaseMismatch,
        ),
        (
            ext_lie,
            Setup {
                package: true,
                ..PATCH
            },
            &base,
            Fault::TargetMismatch,
        ),
        (
            package(&base, &base, &patch, false),
            Setup {
                package: true,
                ..PATCH
            },
            &base,
            Fault::TargetMismatch,
        ),
    ];
    for (i, (input, setup, base, fault)) in cases.into_iter().enumerate() {
        let (result, _) = run(base, &input, setup, &mut rng);
        assert_eq!(result.map(|_| ()), Err(fault), "case {i}");
    }
    // A fault is final.
    let mut a = Applier::new(&mut [], 0, 10);
    let log = RefCell::default();
    let (mut mem, mut out) = nothing(&log);
    let io = &mut Pair(&mut mem, &mut out);
    assert_eq!(a.push(&[0x01], io), Err(Fault::Unsupported));
    assert_eq!(a.push(&[0x00, 0], io), Err(Fault::Unsupported));
    assert_eq!(a.finish(), Err(Fault::Unsupported));
}

#[test]
fn an_empty_target_is_two_bytes_and_contexts_fit_their_budget() {
    let mut a = Applier::new(&mut [], 0, 0);
    let log = RefCell::default();
    let (mut mem, mut out) = nothing(&log);
    assert_eq!(a.push(&[0x04, 0], &mut Pair(&mut mem, &mut out)), Ok(()));
    assert_eq!(a.finish(), Ok(0));
    assert!(out.data.is_empty());
    // RAM beyond the heatshrink window: at most 1.5 KB (issue 20).
    let (applier, package) = (size_of::<Applier>(), size_of::<Package>());
    std::println!("delta contexts: Applier {applier} bytes, Package {package} bytes");
    assert!(applier < 400 && package <= 1536, "{applier} {package}");
}

#[test]
fn a_bounded_push_writes_no_more_than_its_room_whatever_a_byte_stands_for() {
    // An identical image: one diff chunk of zeros, a few patch bytes in crle and heatshrink.
    let mut rng = Rng(21);
    let base = rng.bytes(20_000);
    let mut stream = vec![0];
    size(base.len() as i64, &mut stream);
    stream.extend(std::iter::repeat_n(0, base.len()));
    size(300, &mut stream);
    stream.extend(std::iter::repeat_n(7, 300));
    size(0, &mut stream);
    let mut target = base.clone();
    target.extend(std::iter::repeat_n(7, 300));
    for c in COMPRESSIONS {
        let patch = patch(&stream, target.len(), c);
        let log = RefCell::default();
        let mut mem = Mem {
            data: &base,
            log: &log,
            fail: false,
        };
        let mut out = Out {
            data: Vec::new(),
            log: &log,
            fail: false,
        };
        let mut window = vec![0u8; 1 << 11];
        let mut a = Applier::new(&mut window, base.len() as u32, LIMIT);
        let (mut rest, mut pushes) = (&patch[..], 0);
        loop {
            let before = out.data.len();
            let room = PIECE as u32 + rng.below(PIECE as u64) as u32;
            let taken = a
                .push_within(rest, &mut Pair(&mut mem, &mut out), room)
                .unwrap();
            assert!(out.data.len() - before <= room as usize, "{c:?}");
            rest = &rest[taken..];
            pushes += 1;
            if rest.is_empty() && out.data.len() == before {
                break;
            }
        }
        assert_eq!(a.finish(), Ok(target.len() as u32), "{c:?}");
        assert_eq!(out.data, target, "{c:?}");
        assert!(
            pushes > target.len() / (2 * PIECE),
            "{c:?}: {pushes} pushes"
        );
        // Less than a piece of room takes nothing and writes nothing.
        let mut a = Applier::new(&mut window, base.len() as u32, LIMIT);
        let mut out = Out {
            data: Vec::new(),
            log: &log,
            fail: false,
        };
        let io = &mut Pair(&mut mem, &mut out);
        assert_eq!(a.push_within(&patch, io, PIECE as u32 - 1), Ok(0), "{c:?}");
    }
}

/// A package of a random edit of `base` in the `c`th compression of [`COMPRESSIONS`] (a
/// heatshrink window of up to 2^11 bytes), and its target: for the native receiver's tests.
pub(crate) fn random_package(base: &[u8], seed: u64, c: usize) -> (Vec<u8>, Vec<u8>) {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let (stream, target) = edit(base, &mut rng);
    let patch = patch(&stream, target.len(), COMPRESSIONS[c % COMPRESSIONS.len()]);
    (package(base, &target, &patch, false), target)
}

#[test]
fn a_package_says_the_window_it_needs_once_its_parameter_byte_is_in() {
    for (i, c) in COMPRESSIONS.into_iter().enumerate() {
        let (base, target, patch) = case(i as u64, c);
        let input = package(&base, &target, &patch, false);
        let want = match c {
            Compression::Heatshrink { window, .. } => 1usize << window,
            _ => 0,
        };
        // the kind byte tells for none and crle; heatshrink's parameter byte follows the
        // size field
        let mut field = Vec::new();
        size(target.len() as i64, &mut field);
        let known = HEADER_LEN + 1 + if want > 0 { field.len() + 1 } else { 0 };
        for n in 0..known {
            assert_eq!(window_len(&input[..n]), None, "{c:?} {n}");
        }
        assert_eq!(window_len(&input[..known]), Some(want), "{c:?}");
        assert_eq!(window_len(&input), Some(want), "{c:?}");
        // and the applier given exactly that window applies it
        let setup = Setup {
            package: true,
            window: want,
            ..PATCH
        };
        let (result, out) = run(&base, &input, setup, &mut Rng(1));
        assert_eq!(
            (result.map(|r| r.0), out),
            (Ok(target.len() as u32), target),
            "{c:?}"
        );
    }
    // an empty target, a wrong magic, a patch the applier refuses: none (push says why)
    let empty = package(b"", b"", &[0x04, 0], false);
    assert_eq!(window_len(&empty), Some(0));
    let mut bad = empty.clone();
    bad[0] ^= 1;
    assert_eq!(window_len(&bad[..HEADER_LEN]), Some(0));
    let mut refused = empty;
    refused[HEADER_LEN] = 0x14;
    assert_eq!(window_len(&refused), Some(0));
}
