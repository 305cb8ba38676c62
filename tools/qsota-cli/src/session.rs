//! One transfer: the core's driver (`qsota::transfer::drive`) over the line, the image in
//! memory and a clock, with Ctrl-C and the progress bar watching each step.

use crate::failure::{Class, Failure};
use crate::line::Line;
use crate::protocol::Job;
use qsota::transfer::{self, Fail, Io, Stop};
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Set by the Ctrl-C handler (see main).
pub static INTERRUPTED: AtomicBool = AtomicBool::new(false);

pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// The driver's view of the world.
struct Wire<'a> {
    line: &'a mut Line,
    image: &'a [u8],
    start: Instant,
    /// When the first image byte was read: the data phase starts (the MCU's erase before
    /// it is the MCU's time, not the line's).
    first_read: Option<Duration>,
}

impl Io for Wire<'_> {
    type Error = Failure;

    fn now_ms(&mut self) -> u32 {
        self.start.elapsed().as_millis() as u32
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        self.line.write_all(bytes).map_err(port_failure)
    }

    fn read(&mut self, buf: &mut [u8], until_ms: u32, expects: usize) -> Result<usize, Failure> {
        let wait = until_ms.wrapping_sub(self.now_ms()) as i32;
        let wait = Duration::from_millis(wait.max(0) as u64);
        self.line.read(buf, wait, expects).map_err(port_failure)
    }

    fn read_image(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, Failure> {
        self.first_read.get_or_insert_with(|| self.start.elapsed());
        let from = usize::try_from(offset).map_or(self.image.len(), |o| o.min(self.image.len()));
        let n = buf.len().min(self.image.len() - from);
        buf[..n].copy_from_slice(&self.image[from..from + n]);
        Ok(n)
    }
}

fn port_failure(e: io::Error) -> Failure {
    Failure::new(Class::Port, format!("the port failed: {e}"))
}

/// How a transfer went.
pub struct Outcome {
    pub result: Result<(), Failure>,
    pub elapsed: Duration,
    /// From the first image read to the end.
    pub data_time: Option<Duration>,
}

/// Runs `job` to its end; `until` may stop it early at a state (see `transfer::drive`), and
/// Ctrl-C always does. `watch` sees the sender after every step (the progress bar).
pub fn run<J: Job + ?Sized>(
    job: &mut J,
    line: &mut Line,
    image: &[u8],
    protocol: &str,
    mut until: impl FnMut(&J) -> bool,
    mut watch: impl FnMut(&J),
) -> Outcome {
    let mut frame = vec![0u8; job.frame_size()];
    let mut rx = [0u8; 256];
    let mut wire = Wire {
        line,
        image,
        start: Instant::now(),
        first_read: None,
    };
    let stop = |j: &J| {
        watch(j);
        interrupted() || until(j)
    };
    let ended = transfer::drive(job, &mut wire, &mut frame, &mut rx, stop);
    let elapsed = wire.start.elapsed();
    let data_time = wire.first_read.map(|t| elapsed.saturating_sub(t));
    let result = ended.map_err(|stop| match stop {
        Stop::Io(failure) => failure,
        Stop::Failed(Fail::Cancelled) if interrupted() => Failure::new(
            Class::Interrupted,
            format!("{protocol}: interrupted; {}", job.interrupted()),
        ),
        Stop::Failed(fail) => {
            let mut why = fail.message().to_string();
            if let Some(reason) = job.reason() {
                why += &format!(" ({reason})");
            }
            Failure::new(
                Class::Transfer(fail),
                format!(
                    "{protocol}: {why} ({} of {} bytes acknowledged)",
                    job.acked(),
                    image.len()
                ),
            )
        }
    });
    Outcome {
        result,
        elapsed,
        data_time,
    }
}
