//! The sender targets' poll loop: whatever a sender was told, every action it asks for stays
//! inside the frame buffer and the image.

use qsota::transfer::{Action, Sender};

/// Polls `tx` at `now` until it waits, at most 8 actions (one burst of the driver): the
/// ending action (`Done` or `Failed`) if it ended. A frame sent is at most the buffer (it
/// goes to `sent`); a read lies inside the image of `size` bytes and the frame, and the
/// source gives `given(len)` of its `len` bytes.
pub fn burst(
    tx: &mut impl Sender,
    now: u32,
    frame: &mut [u8],
    size: u64,
    given: impl Fn(usize) -> usize,
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
            Action::Wait { .. } => break,
            end @ (Action::Done | Action::Failed(_)) => return Some(end),
        }
    }
    None
}
