//! The MCU's application area in NOR flash: sectors, erase and program times, and NOR's rule
//! that a byte can only be programmed from the erased state (0xFF).
//!
//! The model keeps time as costs (`Duration`) and leaves the waiting to the caller, so that it
//! can be tested without a clock.

use std::fmt;
use std::time::Duration;

/// One erasable unit: its offset in the application area, its size and its erase time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sector {
    pub start: usize,
    pub size: usize,
    pub erase: Duration,
}

/// The STM32F4 (1 MiB, e.g. STM32F407) sectors after a 32 KiB bootloader at 0x08000000,
/// i.e. from sector 2 at 0x08008000 (where ST's IAP puts the application), with the
/// datasheet's typical erase times at x32 parallelism: 16 KiB 250 ms, 64 KiB 550 ms,
/// 128 KiB 1 s.
pub const STM32F4_SECTORS: [(usize, u64); 10] = [
    (16 << 10, 250),
    (16 << 10, 250),
    (64 << 10, 550),
    (128 << 10, 1000),
    (128 << 10, 1000),
    (128 << 10, 1000),
    (128 << 10, 1000),
    (128 << 10, 1000),
    (128 << 10, 1000),
    (128 << 10, 1000),
];

/// STM32F4 word programming: 16 us typical per 32-bit word, 256 words per KiB.
pub const STM32F4_PROGRAM_PER_KIB: Duration = Duration::from_micros(256 * 16);

/// Why a flash operation failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FlashError {
    /// Programming a byte that is not erased (NOR: an erase must come first).
    NotErased { offset: usize },
    /// Outside the application area.
    OutOfRange { offset: usize, len: usize },
}

impl fmt::Display for FlashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlashError::NotErased { offset } => {
                write!(f, "programming non-erased byte at offset {offset:#x}")
            }
            FlashError::OutOfRange { offset, len } => {
                write!(f, "{len} bytes at offset {offset:#x} are outside the flash")
            }
        }
    }
}

/// What the application area holds, as the summary reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppState {
    /// Unchanged since start: the old image.
    Old,
    /// The receiver finished a file: the new image leads the area (its digest tells
    /// whether it is right).
    New,
    /// Some sectors erased, nothing programmed.
    Erased,
    /// Erased and partly programmed: neither image.
    Partial,
}

impl AppState {
    pub fn name(self) -> &'static str {
        match self {
            AppState::Old => "old",
            AppState::New => "new",
            AppState::Erased => "erased",
            AppState::Partial => "partial",
        }
    }
}

/// The application area.
pub struct Flash {
    data: Vec<u8>,
    initial: Vec<u8>,
    sectors: Vec<Sector>,
    program_per_kib: Duration,
    /// Statistics for the summary.
    pub erases: u64,
    pub programmed: u64,
}

impl Flash {
    /// A flash of `sectors` (contiguous from offset 0) holding `old` at offset 0, the rest
    /// erased. `old` must fit.
    pub fn new(sectors: Vec<Sector>, program_per_kib: Duration, old: &[u8]) -> Flash {
        let size = sectors.last().map_or(0, |s| s.start + s.size);
        assert!(old.len() <= size, "old image larger than the flash");
        let mut data = vec![0xFF; size];
        data[..old.len()].copy_from_slice(old);
        Flash {
            initial: data.clone(),
            data,
            sectors,
            program_per_kib,
            erases: 0,
            programmed: 0,
        }
    }

    /// Sectors of `size` bytes each, erased in `erase` each, covering `total` bytes.
    pub fn uniform(total: usize, size: usize, erase: Duration) -> Vec<Sector> {
        (0..total / size)
            .map(|i| Sector {
                start: i * size,
                size,
                erase,
            })
            .collect()
    }

    /// Sectors from a `(size, erase_ms)` map, in order from offset 0.
    pub fn from_map(map: &[(usize, u64)]) -> Vec<Sector> {
        let mut start = 0;
        map.iter()
            .map(|&(size, ms)| {
                let s = Sector {
                    start,
                    size,
                    erase: Duration::from_millis(ms),
                };
                start += size;
                s
            })
            .collect()
    }

    pub fn size(&self) -> usize {
        self.data.len()
    }

    pub fn sectors(&self) -> &[Sector] {
        &self.sectors
    }

    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// An erased flash of the same geometry and timings (a second bank).
    pub fn blank_twin(&self) -> Flash {
        Flash::new(self.sectors.clone(), self.program_per_kib, &[])
    }

    /// The indexes of the sectors that bytes `[offset, offset + len)` touch.
    pub fn sectors_of(&self, offset: usize, len: usize) -> std::ops::Range<usize> {
        let end = offset.saturating_add(len.max(1));
        let first = self.sectors.partition_point(|s| s.start + s.size <= offset);
        let last = self.sectors.partition_point(|s| s.start < end);
        first..last.max(first)
    }

    /// Erases sector `index`; returns how long that takes.
    pub fn erase(&mut self, index: usize) -> Duration {
        let s = self.sectors[index];
        self.data[s.start..s.start + s.size].fill(0xFF);
        self.erases += 1;
        s.erase
    }

    /// Programs `bytes` at `offset`; returns how long that takes. Every target byte must be
    /// erased; on error nothing is written.
    pub fn program(&mut self, offset: usize, bytes: &[u8]) -> Result<Duration, FlashError> {
        let range = offset
            .checked_add(bytes.len())
            .filter(|&end| end <= self.data.len())
            .map(|end| offset..end)
            .ok_or(FlashError::OutOfRange {
                offset,
                len: bytes.len(),
            })?;
        if let Some(i) = self.data[range.clone()].iter().position(|&b| b != 0xFF) {
            return Err(FlashError::NotErased { offset: offset + i });
        }
        self.data[range].copy_from_slice(bytes);
        self.programmed += bytes.len() as u64;
        Ok(self.program_per_kib.mul_f64(bytes.len() as f64 / 1024.0))
    }

    /// What the area holds; `finished` says whether the receiver completed a file (whose
    /// bytes then lead the area, whatever follows them).
    pub fn state(&self, finished: bool) -> AppState {
        if finished {
            AppState::New
        } else if self.data == self.initial {
            AppState::Old
        } else if self.programmed == 0 {
            AppState::Erased
        } else {
            AppState::Partial
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Flash {
        let sectors = Flash::uniform(4096, 1024, Duration::from_millis(20));
        Flash::new(sectors, Duration::from_millis(4), b"OLD")
    }

    #[test]
    fn holds_the_old_image_and_reports_old() {
        let f = small();
        assert_eq!(&f.data()[..4], b"OLD\xff");
        assert_eq!(f.state(false), AppState::Old);
    }

    #[test]
    fn programming_a_non_erased_byte_fails_and_writes_nothing() {
        let mut f = small();
        let err = f.program(1, b"xyz").unwrap_err();
        assert_eq!(err, FlashError::NotErased { offset: 1 });
        assert_eq!(&f.data()[..3], b"OLD");
        assert_eq!(f.programmed, 0);
    }

    #[test]
    fn programming_twice_without_erase_fails() {
        let mut f = small();
        f.program(2000, b"ab").unwrap();
        assert_eq!(
            f.program(2001, b"b"),
            Err(FlashError::NotErased { offset: 2001 })
        );
    }

    #[test]
    fn erase_then_program_works_and_costs_time() {
        let mut f = small();
        assert_eq!(f.erase(0), Duration::from_millis(20));
        assert_eq!(f.state(false), AppState::Erased);
        let t = f.program(0, &[0u8; 512]).unwrap();
        assert_eq!(t, Duration::from_millis(2));
        assert_eq!(f.state(false), AppState::Partial);
        assert_eq!(f.state(true), AppState::New);
    }

    #[test]
    fn out_of_range_is_an_error() {
        let mut f = small();
        assert_eq!(
            f.program(4095, b"ab"),
            Err(FlashError::OutOfRange {
                offset: 4095,
                len: 2
            })
        );
        assert!(f.program(usize::MAX, b"a").is_err());
    }

    #[test]
    fn sectors_of_a_range() {
        let f = Flash::new(
            Flash::from_map(&STM32F4_SECTORS),
            STM32F4_PROGRAM_PER_KIB,
            &[],
        );
        assert_eq!(f.size(), 992 << 10);
        assert_eq!(f.sectors_of(0, 1), 0..1);
        assert_eq!(f.sectors_of(16 << 10, 16 << 10), 1..2);
        assert_eq!(f.sectors_of((16 << 10) - 1, 2), 0..2);
        assert_eq!(f.sectors_of(40 << 10, 100 << 10), 2..4);
        assert_eq!(f.sectors_of(f.size(), 1), 10..10);
    }

    #[test]
    fn stm32f4_program_time_per_kib() {
        let mut f = Flash::new(
            Flash::uniform(2048, 2048, Duration::ZERO),
            STM32F4_PROGRAM_PER_KIB,
            &[],
        );
        assert_eq!(
            f.program(0, &[0; 1024]).unwrap(),
            Duration::from_micros(4096)
        );
    }
}
