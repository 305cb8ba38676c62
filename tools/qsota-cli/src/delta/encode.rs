//! Writes detools sequential patches from a decompressed stream: the size fields, the
//! header, and the compressions qsota applies. Shared by `qsota delta` and the core's delta
//! tests (src/delta/tests.rs includes this file), so the applier's tests run on the encoders
//! the command uses; tests/test_delta.py holds both to detools' own output.

/// A patch's compression (detools' numbers: none 0, crle 2, heatshrink 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None,
    Crle,
    /// heatshrink with 2^window-byte window and 2^lookahead-byte lookahead.
    Heatshrink {
        window: u8,
        lookahead: u8,
    },
}

impl Compression {
    fn code(self) -> u8 {
        match self {
            Compression::None => 0,
            Compression::Crle => 2,
            Compression::Heatshrink { .. } => 4,
        }
    }
}

/// Appends detools' size field: 6 value bits, the sign (0x40) and the continuation (0x80) in
/// the first byte, 7 value bits and the continuation in each next.
pub fn size(value: i64, out: &mut Vec<u8>) {
    let mut m = value.unsigned_abs();
    let mut b = if value < 0 { 0x40 } else { 0 } | (m & 0x3f) as u8;
    m >>= 6;
    while m > 0 {
        out.push(b | 0x80);
        b = (m & 0x7f) as u8;
        m >>= 7;
    }
    out.push(b);
}

/// The patch for `stream` (the data-format size and the chunks) giving `to_size` bytes; None
/// for heatshrink parameters it does not write: windows of 2^4 to 2^12 bytes (heatshrink's
/// encoder is slow past that, detools' as well) and a lookahead below the window.
pub fn patch(stream: &[u8], to_size: u64, compression: Compression) -> Option<Vec<u8>> {
    let mut p = vec![compression.code()];
    size(to_size as i64, &mut p);
    if to_size == 0 {
        // detools writes nothing more for an empty target.
        return Some(p);
    }
    match compression {
        Compression::None => p.extend_from_slice(stream),
        Compression::Crle => crle(stream, &mut p),
        Compression::Heatshrink { window, lookahead } => {
            p.push((window.checked_sub(4)?) << 4 | lookahead.checked_sub(3)?);
            p.extend(heatshrink(window, lookahead, stream)?);
        }
    }
    Some(p)
}

/// detools' crle: runs of 6 or more equal bytes as repeated segments (kind 1, count, byte),
/// the bytes between as scattered segments (kind 0, size, bytes), sizes in plain 7-bit
/// groups. detools emits the same segments (its compressor takes the leftmost run first).
pub fn crle(data: &[u8], out: &mut Vec<u8>) {
    fn leb(mut v: usize, out: &mut Vec<u8>) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }
    let (mut i, mut scattered) = (0, 0);
    while i < data.len() {
        let run = data[i..].iter().take_while(|&&b| b == data[i]).count();
        if run < 6 {
            i += 1;
            continue;
        }
        if i > scattered {
            out.push(0);
            leb(i - scattered, out);
            out.extend_from_slice(&data[scattered..i]);
        }
        out.push(1);
        leb(run, out);
        out.push(data[i]);
        i += run;
        scattered = i;
    }
    if data.len() > scattered {
        out.push(0);
        leb(data.len() - scattered, out);
        out.extend_from_slice(&data[scattered..]);
    }
}

/// `data` compressed by the `heatshrink-lib` crate (bit for bit heatshrink's C encoder, which
/// detools uses through heatshrink2), whose parameters are compile-time ones.
fn heatshrink(window: u8, lookahead: u8, data: &[u8]) -> Option<Vec<u8>> {
    macro_rules! by_params {
        ($($w:literal $buf:literal [$($l:literal)*])*) => {
            match (window, lookahead) {
                $($(($w, $l) => Some(encode::<$w, $l, $buf>(data)),)*)*
                _ => None,
            }
        };
    }
    by_params!(
        4 32 [3]
        5 64 [3 4]
        6 128 [3 4 5]
        7 256 [3 4 5 6]
        8 512 [3 4 5 6 7]
        9 1024 [3 4 5 6 7 8]
        10 2048 [3 4 5 6 7 8 9]
        11 4096 [3 4 5 6 7 8 9 10]
        12 8192 [3 4 5 6 7 8 9 10 11]
    )
}

fn encode<const W: usize, const L: usize, const BUF: usize>(data: &[u8]) -> Vec<u8> {
    use heatshrink::encoder::HeatshrinkEncoder;
    use heatshrink::{Finish, Poll};
    let mut encoder = Box::new(HeatshrinkEncoder::<W, L, BUF>::new());
    let (mut out, mut buf, mut at) = (Vec::new(), [0u8; 4096], 0);
    loop {
        if at < data.len() {
            at += encoder.sink(&data[at..]).unwrap_or(0);
        }
        let finished = at == data.len() && encoder.finish() == Finish::Done;
        loop {
            match encoder.poll(&mut buf) {
                Ok(Poll::More(n)) => out.extend_from_slice(&buf[..n]),
                Ok(Poll::Empty(n)) => {
                    out.extend_from_slice(&buf[..n]);
                    break;
                }
                Err(_) => break,
            }
        }
        if finished {
            return out;
        }
    }
}
