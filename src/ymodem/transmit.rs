//! The current frame on the wire (or a request for its data first), and how long to wait
//! for its answer.

use super::frame::{frame_block, DATA_AT, EOT, OVERHEAD};
use super::{Phase, Sender, CHECK, NULL_WAIT_MS};
use crate::transfer::Action;

impl Sender {
    /// Builds (or reuses) the current frame and hands it out, or asks for its data first.
    pub(super) fn transmit(&mut self, now_ms: u32, frame: &mut [u8]) -> Action {
        let (len, wait) = match self.phase {
            Phase::Block if self.cur == 0 => {
                self.framed = None;
                (self.frame_header(frame), self.opts.header_timeout_ms)
            }
            Phase::Block if self.cur > self.blocks => {
                self.framed = None;
                (frame_block(frame, self.cur, 0, 128), self.opts.timeout_ms)
            }
            Phase::Block => {
                let (data, wire) = self.block_extent(self.cur);
                if self.framed != Some(self.cur) {
                    if self.filled != Some(self.cur) {
                        self.reading = Some((self.cur, data));
                        return Action::Read {
                            offset: (self.cur - 1) * u64::from(self.opts.block_size),
                            at: DATA_AT,
                            len: data,
                        };
                    }
                    self.filled = None;
                    frame_block(frame, self.cur, data, wire);
                    self.framed = Some(self.cur);
                }
                (wire + OVERHEAD, self.opts.timeout_ms)
            }
            Phase::Eot => {
                self.framed = None;
                if !self.checked {
                    // Asked once, as the last block is confirmed (what `provide` reads).
                    if self.filled != Some(CHECK) {
                        self.reading = Some((CHECK, 32));
                        return Action::Digest { at: 0 };
                    }
                    self.filled = None;
                    self.checked = true;
                }
                frame[0] = EOT;
                (1, self.opts.timeout_ms)
            }
            _ => {
                self.framed = None;
                frame[DATA_AT..DATA_AT + 128].fill(0);
                let wait = self.opts.timeout_ms.min(NULL_WAIT_MS);
                (frame_block(frame, 0, 128, 128), wait)
            }
        };
        self.send = false;
        self.stats.frames += 1;
        self.stats.line_bytes += len as u64;
        let airtime = match self.opts.baud {
            0 => 0,
            baud => (len as u64 * 10_000).div_ceil(u64::from(baud)) as u32,
        };
        self.deadline = now_ms.wrapping_add(wait.saturating_add(airtime));
        Action::Send(len)
    }

    /// Frames block 0 in place; its length on the wire.
    fn frame_header(&self, frame: &mut [u8]) -> usize {
        let wire = if self.header_len() <= 128 { 128 } else { 1024 };
        let body = &mut frame[DATA_AT..DATA_AT + wire];
        body.fill(0);
        let name = &self.name[..usize::from(self.name_len)];
        body[..name.len()].copy_from_slice(name);
        let mut digits = [0u8; 20];
        let mut n = self.size;
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        let at = name.len() + 1;
        body[at..at + digits.len() - i].copy_from_slice(&digits[i..]);
        frame_block(frame, 0, wire, wire)
    }
}
