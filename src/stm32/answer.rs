//! The ROM's answer to the frame out, read byte by byte: how many ACKs, whether a count
//! byte and data follow, and when it is complete.

use super::frame::{ACK, NACK};
use super::{Op, Reason, Sender, MAX_LATENCY_MS};
use crate::transfer::reached;

impl Sender {
    pub(super) fn byte(&mut self, now: u32, b: u8) {
        if matches!(self.op, Op::Done | Op::Failed(_)) {
            return;
        }
        if self.timing {
            self.timing = false;
            // Before the frame's end (its command's ACK while the rest is on the wire): 0.
            let late = (now.wrapping_sub(self.wire_end) as i32).max(0) as u32;
            let late = late.min(u32::from(MAX_LATENCY_MS)) as u8;
            self.latency = self.latency.max(late);
        }
        if self.quiet_until.is_some() {
            self.quiet_until = Some(now.wrapping_add(self.quiet_ms()));
            return;
        }
        if self.send || self.reading.is_some() || self.compare {
            return;
        }
        self.heard = true;
        let answer = b == ACK || b == NACK;
        match self.op {
            Op::Sync if answer => self.done_op(Op::Get),
            Op::Sync => {}
            Op::Resync if answer && self.probe_len == 1 => self.next(self.resume),
            Op::Resync => {
                if answer {
                    self.probe_len = 1;
                }
                self.quiet_until = Some(now.wrapping_add(self.quiet_ms()));
            }
            _ if self.acks > 0 => match b {
                ACK => {
                    self.acks -= 1;
                    self.go_acked |= self.op == Op::Go;
                    if self.acks == 0 && self.want == 0 && !self.var && !self.tail {
                        self.complete(now);
                    }
                }
                NACK if self.echo_until.is_some_and(|t| !reached(now, t)) => {
                    // Perhaps a probe's late answer: the ROM's word so far stands.
                    self.error(now, self.last)
                }
                NACK => self.error(now, self.nack_reason()),
                _ => self.error(now, Reason::None),
            },
            _ if self.var => {
                self.var = false;
                self.want = u16::from(b) + 1;
            }
            _ if self.want > 0 => {
                self.buf[usize::from(self.got)] = b;
                self.got += 1;
                self.want -= 1;
                if self.want == 0 && !self.tail {
                    self.complete(now);
                }
            }
            _ if self.tail && b == ACK => {
                self.tail = false;
                self.complete(now);
            }
            _ if self.tail => self.error(now, Reason::None),
            _ => {}
        }
    }

    /// How many more bytes the answer to the frame out needs, as far as known: a count byte
    /// (Get) stands for itself until it says how many follow. The probes of a resync take
    /// any answer, or noise: unknown.
    pub(super) fn expects(&self) -> usize {
        match self.op {
            Op::Sync | Op::Resync => 0,
            _ => {
                usize::from(self.acks)
                    + usize::from(self.var)
                    + usize::from(self.want)
                    + usize::from(self.tail)
            }
        }
    }

    /// Sets the answer the frame being sent expects.
    pub(super) fn expect(&mut self, acks: u8, var: bool, want: u16) {
        self.acks = acks;
        self.var = var;
        self.tail = var;
        self.want = want;
        self.got = 0;
    }
}
