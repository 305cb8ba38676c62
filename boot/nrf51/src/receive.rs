//! The receiver loop: qsota's native receiver (docs/protocol.md) on the polled UART, writing
//! the download slot and its resume record. It returns only by a reset, once an image was
//! read back, committed and DONE was sent: the reset then installs it.
//!
//! The `Pipelined` receiver programs a frame 16 bytes (four words, 164 us on an nRF51) per
//! call while the UART is polled between calls, so its 6-byte FIFO never overflows at
//! 115200 baud. Its window is 2: one frame staged, one arriving.
//!
//! It also takes delta packages (OPEN's DELTA flag, docs/delta.md): each frame is applied,
//! as it is programmed, to the running application into the slot, and the result is read
//! back against the package's target digest before it is committed. Its heatshrink window
//! is [`HS_WINDOW`] bytes: a package made with a larger one (`qsota delta --window`) is
//! refused at its first frame.

use crate::flash::BootFlash;
use boot_hal::{system_reset, uart};
use qsota::ffi::native_rx::QSOTA_NATIVE_REPLY_MAX;
use qsota::native::delta::Patcher;
use qsota::native::receiver::{Config, DeltaReceiver};

/// Bytes programmed per call.
const CHUNK: u16 = 16;
/// The longest the receiver goes silent once a transfer runs: erasing the record's page when
/// it is full (22 ms), with a margin. (Erasing the slot for a new image happens before
/// ACCEPT: the sender repeats OPEN meanwhile.)
const BUSY_MS: u16 = 100;
/// The delta applier's heatshrink window: `qsota delta`'s default (--window 8).
const HS_WINDOW: usize = 256;
/// The DONE message's type (docs/protocol.md §2).
const DONE: u8 = 0x84;

pub fn run(flash: &mut BootFlash) -> ! {
    uart::init();
    uart::write_all(b"qsota-boot: ready\n");
    // A one-frame window for a UART that buffers no frame; `pipelined` adds its second buffer.
    let config = Config {
        window: 1,
        busy_ms: BUSY_MS,
    };
    let mut window = [0u8; HS_WINDOW];
    let mut rx = DeltaReceiver::pipelined_with(config, CHUNK, Patcher::new(&mut window));
    let mut out = [0u8; QSOTA_NATIVE_REPLY_MAX];
    let mut buf = [0u8; 32];
    let mut len = 0;
    loop {
        while len < buf.len() {
            match uart::try_read() {
                Some(b) => {
                    buf[len] = b;
                    len += 1;
                }
                None => break,
            }
        }
        // `out` is QSOTA_NATIVE_REPLY_MAX long, the only way `receive` can fail.
        let (used, answer) = rx.receive(flash, &buf[..len], &mut out).unwrap_or((len, 0));
        buf.copy_within(used..len, 0);
        len -= used;
        uart::write_all(&out[..answer]);
        if answer > 2 && out[2] == DONE {
            system_reset();
        }
    }
}
