//! YMODEM: the core's `ymodem::Sender`.

use super::job::{frame_and_acked, object, Job};
use crate::failure::{Class, Failure};
use crate::image::Image;
use qsota::ymodem::{self, Sender};
use serde_json::{json, Map, Value};

#[derive(clap::Args, Clone, Debug)]
#[command(next_help_heading = "YMODEM")]
pub struct YmodemArgs {
    /// The file name in the header (default: the image's base name)
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// The largest data block, 1024 or 128 (with --baud known, 128 where a 1K packet would
    /// outlast ST's 1 s packet timeout: below 13720 baud)
    #[arg(long, default_value_t = 1024)]
    pub block_size: u16,
}

pub fn sender(a: &YmodemArgs, retries: u8, image: &Image, baud: u32) -> Result<Sender, Failure> {
    let o = ymodem::Options {
        block_size: a.block_size,
        retries,
        baud,
        ..ymodem::Options::default()
    };
    let name = a.name.as_deref().unwrap_or(&image.name);
    Sender::new(name.as_bytes(), image.bytes.len() as u64, o).map_err(|_| {
        let why = if baud != 0 && baud < ymodem::MIN_BAUD {
            format!(
                "--baud {baud}: YMODEM needs at least {}: a 128-byte block must reach the \
                 receiver within ST's 1 s packet timeout",
                ymodem::MIN_BAUD
            )
        } else {
            "--name must be 1 to 255 bytes without NUL; --block-size 1024 or 128".into()
        };
        Failure::new(Class::Usage, why)
    })
}

impl Job for Sender {
    frame_and_acked!();

    fn stats(&self) -> Map<String, Value> {
        let s = Sender::stats(self);
        object(
            json!({"bytes": s.bytes, "blocks": s.blocks, "frames": s.frames,
                      "retries": s.retries, "line_bytes": s.line_bytes}),
        )
    }

    fn reason(&self) -> Option<String> {
        None
    }
}
