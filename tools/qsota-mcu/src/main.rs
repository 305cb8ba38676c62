//! qsota-mcu: a host MCU simulator for SOTA transfer tests. It listens on loopback TCP,
//! serves one connection (the module's UART) over a paced, faulty line into a bootloader
//! personality writing a NOR flash model, and prints a one-line JSON summary.
//! See README.md for the options and what each personality models.

mod cli;
mod flash;
mod line;
mod mcu;
mod native_rx;
mod personality;
#[cfg(test)]
mod sim_tests;
mod stm32_rom;
#[cfg(test)]
mod stm32_rom_tests;
mod summary;
#[cfg(test)]
mod test_sender;
mod ymodem_rx;

use crate::cli::Options;
use crate::flash::Flash;
use crate::line::Uart;
use crate::mcu::{boot, Mcu};
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

fn main() -> ExitCode {
    let opts = match cli::parse(std::env::args().skip(1)) {
        Ok(Some(opts)) => opts,
        Ok(None) => {
            print!("{}", cli::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("qsota-mcu: {e}\n(try --help)");
            return ExitCode::from(2);
        }
    };
    match run(&opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("qsota-mcu: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(opts: &Options) -> Result<(), String> {
    let listener =
        TcpListener::bind(&opts.listen).map_err(|e| format!("--listen {}: {e}", opts.listen))?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    println!("listening {port}");
    std::io::stdout().flush().map_err(|e| e.to_string())?;
    let (json, image) = serve(opts, listener)?;
    if let Some(path) = &opts.out {
        std::fs::write(path, image).map_err(|e| format!("--out {}: {e}", path.display()))?;
    }
    println!("{json}");
    Ok(())
}

/// Serves one connection: returns the summary line and the image as it stands in flash.
fn serve(opts: &Options, listener: TcpListener) -> Result<(String, Vec<u8>), String> {
    let deadline = Instant::now() + opts.timeout;
    let flash = Flash::new(opts.sectors.clone(), opts.program_per_kib, &opts.old_image);
    let stream = accept_before(&listener, deadline).map_err(|e| format!("accept: {e}"))?;
    drop(listener);
    let uart = Arc::new(Uart::new(opts.baud, opts.frame_bits, opts.fifo));
    let mut mcu = Mcu::new(
        uart.clone(),
        flash,
        opts.flash_scale,
        opts.mcu_faults.clone(),
    );
    let timed_out = Arc::new(AtomicBool::new(stream.is_none()));
    let mut outcome = None;
    if let Some(stream) = stream {
        let _ = stream.set_nodelay(true);
        let pumps = uart
            .start(stream, opts.baud, opts.line_faults)
            .map_err(|e| format!("socket: {e}"))?;
        let (watched, flag) = (uart.clone(), timed_out.clone());
        thread::spawn(move || {
            thread::sleep(deadline.saturating_duration_since(Instant::now()));
            flag.store(true, Ordering::SeqCst);
            watched.abandon();
        });
        let (personality, native) = (opts.personality, opts.native());
        outcome = boot(&mut mcu, &|| personality.receiver(&native, &opts.rom));
        uart.stop();
        for p in pumps {
            let _ = p.join();
        }
    }
    let summary = summary::Summary {
        opts,
        mcu: &mcu,
        outcome: outcome.as_ref(),
        timed_out: timed_out.load(Ordering::SeqCst),
        line: uart.stats(),
        elapsed: uart.now(),
    };
    Ok((summary.to_json(), summary.image().to_vec()))
}

/// The module's connection, or `None` if none came before `deadline`.
fn accept_before(listener: &TcpListener, deadline: Instant) -> std::io::Result<Option<TcpStream>> {
    listener.set_nonblocking(true)?;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false)?;
                return Ok(Some(stream));
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if Instant::now() >= deadline {
                    return Ok(None);
                }
                thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return Err(e),
        }
    }
}
