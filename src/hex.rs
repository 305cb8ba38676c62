//! Parsing of the expected values as the platform prints them: hex digests and CRC strings.

use crate::Error;

/// Decodes exactly `N` bytes from `2 * N` hex digits (either case).
pub fn decode<const N: usize>(text: &[u8]) -> Result<[u8; N], Error> {
    if text.len() != 2 * N {
        // A wrong length with bad characters still reports the characters: they are the
        // more specific problem.
        return Err(if text.iter().all(|c| digit(*c).is_some()) {
            Error::Length
        } else {
            Error::Syntax
        });
    }
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
        let hi = digit(pair[0]).ok_or(Error::Syntax)?;
        let lo = digit(pair[1]).ok_or(Error::Syntax)?;
        *byte = hi << 4 | lo;
    }
    Ok(out)
}

/// The value of one hex digit.
pub fn digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// The readings of a CRC-32 printed as text: at most two candidate values.
///
/// `0x1a2b` (or `0X`) is hex. Digits only are ambiguous: the AT flow prints the CRC in
/// decimal, the platform's JSON in hex, so both readings that fit in 32 bits are kept and a
/// match under either counts. Anything with a hex letter is hex.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CrcReadings {
    values: [u32; 2],
    count: u8,
}

impl CrcReadings {
    /// One unambiguous value.
    pub const fn one(value: u32) -> Self {
        CrcReadings {
            values: [value, value],
            count: 1,
        }
    }

    /// Parses a CRC printed as decimal or hex.
    pub fn parse(text: &[u8]) -> Result<Self, Error> {
        let (hex_only, digits) = match text {
            [b'0', b'x' | b'X', rest @ ..] => (true, rest),
            _ => (false, text),
        };
        if digits.is_empty() || digits.iter().any(|c| digit(*c).is_none()) {
            return Err(Error::Syntax);
        }
        let decimal = if !hex_only && digits.iter().all(u8::is_ascii_digit) {
            fold(digits, 10)
        } else {
            None
        };
        let mut readings = match (decimal, fold(digits, 16)) {
            (Some(d), Some(h)) if d != h => CrcReadings {
                values: [d, h],
                count: 2,
            },
            (Some(v), _) | (None, Some(v)) => Self::one(v),
            (None, None) => return Err(Error::Range),
        };
        readings.values[..readings.count as usize].sort_unstable();
        Ok(readings)
    }

    /// The distinct candidate values, smallest first.
    pub fn values(&self) -> &[u32] {
        &self.values[..self.count as usize]
    }

    /// Whether `value` is one of the readings.
    pub fn matches(&self, value: u32) -> bool {
        self.values().contains(&value)
    }
}

/// The value of `digits` in `radix`, or `None` when it does not fit in 32 bits.
fn fold(digits: &[u8], radix: u32) -> Option<u32> {
    digits.iter().try_fold(0u32, |acc, c| {
        acc.checked_mul(radix)?.checked_add(u32::from(digit(*c)?))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_digests_in_either_case() {
        assert_eq!(decode::<2>(b"aBcD"), Ok([0xab, 0xcd]));
        assert_eq!(decode::<2>(b"abc"), Err(Error::Length));
        assert_eq!(decode::<2>(b"abcde"), Err(Error::Length));
        assert_eq!(decode::<2>(b"abcg"), Err(Error::Syntax));
        assert_eq!(decode::<2>(b"ab g"), Err(Error::Syntax));
        assert_eq!(decode::<2>(b"xyz"), Err(Error::Syntax));
    }

    #[test]
    fn crc_readings() {
        assert_eq!(
            CrcReadings::parse(b"0x0376E6E7").unwrap().values(),
            &[0x0376e6e7]
        );
        assert_eq!(
            CrcReadings::parse(b"cbf43926").unwrap().values(),
            &[0xcbf43926]
        );
        // Digits only: decimal 12345678 and hex 0x12345678.
        assert_eq!(
            CrcReadings::parse(b"12345678").unwrap().values(),
            &[12345678, 0x12345678]
        );
        // Decimal too large for 32 bits: only the hex reading is left... which is also too large.
        assert_eq!(CrcReadings::parse(b"4294967296"), Err(Error::Range));
        assert_eq!(
            CrcReadings::parse(b"4294967295").unwrap().values(),
            &[u32::MAX]
        );
        // Nine hex-looking digits that only fit as decimal.
        assert_eq!(
            CrcReadings::parse(b"123456789").unwrap().values(),
            &[123456789]
        );
        assert_eq!(CrcReadings::parse(b"7").unwrap().values(), &[7]);
        assert_eq!(CrcReadings::parse(b"0x"), Err(Error::Syntax));
        assert_eq!(CrcReadings::parse(b""), Err(Error::Syntax));
        assert_eq!(CrcReadings::parse(b"-1"), Err(Error::Syntax));
        assert_eq!(CrcReadings::parse(b" 12"), Err(Error::Syntax));
        assert_eq!(CrcReadings::parse(b"0x1ffffffff"), Err(Error::Range));
        assert!(CrcReadings::parse(b"10").unwrap().matches(16));
        assert!(CrcReadings::parse(b"10").unwrap().matches(10));
    }
}
