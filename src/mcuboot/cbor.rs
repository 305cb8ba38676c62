//! The little CBOR (RFC 8949) that SMP needs: a writer of heads into the frame buffer and a
//! bounded reader that walks any well-formed item, definite or indefinite length (MCUboot's
//! zcbor writes indefinite maps and arrays). Our own: the requests need four kinds of item,
//! and a general crate costs more flash than this whole file (see docs/architecture.md).

/// Major types the writer uses.
pub(crate) const UINT: u8 = 0;
pub(crate) const BYTES: u8 = 2;
pub(crate) const TEXT: u8 = 3;
pub(crate) const MAP: u8 = 5;

/// Nesting the reader follows before it gives up (an image list is three deep).
const MAX_DEPTH: u8 = 8;

/// Bytes a head with argument `v` takes.
pub(crate) const fn head_len(v: u64) -> usize {
    match v {
        0..=23 => 1,
        24..=0xFF => 2,
        0x100..=0xFFFF => 3,
        0x1_0000..=0xFFFF_FFFF => 5,
        _ => 9,
    }
}

/// Writes the head of major type `major` with argument `v` at `buf[at..]`; returns the
/// position after it. The caller sized `buf` with [`head_len`].
pub(crate) fn head(buf: &mut [u8], at: usize, major: u8, v: u64) -> usize {
    let n = head_len(v);
    let m = major << 5;
    buf[at] = match n {
        1 => m | v as u8,
        2 => m | 24,
        3 => m | 25,
        5 => m | 26,
        _ => m | 27,
    };
    let bytes = v.to_be_bytes();
    buf[at + 1..at + n].copy_from_slice(&bytes[9 - n..]);
    at + n
}

/// Writes a text string (a map key) at `buf[at..]`; returns the position after it.
pub(crate) fn text(buf: &mut [u8], at: usize, s: &[u8]) -> usize {
    let at = head(buf, at, TEXT, s.len() as u64);
    buf[at..at + s.len()].copy_from_slice(s);
    at + s.len()
}

/// One data item's head, as the reader sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Item<'a> {
    Uint(u64),
    /// A negative integer: -1 - the value.
    Nint(u64),
    Bytes(&'a [u8]),
    Text(&'a [u8]),
    /// An array or map of this many items (pairs for a map); `None`: indefinite length.
    Array(Option<u64>),
    Map(Option<u64>),
    /// The end of an indefinite-length array or map.
    Break,
    /// A simple value in the head's own bits (20 false, 21 true, 22 null).
    Simple(u8),
    /// Anything else (floats, tags, other simple values): skipped whole.
    Other,
}

/// A cursor over one CBOR message; every method returns `None` on malformed or truncated
/// input, and never reads outside the message.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }

    /// The next head (with a string's contents).
    pub(crate) fn next(&mut self) -> Option<Item<'a>> {
        let b = *self.take(1)?.first()?;
        let (major, info) = (b >> 5, b & 0x1F);
        let arg = match info {
            0..=23 => Some(u64::from(info)),
            24..=27 => {
                let bytes = self.take(1 << (info - 24))?;
                Some(bytes.iter().fold(0u64, |v, &x| (v << 8) | u64::from(x)))
            }
            31 => None,
            _ => return None,
        };
        Some(match (major, arg) {
            (0, Some(v)) => Item::Uint(v),
            (1, Some(v)) => Item::Nint(v),
            (2, Some(n)) => Item::Bytes(self.take(usize::try_from(n).ok()?)?),
            (3, Some(n)) => Item::Text(self.take(usize::try_from(n).ok()?)?),
            (4, n) => Item::Array(n),
            (5, n) => Item::Map(n),
            (6, Some(_)) => {
                self.skip()?; // a tag's content
                Item::Other
            }
            (7, None) => Item::Break,
            (7, Some(v)) if info < 24 => Item::Simple(v as u8),
            (7, Some(_)) => Item::Other,
            _ => return None, // indefinite-length strings: never sent by SMP servers
        })
    }

    /// Skips one whole item, nested ones included.
    pub(crate) fn skip(&mut self) -> Option<()> {
        self.value().map(|_| ())
    }

    /// One whole item, nested ones included: its head.
    pub(crate) fn value(&mut self) -> Option<Item<'a>> {
        let item = self.next()?;
        self.skip_rest(item, 0)?;
        Some(item)
    }

    /// Skips what follows the head `item` (the elements of an array or map).
    fn skip_rest(&mut self, item: Item<'a>, depth: u8) -> Option<()> {
        let (count, per) = match item {
            Item::Array(n) => (n, 1),
            Item::Map(n) => (n, 2),
            Item::Break => return None,
            _ => return Some(()),
        };
        if depth >= MAX_DEPTH {
            return None;
        }
        let mut left = count.map(|n| n.saturating_mul(per));
        loop {
            if left == Some(0) {
                return Some(());
            }
            let inner = self.next()?;
            if inner == Item::Break {
                return if left.is_none() { Some(()) } else { None };
            }
            self.skip_rest(inner, depth + 1)?;
            left = left.map(|n| n - 1);
        }
    }

    /// Calls `f(reader, key)` for each entry of the map that starts here; `f` must consume
    /// the value (read it, or `skip` it). Keys that are not text strings are skipped with
    /// their values.
    pub(crate) fn map(&mut self, mut f: impl FnMut(&mut Self, &[u8]) -> Option<()>) -> Option<()> {
        let Item::Map(count) = self.next()? else {
            return None;
        };
        self.entries(count, |r| match r.next()? {
            Item::Text(key) => f(r, key),
            other => {
                r.skip_rest(other, 1)?;
                r.skip()
            }
        })
    }

    /// Calls `f(reader)` for each element of the array that starts here.
    pub(crate) fn array(&mut self, f: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        let Item::Array(count) = self.next()? else {
            return None;
        };
        self.entries(count, f)
    }

    fn entries(
        &mut self,
        count: Option<u64>,
        mut f: impl FnMut(&mut Self) -> Option<()>,
    ) -> Option<()> {
        let mut left = count;
        loop {
            match left {
                Some(0) => return Some(()),
                Some(n) => left = Some(n - 1),
                None => {
                    if self.buf.get(self.pos) == Some(&0xFF) {
                        self.pos += 1;
                        return Some(());
                    }
                }
            }
            f(self)?;
        }
    }

    /// An unsigned integer.
    pub(crate) fn uint(&mut self) -> Option<u64> {
        match self.next()? {
            Item::Uint(v) => Some(v),
            _ => None,
        }
    }

    /// A signed integer in i32's range (SMP's `rc`).
    pub(crate) fn int(&mut self) -> Option<i32> {
        match self.next()? {
            Item::Uint(v) => i32::try_from(v).ok(),
            Item::Nint(v) => i32::try_from(v).ok().map(|v| -1 - v),
            _ => None,
        }
    }

    /// A byte string.
    pub(crate) fn bytes(&mut self) -> Option<&'a [u8]> {
        match self.next()? {
            Item::Bytes(b) => Some(b),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_round_trip_at_every_width() {
        for v in [
            0u64,
            23,
            24,
            255,
            256,
            65535,
            65536,
            0xFFFF_FFFF,
            0x1_0000_0000,
            u64::MAX,
        ] {
            let mut buf = [0u8; 9];
            let end = head(&mut buf, 0, UINT, v);
            assert_eq!(end, head_len(v));
            let mut r = Reader::new(&buf[..end]);
            assert_eq!(r.uint(), Some(v));
        }
    }

    #[test]
    fn reads_indefinite_maps_as_zcbor_writes_them() {
        // {_ "images": [_ {_ "slot": 0, "hash": h'0102', "version": "1.0"}], "rc": -3}
        let msg = b"\xbf\x66images\x9f\xbf\x64slot\x00\x64hash\x42\x01\x02\x67version\x631.0\xff\xff\x62rc\x22\xff";
        let (mut slot, mut hash, mut rc) = (None, None, None);
        let mut r = Reader::new(msg);
        r.map(|r, key| match key {
            b"images" => r.array(|r| {
                r.map(|r, key| match key {
                    b"slot" => r.uint().map(|v| slot = Some(v)),
                    b"hash" => r.bytes().map(|v| hash = Some(v)),
                    _ => r.skip(),
                })
            }),
            b"rc" => r.int().map(|v| rc = Some(v)),
            _ => r.skip(),
        })
        .unwrap();
        assert_eq!((slot, hash, rc), (Some(0), Some(&[1u8, 2][..]), Some(-3)));
    }

    #[test]
    fn malformed_or_deep_input_is_refused() {
        for bad in [
            &b"\x5f\x41a\xff"[..], // indefinite byte string
            b"\x9f\x00",           // unterminated
            b"\x82\x00",           // short array
            b"\x1c",               // reserved additional info
            b"\x5a\xff\xff\xff\xff",
            b"\x81\x81\x81\x81\x81\x81\x81\x81\x81\x81\x00",
            b"\xff",
        ] {
            assert_eq!(Reader::new(bad).skip(), None, "{bad:02x?}");
        }
        assert_eq!(Reader::new(b"\xa1\x01\x02").map(|r, _| r.skip()), Some(()));
    }
}
