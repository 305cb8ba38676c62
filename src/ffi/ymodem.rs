//! C ABI of the YMODEM sender ([`Sender`]); the driver loop is the one in `transfer.rs`.

use super::{
    bytes, fits, get, init, out, qsota_action_t, sender_poll, sender_provide, sender_receive,
    status, InStorage,
};
use crate::ymodem::{Options, Sender};
use crate::Error;

/// Storage for one YMODEM sender, in 8-byte words.
pub const QSOTA_YMODEM_WORDS: usize = 56;

/// The largest frame a YMODEM sender hands out (a 1024-byte block): size the frame buffer
/// with this, or with `qsota_ymodem_frame_size`.
pub const QSOTA_YMODEM_FRAME_MAX: usize = 1024 + crate::ymodem::OVERHEAD;

/// Caller-provided storage for a YMODEM sender. Set it up with `qsota_ymodem_init`.
#[repr(C)]
pub struct qsota_ymodem_t {
    pub opaque: [u64; QSOTA_YMODEM_WORDS],
}

// SAFETY: `qsota_ymodem_t` is an array of u64; `fits` is asserted below.
unsafe impl InStorage for Sender {
    type Storage = qsota_ymodem_t;
    const MAGIC: u32 = 0x5153_5931; // "QSY1"
}
const _: () = assert!(fits::<Sender>());

/// YMODEM tuning (`qsota_ymodem_options_default` fills in the defaults).
#[repr(C)]
pub struct qsota_ymodem_options_t {
    /// Data block size: 1024 or 128.
    pub block_size: u32,
    /// Wait for the answer to a data block, EOT or the null block (ms).
    pub timeout_ms: u32,
    /// Wait for the answer to the header, which may follow a full erase (ms).
    pub header_timeout_ms: u32,
    /// Wait for the receiver's first `C` (ms).
    pub start_timeout_ms: u32,
    /// Silence after the EOT ACK before the null block goes out unasked (ms).
    pub end_gap_ms: u32,
    /// Retransmissions of one frame before giving up (0..=255).
    pub retries: u32,
    /// Line speed if known (0: unknown); waits then include each frame's time on the wire.
    pub baud: u32,
    /// Non-zero: the image is checked at its end only (a stream): before EOT the sender
    /// asks for the check (`QSOTA_ACTION_DIGEST`) and cancels if it failed.
    pub deferred: u32,
}

/// A YMODEM sender's counters (`qsota_ymodem_stats`).
#[repr(C)]
pub struct qsota_ymodem_stats_t {
    /// Image bytes the receiver acknowledged.
    pub bytes: u64,
    /// Data blocks the receiver acknowledged.
    pub blocks: u64,
    /// Frames written, retransmissions included.
    pub frames: u64,
    /// Retransmissions, probes and retreats.
    pub retries: u64,
    /// Bytes written to the line.
    pub line_bytes: u64,
    /// The block in progress (0: the header).
    pub block: u64,
}

/// Writes the default options to `opts`.
///
/// # Safety
/// `opts` null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn qsota_ymodem_options_default(opts: *mut qsota_ymodem_options_t) -> i32 {
    let d = Options::default();
    // SAFETY: the caller's contract.
    status(unsafe { out(opts) }.map(|o| {
        *o = qsota_ymodem_options_t {
            block_size: u32::from(d.block_size),
            timeout_ms: d.timeout_ms,
            header_timeout_ms: d.header_timeout_ms,
            start_timeout_ms: d.start_timeout_ms,
            end_gap_ms: d.end_gap_ms,
            retries: u32::from(d.retries),
            baud: d.baud,
            deferred: u32::from(d.deferred),
        }
    }))
}

fn options(o: &qsota_ymodem_options_t) -> Result<Options, Error> {
    Ok(Options {
        block_size: u16::try_from(o.block_size).map_err(|_| Error::Arg)?,
        timeout_ms: o.timeout_ms,
        header_timeout_ms: o.header_timeout_ms,
        start_timeout_ms: o.start_timeout_ms,
        end_gap_ms: o.end_gap_ms,
        retries: u8::try_from(o.retries).map_err(|_| Error::Range)?,
        baud: o.baud,
        deferred: o.deferred != 0,
    })
}

/// Sets up a sender in `s` for the file `name` (1..=255 bytes, no NUL) of `size` bytes
/// (below 4 GiB); `opts` null means the defaults. `QSOTA_E_LENGTH`: name empty or too long;
/// `QSOTA_E_SYNTAX`: NUL in the name; `QSOTA_E_ARG`: block size not 128 or 1024;
/// `QSOTA_E_RANGE`: a wait of 0 or above 2^31-1 ms, retries above 255, a size of 4 GiB.
///
/// # Safety
/// `s` null or valid for writes of `qsota_ymodem_t`; `name` valid for `name_len` bytes;
/// `opts` null or valid for reads.
#[no_mangle]
pub unsafe extern "C" fn qsota_ymodem_init(
    s: *mut qsota_ymodem_t,
    name: *const u8,
    name_len: usize,
    size: u64,
    opts: *const qsota_ymodem_options_t,
) -> i32 {
    // SAFETY: the caller's contract.
    let sender = unsafe {
        (|| {
            // SAFETY: null or valid for reads (the caller's contract).
            let opts = match opts.as_ref() {
                None => Options::default(),
                Some(o) => options(o)?,
            };
            Sender::new(bytes(name, name_len)?, size, opts)
        })()
    };
    match sender {
        // SAFETY: the caller's contract.
        Ok(sender) => unsafe { init(s, sender) },
        Err(e) => e.code(),
    }
}

/// Writes the frame buffer size `qsota_ymodem_poll` needs (133 or 1029).
///
/// # Safety
/// `s` initialised; `size` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn qsota_ymodem_frame_size(s: *mut qsota_ymodem_t, size: *mut usize) -> i32 {
    // SAFETY: the caller's contract.
    status(unsafe {
        get::<Sender>(s).and_then(|s| {
            *out(size)? = s.frame_size();
            Ok(())
        })
    })
}

/// What to do next (see `qsota_action_t`); `frame` is the driver's frame buffer of `cap`
/// bytes (at least the frame size), whose contents belong to the sender between calls.
///
/// # Safety
/// `s` initialised; `frame` valid for `cap` bytes of reads and writes; `action` for a write.
#[no_mangle]
pub unsafe extern "C" fn qsota_ymodem_poll(
    s: *mut qsota_ymodem_t,
    now_ms: u32,
    frame: *mut u8,
    cap: usize,
    action: *mut qsota_action_t,
) -> i32 {
    // SAFETY: the caller's contract.
    unsafe { sender_poll::<Sender>(s, now_ms, frame, cap, action) }
}

/// After a `READ` action: the number of image bytes read (fewer only at the end of the
/// source, which fails the transfer with `source`).
///
/// # Safety
/// `s` initialised.
#[no_mangle]
pub unsafe extern "C" fn qsota_ymodem_provide(s: *mut qsota_ymodem_t, n: usize) -> i32 {
    // SAFETY: the caller's contract.
    unsafe { sender_provide::<Sender>(s, n) }
}

/// Feeds `len` bytes received from the line at `now_ms`.
///
/// # Safety
/// `s` initialised; `data` valid for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn qsota_ymodem_receive(
    s: *mut qsota_ymodem_t,
    now_ms: u32,
    data: *const u8,
    len: usize,
) -> i32 {
    // SAFETY: the caller's contract.
    unsafe { sender_receive::<Sender>(s, now_ms, data, len) }
}

/// Writes the sender's counters to `stats`.
///
/// # Safety
/// `s` initialised; `stats` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn qsota_ymodem_stats(
    s: *mut qsota_ymodem_t,
    stats: *mut qsota_ymodem_stats_t,
) -> i32 {
    // SAFETY: the caller's contract.
    status(unsafe {
        get::<Sender>(s).and_then(|s| {
            let st = s.stats();
            *out(stats)? = qsota_ymodem_stats_t {
                bytes: st.bytes,
                blocks: st.blocks,
                frames: st.frames,
                retries: st.retries,
                line_bytes: st.line_bytes,
                block: s.block(),
            };
            Ok(())
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::{
        QSOTA_ACTION_FAILED, QSOTA_ACTION_SEND, QSOTA_ACTION_WAIT, QSOTA_E_ARG, QSOTA_E_LENGTH,
        QSOTA_E_NULL, QSOTA_E_RANGE, QSOTA_E_STATE, QSOTA_E_SYNTAX, QSOTA_FAIL_TIMEOUT, QSOTA_OK,
    };
    use core::ptr::{null, null_mut};

    fn storage() -> qsota_ymodem_t {
        qsota_ymodem_t {
            opaque: [0; QSOTA_YMODEM_WORDS],
        }
    }

    fn defaults() -> qsota_ymodem_options_t {
        let mut o = qsota_ymodem_options_t {
            block_size: 0,
            timeout_ms: 0,
            header_timeout_ms: 0,
            start_timeout_ms: 0,
            end_gap_ms: 0,
            retries: 0,
            baud: 0,
            deferred: 0,
        };
        // SAFETY: a valid place for the options.
        assert_eq!(unsafe { qsota_ymodem_options_default(&mut o) }, QSOTA_OK);
        o
    }

    #[test]
    fn init_checks_every_argument() {
        let mut s = storage();
        let init = |s: &mut qsota_ymodem_t, name: &[u8], o: &qsota_ymodem_options_t| {
            // SAFETY: valid storage, name and options.
            unsafe { qsota_ymodem_init(s, name.as_ptr(), name.len(), 10, o) }
        };
        let d = defaults();
        assert_eq!(d.block_size, 1024);
        assert_eq!(init(&mut s, b"", &d), QSOTA_E_LENGTH);
        assert_eq!(init(&mut s, b"a\0", &d), QSOTA_E_SYNTAX);
        let bad_block = qsota_ymodem_options_t {
            block_size: 65536 + 128,
            ..defaults()
        };
        assert_eq!(init(&mut s, b"f", &bad_block), QSOTA_E_ARG);
        let bad_retries = qsota_ymodem_options_t {
            retries: 256,
            ..defaults()
        };
        assert_eq!(init(&mut s, b"f", &bad_retries), QSOTA_E_RANGE);
        // SAFETY: null storage, null name with a length, null options (the defaults).
        unsafe {
            assert_eq!(
                qsota_ymodem_init(null_mut(), b"f".as_ptr(), 1, 1, null()),
                QSOTA_E_NULL
            );
            assert_eq!(
                qsota_ymodem_init(&mut s, null(), 1, 1, null()),
                QSOTA_E_NULL
            );
            assert_eq!(
                qsota_ymodem_init(&mut s, b"f".as_ptr(), 1, 1, null()),
                QSOTA_OK
            );
        }
    }

    #[test]
    fn a_session_through_the_c_abi() {
        let mut s = storage();
        let mut frame = [0u8; QSOTA_YMODEM_FRAME_MAX];
        let mut a = qsota_action_t::from(crate::transfer::Action::Done);
        // SAFETY: valid storage, buffers and out-pointers throughout.
        unsafe {
            // Uninitialised storage is refused, not read.
            assert_eq!(qsota_ymodem_provide(&mut s, 0), QSOTA_E_STATE);
            assert_eq!(
                qsota_ymodem_init(&mut s, b"f".as_ptr(), 1, 5, null()),
                QSOTA_OK
            );
            let mut size = 0;
            assert_eq!(qsota_ymodem_frame_size(&mut s, &mut size), QSOTA_OK);
            assert_eq!(size, QSOTA_YMODEM_FRAME_MAX);
            let poll = |s: &mut qsota_ymodem_t, now, frame: &mut [u8], a: &mut qsota_action_t| {
                qsota_ymodem_poll(s, now, frame.as_mut_ptr(), frame.len(), a)
            };
            assert_eq!(poll(&mut s, 0, &mut frame, &mut a), QSOTA_OK);
            assert_eq!((a.kind, a.until_ms), (QSOTA_ACTION_WAIT, 60_000));
            assert_eq!(qsota_ymodem_receive(&mut s, 1, b"C".as_ptr(), 1), QSOTA_OK);
            assert_eq!(poll(&mut s, 1, &mut frame, &mut a), QSOTA_OK);
            assert_eq!((a.kind, a.len), (QSOTA_ACTION_SEND, 133));
            assert_eq!(&frame[3..8], b"f\x005\x00\x00");
            assert_eq!(
                qsota_ymodem_poll(&mut s, 1, null_mut(), 0, &mut a),
                QSOTA_E_NULL
            );
            // Nobody answers: eleven headers, then CANs, then the failure.
            let mut now = 1;
            loop {
                assert_eq!(poll(&mut s, now, &mut frame, &mut a), QSOTA_OK);
                match a.kind {
                    QSOTA_ACTION_WAIT => now = a.until_ms,
                    QSOTA_ACTION_SEND => {}
                    _ => break,
                }
            }
            assert_eq!((a.kind, a.fail), (QSOTA_ACTION_FAILED, QSOTA_FAIL_TIMEOUT));
            let mut st = core::mem::zeroed::<qsota_ymodem_stats_t>();
            assert_eq!(qsota_ymodem_stats(&mut s, &mut st), QSOTA_OK);
            assert_eq!((st.frames, st.retries, st.bytes), (11, 11, 0));
        }
    }
}
