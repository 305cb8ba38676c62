//! Recovery after any error.
//!
//! The ROM has no timeouts: after a lost byte it waits for the rest of the frame. After any
//! error (NACK, silence, garbage) the sender waits for a quiet line and probes with 0x02
//! bytes, doubling their number while nothing answers, until a single probe is answered:
//! then the ROM waits for a command. Answers can come late (a USB-serial adapter's latency
//! timer, 16 ms on FTDI's; TCP with Nagle's algorithm): the sender times the first answer to
//! each frame, and the quiet it waits for and the wait for a probe's answer grow by the
//! latest answer seen (up to [`super::MAX_LATENCY_MS`]), so that no probe goes out while an earlier
//! one's answer is on its way, which would put the sender a byte pair out of step with the
//! ROM for every retry. A NACK that comes so soon after the probes that it may be one of
//! their answers is not taken for the ROM refusing the command that followed them. A run of
//! 0x02 never completes a valid frame of any command (its checksums come out 0, or the complement does not match), so probing cannot
//! erase or write anything. The interrupted operation is then repeated: an erase (which is
//! idempotent), or a block's address; a block whose data went out but whose answer was lost
//! is read back first (written: go on; erased: write it; anything else: fail), because
//! programming a written block again fails on most families. Read-back data carries no
//! checksum, so a mismatch is read again before it fails the transfer.

use super::{Op, Reason, Sender, MAX_PROBE_LEN, QUIET_MS};
use crate::transfer::{reached, Action, Fail};

impl Sender {
    /// The current operation failed (`reason`: what a NACK or read-back said): probe for
    /// the ROM and repeat it, or give up.
    pub(super) fn error(&mut self, now: u32, reason: Reason) {
        self.stats.retries += 1;
        // A block that read back different stays the operation's story: on a noisy line the
        // NACKs and silences between its re-reads may be mere damaged frames.
        if self.tries == 0 || self.last != Reason::Mismatch {
            self.last = reason;
        }
        if self.tries >= self.opts.retries {
            let fail = match self.last {
                Reason::None if self.heard => Fail::Retries,
                Reason::None => Fail::Timeout,
                _ => Fail::Rejected,
            };
            return self.fail(fail, self.last);
        }
        self.tries += 1;
        self.resume = match self.op {
            Op::WriteData if reason == Reason::None => {
                self.probe = true;
                Op::ReadAddr
            }
            Op::WriteData => Op::WriteAddr,
            Op::ReadData => Op::ReadAddr,
            op => op,
        };
        self.op = Op::Resync;
        self.probe_len = 1;
        self.probes = 0;
        self.compare = false;
        self.send = false;
        self.quiet_until = Some(now.wrapping_add(self.quiet_ms()));
    }

    /// The silence that says no answer is on its way.
    pub(super) fn quiet_ms(&self) -> u32 {
        QUIET_MS + u32::from(self.latency)
    }

    /// What a NACK now means, should it be the last word.
    pub(super) fn nack_reason(&self) -> Reason {
        match (self.op, self.acks) {
            (Op::Erase | Op::WriteAddr | Op::ReadAddr | Op::Go, 2) => Reason::ReadProtected,
            (Op::Erase, _) => Reason::WriteProtected,
            (Op::WriteAddr | Op::ReadAddr | Op::Go, _) => Reason::AddressRefused,
            (Op::WriteData, _) => Reason::WriteFailed,
            _ => Reason::None,
        }
    }

    /// The ROM stopped answering probes: it has gone, or (after an accepted Go whose
    /// address answer was lost) jumped to the verified image.
    pub(super) fn gone(&mut self) -> Action {
        if self.resume == Op::Go && self.go_acked {
            self.op = Op::Done;
            return Action::Done;
        }
        let reason = self.last;
        self.fail(Fail::Timeout, reason);
        Action::Failed(Fail::Timeout)
    }

    /// The wait for the current frame's answer ran out.
    pub(super) fn expired(&mut self, now: u32, start: u32) {
        match self.op {
            Op::Sync if reached(now, start.wrapping_add(self.opts.start_timeout_ms)) => {
                self.fail(Fail::Timeout, Reason::NoAnswer)
            }
            Op::Sync => self.send = true,
            Op::Resync => {
                self.probe_len = (self.probe_len * 2).min(MAX_PROBE_LEN);
                self.send = true;
            }
            _ => self.error(now, Reason::None),
        }
    }
}
