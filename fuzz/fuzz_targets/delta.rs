//! The delta applier and package on any bytes: malformed patches, sizes that lie, a base of
//! the wrong length, any window, any push chunking. Each ends in `Ok` or a fault; reads stay
//! inside the base, writes within the target's size and the limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qsota::delta::{
    window_len, Applier, Base, Extension, Fault, Header, IoError, Package, Pair, Sink, PIECE,
};
use sha2::{Digest, Sha256};

struct Mem<'a>(&'a [u8]);

impl Base for Mem<'_> {
    fn read(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), IoError> {
        let at = offset as usize;
        assert!(!buf.is_empty() && buf.len() <= PIECE && at + buf.len() <= self.0.len());
        buf.copy_from_slice(&self.0[at..at + buf.len()]);
        Ok(())
    }
}

struct Out {
    written: u64,
    limit: u64,
}

impl Sink for Out {
    fn write(&mut self, data: &[u8]) -> Result<(), IoError> {
        assert!(!data.is_empty() && data.len() <= PIECE);
        self.written += data.len() as u64;
        assert!(self.written <= self.limit);
        Ok(())
    }
}

fuzz_target!(|data: &[u8]| {
    // piece size, window bits, flags, base length (2), limit (2), then the base and the input.
    let Some((&[piece, window, flags, b0, b1, l0, l1], rest)) = data.split_first_chunk::<7>()
    else {
        return;
    };
    let base_len = usize::from(u16::from_le_bytes([b0, b1])).min(rest.len());
    let (base, input) = rest.split_at(base_len);
    let limit = u32::from(u16::from_le_bytes([l0, l1]));
    let mut win = vec![0u8; 1 << (window % 17)];
    let mut out = Out {
        written: 0,
        limit: u64::from(limit),
    };
    let piece = usize::from(piece).max(1);
    let mut mem = Mem(base);
    if flags & 1 == 0 {
        let mut a = Applier::new(&mut win, base.len() as u32, limit);
        for chunk in input.chunks(piece) {
            if a.push(chunk, &mut Pair(&mut mem, &mut out)).is_err() {
                break;
            }
        }
        if let Ok(size) = a.finish() {
            assert_eq!(out.written, u64::from(size));
        }
        return;
    }
    // A package with the right base hash; the extension's base size and target digest come
    // from the input and may lie (flags bit 1: a package made for ESP, without the extension).
    let Some((&[s0, s1, d0], patch)) = input.split_first_chunk::<3>() else {
        return;
    };
    let header = Header {
        base_sha256: Sha256::digest(base).into(),
        extension: (flags & 2 == 0).then_some(Extension {
            base_size: if s1 == 0xff {
                base.len() as u32
            } else {
                u32::from(u16::from_le_bytes([s0, s1]))
            },
            target_digest: [d0; 20],
        }),
    };
    let mut package = header.to_bytes().to_vec();
    package.extend_from_slice(patch);
    let have = win.len();
    let mut p = Package::new(&mut win, base.len() as u32, limit, flags & 4 == 0);
    // flags bit 3: pushes bounded to a piece or a little more, each writing at most that
    // (what is not taken is pushed again; pushes of nothing drain what is left).
    let room = (flags & 8 != 0).then_some(PIECE as u32 + u32::from(flags >> 4) * 16);
    let mut rest = &package[..];
    loop {
        let n = piece.min(rest.len());
        let before = out.written;
        let Ok(taken) = p.push_within(
            &rest[..n],
            &mut Pair(&mut mem, &mut out),
            room.unwrap_or(u32::MAX),
        ) else {
            break;
        };
        assert!(out.written - before <= u64::from(room.unwrap_or(u32::MAX)));
        rest = &rest[taken..];
        if rest.is_empty() && out.written == before {
            break;
        }
    }
    if let Ok((size, sha)) = p.finish() {
        assert_eq!(out.written, u64::from(size));
        assert!(flags & 2 != 0 || sha[..20] == [d0; 20]);
    }
    // The window the package names (what _qsota.DeltaPackage allocates) is always enough.
    if window_len(&package).is_some_and(|need| need <= have) {
        assert_ne!(p.fault(), Some(Fault::Window));
    }
});
