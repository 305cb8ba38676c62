//! The bsdiff step of `qsota delta`: the `bsdiff` crate's matches (Percival's algorithm over
//! a qsufsort suffix array, the one detools runs) rewritten as detools' sequential stream.

use super::encode::size;

/// The decompressed stream of a detools sequential patch from `old` to `new`: the
/// data-format size (0), then per bsdiff control the diff size and bytes, the extra size
/// and bytes, and the adjustment of the base offset.
pub fn stream(old: &[u8], new: &[u8]) -> Vec<u8> {
    let mut raw = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = bsdiff::diff(old, new, &mut raw);
    let mut out = vec![0];
    let mut at = 0;
    // The crate's raw patch: (diff length, extra length, seek) as 8-byte sign-magnitude
    // little-endian numbers, then the diff bytes, then the extra bytes; the seek is detools'
    // adjustment.
    while let Some(control) = raw.get(at..at + 24) {
        let [diff, extra, adjust] = [0, 8, 16].map(|i| number(&control[i..i + 8]));
        at += 24;
        for (len, is_data) in [(diff, true), (extra, true), (adjust, false)] {
            size(len, &mut out);
            if is_data {
                out.extend_from_slice(&raw[at..at + len as usize]);
                at += len as usize;
            }
        }
    }
    out
}

fn number(bytes: &[u8]) -> i64 {
    let mut le = [0; 8];
    le.copy_from_slice(bytes);
    let x = u64::from_le_bytes(le);
    let magnitude = (x & !(1 << 63)) as i64;
    if x >> 63 == 1 {
        -magnitude
    } else {
        magnitude
    }
}
