//! C ABI of the YMODEM sender ([`Sender`]); the driver loop is the one in `transfer.rs`.

use super::{bytes, fits, get, init, out, qsota_action_t, status, InStorage};
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
    })
}

/// Sets up a sender in `s` for the file `name` (1..=255 bytes, no NUL) of `size` bytes;
/// `opts` null means the defaults. `QSOTA_E_LENGTH`: name empty or too long;
/// `QSOTA_E_SYNTAX`: NUL in the name; `QSOTA_E_ARG`: block size not 128 or 1024;
/// `QSOTA_E_RANGE`: a wait of 0 or above 2^31-1 ms, or retries above 255.
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
    status(unsafe {
        (|| {
            let s = get::<Sender>(s)?;
            let action = out(action)?;
            if frame.is_null() {
                return Err(Error::Null);
            }
            let frame = core::slice::from_raw_parts_mut(frame, cap);
            *action = s.poll(now_ms, frame).into();
            Ok(())
        })()
    })
}

/// After a `READ` action: the number of image bytes read (fewer only at the end of the
/// source, which fails the transfer with `source`).
///
/// # Safety
/// `s` initialised.
#[no_mangle]
pub unsafe extern "C" fn qsota_ymodem_provide(s: *mut qsota_ymodem_t, n: usize) -> i32 {
    // SAFETY: the caller's contract.
    status(unsafe { get::<Sender>(s) }.map(|s| s.provide(n)))
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
    status(unsafe {
        get::<Sender>(s).and_then(|s| {
            s.receive(now_ms, bytes(data, len)?);
            Ok(())
        })
    })
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
