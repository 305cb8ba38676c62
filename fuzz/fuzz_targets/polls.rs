//! The sender targets' poll loop: whatever a sender was told, every action it asks for stays
//! inside the frame buffer and the image.

use qsota::transfer::{Action, Sender};

/// Polls `tx` at `now` until it waits, at most 8 actions (one burst of the driver): the
/// ending action (`Done` or `Failed`) if it ended. A frame sent is at most the buffer (it
/// goes to `sent`); a read lies inside the image of `size` bytes and the frame, and the
/// source gives `given(len)` of its `len` bytes. Only a deferred sender asks for its digest
/// (`digest` is then what the driver provides: 32 bytes, or 0 when the final check failed).
pub fn burst(
    tx: &mut impl Sender,
    now: u32,
    frame: &mut [u8],
    size: u64,
    given: impl Fn(usize) -> usize,
    digest: Option<usize>,
    mut sent: impl FnMut(&[u8]),
) -> Option<Action> {
    for _ in 0..8 {
        match tx.poll(now, frame) {
            Action::Send(n) => {
                assert!(n <= frame.len());
                sent(&frame[..n]);
            }
            Action::Read { offset, at, len } => {
                assert!(offset + len as u64 <= size && at + len <= frame.len());
                tx.provide(given(len));
            }
            Action::Digest { at } => {
                let n = digest.expect("only a deferred sender asks for a digest");
                assert!(at + 32 <= frame.len());
                tx.provide(n);
            }
            Action::Wait { .. } => break,
            end @ (Action::Done | Action::Failed(_)) => return Some(end),
        }
    }
    None
}
