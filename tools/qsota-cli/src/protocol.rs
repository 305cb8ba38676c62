//! The protocols, each the core's sender with its options: adding one is a variant, its
//! options and one arm in [`sender`] (plus a `Job` impl for its stats).

use crate::failure::{Class, Failure};
use crate::image::Image;
use qsota::link::sender as link;
use qsota::transfer::Sender;
use qsota::ymodem;
use serde_json::{json, Map, Value};

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// YMODEM (ST's IAP bootloader and its copies, lrzsz rb)
    Ymodem,
    /// qsota's link protocol (pipelined, resumable, read-back SHA-256 before commit)
    Native,
}

impl Protocol {
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Ymodem => "ymodem",
            Protocol::Native => "native",
        }
    }
}

/// Per-protocol options (the same names as `qsota.send`'s keyword options).
#[derive(clap::Args, Clone, Debug)]
pub struct Options {
    /// Retransmissions (YMODEM) or timeouts in a row (native) before giving up
    #[arg(long, default_value_t = 10)]
    pub retries: u8,
    /// YMODEM: the file name in the header (default: the image's base name)
    #[arg(long, value_name = "NAME", help_heading = "YMODEM")]
    pub name: Option<String>,
    /// YMODEM: data block size, 1024 or 128
    #[arg(long, default_value_t = 1024, help_heading = "YMODEM")]
    pub block_size: u16,
    /// Native: the component the MCU records (at most 32 bytes)
    #[arg(long, default_value = "", help_heading = "Native")]
    pub component: String,
    /// Native: the image's version the MCU records (at most 32 bytes)
    #[arg(
        long = "image-version",
        value_name = "VERSION",
        default_value = "",
        help_heading = "Native"
    )]
    pub image_version: String,
    /// Native: retransmission timeout in ms (0: the MCU's busy time + 1 s)
    #[arg(long, default_value_t = 0, help_heading = "Native")]
    pub rto_ms: u32,
    /// Native: how long the MCU may take to answer OPEN (it erases first), ms
    #[arg(long, default_value_t = 60_000, help_heading = "Native")]
    pub open_timeout_ms: u32,
}

/// A protocol's sender as the command drives it.
pub trait Job: Sender {
    /// The frame buffer `poll` needs.
    fn frame_size(&self) -> usize;
    /// Image bytes the receiver has acknowledged.
    fn acked(&self) -> u64;
    /// The sender's counters, named as in `qsota.send`'s stats.
    fn stats(&self) -> Map<String, Value>;
}

/// The sender for `protocol` with `opts`, for `image` on a line of `baud` (0: unknown).
pub fn sender(
    protocol: Protocol,
    opts: &Options,
    image: &Image,
    sha256: &[u8; 32],
    baud: u32,
) -> Result<Box<dyn Job>, Failure> {
    let size = image.bytes.len() as u64;
    let usage = |what: &str| Failure::new(Class::Usage, what.to_string());
    Ok(match protocol {
        Protocol::Ymodem => {
            let o = ymodem::Options {
                block_size: opts.block_size,
                retries: opts.retries,
                baud,
                ..ymodem::Options::default()
            };
            let name = opts.name.as_deref().unwrap_or(&image.name);
            Box::new(ymodem::Sender::new(name.as_bytes(), size, o).map_err(|_| {
                usage("--name must be 1 to 255 bytes without NUL; --block-size 1024 or 128")
            })?)
        }
        Protocol::Native => Box::new(native(opts, image, sha256)?),
    })
}

/// The native sender (also what `probe` opens with).
pub fn native(opts: &Options, image: &Image, sha256: &[u8; 32]) -> Result<link::Sender, Failure> {
    let o = link::Options {
        rto_ms: opts.rto_ms,
        open_timeout_ms: opts.open_timeout_ms,
        retries: opts.retries,
    };
    let (component, version) = (opts.component.as_bytes(), opts.image_version.as_bytes());
    link::Sender::new(image.bytes.len() as u64, sha256, component, version, o).map_err(|_| {
        Failure::new(
            Class::Usage,
            "--component and --image-version: at most 32 bytes each; --open-timeout-ms and \
             --rto-ms: 1 to 2^31 ms; the image below 4 GiB",
        )
    })
}

impl Job for ymodem::Sender {
    fn frame_size(&self) -> usize {
        ymodem::Sender::frame_size(self)
    }

    fn acked(&self) -> u64 {
        ymodem::Sender::stats(self).bytes
    }

    fn stats(&self) -> Map<String, Value> {
        let s = ymodem::Sender::stats(self);
        let v = json!({"bytes": s.bytes, "blocks": s.blocks, "frames": s.frames,
                       "retries": s.retries, "line_bytes": s.line_bytes});
        v.as_object().cloned().unwrap_or_default()
    }
}

impl Job for link::Sender {
    fn frame_size(&self) -> usize {
        link::Sender::frame_size(self)
    }

    fn acked(&self) -> u64 {
        link::Sender::stats(self).bytes
    }

    fn stats(&self) -> Map<String, Value> {
        let s = link::Sender::stats(self);
        let (window, payload) = self.window();
        let v = json!({"bytes": s.bytes, "frames": s.frames, "retries": s.retries,
                       "line_bytes": s.line_bytes, "resumed_from": s.resumed_from,
                       "resent_bytes": s.resent_bytes, "reopens": s.reopens,
                       "window": window, "payload": payload, "receiver_error": s.error});
        v.as_object().cloned().unwrap_or_default()
    }
}

/// The native receiver's ERROR codes (docs/protocol.md section 5), for messages.
pub fn receiver_error(code: u64) -> &'static str {
    const NAMES: [&str; 8] = [
        "", "version", "size", "flash", "digest", "not open", "state", "argument",
    ];
    NAMES.get(code as usize).copied().unwrap_or("unknown")
}
