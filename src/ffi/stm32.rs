//! C ABI of the STM32 ROM bootloader sender ([`Sender`], AN3155); the driver loop is the
//! one in `transfer.rs`.

use super::{
    fits, get, init, out, qsota_action_t, sender_poll, sender_provide, sender_receive, status,
    InStorage,
};
use crate::stm32::{Options, Reason, Sender};

/// Storage for one STM32 sender, in 8-byte words.
pub const QSOTA_STM32_WORDS: usize = 58;

/// The frame buffer a STM32 sender needs (`poll`'s `cap` at least this).
pub const QSOTA_STM32_FRAME_SIZE: usize = 264;
const _: () = assert!(QSOTA_STM32_FRAME_SIZE == crate::stm32::FRAME_SIZE);

/// Caller-provided storage for a STM32 sender. Set it up with `qsota_stm32_init`.
#[repr(C)]
pub struct qsota_stm32_t {
    pub opaque: [u64; QSOTA_STM32_WORDS],
}

// SAFETY: `qsota_stm32_t` is an array of u64; `fits` is asserted below.
unsafe impl InStorage for Sender {
    type Storage = qsota_stm32_t;
    const MAGIC: u32 = 0x5153_5331; // "QSS1"
}
const _: () = assert!(fits::<Sender>());

/// STM32 sender options (`qsota_stm32_options_default` fills in the defaults).
#[repr(C)]
pub struct qsota_stm32_options_t {
    /// Flash address of the image and of Go (a multiple of 256, at least 0x08000000).
    pub address: u32,
    /// 1: Go to `address` after the read-back matched; 0: stay in the bootloader.
    pub go: u32,
    /// Flash bytes from 0x08000000 (0: the device table's).
    pub flash_size: u32,
    /// Uniform erase pages of this size instead of the table's layout (0: the table's).
    pub page_size: u32,
    /// Wait for the answer to a command or block (ms).
    pub timeout_ms: u32,
    /// Extra wait per page or sector erase (ms).
    pub erase_timeout_ms: u32,
    /// How long to try autobaud (ms).
    pub start_timeout_ms: u32,
    /// Retries of one operation (0..=255).
    pub retries: u32,
    /// Line speed if known (0: unknown).
    pub baud: u32,
}

/// A STM32 sender's counters (`qsota_stm32_stats`).
#[repr(C)]
pub struct qsota_stm32_stats_t {
    /// Image bytes written and acknowledged.
    pub bytes: u64,
    /// Image bytes read back and found equal.
    pub verified: u64,
    pub frames: u64,
    pub retries: u64,
    pub line_bytes: u64,
    /// The block in progress.
    pub block: u64,
    /// Get ID's product ID, Get's bootloader version, the erase command used (0: not yet).
    pub pid: u32,
    pub version: u32,
    pub erase_cmd: u32,
    /// Pages or sectors erased.
    pub pages: u32,
    /// Time spent erasing, writing, reading back (ms).
    pub erase_ms: u32,
    pub write_ms: u32,
    pub verify_ms: u32,
    /// 1 if Go was acknowledged.
    pub went: u32,
    /// What the ROM's answers said (text: `qsota_stm32_reason`); 0: nothing.
    pub reason: u32,
}

/// Writes the default options to `opts`.
///
/// # Safety
/// `opts` null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn qsota_stm32_options_default(opts: *mut qsota_stm32_options_t) -> i32 {
    let d = Options::default();
    // SAFETY: the caller's contract.
    status(unsafe { out(opts) }.map(|o| {
        *o = qsota_stm32_options_t {
            address: d.address,
            go: u32::from(d.go),
            flash_size: d.flash_size,
            page_size: d.page_size,
            timeout_ms: d.timeout_ms,
            erase_timeout_ms: d.erase_timeout_ms,
            start_timeout_ms: d.start_timeout_ms,
            retries: u32::from(d.retries),
            baud: d.baud,
        }
    }))
}

/// Sets up a sender in `s` for an image of `size` bytes; `opts` null means the defaults.
/// `QSOTA_E_RANGE`: size 0, an address below 0x08000000 or not a multiple of 256, a wait of
/// 0 or above 2^31-1 ms, retries above 255; `QSOTA_E_ARG`: `go` not 0 or 1.
///
/// # Safety
/// `s` null or valid for writes of `qsota_stm32_t`; `opts` null or valid for reads.
#[no_mangle]
pub unsafe extern "C" fn qsota_stm32_init(
    s: *mut qsota_stm32_t,
    size: u32,
    opts: *const qsota_stm32_options_t,
) -> i32 {
    // SAFETY: null or valid for reads (the caller's contract).
    let opts = match unsafe { opts.as_ref() } {
        None => Ok(Options::default()),
        Some(o) if o.go > 1 => Err(crate::Error::Arg),
        Some(o) => u8::try_from(o.retries)
            .map_err(|_| crate::Error::Range)
            .map(|retries| Options {
                address: o.address,
                go: o.go == 1,
                flash_size: o.flash_size,
                page_size: o.page_size,
                timeout_ms: o.timeout_ms,
                erase_timeout_ms: o.erase_timeout_ms,
                start_timeout_ms: o.start_timeout_ms,
                retries,
                baud: o.baud,
            }),
    };
    match opts.and_then(|o| Sender::new(size, o)) {
        // SAFETY: the caller's contract.
        Ok(sender) => unsafe { init(s, sender) },
        Err(e) => e.code(),
    }
}

/// What to do next (see `qsota_action_t`); `frame` is the driver's frame buffer of `cap`
/// bytes (at least `QSOTA_STM32_FRAME_SIZE`).
///
/// # Safety
/// `s` initialised; `frame` valid for `cap` bytes of reads and writes; `action` for a write.
#[no_mangle]
pub unsafe extern "C" fn qsota_stm32_poll(
    s: *mut qsota_stm32_t,
    now_ms: u32,
    frame: *mut u8,
    cap: usize,
    action: *mut qsota_action_t,
) -> i32 {
    // SAFETY: the caller's contract.
    unsafe { sender_poll::<Sender>(s, now_ms, frame, cap, action) }
}

/// After a `READ` action: the number of image bytes read.
///
/// # Safety
/// `s` initialised.
#[no_mangle]
pub unsafe extern "C" fn qsota_stm32_provide(s: *mut qsota_stm32_t, n: usize) -> i32 {
    // SAFETY: the caller's contract.
    unsafe { sender_provide::<Sender>(s, n) }
}

/// Feeds `len` bytes received from the line at `now_ms`.
///
/// # Safety
/// `s` initialised; `data` valid for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn qsota_stm32_receive(
    s: *mut qsota_stm32_t,
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
pub unsafe extern "C" fn qsota_stm32_stats(
    s: *mut qsota_stm32_t,
    stats: *mut qsota_stm32_stats_t,
) -> i32 {
    // SAFETY: the caller's contract.
    status(unsafe {
        get::<Sender>(s).and_then(|s| {
            let st = s.stats();
            *out(stats)? = qsota_stm32_stats_t {
                bytes: st.bytes,
                verified: st.verified,
                frames: st.frames,
                retries: st.retries,
                line_bytes: st.line_bytes,
                block: s.block(),
                pid: u32::from(st.pid),
                version: u32::from(st.version),
                erase_cmd: u32::from(st.erase_cmd),
                pages: st.pages,
                erase_ms: st.erase_ms,
                write_ms: st.write_ms,
                verify_ms: st.verify_ms,
                went: u32::from(st.went),
                reason: st.reason.map_or(0, |r| r as u32),
            };
            Ok(())
        })
    })
}

/// The text of a `reason` from `qsota_stm32_stats` (`""` for 0 or an unknown code), into
/// `buf` of `cap` bytes, NUL-terminated; `QSOTA_E_BUFFER` if it does not fit (128 always
/// does).
///
/// # Safety
/// `buf` null or valid for `cap` bytes of writes.
#[no_mangle]
pub unsafe extern "C" fn qsota_stm32_reason(reason: u32, buf: *mut u8, cap: usize) -> i32 {
    let text = Reason::ALL.get(reason as usize).map_or("", |r| r.text());
    // SAFETY: the caller's contract.
    unsafe { super::write_text(text, buf, cap) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::{QSOTA_ACTION_SEND, QSOTA_E_ARG, QSOTA_E_BUFFER, QSOTA_E_RANGE, QSOTA_OK};
    use core::ptr::null;

    #[test]
    fn init_poll_stats_and_reasons() {
        let mut s = qsota_stm32_t {
            opaque: [0; QSOTA_STM32_WORDS],
        };
        // SAFETY: valid storage, options, buffers and out-pointers throughout.
        unsafe {
            let mut o = core::mem::zeroed::<qsota_stm32_options_t>();
            assert_eq!(qsota_stm32_options_default(&mut o), QSOTA_OK);
            assert_eq!((o.address, o.go, o.retries), (0x0800_0000, 1, 10));
            assert_eq!(qsota_stm32_init(&mut s, 0, null()), QSOTA_E_RANGE);
            o.go = 2;
            assert_eq!(qsota_stm32_init(&mut s, 1, &o), QSOTA_E_ARG);
            o.go = 0;
            o.retries = 256;
            assert_eq!(qsota_stm32_init(&mut s, 1, &o), QSOTA_E_RANGE);
            o.retries = 1;
            assert_eq!(qsota_stm32_init(&mut s, 1, &o), QSOTA_OK);
            let mut frame = [0u8; QSOTA_STM32_FRAME_SIZE];
            let mut a = qsota_action_t::from(crate::transfer::Action::Done);
            let poll = qsota_stm32_poll(&mut s, 0, frame.as_mut_ptr(), frame.len(), &mut a);
            assert_eq!(
                (poll, a.kind, a.len, frame[0]),
                (QSOTA_OK, QSOTA_ACTION_SEND, 1, 0x7F)
            );
            let mut st = core::mem::zeroed::<qsota_stm32_stats_t>();
            assert_eq!(qsota_stm32_stats(&mut s, &mut st), QSOTA_OK);
            assert_eq!((st.frames, st.reason), (1, 0));
            let mut buf = [0xAAu8; 128];
            assert_eq!(qsota_stm32_reason(7, buf.as_mut_ptr(), 128), QSOTA_OK);
            let text = core::ffi::CStr::from_bytes_until_nul(&buf).unwrap();
            assert_eq!(text.to_bytes(), Reason::Mismatch.text().as_bytes());
            assert_eq!(qsota_stm32_reason(99, buf.as_mut_ptr(), 1), QSOTA_OK);
            assert_eq!(buf[0], 0);
            assert_eq!(qsota_stm32_reason(7, buf.as_mut_ptr(), 5), QSOTA_E_BUFFER);
        }
        for r in Reason::ALL {
            assert!(r.text().len() < 128);
        }
    }
}
