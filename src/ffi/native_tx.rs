//! C ABI of the native protocol's sender, for `_qsota` (the receiver, for C bootloaders, is
//! [`super::native_rx`]).

use super::{
    bytes, fits, get, init, out, qsota_action_t, sender_poll, sender_provide, sender_receive,
    status, InStorage,
};
use crate::native::delta::DeltaOpen;
use crate::native::frame::MAX_FRAME;
use crate::native::sender::{Options, Sender};
use crate::Error;

/// Storage for one native sender, in 8-byte words.
pub const QSOTA_NATIVE_TX_WORDS: usize = 68;
/// The frame buffer a native sender needs (`qsota_native_tx_poll`).
pub const QSOTA_NATIVE_FRAME_SIZE: usize = 1038;

const _: () = assert!(QSOTA_NATIVE_FRAME_SIZE == MAX_FRAME);

/// Caller-provided storage for a native sender. Set it up with `qsota_native_tx_init`.
#[repr(C)]
pub struct qsota_native_tx_t {
    pub opaque: [u64; QSOTA_NATIVE_TX_WORDS],
}

// SAFETY: the storage type is an array of u64; `fits` is asserted below.
unsafe impl InStorage for Sender {
    type Storage = qsota_native_tx_t;
    const MAGIC: u32 = 0x5153_4C54; // "QSLT"
}
const _: () = assert!(fits::<Sender>());

/// Native sender tuning (`qsota_native_options_default` fills in the defaults).
#[repr(C)]
pub struct qsota_native_options_t {
    /// Retransmission timeout (ms); 0: adaptive, from the measured round trip, between a
    /// frame's time on the line and the receiver's busy time + 1 s.
    pub rto_ms: u32,
    /// How long to wait for the receiver to answer at all (ms).
    pub open_timeout_ms: u32,
    /// Timeouts in a row without progress before giving up (0..=255).
    pub retries: u32,
    /// The line's rate, 0 if unknown (bounds the adaptive timeout below).
    pub baud: u32,
    /// 1: the receiver must commit the image (a delta package's result) only if it is an
    /// MCUboot image signed by one of its keys (OPEN's SIGNED flag, docs/protocol.md; a
    /// receiver without the check refuses it, ERROR `FLAGS`); 0: not asked.
    pub require_signature: u32,
    /// Non-zero: the image is checked at its end only (a stream). `sha256` is then an
    /// identity, and the sender asks for the SHA-256 once every byte is acknowledged
    /// (`QSOTA_ACTION_DIGEST`); docs/protocol.md, version 2.
    pub deferred: u32,
}

/// Writes the default options to `opts`.
///
/// # Safety
/// `opts` null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn qsota_native_options_default(opts: *mut qsota_native_options_t) -> i32 {
    let d = Options::default();
    // SAFETY: the caller's contract.
    status(unsafe { out(opts) }.map(|o| {
        *o = qsota_native_options_t {
            rto_ms: d.rto_ms,
            open_timeout_ms: d.open_timeout_ms,
            retries: u32::from(d.retries),
            baud: d.baud,
            require_signature: u32::from(d.require_signature),
            deferred: u32::from(d.deferred),
        }
    }))
}

fn options(o: &qsota_native_options_t) -> Result<Options, Error> {
    Ok(Options {
        rto_ms: o.rto_ms,
        open_timeout_ms: o.open_timeout_ms,
        retries: u8::try_from(o.retries).map_err(|_| Error::Range)?,
        baud: o.baud,
        require_signature: match o.require_signature {
            0 | 1 => o.require_signature == 1,
            _ => return Err(Error::Arg),
        },
        deferred: o.deferred != 0,
    })
}

/// Sets up a sender in `tx` for an image of `size` bytes with the 32-byte `sha256`, for the
/// component `comp` at version `ver` (each up to 32 bytes); `opts` null means the defaults.
/// `QSOTA_E_RANGE` for a size above 4 GB, a zero/huge timeout or retries above 255,
/// `QSOTA_E_LENGTH` for a long name, `QSOTA_E_ARG` for `require_signature` not 0 or 1.
///
/// # Safety
/// `tx` null or valid for writes of `qsota_native_tx_t`; `sha256` valid for 32 bytes; `comp`
/// and `ver` for their lengths; `opts` null or valid for reads.
#[no_mangle]
pub unsafe extern "C" fn qsota_native_tx_init(
    tx: *mut qsota_native_tx_t,
    size: u64,
    sha256: *const u8,
    comp: *const u8,
    comp_len: usize,
    ver: *const u8,
    ver_len: usize,
    opts: *const qsota_native_options_t,
) -> i32 {
    // SAFETY: the caller's contract.
    let sender = unsafe {
        (|| {
            let sha = bytes(sha256, 32)?.try_into().map_err(|_| Error::Length)?;
            // SAFETY: null or valid for reads (the caller's contract).
            let opts = match opts.as_ref() {
                None => Options::default(),
                Some(o) => options(o)?,
            };
            Sender::new(
                size,
                sha,
                bytes(comp, comp_len)?,
                bytes(ver, ver_len)?,
                opts,
            )
        })()
    };
    match sender {
        // SAFETY: the caller's contract.
        Ok(sender) => unsafe { init(tx, sender) },
        Err(e) => e.code(),
    }
}

/// Makes the image a delta package that the receiver applies to its application area (the
/// DELTA flag of OPEN, docs/protocol.md): `head` is the package's first `len` bytes (70
/// suffice: its header and the start of its patch, where the target's size is). On a head
/// that is not one of a package qsota's receiver can apply, `QSOTA_E_DELTA` and the reason
/// in `fault` (`QSOTA_DELTA_*`: `QSOTA_DELTA_NO_EXTENSION` for a package made for ESP,
/// whose target the receiver could not check). Before the first poll.
///
/// # Safety
/// `tx` initialised; `head` valid for `len` bytes; `fault` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn qsota_native_tx_delta(
    tx: *mut qsota_native_tx_t,
    head: *const u8,
    len: usize,
    fault: *mut i32,
) -> i32 {
    // SAFETY: the caller's contract.
    status(unsafe {
        (|| {
            let (tx, fault) = (get::<Sender>(tx)?, out(fault)?);
            *fault = 0;
            match DeltaOpen::from_package(bytes(head, len)?) {
                Ok(delta) => tx.set_delta(delta),
                Err(f) => {
                    *fault = super::delta::fault_code(f);
                    return Err(Error::Delta);
                }
            }
            Ok(())
        })()
    })
}

/// What to do next (see `qsota_action_t`); `frame` is the driver's frame buffer of
/// `QSOTA_NATIVE_FRAME_SIZE` bytes, whose contents belong to the sender between calls.
///
/// # Safety
/// `tx` initialised; `frame` valid for `cap` bytes of reads and writes; `action` for a write.
#[no_mangle]
pub unsafe extern "C" fn qsota_native_tx_poll(
    tx: *mut qsota_native_tx_t,
    now_ms: u32,
    frame: *mut u8,
    cap: usize,
    action: *mut qsota_action_t,
) -> i32 {
    // SAFETY: the caller's contract.
    unsafe { sender_poll::<Sender>(tx, now_ms, frame, cap, action) }
}

/// After a `READ` action: the number of image bytes read (fewer only at the end of the
/// source, which fails the transfer with `source`).
///
/// # Safety
/// `tx` initialised.
#[no_mangle]
pub unsafe extern "C" fn qsota_native_tx_provide(tx: *mut qsota_native_tx_t, n: usize) -> i32 {
    // SAFETY: the caller's contract.
    unsafe { sender_provide::<Sender>(tx, n) }
}

/// Feeds `len` bytes received from the line at `now_ms`.
///
/// # Safety
/// `tx` initialised; `data` valid for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn qsota_native_tx_receive(
    tx: *mut qsota_native_tx_t,
    now_ms: u32,
    data: *const u8,
    len: usize,
) -> i32 {
    // SAFETY: the caller's contract.
    unsafe { sender_receive::<Sender>(tx, now_ms, data, len) }
}

/// A native sender's counters (`qsota_native_tx_stats`).
#[repr(C)]
pub struct qsota_native_stats_t {
    /// Image bytes the receiver holds.
    pub bytes: u64,
    /// DATA frames written, retransmissions included.
    pub frames: u64,
    /// Go-backs, timeouts and repeated OPEN/COMMIT frames.
    pub retries: u64,
    /// Bytes written to the line.
    pub line_bytes: u64,
    /// Where the receiver said the transfer starts.
    pub resumed_from: u64,
    /// Image bytes sent more than once.
    pub resent_bytes: u64,
    /// Times the receiver was found reset.
    pub reopens: u64,
    /// The receiver's window (frames) and payload per frame, 0 before it answered.
    pub window: u32,
    pub payload: u32,
    /// The receiver's ERROR code, 0 if none.
    pub error: i32,
    /// The retransmission timeout at the end, in ms (the adaptive one's last value).
    pub rto_ms: u32,
}

/// Writes the sender's counters to `stats`.
///
/// # Safety
/// `tx` initialised; `stats` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn qsota_native_tx_stats(
    tx: *mut qsota_native_tx_t,
    stats: *mut qsota_native_stats_t,
) -> i32 {
    // SAFETY: the caller's contract.
    status(unsafe {
        get::<Sender>(tx).and_then(|tx| {
            let s = tx.stats();
            let (window, payload) = tx.window();
            *out(stats)? = qsota_native_stats_t {
                bytes: s.bytes,
                frames: s.frames,
                retries: s.retries,
                line_bytes: s.line_bytes,
                resumed_from: s.resumed_from,
                resent_bytes: s.resent_bytes,
                reopens: s.reopens,
                window,
                payload,
                error: i32::from(s.error),
                rto_ms: s.rto_ms,
            };
            Ok(())
        })
    })
}
