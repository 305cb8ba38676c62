//! The line to the MCU: a serial port (`serialport`: termios on Linux, raw 8N1, no flow
//! control, opened exclusively) or, for the simulator and qemu, a TCP connection.

use crate::failure::{Class, Failure};
use serialport::{Parity, SerialPort};
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Where the MCU is (`--port PATH --baud N` or `--tcp HOST:PORT`).
#[derive(clap::Args, Clone, Debug)]
#[group(required = true, multiple = false)]
pub struct Target {
    /// Serial port of the MCU's bootloader (e.g. /dev/ttyUSB0)
    #[arg(long, value_name = "PATH")]
    pub port: Option<String>,
    /// A TCP connection instead of a port (the simulator, qemu's chardev)
    #[arg(long, value_name = "HOST:PORT")]
    pub tcp: Option<String>,
}

/// The longest one read waits, so that Ctrl-C is seen promptly.
const READ_SLICE: Duration = Duration::from_millis(50);

pub enum Line {
    Serial(Box<dyn SerialPort>),
    Tcp(TcpStream),
}

impl Line {
    /// Opens the target. `baud` and `parity` set the port's framing (TCP has none).
    pub fn open(target: &Target, baud: u32, parity: Parity) -> Result<(Line, String), Failure> {
        if let Some(path) = &target.port {
            let port = serialport::new(path, baud)
                .data_bits(serialport::DataBits::Eight)
                .parity(parity)
                .stop_bits(serialport::StopBits::One)
                .flow_control(serialport::FlowControl::None)
                .timeout(READ_SLICE)
                .open()
                .map_err(|e| Failure::new(Class::Port, format!("--port {path}: {}", why(&e))))?;
            return Ok((Line::Serial(port), path.clone()));
        }
        let addr = target.tcp.as_deref().unwrap_or_default();
        let stream = TcpStream::connect(addr)
            .map_err(|e| Failure::new(Class::Port, format!("--tcp {addr}: {e}")))?;
        let _ = stream.set_nodelay(true);
        Ok((Line::Tcp(stream), format!("tcp:{addr}")))
    }

    /// Writes all of `bytes`.
    pub fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Line::Serial(port) => {
                // A UART drains at its rate: allow the frame's time on the wire and a margin.
                let wire = bytes.len() as u64 * 10_000 / u64::from(port.baud_rate()?.max(1));
                port.set_timeout(Duration::from_millis(2000 + wire))?;
                port.write_all(bytes)
            }
            Line::Tcp(stream) => stream.write_all(bytes),
        }
    }

    /// What arrives within `wait` (at most [`READ_SLICE`]): 0 if nothing did. `expects`
    /// bytes of an answer are still to come (0: unknown): once the first arrived, a serial
    /// port sleeps for the rest's time on the wire and takes it in one more read, instead of
    /// waking for each few bytes (the ROM bootloader's 257-byte read-back answers).
    pub fn read(&mut self, buf: &mut [u8], wait: Duration, expects: usize) -> io::Result<usize> {
        let n = self.read_some(buf, wait)?;
        if n == 0 || n >= expects.min(buf.len()) {
            return Ok(n);
        }
        match self.wire_time(expects.min(buf.len()) - n)? {
            Some(rest) => {
                std::thread::sleep(rest.min(READ_SLICE));
                Ok(n + self.read_some(&mut buf[n..], Duration::ZERO)?)
            }
            None => Ok(n),
        }
    }

    /// How long `bytes` take on a serial port's wire (start, 8 data bits, parity, stop);
    /// None for TCP.
    fn wire_time(&self, bytes: usize) -> io::Result<Option<Duration>> {
        let Line::Serial(port) = self else {
            return Ok(None);
        };
        let bits = if port.parity()? == Parity::None {
            10
        } else {
            11
        };
        let baud = u64::from(port.baud_rate()?.max(1));
        Ok(Some(Duration::from_micros(
            bytes as u64 * bits * 1_000_000 / baud,
        )))
    }

    /// What arrives within `wait` (clamped to 1 ms .. [`READ_SLICE`]): 0 if nothing did.
    fn read_some(&mut self, buf: &mut [u8], wait: Duration) -> io::Result<usize> {
        let wait = wait.clamp(Duration::from_millis(1), READ_SLICE);
        let got = match self {
            Line::Serial(port) => {
                port.set_timeout(wait)?;
                port.read(buf)
            }
            Line::Tcp(stream) => {
                stream.set_read_timeout(Some(wait))?;
                match stream.read(buf) {
                    Ok(0) => Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the connection was closed",
                    )),
                    r => r,
                }
            }
        };
        match got {
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
                ) =>
            {
                Ok(0)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(0),
            r => r,
        }
    }
}

/// A port error in plain words: a missing device, a busy one and a file that is no tty say
/// so. `serialport` gives `NoDevice` for a port another program holds (EBUSY at open, or
/// its exclusive lock taken) and `NotFound` for a path that does not exist.
fn why(e: &serialport::Error) -> String {
    match e.kind() {
        serialport::ErrorKind::NoDevice => {
            format!("busy: another program has the port open ({e})")
        }
        serialport::ErrorKind::Io(io::ErrorKind::NotFound) => format!("no such port ({e})"),
        _ if e.to_string().contains("Not a typewriter")
            || e.to_string().contains("Inappropriate ioctl") =>
        {
            format!("not a serial port ({e})")
        }
        _ => e.to_string(),
    }
}
