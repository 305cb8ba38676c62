//! What every protocol's file gives the command: its sender as a [`Job`].

use qsota::transfer::Sender;
use serde_json::{Map, Value};

/// A protocol's sender as the command drives it.
pub trait Job: Sender {
    /// The frame buffer `poll` needs.
    fn frame_size(&self) -> usize;
    /// Image bytes the receiver has acknowledged.
    fn acked(&self) -> u64;
    /// The sender's counters, named as in `qsota.send`'s stats.
    fn stats(&self) -> Map<String, Value>;
    /// What the receiver said about a failure, beyond its class (for the message).
    fn reason(&self) -> Option<String>;
    /// The data phase, where the sender times it itself: the ROM bootloader's write pass,
    /// without the read-back that follows it. Otherwise it runs from the first image read
    /// to the end.
    fn data_ms(&self) -> Option<u64> {
        None
    }
    /// What Ctrl-C leaves at the receiver, once the sender stopped as its protocol allows.
    fn interrupted(&self) -> String {
        "the receiver was told to stop".into()
    }
}

/// A [`Job`]'s `frame_size` and `acked` from the core sender's own `frame_size()` and the
/// `bytes` of its `stats()`, as every protocol has them.
macro_rules! frame_and_acked {
    () => {
        fn frame_size(&self) -> usize {
            Self::frame_size(self)
        }

        fn acked(&self) -> u64 {
            Self::stats(self).bytes
        }
    };
}
pub(crate) use frame_and_acked;

/// `Value::Object`'s map of a `json!({...})`.
pub fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}
