//! `libqsota.a`: the qsota core's C ABI (`include/qsota.h`) for MicroPython firmware and C
//! bootloaders. A separate crate so that the core stays an ordinary `no_std` rlib that the
//! host tools, tests and fuzzers can link with `std`.
#![no_std]
#![deny(clippy::undocumented_unsafe_blocks)]

pub use qsota::ffi;

/// Nothing can unwind here. No panic is reachable from the C ABI (the fuzzers check); should
/// one happen, hosted targets `abort()` and bare metal spins until the watchdog resets.
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    #[cfg(target_os = "linux")]
    {
        extern "C" {
            fn abort() -> !;
        }
        // SAFETY: libc's abort() takes no arguments and never returns.
        unsafe { abort() }
    }
    #[cfg(not(target_os = "linux"))]
    loop {
        core::hint::spin_loop();
    }
}
