//! The receiver's answers to the frame out, and what they confirm.
//!
//! ST's IAP receiver NAKs a block whose number is not the one it expects, a duplicate
//! included, so after a lost ACK a plain sender retransmits into NAKs until it gives up.
//! This sender recovers with two rules that rely only on what every YMODEM receiver does:
//! it accepts a block only if its number is the one it expects (it may ACK or NAK the
//! previous one), and it writes accepted blocks in order.
//!
//! 1. **Probe forward.** A NAK answering block `k` that may already have been accepted
//!    (an earlier transmission of `k` got no answer, garbage or a `C`, any of which can hide a
//!    lost ACK) makes the sender send block `k + 1`. The receiver accepts `k + 1` only if it
//!    holds `k`; then its ACK confirms both. After the last data block the probe is an extra
//!    block of pure padding (0x1A): a receiver that honours the size drops it, one that does
//!    not (ST) already stores padding up to the block boundary. Probes run at most
//!    `MAX_AHEAD` blocks ahead of the last confirmed one (a probe's own ACK can be lost).
//! 2. **Retreat.** A NAK answering a probe that cannot have been accepted yet sends the
//!    block before it again.
//!
//! Each block number only ever carries its own content, so a block is never stored at a
//! wrong place, whichever way the receiver reads a NAK; and EOT is sent only after an ACK
//! answered the last data block (or the padding probe), so a receiver is never told the
//! file is complete while it misses a block. The rules affect liveness only: a spec
//! receiver that NAKed a corrupted retransmission may cancel on the probe, which ends the
//! transfer with `Fail::Cancelled` instead of a wrong image.
//!
//! A receiver that restarts mid-transfer (an MCU reset) waits for block 0 again; block
//! numbers are 8 bits, so it would take data block 256 (512, ...) for a header. It answers
//! that with `ACK C`, which a data block never gets: the sender stops with
//! `Fail::Protocol`. What YMODEM cannot guard against (a corrupted answer byte that turns
//! into an ACK, that `C` lost as well) is why the MCU must still check the image's digest
//! before it boots it.

use super::frame::{ACK, CAN, CRC16, NAK};
use super::{Phase, Sender, MAX_AHEAD, QUIET_MS};
use crate::transfer::Fail;

impl Sender {
    /// Blocks up to `cur` are in the receiver.
    pub(super) fn confirm(&mut self) {
        let bs = u64::from(self.opts.block_size);
        let data = self.cur.min(self.blocks);
        self.stats.blocks = data;
        self.stats.bytes = data.saturating_mul(bs).min(self.size);
        if self.cur >= self.blocks && !(self.cur == 0 && self.blocks == 0) {
            self.step(Phase::Eot);
        } else if self.cur == 0 {
            self.step(Phase::DataStart);
            self.send = false;
        } else {
            self.cur += 1;
            self.step(Phase::Block);
        }
    }

    pub(super) fn byte(&mut self, now_ms: u32, b: u8) {
        if matches!(self.phase, Phase::Done | Phase::Failed(_)) {
            return;
        }
        if self.cancel_at.is_some() {
            return self.cancel_now();
        }
        if b == CAN {
            if self.can {
                self.fail(Fail::Cancelled);
            }
            self.can = true;
            return;
        }
        self.can = false;
        // A receiver that restarted (an MCU reset) waits for block 0 and takes a data block
        // numbered 0 (256, 512, ...) for a header: it answers `ACK C` as to a header, where
        // a data block gets a bare ACK. Going on would write the rest of the image at the
        // start of its flash.
        if core::mem::take(&mut self.zero_ack) && b == CRC16 {
            self.fail(Fail::Protocol);
            return;
        }
        if self.quiet_until.is_some() {
            self.quiet_until = Some(now_ms.wrapping_add(QUIET_MS));
            return;
        }
        // Answers are only meaningful to a frame that is out; the rest is stale.
        if self.send || self.reading.is_some() {
            return;
        }
        match (self.phase, b) {
            (Phase::Start, CRC16) => {
                self.cur = 0;
                self.step(Phase::Block);
            }
            (Phase::Block, ACK) => {
                let zero = self.cur > 0 && self.cur <= self.blocks && self.cur.is_multiple_of(256);
                self.confirm();
                self.zero_ack = zero;
            }
            (Phase::Block, NAK) => {
                self.heard = true;
                self.nak();
                self.after_quiet(now_ms);
            }
            (Phase::Block, CRC16) => {
                // ST's answer to a bad frame, or its timeout after the ACK was lost.
                self.heard = true;
                self.maybe_accepted = true;
                self.retry();
                self.after_quiet(now_ms);
            }
            (Phase::DataStart, CRC16 | NAK) => {
                self.cur = 1;
                self.step(Phase::Block);
                if self.blocks == 0 {
                    self.step(Phase::Eot);
                }
            }
            (Phase::Eot, ACK) => {
                self.step(Phase::EndGap);
                self.send = false;
                self.deadline = now_ms.wrapping_add(self.opts.end_gap_ms);
            }
            // The spec's receiver NAKs the first EOT to make sure it was no line noise.
            (Phase::Eot, NAK) if self.tries == 0 && !self.heard => {
                self.heard = true;
                self.send = true;
            }
            // NAK: allowed after the first EOT. C: the EOT was garbled (ST), or it arrived and
            // the ACK was lost; repeating EOT is right for both (rb ACKs a stray EOT).
            (Phase::Eot, NAK | CRC16) | (Phase::Null, NAK) => {
                self.heard = true;
                self.retry();
                self.after_quiet(now_ms);
            }
            // rb discards a null block that arrives before its C: send it again.
            (Phase::Null, CRC16) => self.retry(),
            (Phase::EndGap, CRC16) => self.step(Phase::Null),
            (Phase::Null, ACK) => self.phase = Phase::Done,
            _ => {}
        }
    }

    /// Holds a retransmission back until the line has been quiet for `QUIET_MS`.
    pub(super) fn after_quiet(&mut self, now_ms: u32) {
        if self.send {
            self.send = false;
            self.quiet_until = Some(now_ms.wrapping_add(QUIET_MS));
        }
    }

    /// A NAK for block `cur` (see the module doc: probe forward, retreat).
    pub(super) fn nak(&mut self) {
        if self.maybe_accepted && self.ahead < MAX_AHEAD {
            self.cur += 1;
            self.ahead += 1;
            self.maybe_accepted = false;
        } else if self.ahead > 0 {
            self.cur -= 1;
            self.ahead -= 1;
            self.maybe_accepted = true;
        }
        self.retry();
    }
}
