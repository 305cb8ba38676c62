//! MCUboot serial recovery (SMP over the console): the core's `mcuboot::Sender`.

use super::job::{frame_and_acked, object, Job};
use crate::failure::{Class, Failure};
use crate::image::{hex, Image};
use qsota::mcuboot::{self, Sender, Step};
use serde_json::{json, Map, Value};

#[derive(clap::Args, Clone, Debug)]
#[command(next_help_heading = "MCUboot serial recovery")]
pub struct McubootArgs {
    /// Image number (multi-image MCUboot)
    #[arg(long, default_value_t = 0)]
    pub mcuboot_image: u8,
    /// Cap on the request size, 128 to 65535 (0: as large as MCUboot allows, up to 2048)
    #[arg(long, default_value_t = 0)]
    pub buf_size: u16,
    /// Ask the application's SMP server to reset into MCUboot first (os reset, boot mode 1)
    #[arg(long)]
    pub enter: bool,
    /// After --enter: time for the MCU to restart into MCUboot, ms
    #[arg(long, default_value_t = 1000)]
    pub boot_ms: u32,
    /// Start the upload from 0 even if MCUboot has one under way
    #[arg(long)]
    pub no_resume: bool,
    /// Stay in MCUboot after the image is verified (no os reset)
    #[arg(long)]
    pub no_reset: bool,
}

pub fn mcuboot_sender(
    a: &McubootArgs,
    retries: u8,
    image: &Image,
    sha256: &[u8; 32],
) -> Result<Sender, Failure> {
    mcuboot_upload(image, sha256, mcuboot_options(a, retries))
}

/// A sender that uploads nothing and reads MCUboot's image list (`qsota probe`).
pub fn mcuboot_lister(a: &McubootArgs, retries: u8) -> Result<Sender, Failure> {
    Sender::lister(mcuboot_options(a, retries)).map_err(|_| bad_options())
}

/// The core's options from the command line.
pub fn mcuboot_options(a: &McubootArgs, retries: u8) -> mcuboot::Options {
    mcuboot::Options {
        image: a.mcuboot_image,
        buf_size: a.buf_size,
        enter: a.enter,
        resume: !a.no_resume,
        reset: !a.no_reset,
        boot_ms: a.boot_ms,
        retries,
        ..mcuboot::Options::default()
    }
}

/// An upload of `image` with the options `o`.
pub fn mcuboot_upload(
    image: &Image,
    sha256: &[u8; 32],
    o: mcuboot::Options,
) -> Result<Sender, Failure> {
    let hash =
        qsota::image::tlv_hash(&image.bytes, &[], image.bytes.len() as u64).ok_or_else(|| {
            Failure::new(
                Class::Transfer(qsota::transfer::Fail::Source),
                format!(
                    "mcuboot: {} is not a signed MCUboot image (no SHA-256 TLV)",
                    image.name
                ),
            )
        })?;
    Sender::new(image.bytes.len() as u64, *sha256, hash, o).map_err(|_| bad_options())
}

fn bad_options() -> Failure {
    Failure::new(
        Class::Usage,
        "mcuboot: --buf-size 0 or 128 to 65535, --boot-ms 1 to 2^31; the image 1 byte to 4 GiB",
    )
}

/// MCUboot's image list as JSON: one object per slot it validated.
pub fn image_list(body: &[u8]) -> Option<Vec<Value>> {
    let mut images = Vec::new();
    mcuboot::each_listed(body, |e| {
        let mut o = object(json!({"image": e.image, "slot": e.slot,
                                  "version": String::from_utf8_lossy(e.version),
                                  "hash": e.hash.map(|h| hex(&h))}));
        for (flag, set) in [
            ("bootable", e.bootable),
            ("confirmed", e.confirmed),
            ("pending", e.pending),
            ("permanent", e.permanent),
        ] {
            if set {
                o.insert(flag.into(), true.into());
            }
        }
        images.push(Value::Object(o));
    })?;
    Some(images)
}

impl Job for Sender {
    frame_and_acked!();

    fn stats(&self) -> Map<String, Value> {
        let s = Sender::stats(self);
        object(
            json!({"bytes": s.bytes, "frames": s.frames, "retries": s.retries,
                      "line_bytes": s.line_bytes, "chunks": s.chunks,
                      "resumed_from": s.resumed_from, "resent_bytes": s.resent_bytes,
                      "buf_size": s.buf_size, "chunk": s.chunk, "step": s.step as u8,
                      "rc": s.rc, "hash": s.listed.then(|| hex(&s.hash))}),
        )
    }

    /// SMP has no abort: the sender stops between requests.
    fn interrupted(&self) -> String {
        let s = Sender::stats(self);
        let left = if (s.step as u8) < (Step::Upload as u8) {
            "nothing was uploaded".to_string()
        } else {
            format!(
                "MCUboot holds {} bytes of the upload in its slot and its offset in RAM: a \
                 send in this boot resumes",
                s.bytes
            )
        };
        format!("SMP has no abort; {left}")
    }

    fn reason(&self) -> Option<String> {
        let s = Sender::stats(self);
        let mut text = s.step.name().to_string();
        if s.rc != 0 {
            text += &format!("; MCUboot rc {}: {}", s.rc, mcuboot::rc_text(s.rc));
        } else if s.step == Step::List {
            text += "; MCUboot does not list the image as valid: bad signature or a corrupt image";
        }
        Some(text)
    }
}
