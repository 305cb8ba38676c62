//! C ABI of the MCUboot serial-recovery (SMP) sender ([`Sender`]); the driver loop is the one
//! in `transfer.rs`.

use super::{
    bytes, fits, get, init, out, qsota_action_t, sender_poll, sender_provide, sender_receive,
    status, InStorage,
};
use crate::mcuboot::{Options, Sender};
use crate::Error;

/// Storage for one MCUboot sender, in 8-byte words.
pub const QSOTA_MCUBOOT_WORDS: usize = 104;

/// Caller-provided storage for an MCUboot sender. Set it up with `qsota_mcuboot_init`.
#[repr(C)]
pub struct qsota_mcuboot_t {
    pub opaque: [u64; QSOTA_MCUBOOT_WORDS],
}

// SAFETY: `qsota_mcuboot_t` is an array of u64; `fits` is asserted below.
unsafe impl InStorage for Sender {
    type Storage = qsota_mcuboot_t;
    const MAGIC: u32 = 0x5153_4D31; // "QSM1"
}
const _: () = assert!(fits::<Sender>());

/// MCUboot sender tuning (`qsota_mcuboot_options_default` fills in the defaults).
#[repr(C)]
pub struct qsota_mcuboot_options_t {
    /// Image number (multi-image MCUboot), 0..=255.
    pub image: u32,
    /// The largest request, 128..=65535; 0: 2048, or 512 when MCUboot has no `params`.
    pub buf_size: u32,
    /// Non-zero: ask the application to reset into MCUboot first (`os reset`, boot mode 1).
    pub enter: u32,
    /// Non-zero: continue an upload MCUboot has under way.
    pub resume: u32,
    /// Non-zero: reset the MCU once the image is verified.
    pub reset: u32,
    /// Wait for an answer (ms).
    pub timeout_ms: u32,
    /// Wait for the answers that follow the slot's erase and the image check (ms).
    pub erase_timeout_ms: u32,
    /// After `enter`: time for the MCU to restart into MCUboot (ms).
    pub boot_ms: u32,
    /// Retransmissions of one request before giving up (0..=255).
    pub retries: u32,
}

/// An MCUboot sender's counters (`qsota_mcuboot_stats`).
#[repr(C)]
pub struct qsota_mcuboot_stats_t {
    /// Image bytes MCUboot has written (the offset it last asked for).
    pub bytes: u64,
    /// Requests written, retransmissions included.
    pub frames: u64,
    /// Retransmissions, answers that made no progress, restarts.
    pub retries: u64,
    /// Bytes written to the line.
    pub line_bytes: u64,
    /// Upload requests that moved MCUboot's offset.
    pub chunks: u64,
    /// The offset the upload continued from (0: a fresh upload).
    pub resumed_from: u64,
    /// Image bytes sent more than once.
    pub resent_bytes: u64,
    /// The request size in use (0 before `params` was answered).
    pub buf_size: u32,
    /// Image bytes in a full upload request.
    pub chunk: u32,
    /// MCUboot's last error code (`rc`), 0 if none.
    pub rc: i32,
    /// The step in progress or the one that failed: 0 enter, 1 boot, 2 params, 3 probe,
    /// 4 upload, 5 list, 6 reset, 7 done.
    pub step: u32,
    /// Non-zero: MCUboot listed the uploaded image as valid, with `hash`.
    pub listed: u32,
    /// The image hash MCUboot listed for the slot.
    pub hash: [u8; 32],
}

/// Writes the default options to `opts`.
///
/// # Safety
/// `opts` null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn qsota_mcuboot_options_default(opts: *mut qsota_mcuboot_options_t) -> i32 {
    let d = Options::default();
    // SAFETY: the caller's contract.
    status(unsafe { out(opts) }.map(|o| {
        *o = qsota_mcuboot_options_t {
            image: u32::from(d.image),
            buf_size: u32::from(d.buf_size),
            enter: u32::from(d.enter),
            resume: u32::from(d.resume),
            reset: u32::from(d.reset),
            timeout_ms: d.timeout_ms,
            erase_timeout_ms: d.erase_timeout_ms,
            boot_ms: d.boot_ms,
            retries: u32::from(d.retries),
        }
    }))
}

fn options(o: &qsota_mcuboot_options_t) -> Result<Options, Error> {
    let range = |_| Error::Range;
    Ok(Options {
        image: u8::try_from(o.image).map_err(range)?,
        buf_size: u16::try_from(o.buf_size).map_err(range)?,
        enter: o.enter != 0,
        resume: o.resume != 0,
        reset: o.reset != 0,
        timeout_ms: o.timeout_ms,
        erase_timeout_ms: o.erase_timeout_ms,
        boot_ms: o.boot_ms,
        retries: u8::try_from(o.retries).map_err(range)?,
    })
}

/// Sets up a sender in `s` for an image of `size` bytes (1 to 2^32-1) whose file has the
/// SHA-256 `sha256` (32 bytes, sent in the first chunk) and whose hash TLV is `hash` (32
/// bytes: what MCUboot lists once it validated the image); `opts` null means the defaults.
/// `QSOTA_E_RANGE`: a size, option or wait out of range.
///
/// # Safety
/// `s` null or valid for writes of `qsota_mcuboot_t`; `sha256` and `hash` null or valid for 32
/// bytes; `opts` null or valid for reads.
#[no_mangle]
pub unsafe extern "C" fn qsota_mcuboot_init(
    s: *mut qsota_mcuboot_t,
    size: u64,
    sha256: *const u8,
    hash: *const u8,
    opts: *const qsota_mcuboot_options_t,
) -> i32 {
    // SAFETY: the caller's contract (null or valid for reads).
    let sender = unsafe {
        (|| {
            let opts = match opts.as_ref() {
                None => Options::default(),
                Some(o) => options(o)?,
            };
            let digest = |p| -> Result<[u8; 32], Error> {
                bytes(p, 32)?.try_into().map_err(|_| Error::Length)
            };
            Sender::new(size, digest(sha256)?, digest(hash)?, opts)
        })()
    };
    match sender {
        // SAFETY: the caller's contract.
        Ok(sender) => unsafe { init(s, sender) },
        Err(e) => e.code(),
    }
}

/// Writes the frame buffer size `qsota_mcuboot_poll` needs.
///
/// # Safety
/// `s` initialised; `size` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn qsota_mcuboot_frame_size(
    s: *mut qsota_mcuboot_t,
    size: *mut usize,
) -> i32 {
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
pub unsafe extern "C" fn qsota_mcuboot_poll(
    s: *mut qsota_mcuboot_t,
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
pub unsafe extern "C" fn qsota_mcuboot_provide(s: *mut qsota_mcuboot_t, n: usize) -> i32 {
    // SAFETY: the caller's contract.
    unsafe { sender_provide::<Sender>(s, n) }
}

/// Feeds `len` bytes received from the line at `now_ms`.
///
/// # Safety
/// `s` initialised; `data` valid for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn qsota_mcuboot_receive(
    s: *mut qsota_mcuboot_t,
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
pub unsafe extern "C" fn qsota_mcuboot_stats(
    s: *mut qsota_mcuboot_t,
    stats: *mut qsota_mcuboot_stats_t,
) -> i32 {
    // SAFETY: the caller's contract.
    status(unsafe {
        get::<Sender>(s).and_then(|s| {
            let st = s.stats();
            *out(stats)? = qsota_mcuboot_stats_t {
                bytes: st.bytes,
                frames: st.frames,
                retries: st.retries,
                line_bytes: st.line_bytes,
                chunks: st.chunks,
                resumed_from: st.resumed_from,
                resent_bytes: st.resent_bytes,
                buf_size: u32::from(st.buf_size),
                chunk: u32::from(st.chunk),
                rc: st.rc,
                step: st.step as u32,
                listed: u32::from(st.listed),
                hash: st.hash,
            };
            Ok(())
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::{QSOTA_ACTION_SEND, QSOTA_E_NULL, QSOTA_E_RANGE, QSOTA_E_STATE, QSOTA_OK};
    use core::ptr::{null, null_mut};

    #[test]
    fn init_checks_its_arguments_and_a_request_goes_out() {
        let mut s = qsota_mcuboot_t {
            opaque: [0; QSOTA_MCUBOOT_WORDS],
        };
        let sha = [1u8; 32];
        // SAFETY: valid storage, digests, options and out-pointers throughout.
        unsafe {
            assert_eq!(qsota_mcuboot_provide(&mut s, 0), QSOTA_E_STATE);
            let mut o = core::mem::zeroed::<qsota_mcuboot_options_t>();
            assert_eq!(qsota_mcuboot_options_default(&mut o), QSOTA_OK);
            assert_eq!((o.buf_size, o.retries, o.reset), (0, 10, 1));
            o.image = 256;
            assert_eq!(
                qsota_mcuboot_init(&mut s, 10, sha.as_ptr(), sha.as_ptr(), &o),
                QSOTA_E_RANGE
            );
            assert_eq!(
                qsota_mcuboot_init(&mut s, 0, sha.as_ptr(), sha.as_ptr(), null()),
                QSOTA_E_RANGE
            );
            assert_eq!(
                qsota_mcuboot_init(&mut s, 10, null(), sha.as_ptr(), null()),
                QSOTA_E_NULL
            );
            assert_eq!(
                qsota_mcuboot_init(null_mut(), 10, sha.as_ptr(), sha.as_ptr(), null()),
                QSOTA_E_NULL
            );
            assert_eq!(
                qsota_mcuboot_init(&mut s, 10, sha.as_ptr(), sha.as_ptr(), null()),
                QSOTA_OK
            );
            let mut size = 0;
            assert_eq!(qsota_mcuboot_frame_size(&mut s, &mut size), QSOTA_OK);
            let mut frame = std::vec![0u8; size];
            let mut a = qsota_action_t::from(crate::transfer::Action::Done);
            assert_eq!(
                qsota_mcuboot_poll(&mut s, 0, frame.as_mut_ptr(), size, &mut a),
                QSOTA_OK
            );
            // The params request (os group, read, id 6, seq 1), byte for byte as PyPI
            // smp 4.2's `smp.packet.encode` frames it.
            assert_eq!(a.kind, QSOTA_ACTION_SEND);
            assert_eq!(&frame[..a.len], b"\x06\x09AAsIAAABAAABBqBEIw==\n");
            let mut st = core::mem::zeroed::<qsota_mcuboot_stats_t>();
            assert_eq!(qsota_mcuboot_stats(&mut s, &mut st), QSOTA_OK);
            assert_eq!((st.frames, st.step), (1, 2));
        }
    }
}
