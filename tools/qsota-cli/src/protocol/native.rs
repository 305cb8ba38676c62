//! qsota's native protocol: the core's `native::sender::Sender`.

use super::job::{frame_and_acked, object, Job};
use crate::failure::{Class, Failure};
use crate::image::Image;
use qsota::delta::MAGIC;
use qsota::native::delta::{DeltaOpen, HEAD};
use qsota::native::frame::error_name;
use qsota::native::sender::{self as native, Sender};
use serde_json::{json, Map, Value};

#[derive(clap::Args, Clone, Debug)]
#[command(next_help_heading = "Native")]
pub struct NativeArgs {
    /// The component the MCU records (at most 32 bytes)
    #[arg(long, default_value = "")]
    pub component: String,
    /// The image's version the MCU records (at most 32 bytes)
    #[arg(long = "image-version", value_name = "VERSION", default_value = "")]
    pub image_version: String,
    /// Retransmission timeout in ms (0: adaptive, from the measured round trips)
    #[arg(long, default_value_t = 0)]
    pub rto_ms: u32,
    /// How long the MCU may take to answer OPEN (it erases first), ms
    #[arg(long, default_value_t = 60_000)]
    pub open_timeout_ms: u32,
    /// The receiver commits the image (or a delta package's result) only if it is an
    /// MCUboot image signed by one of its bootloader's keys (OPEN's SIGNED flag; a receiver
    /// built without the check refuses it before it erases anything)
    #[arg(long)]
    pub require_signature: bool,
}

/// The native sender (also what `probe` opens with). A delta package (docs/delta.md) is sent
/// as one: OPEN's DELTA flag, and the receiver applies it to the application it runs.
pub fn native_sender(
    a: &NativeArgs,
    retries: u8,
    image: &Image,
    sha256: &[u8; 32],
    baud: u32,
) -> Result<Sender, Failure> {
    let o = native::Options {
        rto_ms: a.rto_ms,
        open_timeout_ms: a.open_timeout_ms,
        retries,
        baud,
        require_signature: a.require_signature,
        deferred: false,
    };
    let (component, version) = (a.component.as_bytes(), a.image_version.as_bytes());
    let mut tx =
        Sender::new(image.bytes.len() as u64, sha256, component, version, o).map_err(|_| {
            Failure::new(
                Class::Usage,
                "--component and --image-version: at most 32 bytes each; --open-timeout-ms and \
             --rto-ms: 1 to 2^31 ms; the image below 4 GiB",
            )
        })?;
    let bytes = &image.bytes;
    if bytes.starts_with(&MAGIC.to_le_bytes()) {
        let delta = DeltaOpen::from_package(&bytes[..HEAD.min(bytes.len())]).map_err(|f| {
            Failure::new(
                Class::Usage,
                format!(
                    "a delta package the receiver cannot apply: {}: {}",
                    f.name(),
                    f.message()
                ),
            )
        })?;
        tx.set_delta(delta);
    }
    Ok(tx)
}

impl Job for Sender {
    frame_and_acked!();

    fn stats(&self) -> Map<String, Value> {
        let s = Sender::stats(self);
        let (window, payload) = self.window();
        object(
            json!({"bytes": s.bytes, "frames": s.frames, "retries": s.retries,
                      "line_bytes": s.line_bytes, "resumed_from": s.resumed_from,
                      "resent_bytes": s.resent_bytes, "reopens": s.reopens,
                      "window": window, "payload": payload, "receiver_error": s.error}),
        )
    }

    fn reason(&self) -> Option<String> {
        match Sender::stats(self).error {
            0 => None,
            code => Some(match error_name(code) {
                "" => "unknown".to_string(),
                name => name.to_string(),
            }),
        }
    }
}
