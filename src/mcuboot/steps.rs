//! What MCUboot's answer to the current request leads to: the next step, the next upload
//! offset, a restart from 0 after a resumed upload went wrong, or a failure.

use super::answer::Answer;
use super::{Phase, Sender, Step, MIN_BUF};
use crate::transfer::Fail;

/// MCUboot's default `MCUBOOT_SERIAL_MAX_RECEIVE_SIZE`, for bootloaders without `params`.
const FALLBACK_BUF: u16 = 512;
/// MCUboot's `MGMT_ERR_ENOTSUP`.
const RC_NOT_SUPPORTED: i32 = 8;
/// MCUboot's `MGMT_ERR_EINVAL`: a chunk beyond the size MCUboot holds from the first one.
const RC_INVALID: i32 = 3;

impl Sender {
    pub(super) fn answer(&mut self, now_ms: u32, a: Answer) {
        let Phase::Request(step) = self.phase else {
            return;
        };
        self.heard = true;
        // "Not supported" is an answer to params (a bootloader without the command).
        if a.rc != 0 && !(step == Step::Params && a.rc == RC_NOT_SUPPORTED) {
            self.stats.rc = a.rc;
            if step == Step::Upload && a.rc == RC_INVALID && self.may_restart() {
                return;
            }
            self.fail(Fail::Rejected);
            return;
        }
        match step {
            Step::Enter => {
                self.phase = Phase::Boot;
                self.stats.step = Step::Boot;
                self.send = false;
                self.deadline = now_ms.wrapping_add(self.opts.boot_ms);
            }
            Step::Params => {
                let cap = self.opts.cap();
                self.buf = match a.buf_size {
                    Some(b) => cap.min(u16::try_from(b).unwrap_or(u16::MAX)),
                    None if self.opts.buf_size != 0 => cap,
                    None => FALLBACK_BUF,
                };
                if self.buf < MIN_BUF {
                    self.fail(Fail::Protocol);
                    return;
                }
                self.stats.buf_size = self.buf;
                self.stats.chunk = self.chunk_len(1).min(self.size as usize) as u16;
                if self.list_only {
                    self.begin(Step::List);
                } else if self.opts.resume {
                    self.begin(Step::Probe);
                } else {
                    self.upload_from(0);
                }
            }
            Step::Probe | Step::Upload => self.offset(a.off),
            Step::List if self.list_only => {
                self.phase = Phase::Done;
                self.stats.step = Step::Done;
            }
            Step::List => {
                if a.listed && a.hash.is_none_or(|h| h == self.hash) {
                    self.stats.listed = true;
                    self.stats.hash = a.hash.unwrap_or([0; 32]);
                    if self.opts.reset {
                        self.begin(Step::Reset);
                    } else {
                        self.phase = Phase::Done;
                        self.stats.step = Step::Done;
                    }
                } else if !self.may_restart() {
                    self.fail(Fail::Rejected);
                }
            }
            Step::Reset => {
                self.phase = Phase::Done;
                self.stats.step = Step::Done;
            }
            _ => {}
        }
    }

    /// After a resumed upload went wrong: starts over from 0, once. False if that was done.
    pub(super) fn may_restart(&mut self) -> bool {
        if self.restarted || !(self.complete || self.stats.resumed_from > 0) {
            return false;
        }
        self.restarted = true;
        self.stats.retries += 1;
        self.upload_from(0);
        true
    }

    /// MCUboot's answer to an upload request (or the probe): it wants `off` next.
    pub(super) fn offset(&mut self, off: Option<u64>) {
        let Some(off) = off.filter(|&o| o <= self.size) else {
            self.fail(Fail::Protocol);
            return;
        };
        let Phase::Request(step) = self.phase else {
            return;
        };
        self.stats.bytes = off;
        if step == Step::Probe {
            if off == self.size {
                self.complete = true;
                self.begin(Step::List);
            } else {
                self.stats.resumed_from = off;
                self.upload_from(off);
            }
            return;
        }
        let sent_to = self.off + self.len as u64;
        if off <= self.off {
            // Nothing written (or MCUboot restarted): counts as a retry.
            self.stats.resent_bytes += sent_to - off.min(sent_to);
            self.retry();
            if matches!(self.phase, Phase::Failed(_)) {
                return;
            }
            let tries = self.tries;
            self.upload_from(off);
            self.tries = tries;
            return;
        }
        self.stats.chunks += 1;
        self.stats.resent_bytes += sent_to.saturating_sub(off);
        if off == self.size {
            self.begin(Step::List);
        } else {
            self.upload_from(off);
        }
    }
}
