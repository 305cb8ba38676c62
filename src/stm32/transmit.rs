//! The current operation's frame on the wire, the answer it expects and how long to wait
//! for it.

use super::frame::{self, GET, GET_ID, GO, PROBE, READ, SYNC, WRITE};
use super::{Op, Sender, BLOCK, MAX_PROBES, PROBE_MS, SYNC_MS};
use crate::transfer::Action;

impl Sender {
    pub(super) fn transmit(&mut self, now: u32, frame: &mut [u8]) -> Action {
        let t = self.opts.timeout_ms;
        let block_addr = self.opts.address + self.block * BLOCK as u32;
        let (len, pad) = self.extent();
        let mut reply = 0;
        let (n, wait) = match self.op {
            Op::Sync => {
                frame[0] = SYNC;
                self.expect(1, false, 0);
                (1, SYNC_MS)
            }
            Op::Resync => {
                self.probes += 1;
                if self.probes > MAX_PROBES {
                    return self.gone();
                }
                let n = usize::from(self.probe_len);
                frame[..n].fill(PROBE);
                (n, PROBE_MS + u32::from(self.latency))
            }
            Op::Get | Op::GetId => {
                let cmd = if self.op == Op::Get { GET } else { GET_ID };
                self.expect(1, true, 0);
                (frame::command(frame, cmd), t)
            }
            Op::Erase => {
                let page = self.layout.page_of(self.erase_off).0 as u16;
                let n = frame::erase(frame, self.stats.erase_cmd, page);
                self.expect(2, false, 0);
                (n, t.saturating_add(self.opts.erase_timeout_ms))
            }
            Op::WriteAddr | Op::ReadAddr | Op::Go => {
                let (cmd, addr) = match self.op {
                    Op::WriteAddr => (WRITE, block_addr),
                    Op::ReadAddr => (READ, block_addr),
                    _ => (GO, self.opts.address),
                };
                self.filled = false;
                self.expect(2, false, 0);
                (frame::addressed(frame, cmd, addr), t)
            }
            Op::WriteData => {
                self.expect(1, false, 0);
                (frame::write_data(frame, len, pad), t)
            }
            _ => {
                self.expect(1, false, 0);
                self.want = pad as u16;
                reply = pad;
                (frame::read_length(frame, pad), t)
            }
        };
        self.send = false;
        self.stats.frames += 1;
        self.stats.line_bytes += n as u64;
        let airtime = |bytes: usize| match self.opts.baud {
            0 => 0,
            baud => (bytes as u64 * 11_000).div_ceil(u64::from(baud)) as u32,
        };
        self.deadline = now.wrapping_add(wait.saturating_add(airtime(n + reply)));
        self.wire_end = now.wrapping_add(airtime(n));
        // An erase or a write answers when the flash is done: no measure of the line.
        self.timing = !matches!(self.op, Op::Erase | Op::WriteData);
        if self.op == Op::Resync {
            self.echo_until = Some(self.wire_end.wrapping_add(self.quiet_ms()));
        }
        Action::Send(n)
    }
}
