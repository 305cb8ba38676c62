//! The one-line JSON summary printed at the end.

use crate::cli::Options;
use crate::line::LineStats;
use crate::mcu::{Mcu, Outcome};
use sha2::{Digest, Sha256};
use std::fmt::Write;
use std::time::Duration;

pub struct Summary<'a> {
    pub opts: &'a Options,
    pub mcu: &'a Mcu,
    /// How the bootloader ended its session; `None` if it never did.
    pub outcome: Option<&'a Outcome>,
    pub timed_out: bool,
    pub line: LineStats,
    pub elapsed: Duration,
}

impl Summary<'_> {
    /// The image as it stands in flash: the declared size from offset 0 (empty without a
    /// header).
    pub fn image(&self) -> &[u8] {
        let data = self.mcu.flash.data();
        let size = self.mcu.session.size.unwrap_or(0).min(data.len() as u64);
        &data[..size as usize]
    }

    fn result(&self) -> (&'static str, Option<&'static str>) {
        match self.outcome {
            Some(Outcome::Ok) => ("ok", None),
            Some(Outcome::Cancelled(why)) => ("cancelled", Some(why)),
            Some(Outcome::Failed(why)) => ("error", Some(why)),
            None if self.timed_out => ("incomplete", Some("--timeout expired")),
            None => (
                "incomplete",
                Some("the module disconnected before the receiver finished"),
            ),
        }
    }

    pub fn to_json(&self) -> String {
        let (result, reason) = self.result();
        let s = &self.mcu.session;
        let l = &self.line;
        let header = s.name.is_some();
        let sha = header.then(|| hex(&Sha256::digest(self.image())));
        let acks: Vec<String> = self.mcu.dropped_acks.iter().map(u64::to_string).collect();
        let mut j = String::new();
        let _ = write!(
            j,
            "{{\"result\": {}, \"reason\": {}, \"personality\": {}, \"name\": {}, \"size\": {}, \
             \"bytes\": {}, \"blocks\": {}, \"retries\": {}, \"errors\": {}, \"elapsed_ms\": {}, \
             \"sha256\": {}, \"app_state\": {}, \"flash_error\": {}, \
             \"faults\": {{\"seed\": {}, \"bitflips\": {}, \"dropped\": {}, \"reply_bitflips\": {}, \
             \"reply_dropped\": {}, \"overruns\": {}, \"dropped_acks\": [{}], \"resets\": {}, \
             \"lost_in_reset\": {}}}, \
             \"line\": {{\"baud\": {}, \"fifo\": {}, \"to_mcu\": {}, \"to_module\": {}}}, \
             \"flash\": {{\"size\": {}, \"erases\": {}, \"programmed\": {}, \"busy_ms\": {}}}}}",
            string(result),
            reason.map_or("null".into(), string),
            string(self.opts.personality.name()),
            s.name.as_deref().map_or("null".into(), string),
            s.size.map_or("null".into(), |n| n.to_string()),
            s.bytes,
            s.blocks,
            s.retries,
            s.errors,
            self.elapsed.as_millis(),
            sha.map_or("null".into(), |h| string(&h)),
            string(self.mcu.flash.state(s.finished).name()),
            s.flash_error.as_deref().map_or("null".into(), string),
            self.opts.line_faults.seed,
            l.bitflips,
            l.dropped,
            l.reply_bitflips,
            l.reply_dropped,
            l.overruns,
            acks.join(", "),
            self.mcu.resets,
            l.lost_in_reset,
            self.opts.baud,
            self.opts.fifo,
            l.to_mcu,
            l.to_module,
            self.mcu.flash.size(),
            self.mcu.flash.erases,
            self.mcu.flash.programmed,
            self.mcu.busy.as_millis(),
        );
        j
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A JSON string literal.
fn string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(
            string("a \"b\"\\\n\u{1}é"),
            "\"a \\\"b\\\"\\\\\\u000a\\u0001é\""
        );
    }
}
