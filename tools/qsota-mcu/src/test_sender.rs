//! For tests: the simulator served in-process, and a scriptable YMODEM sender over TCP.

use crate::cli;
use qsota::transfer::{self, Fail, Io, Stop};
use qsota::ymodem;
use serde_json::Value;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

pub const SOH: u8 = 0x01;
pub const STX: u8 = 0x02;
pub const EOT: u8 = 0x04;
pub const ACK: u8 = 0x06;
pub const NAK: u8 = 0x15;
pub const CAN: u8 = 0x18;
pub const C: u8 = b'C';

/// A running simulator and the module's end of the line.
pub struct Sim {
    stream: TcpStream,
    server: JoinHandle<Result<(String, Vec<u8>), String>>,
}

/// The summary as JSON, and the image the simulator stored.
pub struct Report {
    pub summary: Value,
    pub image: Vec<u8>,
}

impl Sim {
    /// Starts the simulator with `args` (after `--listen 127.0.0.1:0`) and connects.
    pub fn start(args: &[&str]) -> Sim {
        let mut all = vec!["--listen", "127.0.0.1:0", "--timeout", "60"];
        all.extend_from_slice(args);
        let opts = cli::parse(all.into_iter().map(String::from))
            .expect("options")
            .expect("not --help");
        let listener = TcpListener::bind(&opts.listen).unwrap();
        let addr = listener.local_addr().unwrap();
        let server = thread::spawn(move || crate::serve(&opts, listener));
        let stream = TcpStream::connect(addr).unwrap();
        stream.set_nodelay(true).unwrap();
        Sim { stream, server }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    /// Sends what the simulator still takes; false once it has closed the line.
    pub fn try_send(&mut self, bytes: &[u8]) -> bool {
        self.stream.write_all(bytes).is_ok()
    }

    /// Everything that arrives within `wait`.
    pub fn read_for(&mut self, wait: Duration) -> Vec<u8> {
        let end = Instant::now() + wait;
        let mut out = Vec::new();
        let mut buf = [0u8; 512];
        loop {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return out;
            }
            self.stream.set_read_timeout(Some(left)).unwrap();
            match self.stream.read(&mut buf) {
                Ok(0) => return out,
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(_) => return out,
            }
        }
    }

    /// Reads what arrives within `wait` (at least one byte if any comes); 0 if nothing.
    pub fn read_some(&mut self, buf: &mut [u8], wait: Duration) -> usize {
        self.stream
            .set_read_timeout(Some(wait.max(Duration::from_millis(1))))
            .unwrap();
        match self.stream.read(buf) {
            Ok(0) => {
                // The simulator has closed the line: nothing will come.
                thread::sleep(wait);
                0
            }
            Ok(n) => n,
            Err(_) => 0,
        }
    }

    /// Reads exactly `want.len()` bytes within `wait` and checks them.
    pub fn expect(&mut self, want: &[u8], wait: Duration) {
        let end = Instant::now() + wait;
        let mut got = vec![0u8; want.len()];
        let mut n = 0;
        while n < want.len() {
            let left = end.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "expected {want:02x?} within {wait:?}, got {:02x?}",
                &got[..n]
            );
            self.stream.set_read_timeout(Some(left)).unwrap();
            match self.stream.read(&mut got[n..]) {
                Ok(0) | Err(_) => {
                    panic!("expected {want:02x?}, got {:02x?} then nothing", &got[..n])
                }
                Ok(k) => n += k,
            }
        }
        assert_eq!(got, want);
    }

    /// Closes the module's end and returns the simulator's report.
    pub fn finish(self) -> Report {
        let _ = self.stream.shutdown(std::net::Shutdown::Write);
        let mut rest = Vec::new();
        let _ = (&self.stream).read_to_end(&mut rest);
        let (json, image) = self.server.join().unwrap().expect("serve");
        let summary = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
        Report { summary, image }
    }
}

/// A data block: STX for 1024 bytes, SOH for 128, padded with 0x1A.
pub fn block(number: u8, data: &[u8]) -> Vec<u8> {
    let size = if data.len() > 128 { 1024 } else { 128 };
    framed(
        if size == 1024 { STX } else { SOH },
        number,
        data,
        size,
        0x1A,
    )
}

/// Block 0: `name NUL size`, NUL padded.
pub fn header(name: &str, size: usize) -> Vec<u8> {
    let mut d = name.as_bytes().to_vec();
    d.push(0);
    d.extend_from_slice(size.to_string().as_bytes());
    framed(SOH, 0, &d, 128, 0)
}

/// The end-of-batch block 0 (empty name).
pub fn null_header() -> Vec<u8> {
    framed(SOH, 0, &[], 128, 0)
}

fn framed(start: u8, number: u8, data: &[u8], size: usize, pad: u8) -> Vec<u8> {
    let mut body = data.to_vec();
    body.resize(size, pad);
    let crc = crc::Crc::<u16>::new(&crc::CRC_16_XMODEM).checksum(&body);
    let mut f = vec![start, number, !number];
    f.extend_from_slice(&body);
    f.extend_from_slice(&crc.to_be_bytes());
    f
}

/// The image's data blocks: 1024 bytes each, the tail in one 128 or 1024-byte block.
pub fn blocks(image: &[u8]) -> Vec<Vec<u8>> {
    image
        .chunks(1024)
        .enumerate()
        .map(|(i, chunk)| block((i + 1) as u8, chunk))
        .collect()
}

/// A test image: bytes that differ between offsets and images.
pub fn image(len: usize, salt: u8) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8 ^ salt).collect()
}

/// The simulator's line and an image in memory, for the core's driver.
struct SimIo<'a> {
    sim: &'a mut Sim,
    image: &'a [u8],
    start: Instant,
}

impl Io for SimIo<'_> {
    type Error = std::convert::Infallible;

    fn now_ms(&mut self) -> u32 {
        self.start.elapsed().as_millis() as u32
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), Self::Error> {
        self.sim.try_send(bytes);
        Ok(())
    }

    fn read(&mut self, buf: &mut [u8], until_ms: u32, _: usize) -> Result<usize, Self::Error> {
        let wait = until_ms.saturating_sub(self.now_ms());
        Ok(self.sim.read_some(buf, Duration::from_millis(wait.into())))
    }

    fn read_image(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let from = (offset as usize).min(self.image.len());
        let part = &self.image[from..(from + buf.len()).min(self.image.len())];
        buf[..part.len()].copy_from_slice(part);
        Ok(part.len())
    }
}

/// Sends `image` with the core's YMODEM sender (`qsota::ymodem`) over the simulator's line,
/// driven by the core's driver (`qsota::transfer::drive`); what the sender concluded.
pub fn send_with_core(sim: &mut Sim, name: &str, image: &[u8], baud: u32) -> Result<(), Fail> {
    let opts = ymodem::Options {
        baud,
        ..ymodem::Options::default()
    };
    let mut sender = ymodem::Sender::new(name.as_bytes(), image.len() as u64, opts).unwrap();
    let frame = sender.frame_size();
    drive(sim, &mut sender, frame, image)
}

/// Runs any core sender over the simulator's line with a frame buffer of `frame` bytes,
/// driven by the core's driver (`qsota::transfer::drive`); what the sender concluded.
pub fn drive(
    sim: &mut Sim,
    sender: &mut impl qsota::transfer::Sender,
    frame: usize,
    image: &[u8],
) -> Result<(), Fail> {
    let mut frame = vec![0u8; frame];
    let mut io = SimIo {
        sim,
        image,
        start: Instant::now(),
    };
    transfer::drive(sender, &mut io, &mut frame, &mut [0u8; 256], |_| false).map_err(|stop| {
        match stop {
            Stop::Failed(fail) => fail,
            Stop::Io(never) => match never {},
        }
    })
}
