//! The current step's request on the wire (or a read of its image bytes first), and how
//! long to wait for its answer.

use super::request::{self, Image, Req};
use super::request::{
    GROUP_IMAGE, GROUP_OS, IMG_STATE, IMG_UPLOAD, OP_READ, OP_WRITE, OS_PARAMS, OS_RESET,
};
use super::{Phase, Sender, Step};
use crate::transfer::Action;

impl Sender {
    /// The next request's header fields, with a new sequence number.
    pub(super) fn next_req(&mut self, op: u8, group: u16, id: u8) -> Req {
        self.seq = self.seq.wrapping_add(1);
        self.req = (op, group, id, self.seq);
        self.req
    }

    /// Frames a request whose body is `body`; returns its line length.
    pub(super) fn small(
        &mut self,
        frame: &mut [u8],
        op: u8,
        group: u16,
        id: u8,
        body: &[u8],
    ) -> usize {
        let req = self.next_req(op, group, id);
        request::small(frame, req, body)
    }

    /// What the upload requests carry of the image.
    pub(super) fn image(&self) -> Image<'_> {
        Image {
            image: self.opts.image,
            size: self.size,
            sha: &self.sha,
        }
    }

    /// Data bytes of the upload request at `off`: as many as fill the buffer.
    pub(super) fn chunk_len(&self, off: u64) -> usize {
        self.image().chunk_len(self.buf, off)
    }

    pub(super) fn transmit(&mut self, now_ms: u32, frame: &mut [u8]) -> Action {
        let Phase::Request(step) = self.phase else {
            return Action::wait(now_ms);
        };
        let n = match self.framed {
            Some(n) => n,
            None => match step {
                Step::Enter => self.small(
                    frame,
                    OP_WRITE,
                    GROUP_OS,
                    OS_RESET,
                    b"\xa1\x69boot_mode\x01",
                ),
                Step::Params => self.small(frame, OP_READ, GROUP_OS, OS_PARAMS, b"\xa0"),
                Step::List => self.small(frame, OP_READ, GROUP_IMAGE, IMG_STATE, b"\xa0"),
                Step::Reset => self.small(frame, OP_WRITE, GROUP_OS, OS_RESET, b"\xa0"),
                _ => {
                    if step == Step::Probe {
                        (self.off, self.len) = (self.size, 0);
                    } else if !self.filled {
                        let len = self.chunk_len(self.off);
                        self.len = len;
                        self.reading = Some(len);
                        return Action::Read {
                            offset: self.off,
                            at: self.image().data_at(self.off, len),
                            len,
                        };
                    }
                    self.filled = false;
                    let req = self.next_req(OP_WRITE, GROUP_IMAGE, IMG_UPLOAD);
                    self.image().upload(frame, req, self.off, self.len)
                }
            },
        };
        self.framed = Some(n);
        self.send = false;
        self.stats.frames += 1;
        self.stats.line_bytes += n as u64;
        let slow = step == Step::List || (step == Step::Upload && self.off == 0);
        let wait = if slow {
            self.opts.erase_timeout_ms
        } else {
            self.opts.timeout_ms
        };
        self.deadline = now_ms.wrapping_add(wait);
        Action::Send(n)
    }
}
