//! The line's models, which take time as an argument: seeded per-byte faults ([`Faults`]),
//! pacing at the line's rate ([`Pacer`]) and the MCU's receive FIFO ([`RxFifo`]).
//! `super::Uart` runs them in real time.

use std::collections::VecDeque;
use std::time::Duration;

/// SplitMix64: small, seedable, good enough for fault injection.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// True with probability `p` (draws nothing when `p` is 0).
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}

/// Per-byte faults of one direction.
pub struct Faults {
    rng: Rng,
    bitflip_rate: f64,
    drop_rate: f64,
    pub bitflips: u64,
    pub dropped: u64,
}

impl Faults {
    pub fn new(seed: u64, bitflip_rate: f64, drop_rate: f64) -> Faults {
        Faults {
            rng: Rng::new(seed),
            bitflip_rate,
            drop_rate,
            bitflips: 0,
            dropped: 0,
        }
    }

    /// The byte as the far end sees it, or `None` if the line lost it.
    pub fn apply(&mut self, byte: u8) -> Option<u8> {
        if self.rng.chance(self.drop_rate) {
            self.dropped += 1;
            return None;
        }
        if self.rng.chance(self.bitflip_rate) {
            self.bitflips += 1;
            return Some(byte ^ 1 << (self.rng.next_u64() % 8));
        }
        Some(byte)
    }
}

/// How late each of the MCU's writes reaches the module: a USB-serial adapter holds what it
/// received until its latency timer runs out (FTDI's default: 16 ms), TCP with Nagle's
/// algorithm until the last segment is acknowledged. Drawn per write, seeded.
pub struct Latency {
    rng: Rng,
    low: Duration,
    high: Duration,
}

impl Latency {
    pub fn new(seed: u64, (low, high): (Duration, Duration)) -> Latency {
        Latency {
            rng: Rng::new(seed),
            low,
            high,
        }
    }

    /// The next write's latency.
    pub fn draw(&mut self) -> Duration {
        if self.high <= self.low {
            return self.low;
        }
        let span = (self.high - self.low).as_micros() as u64 + 1;
        self.low + Duration::from_micros(self.rng.next_u64() % span)
    }
}

/// Timing of one direction: one byte at a time, `bits` bit times each.
pub struct Pacer {
    byte_time: Duration,
    free_at: Duration,
}

impl Pacer {
    pub fn new(baud: u32, bits: u32) -> Pacer {
        Pacer {
            byte_time: byte_time(baud, bits),
            free_at: Duration::ZERO,
        }
    }

    /// A byte ready to go at `ready` has fully arrived at the far end at the returned time.
    pub fn schedule(&mut self, ready: Duration) -> Duration {
        self.free_at = self.free_at.max(ready) + self.byte_time;
        self.free_at
    }
}

/// The time one byte of `bits` bit times (10 for 8N1, 11 for 8E1) takes on the line.
pub fn byte_time(baud: u32, bits: u32) -> Duration {
    Duration::from_nanos(u64::from(bits) * 1_000_000_000 / u64::from(baud.max(1)))
}

/// The MCU's receive FIFO.
pub struct RxFifo {
    bytes: VecDeque<u8>,
    capacity: usize,
    pub overruns: u64,
    /// During a busy period: the bytes the MCU had not read when it went busy, plus those
    /// that arrived since. What the FIFO must hold.
    held: usize,
}

impl RxFifo {
    pub fn new(capacity: usize) -> RxFifo {
        RxFifo {
            bytes: VecDeque::with_capacity(capacity),
            capacity,
            overruns: 0,
            held: 0,
        }
    }

    /// The MCU goes busy: what it has not read yet counts against the FIFO.
    pub fn go_busy(&mut self) {
        self.held = self.bytes.len();
    }

    /// A byte arrives; `busy` says whether the MCU was busy then (not reading), in which case
    /// a full FIFO loses it. A byte that arrived while the MCU was reading is never lost,
    /// even if the line hands it over only after the MCU went busy (the simulator's threads
    /// can be late; the MCU would have read it).
    pub fn arrive(&mut self, byte: u8, busy: bool) {
        if !busy {
            self.bytes.push_back(byte);
        } else if self.held >= self.capacity {
            self.overruns += 1;
        } else {
            self.held += 1;
            self.bytes.push_back(byte);
        }
    }

    /// Moves up to `out.len()` bytes out; returns how many.
    pub fn take(&mut self, out: &mut [u8]) -> usize {
        let n = out.len().min(self.bytes.len());
        for (slot, byte) in out.iter_mut().zip(self.bytes.drain(..n)) {
            *slot = byte;
        }
        n
    }

    pub fn clear(&mut self) {
        self.bytes.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacing_is_ten_bits_per_byte_and_back_to_back() {
        let mut p = Pacer::new(115_200, 10);
        let bt = byte_time(115_200, 10);
        assert_eq!(byte_time(115_200, 11), Duration::from_nanos(95_486));
        assert_eq!(bt, Duration::from_nanos(86_805));
        let t0 = Duration::from_millis(5);
        assert_eq!(p.schedule(t0), t0 + bt);
        // Ready earlier than the line is free: queued behind the previous byte.
        assert_eq!(p.schedule(t0), t0 + 2 * bt);
        // Ready after an idle gap: starts when ready.
        let t1 = Duration::from_millis(10);
        assert_eq!(p.schedule(t1), t1 + bt);
        // 11520 bytes at 115200 baud take one second.
        let mut p = Pacer::new(115_200, 10);
        let last = (0..11_520)
            .map(|_| p.schedule(Duration::ZERO))
            .last()
            .unwrap();
        assert!((last.as_secs_f64() - 1.0).abs() < 1e-4, "{last:?}");
    }

    #[test]
    fn fifo_overruns_only_while_the_mcu_is_busy() {
        let mut f = RxFifo::new(4);
        f.go_busy();
        for b in 0..10 {
            f.arrive(b, true);
        }
        assert_eq!(f.overruns, 6);
        let mut out = [0u8; 8];
        assert_eq!(f.take(&mut out), 4);
        assert_eq!(&out[..4], &[0, 1, 2, 3]);
        // Reading: nothing is lost, however much comes at once.
        for b in 0..10 {
            f.arrive(b, false);
        }
        assert_eq!(f.overruns, 6);
        // Busy again: what is unread still counts.
        f.go_busy();
        f.arrive(10, true);
        assert_eq!(f.overruns, 7);
        // Bytes that arrived before, handed over late, are kept and do not count.
        f.arrive(11, false);
        assert_eq!(f.overruns, 7);
        assert_eq!(f.take(&mut out), 8);
        assert_eq!(&out[..8], &[0, 1, 2, 3, 4, 5, 6, 7]);
        f.go_busy();
        f.arrive(12, true);
        f.arrive(13, true);
        assert_eq!(f.overruns, 8, "3 unread and 1 new fit, the next does not");
        assert_eq!(f.take(&mut out), 4);
        assert_eq!(&out[..4], &[8, 9, 11, 12]);
    }

    #[test]
    fn faults_are_seeded_and_at_the_given_rate() {
        let run = |seed| {
            let mut f = Faults::new(seed, 0.01, 0.01);
            let out: Vec<Option<u8>> = (0..100_000).map(|i| f.apply(i as u8)).collect();
            (out, f.bitflips, f.dropped)
        };
        let (a, flips, drops) = run(7);
        assert_eq!(a, run(7).0, "same seed, same faults");
        assert_ne!(a, run(8).0, "another seed, other faults");
        assert!((800..1200).contains(&flips), "{flips}");
        assert!((800..1200).contains(&drops), "{drops}");
        // A flipped byte differs in exactly one bit.
        for (i, b) in a.iter().enumerate() {
            if let Some(b) = b {
                assert!((b ^ i as u8).count_ones() <= 1);
            }
        }
    }

    #[test]
    fn no_faults_at_rate_zero() {
        let mut f = Faults::new(1, 0.0, 0.0);
        assert!((0..=255u8).all(|b| f.apply(b) == Some(b)));
    }
}
