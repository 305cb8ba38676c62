//! The UART line between the module (a TCP peer) and the simulated MCU.
//!
//! - Pacing in both directions: a byte takes 10 bit times (8N1) or 11 (8E1, ST's ROM
//!   bootloader), and a byte reaches the far end no earlier than the line can carry it
//!   ([`Pacer`]).
//! - The MCU's receive FIFO ([`RxFifo`]): like a DMA/IRQ ring buffer, it fills while the MCU
//!   is busy (erasing, programming) and loses bytes on overrun. Otherwise the MCU is reading:
//!   its CPU takes bytes far faster than any UART delivers them, so nothing is lost.
//! - Seeded per-byte faults for each direction ([`Faults`]), and the answers' latency: each
//!   write of the MCU reaches the module that much later, in order ([`Latency`]).
//!
//! The models take time as an argument; [`Uart`] runs them in real time with three threads
//! (socket reader, module->MCU pump, MCU->module pump) that sleep until each deadline.

mod model;

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use model::{Faults, Latency, Pacer, RxFifo};

/// Why an MCU-side call cannot go on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Halt {
    /// The MCU resets (fault injection): RAM state is lost, flash is kept.
    Reset,
    /// The module has gone (or the simulator stops) and nothing more will arrive.
    Closed,
}

/// Line statistics for the summary.
#[derive(Default, Clone, Copy)]
pub struct LineStats {
    /// Bytes the module sent, as they left the line (including lost ones).
    pub to_mcu: u64,
    /// Bytes the MCU sent onto the line.
    pub to_module: u64,
    pub bitflips: u64,
    pub dropped: u64,
    pub reply_bitflips: u64,
    pub reply_dropped: u64,
    pub overruns: u64,
    /// Bytes that arrived while the MCU was rebooting.
    pub lost_in_reset: u64,
}

struct State {
    rx: RxFifo,
    /// The MCU's last busy period (start, end), in line time.
    busy: (Duration, Duration),
    tx: VecDeque<(Duration, u8)>,
    tx_pacer: Pacer,
    latency: Latency,
    powered: bool,
    /// The module has gone and every byte it sent has been delivered.
    closed: bool,
    /// The simulator is ending: pumps stop once the MCU's last bytes are out.
    stop: bool,
    stats: LineStats,
}

/// Fault rates and the seed for both directions.
#[derive(Clone, Copy, Default)]
pub struct LineFaults {
    pub seed: u64,
    pub bitflip_rate: f64,
    pub drop_rate: f64,
    pub reply_bitflip_rate: f64,
    pub reply_drop_rate: f64,
    /// The range each answer's latency is drawn from.
    pub reply_latency: (Duration, Duration),
}

/// The real-time line, shared by the MCU thread and the pumps.
pub struct Uart {
    state: Mutex<State>,
    /// Bytes for the MCU, or the end of the line.
    to_mcu: Condvar,
    /// Bytes for the module, or a change in what the MCU queued.
    to_module: Condvar,
    epoch: Instant,
    /// Bit times per byte.
    bits: u32,
}

/// How often blocked pumps look at the stop flag.
const POLL: Duration = Duration::from_millis(20);
/// Bytes reach the MCU in batches this long (each still counted at its own arrival time);
/// the last byte of a burst, which a receiver waits for, is delivered on time.
const BATCH: Duration = Duration::from_millis(1);
/// How long the simulator keeps reading after it stops, waiting for the module to close.
const LINGER: Duration = Duration::from_secs(1);

impl Uart {
    pub fn new(baud: u32, bits: u32, fifo: usize) -> Uart {
        Uart {
            state: Mutex::new(State {
                rx: RxFifo::new(fifo),
                busy: (Duration::ZERO, Duration::ZERO),
                tx: VecDeque::new(),
                tx_pacer: Pacer::new(baud, bits),
                latency: Latency::new(0, (Duration::ZERO, Duration::ZERO)),
                powered: true,
                closed: false,
                stop: false,
                stats: LineStats::default(),
            }),
            to_mcu: Condvar::new(),
            to_module: Condvar::new(),
            epoch: Instant::now(),
            bits,
        }
    }

    /// Time since the line started.
    pub fn now(&self) -> Duration {
        self.epoch.elapsed()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts the pumps over `stream`; they end after [`Uart::stop`].
    pub fn start(
        self: &Arc<Self>,
        stream: TcpStream,
        baud: u32,
        faults: LineFaults,
    ) -> std::io::Result<Vec<thread::JoinHandle<()>>> {
        let (chunks_in, chunks_out) = sync_channel(4);
        let reader = stream.try_clone()?;
        reader.set_read_timeout(Some(POLL))?;
        let down = Faults::new(faults.seed, faults.bitflip_rate, faults.drop_rate);
        let up = Faults::new(
            faults.seed ^ 0x5EED_F00D_2E71_1E55,
            faults.reply_bitflip_rate,
            faults.reply_drop_rate,
        );
        let pacer = Pacer::new(baud, self.bits);
        self.lock().latency = Latency::new(faults.seed ^ 0x1A7E_0C1E, faults.reply_latency);
        let (a, b, c) = (self.clone(), self.clone(), self.clone());
        Ok(vec![
            thread::spawn(move || a.read_socket(reader, chunks_in)),
            thread::spawn(move || b.pump_to_mcu(chunks_out, pacer, down)),
            thread::spawn(move || c.pump_to_module(stream, up)),
        ])
    }

    /// Reads what the module writes, time-stamped. The small channel keeps the rest in the
    /// socket, so the module's writes block like a UART driver's when the line is behind.
    /// Once the simulator stops it reads and discards until the module closes (at most
    /// [`LINGER`]), so that closing does not reset a connection with unread bytes.
    fn read_socket(&self, mut stream: TcpStream, chunks: SyncSender<(Duration, Vec<u8>)>) {
        let mut buf = [0u8; 256];
        let mut stopped_at = None;
        loop {
            let result = stream.read(&mut buf);
            if stopped_at.is_none() && self.lock().stop {
                stopped_at = Some(Instant::now());
            }
            if stopped_at.is_some_and(|t| t.elapsed() > LINGER) {
                return;
            }
            match result {
                Ok(0) => return,
                Ok(n) if stopped_at.is_none() => {
                    if chunks.send((self.now(), buf[..n].to_vec())).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(e) if is_timeout(&e) => {}
                Err(_) => return,
            }
        }
    }

    /// Delivers the module's bytes into the FIFO at their arrival times.
    fn pump_to_mcu(
        &self,
        chunks: Receiver<(Duration, Vec<u8>)>,
        mut pacer: Pacer,
        mut faults: Faults,
    ) {
        let mut pending: VecDeque<(Duration, u8)> = VecDeque::new();
        let mut schedule = |pending: &mut VecDeque<_>, (ready, bytes): (Duration, Vec<u8>)| {
            pending.extend(bytes.into_iter().map(|b| (pacer.schedule(ready), b)));
        };
        loop {
            if pending.is_empty() {
                match chunks.recv_timeout(POLL) {
                    Ok(chunk) => schedule(&mut pending, chunk),
                    Err(RecvTimeoutError::Timeout) if !self.lock().stop => continue,
                    Err(_) => break,
                }
            }
            while let Ok(chunk) = chunks.try_recv() {
                schedule(&mut pending, chunk);
            }
            let (due, last) = (pending[0].0, pending[pending.len() - 1].0);
            let wake = (due + BATCH).min(last);
            let now = self.now();
            if wake > now {
                thread::sleep(wake - now);
            }
            let now = self.now();
            let mut s = self.lock();
            while let Some(&(at, byte)) = pending.front().filter(|(at, _)| *at <= now) {
                pending.pop_front();
                s.stats.to_mcu += 1;
                let Some(byte) = faults.apply(byte) else {
                    continue;
                };
                if s.powered {
                    let busy = s.busy.0 <= at && at < s.busy.1;
                    s.rx.arrive(byte, busy);
                } else {
                    s.stats.lost_in_reset += 1;
                }
            }
            s.stats.bitflips = faults.bitflips;
            s.stats.dropped = faults.dropped;
            s.stats.overruns = s.rx.overruns;
            drop(s);
            self.to_mcu.notify_all();
        }
        self.lock().closed = true;
        self.to_mcu.notify_all();
    }

    /// Writes the MCU's bytes to the module at their arrival times.
    fn pump_to_module(&self, mut stream: TcpStream, mut faults: Faults) {
        let mut out = Vec::new();
        let mut s = self.lock();
        loop {
            let now = self.now();
            while let Some(&(_, byte)) = s.tx.front().filter(|(at, _)| *at <= now) {
                s.tx.pop_front();
                out.extend(faults.apply(byte));
            }
            s.stats.reply_bitflips = faults.bitflips;
            s.stats.reply_dropped = faults.dropped;
            if !out.is_empty() {
                drop(s);
                // A module that has gone cannot hear the MCU: its bytes are lost.
                let _ = stream.write_all(&out);
                out.clear();
                self.to_module.notify_all();
                s = self.lock();
                continue;
            }
            let wait = match s.tx.front() {
                Some(&(at, _)) => at.saturating_sub(now),
                None if s.stop => break,
                None => POLL,
            };
            s = self
                .to_module
                .wait_timeout(s, wait)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        let _ = stream.shutdown(std::net::Shutdown::Write);
    }

    /// Waits until at least one byte is there or `deadline` passes; returns how many bytes
    /// it moved into `buf` (0 on timeout).
    pub fn recv(&self, buf: &mut [u8], deadline: Duration) -> Result<usize, Halt> {
        let mut s = self.lock();
        loop {
            let n = s.rx.take(buf);
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            if s.closed || s.stop {
                return Err(Halt::Closed);
            }
            let now = self.now();
            if now >= deadline {
                return Ok(0);
            }
            s = self
                .to_mcu
                .wait_timeout(s, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// The MCU is busy for `t` from now (flash work): it does not read the UART, so the
    /// FIFO fills and then overruns.
    pub fn busy(&self, t: Duration) {
        let now = self.now();
        let mut s = self.lock();
        s.busy = (now, now + t);
        s.rx.go_busy();
        drop(s);
        thread::sleep(t);
    }

    /// Queues bytes for the module (like a DMA transmit: the MCU does not wait); they reach
    /// it after the line's latency.
    pub fn send(&self, bytes: &[u8]) {
        let now = self.now();
        let mut s = self.lock();
        let ready = now + s.latency.draw();
        for &b in bytes {
            let at = s.tx_pacer.schedule(ready);
            s.tx.push_back((at, b));
            s.stats.to_module += 1;
        }
        drop(s);
        self.to_module.notify_all();
    }

    /// Powers the MCU's UART down (reboot: FIFO and unsent bytes are lost) or up.
    pub fn set_powered(&self, on: bool) {
        let mut s = self.lock();
        s.powered = on;
        if !on {
            s.rx.clear();
            s.stats.to_module -= s.tx.len() as u64;
            s.tx.clear();
        }
    }

    /// Waits until every byte the MCU queued is on the wire, then ends the pumps.
    pub fn stop(&self) {
        let mut s = self.lock();
        while !s.tx.is_empty() {
            s = self
                .to_module
                .wait_timeout(s, POLL)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        s.stop = true;
        drop(s);
        self.to_module.notify_all();
        self.to_mcu.notify_all();
    }

    /// Stops at once, dropping what the MCU has not sent yet.
    pub fn abandon(&self) {
        let mut s = self.lock();
        s.tx.clear();
        s.stop = true;
        drop(s);
        self.to_module.notify_all();
        self.to_mcu.notify_all();
    }

    pub fn stats(&self) -> LineStats {
        self.lock().stats
    }
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}
