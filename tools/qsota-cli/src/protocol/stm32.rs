//! ST's ROM system bootloader (AN3155): the core's `stm32::Sender`.

use super::job::{frame_and_acked, object, Job};
use crate::failure::{Class, Failure};
use qsota::stm32::{self, Sender};
use serde_json::{json, Map, Value};

#[derive(clap::Args, Clone, Debug)]
#[command(next_help_heading = "STM32 ROM bootloader")]
pub struct Stm32Args {
    /// Flash address of the image, where Go jumps (a multiple of 256)
    #[arg(long, value_name = "ADDR", default_value = "0x08000000", value_parser = parse_u32)]
    pub address: u32,
    /// Stay in the bootloader after the verified write (no Go)
    #[arg(long)]
    pub no_go: bool,
    /// Flash bytes from 0x08000000, for a part not in the device table (with --page-size)
    #[arg(long, value_name = "BYTES", default_value = "0", value_parser = parse_u32)]
    pub flash_size: u32,
    /// Uniform erase pages of this many bytes instead of the table's layout
    #[arg(long, value_name = "BYTES", default_value = "0", value_parser = parse_u32)]
    pub page_size: u32,
    /// How long to try autobaud (0x7F) before giving up, ms
    #[arg(long, default_value_t = 5000)]
    pub start_timeout_ms: u32,
}

/// A number in decimal or `0x` hex.
fn parse_u32(text: &str) -> Result<u32, String> {
    let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => text.parse(),
    };
    parsed.map_err(|_| format!("expected a 32-bit number in decimal or 0x hex, got {text:?}"))
}

pub fn stm32_sender(a: &Stm32Args, retries: u8, size: u64, baud: u32) -> Result<Sender, Failure> {
    let o = stm32::Options {
        address: a.address,
        go: !a.no_go,
        flash_size: a.flash_size,
        page_size: a.page_size,
        start_timeout_ms: a.start_timeout_ms,
        retries,
        baud,
        ..stm32::Options::default()
    };
    let usage = || {
        Failure::new(
            Class::Usage,
            "stm32: the image must be 1 byte to 4 GiB; --address at or above 0x08000000, a \
             multiple of 256; --start-timeout-ms 1 to 2^31",
        )
    };
    Sender::new(u32::try_from(size).map_err(|_| usage())?, o).map_err(|_| usage())
}

impl Job for Sender {
    frame_and_acked!();

    fn stats(&self) -> Map<String, Value> {
        let s = Sender::stats(self);
        object(
            json!({"bytes": s.bytes, "verified": s.verified, "frames": s.frames,
                      "retries": s.retries, "line_bytes": s.line_bytes, "pid": s.pid,
                      "version": s.version, "erase_cmd": s.erase_cmd, "pages": s.pages,
                      "erase_ms": s.erase_ms, "write_ms": s.write_ms, "verify_ms": s.verify_ms,
                      "went": s.went, "reason": s.reason.map_or("", |r| r.text())}),
        )
    }

    fn data_ms(&self) -> Option<u64> {
        let s = Sender::stats(self);
        (s.write_ms > 0).then_some(u64::from(s.write_ms))
    }

    /// AN3155 has no abort: the sender stops between frames and the ROM waits for a command.
    fn interrupted(&self) -> String {
        let s = Sender::stats(self);
        let left = if s.pid == 0 {
            "nothing was erased: the MCU holds its old application".to_string()
        } else {
            format!(
                "the MCU holds a partly written image ({} pages erased, {} bytes written, \
                 unverified, never started)",
                s.pages, s.bytes
            )
        };
        format!("AN3155 has no abort, the ROM waits for its next command; {left}")
    }

    fn reason(&self) -> Option<String> {
        Sender::stats(self)
            .reason
            .map(|r| r.text())
            .filter(|t| !t.is_empty())
            .map(String::from)
    }
}
