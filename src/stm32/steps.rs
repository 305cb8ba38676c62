//! What a complete answer leads to: the session's next operation, the erase plan from
//! Get ID, a written block, a read-back block compared with the image.

use super::devices::{self, Layout, FLASH_BASE};
use super::frame::{ERASE, EXT_ERASE, GO, READ, WRITE};
use super::{Op, Reason, Sender, CMP_AT};
use crate::transfer::Fail;

impl Sender {
    /// Every byte the current frame asked for has come.
    pub(super) fn complete(&mut self, now: u32) {
        let elapsed = now.wrapping_sub(self.mark);
        match self.op {
            Op::Get => {
                let cmds = &self.buf[1..usize::from(self.got)];
                self.stats.version = self.buf[0];
                let erase = [EXT_ERASE, ERASE].into_iter().find(|c| cmds.contains(c));
                let needed = [WRITE, READ, if self.opts.go { GO } else { READ }];
                match erase {
                    Some(e) if needed.iter().all(|c| cmds.contains(c)) => {
                        self.stats.erase_cmd = e;
                        self.done_op(Op::GetId);
                    }
                    _ => self.fail(Fail::Rejected, Reason::Unsupported),
                }
            }
            Op::GetId if self.got != 2 => self.fail(Fail::Protocol, Reason::None),
            Op::GetId => {
                self.stats.pid = u16::from_be_bytes([self.buf[0], self.buf[1]]);
                self.mark = now;
                self.plan();
            }
            Op::Erase => {
                self.stats.pages += 1;
                self.erase_off = self.layout.page_of(self.erase_off).1;
                if self.erase_off >= self.erase_end {
                    self.stats.erase_ms = elapsed;
                    self.mark = now;
                    self.done_op(Op::WriteAddr);
                } else {
                    self.done_op(Op::Erase);
                }
            }
            Op::WriteAddr => self.next(Op::WriteData),
            Op::WriteData => self.written(now),
            Op::ReadAddr => {
                let (_, pad) = self.extent();
                self.got = 0;
                self.want = pad as u16;
                self.next(Op::ReadData);
            }
            Op::ReadData => self.compare = true,
            _ => {
                self.stats.went = true;
                self.op = Op::Done;
            }
        }
    }

    /// After Get ID: the part's flash, checked against the image before anything is erased.
    pub(super) fn plan(&mut self) {
        let part = devices::find(self.stats.pid);
        let flash = match (self.opts.flash_size, part) {
            (0, Some(p)) => p.flash,
            (size, _) => size,
        };
        let layout = match (self.opts.page_size, part) {
            (0, Some(p)) => Some(p.layout),
            (0, None) => None,
            (size, _) => Some(Layout::Pages(size)),
        };
        let (Some(layout), true) = (layout, flash > 0) else {
            return self.fail(Fail::Rejected, Reason::UnknownPart);
        };
        let start = self.opts.address - FLASH_BASE;
        let end = u64::from(start) + u64::from(self.size);
        if end > u64::from(flash) {
            return self.fail(Fail::Rejected, Reason::TooLarge);
        }
        self.layout = layout;
        self.erase_off = start;
        self.erase_end = end as u32;
        let last = layout.page_of(end as u32 - 1).0;
        if last
            > if self.stats.erase_cmd == ERASE {
                0xFE
            } else {
                0xFFEF
            }
        {
            return self.fail(Fail::Rejected, Reason::Unsupported);
        }
        self.done_op(Op::Erase);
    }

    pub(super) fn written(&mut self, now: u32) {
        self.stats.bytes += self.extent().0 as u64;
        self.probe = false;
        self.block += 1;
        if self.block == self.blocks {
            self.stats.write_ms = now.wrapping_sub(self.mark);
            self.mark = now;
            self.block = 0;
        }
        self.done_op(if self.block == 0 {
            Op::ReadAddr
        } else {
            Op::WriteAddr
        });
    }

    /// A block came back: compare it with the image bytes at `CMP_AT`.
    pub(super) fn compared(&mut self, now: u32, frame: &[u8]) {
        let (len, pad) = self.extent();
        let back = &self.buf[..pad];
        let same =
            back[..len] == frame[CMP_AT..CMP_AT + len] && back[len..].iter().all(|&b| b == 0xFF);
        if self.probe && !same && back.iter().all(|&b| b == 0xFF) {
            // The write whose answer was lost never happened.
            self.probe = false;
            self.next(Op::WriteAddr);
        } else if !same {
            self.error(now, Reason::Mismatch);
        } else if self.probe {
            self.written(now);
        } else {
            self.stats.verified += len as u64;
            self.block += 1;
            if self.block < self.blocks {
                self.done_op(Op::ReadAddr);
            } else {
                self.stats.verify_ms = now.wrapping_sub(self.mark);
                self.block -= 1;
                if self.opts.go {
                    self.done_op(Op::Go);
                } else {
                    self.op = Op::Done;
                }
            }
        }
    }
}
