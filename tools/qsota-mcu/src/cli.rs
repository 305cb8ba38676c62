//! Command line options.

use crate::flash::{Flash, Sector, STM32F4_PROGRAM_PER_KIB, STM32F4_SECTORS};
use crate::line::LineFaults;
use crate::mcu::McuFaults;
use crate::native_rx::NativeOptions;
use crate::personality::Personality;
use crate::stm32_rom::{RomOptions, BOOT_SECTORS};
use std::path::PathBuf;
use std::time::Duration;

pub const USAGE: &str = "\
usage: qsota-mcu --listen 127.0.0.1:PORT [options]
Serves one TCP connection (the module's UART) and prints a JSON summary line at the end.
Port 0 picks a free port; the first stdout line is then `listening PORT`.

  --personality NAME     stm32-iap (default) | spec | native (qsota's native protocol) |
                         stm32-rom (ST's ROM bootloader, AN3155: whole 1 MiB STM32F4 flash)
  --baud N               line rate (default 115200)
  --parity P             none (8N1) | even (8E1, 11 bits a byte; default for stm32-rom)
  --pid HEX              stm32-rom: the Get ID answer (default 413, STM32F405/407)
  --erase-cmd HEX        stm32-rom: 44 (Extended Erase, default) or 43 (Erase)
  --protect P            stm32-rom: none | read (RDP: NACKs at the command) | write (WRP)
  --blind-flip N         stm32-rom: the Nth accepted Write Memory (from 0) arrives with one
                         bit flipped in two bytes, unseen by its XOR: the ROM programs it
  --nack-write N         stm32-rom: the Nth Write Memory data frame (from 0) arrives with one
                         bit flipped, which its XOR sees: the ROM NACKs it
  --fifo BYTES           MCU receive buffer while busy (default: stm32-iap 1, others 256)
  --rx-buffers N         native: frame buffers of the receiver, 1 or 2 (default 2: it
                         programs one frame while the next arrives)
  --delta yes|no         native: the receiver applies delta packages to the application
                         (default yes; no: it refuses OPEN's DELTA flag)
  --sector-size S        stm32f4 (default: STM32F4 sectors after a 32 KiB bootloader,
                         datasheet erase times) or a uniform size in bytes (K/M suffixes)
  --flash-size S         application area (default: all of stm32f4's 992 KiB; 256K with
                         uniform sectors); with stm32f4 it must end on a sector boundary
  --erase-ms MS          erase time of every sector (default: stm32f4's, or 20)
  --program-ms-per-kb MS programming time per KiB (default 4.096, STM32F4)
  --flash-scale F        multiply all flash times by F (default 1; 0 = instant)
  --app PATH             the application the MCU runs at start: the application area's
                         content, the base a delta applies to (default: a 48 KiB pattern;
                         --old-image PATH is the same)
  --out PATH             write the received image (declared size) here at the end
  --seed N               fault seed (default 1)
  --bitflip-rate P       per byte, module->MCU: flip one bit
  --drop-rate P          per byte, module->MCU: lose the byte
  --reply-bitflip-rate P per byte, MCU->module
  --reply-drop-rate P    per byte, MCU->module
  --reply-latency MS[-MS] every answer reaches the module this late (a USB-serial adapter's
                         latency timer, TCP with Nagle); a range draws each answer's, seeded
  --drop-ack N[,N..]     lose the ACK of the Nth accepted block (0 = header), once each
  --reset-at BYTES       reset the MCU once this many bytes have been programmed
  --reset-at-erase N     reset the MCU as its Nth sector erase ends
  --boot-ms MS           reboot time after a reset (default 50)
  --timeout SECS         give up after this long (default 600)
";

pub struct Options {
    pub listen: String,
    pub personality: Personality,
    pub baud: u32,
    /// Bit times per byte on the line: 10 (8N1) or 11 (8E1).
    pub frame_bits: u32,
    pub rom: RomOptions,
    pub fifo: usize,
    /// The native receiver's frame buffers: 1 (`Receiver`) or 2 (`Pipelined`).
    pub rx_buffers: u8,
    /// The native receiver applies delta packages.
    pub delta: bool,
    pub sectors: Vec<Sector>,
    pub program_per_kib: Duration,
    pub flash_scale: f64,
    pub old_image: Vec<u8>,
    pub out: Option<PathBuf>,
    pub line_faults: LineFaults,
    pub mcu_faults: McuFaults,
    pub timeout: Duration,
}

impl Options {
    /// The native receiver's options.
    pub fn native(&self) -> NativeOptions {
        NativeOptions {
            fifo: self.fifo,
            rx_buffers: self.rx_buffers,
            baud: self.baud,
            longest_erase: self
                .sectors
                .iter()
                .map(|s| s.erase)
                .max()
                .unwrap_or_default(),
            program_per_kib: self.program_per_kib,
            flash_scale: self.flash_scale,
            delta: self.delta,
        }
    }
}

/// Parses the arguments; `Ok(None)` for `--help`.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Options>, String> {
    let mut listen = None;
    let mut personality = Personality::Stm32Iap;
    let mut baud = 115_200u32;
    let mut parity = None;
    let mut rom = RomOptions::default();
    let mut fifo = None;
    let mut rx_buffers = 2;
    let mut delta = true;
    let mut sector_size: Option<usize> = None;
    let mut flash_size: Option<usize> = None;
    let mut erase_ms: Option<f64> = None;
    let mut program_ms_per_kb: Option<f64> = None;
    let mut flash_scale = 1.0;
    let mut old_image: Option<PathBuf> = None;
    let mut out = None;
    let mut line_faults = LineFaults {
        seed: 1,
        ..LineFaults::default()
    };
    let mut mcu_faults = McuFaults {
        boot: Duration::from_millis(50),
        ..McuFaults::default()
    };
    let mut timeout = Duration::from_secs(600);

    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            return Ok(None);
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let v = value.as_str();
        if let Some(result) = rom.parse(&flag, v) {
            result?;
            continue;
        }
        match flag.as_str() {
            "--listen" => listen = Some(value.clone()),
            "--parity" => {
                parity = Some(match v {
                    "none" => 10,
                    "even" => 11,
                    _ => return Err(bad(&flag, v, "none or even")),
                })
            }
            "--personality" => {
                personality = Personality::from_name(v).ok_or_else(|| {
                    let names: Vec<_> = Personality::ALL.iter().map(|p| p.name()).collect();
                    format!(
                        "--personality: unknown '{v}' (one of: {})",
                        names.join(", ")
                    )
                })?
            }
            "--baud" => baud = positive(&flag, v)? as u32,
            "--fifo" => fifo = Some(size(&flag, v)?),
            "--rx-buffers" => {
                rx_buffers = match v {
                    "1" => 1,
                    "2" => 2,
                    _ => return Err(bad(&flag, v, "1 or 2")),
                }
            }
            "--delta" => {
                delta = match v {
                    "yes" => true,
                    "no" => false,
                    _ => return Err(bad(&flag, v, "yes or no")),
                }
            }
            "--sector-size" => {
                sector_size = (v != "stm32f4").then(|| size(&flag, v)).transpose()?
            }
            "--flash-size" => flash_size = Some(size(&flag, v)?),
            "--erase-ms" => erase_ms = Some(non_negative(&flag, v)?),
            "--program-ms-per-kb" => program_ms_per_kb = Some(non_negative(&flag, v)?),
            "--flash-scale" => flash_scale = non_negative(&flag, v)?,
            "--app" | "--old-image" => old_image = Some(PathBuf::from(v)),
            "--out" => out = Some(PathBuf::from(v)),
            "--seed" => line_faults.seed = v.parse().map_err(|_| bad(&flag, v, "an integer"))?,
            "--bitflip-rate" => line_faults.bitflip_rate = rate(&flag, v)?,
            "--drop-rate" => line_faults.drop_rate = rate(&flag, v)?,
            "--reply-bitflip-rate" => line_faults.reply_bitflip_rate = rate(&flag, v)?,
            "--reply-drop-rate" => line_faults.reply_drop_rate = rate(&flag, v)?,
            "--reply-latency" => line_faults.reply_latency = latency(&flag, v)?,
            "--drop-ack" => {
                for n in v.split(',') {
                    let n = n
                        .trim()
                        .parse()
                        .map_err(|_| bad(&flag, v, "block numbers"))?;
                    mcu_faults.drop_acks.push(n);
                }
            }
            "--reset-at" => mcu_faults.reset_at = Some(size(&flag, v)? as u64),
            "--reset-at-erase" => mcu_faults.reset_at_erase = Some(size(&flag, v)? as u64),
            "--boot-ms" => mcu_faults.boot = Duration::from_secs_f64(non_negative(&flag, v)? / 1e3),
            "--timeout" => timeout = Duration::from_secs_f64(positive(&flag, v)?),
            _ => return Err(format!("unknown option '{flag}'")),
        }
    }

    let listen = listen.ok_or("--listen ADDR is required (e.g. 127.0.0.1:0)")?;
    if baud == 0 || baud > 10_000_000 {
        return Err(format!("--baud: {baud} is out of range (1..10000000)"));
    }
    let rom_map = [&BOOT_SECTORS[..], &STM32F4_SECTORS[..]].concat();
    let mut sectors = match sector_size {
        None if personality == Personality::Stm32Rom => Flash::from_map(&rom_map),
        None => Flash::from_map(&STM32F4_SECTORS),
        Some(0) => return Err("--sector-size must not be 0".into()),
        Some(s) => {
            let total = flash_size.unwrap_or(256 << 10);
            if total == 0 || !total.is_multiple_of(s) {
                return Err(format!(
                    "--flash-size {total} is not a multiple of --sector-size {s}"
                ));
            }
            Flash::uniform(total, s, Duration::from_millis(20))
        }
    };
    if let (None, Some(total)) = (sector_size, flash_size) {
        let ends: Vec<usize> = sectors.iter().map(|s| s.start + s.size).collect();
        let n = ends.iter().position(|&e| e == total).ok_or_else(|| {
            format!(
                "--flash-size {total} does not end on an stm32f4 sector boundary (one of {ends:?})"
            )
        })?;
        sectors.truncate(n + 1);
    }
    if let Some(ms) = erase_ms {
        for s in &mut sectors {
            s.erase = Duration::from_secs_f64(ms / 1e3);
        }
    }
    let program_per_kib = program_ms_per_kb.map_or(STM32F4_PROGRAM_PER_KIB, |ms| {
        Duration::from_secs_f64(ms / 1e3)
    });
    let area = sectors.last().map_or(0, |s| s.start + s.size);
    let old_image = match old_image {
        Some(path) => std::fs::read(&path).map_err(|e| format!("--app {}: {e}", path.display()))?,
        None => old_pattern((48 << 10).min(area)),
    };
    if old_image.len() > area {
        return Err(format!(
            "--app is {} bytes, larger than the {area}-byte application area",
            old_image.len()
        ));
    }
    Ok(Some(Options {
        listen,
        personality,
        baud,
        frame_bits: parity.unwrap_or(if personality == Personality::Stm32Rom {
            11
        } else {
            10
        }),
        rom,
        fifo: fifo.unwrap_or(personality.default_fifo()),
        rx_buffers,
        delta,
        sectors,
        program_per_kib,
        flash_scale,
        old_image,
        out,
        line_faults,
        mcu_faults,
        timeout,
    }))
}

/// A recognisable old application: "OLD!" and a counter.
fn old_pattern(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| {
            if i % 8 < 4 {
                b"OLD!"[i % 4]
            } else {
                (i / 8) as u8
            }
        })
        .collect()
}

fn bad(flag: &str, v: &str, what: &str) -> String {
    format!("{flag}: '{v}' is not {what}")
}

/// A byte count: decimal, optionally with K or M (KiB, MiB).
fn size(flag: &str, v: &str) -> Result<usize, String> {
    let (digits, unit) = match v.as_bytes().last() {
        Some(b'K' | b'k') => (&v[..v.len() - 1], 1 << 10),
        Some(b'M' | b'm') => (&v[..v.len() - 1], 1 << 20),
        _ => (v, 1),
    };
    digits
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(unit))
        .ok_or_else(|| bad(flag, v, "a size in bytes (e.g. 4096, 16K, 1M)"))
}

/// A number from 0 to 1e9: times in ms (11 days), scales, seconds; larger values would
/// overflow time arithmetic.
fn non_negative(flag: &str, v: &str) -> Result<f64, String> {
    v.parse::<f64>()
        .ok()
        .filter(|x| (0.0..=1e9).contains(x))
        .ok_or_else(|| bad(flag, v, "a number from 0 to 1e9"))
}

fn positive(flag: &str, v: &str) -> Result<f64, String> {
    non_negative(flag, v)?
        .gt(&0.0)
        .then(|| v.parse().unwrap_or(0.0))
        .ok_or_else(|| bad(flag, v, "a number > 0"))
}

/// `MS` or `MS-MS`: a fixed latency or the range each one is drawn from.
fn latency(flag: &str, v: &str) -> Result<(Duration, Duration), String> {
    let (lo, hi) = v.split_once('-').unwrap_or((v, v));
    let ms = |t: &str| non_negative(flag, t).map(|ms| Duration::from_secs_f64(ms / 1e3));
    let (lo, hi) = (ms(lo)?, ms(hi)?);
    if lo > hi {
        return Err(bad(flag, v, "MS or LOW-HIGH with LOW <= HIGH"));
    }
    Ok((lo, hi))
}

fn rate(flag: &str, v: &str) -> Result<f64, String> {
    non_negative(flag, v)?
        .le(&1.0)
        .then(|| v.parse().unwrap_or(0.0))
        .ok_or_else(|| bad(flag, v, "a probability (0..1)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_args(args: &[&str]) -> Result<Options, String> {
        let mut all = vec!["--listen", "127.0.0.1:0"];
        all.extend_from_slice(args);
        parse(all.into_iter().map(String::from)).map(|o| o.expect("not --help"))
    }

    #[test]
    fn defaults_model_an_stm32f4() {
        let o = parse_args(&[]).unwrap();
        assert_eq!(o.personality, Personality::Stm32Iap);
        assert_eq!(o.baud, 115_200);
        assert_eq!(o.sectors.len(), 10);
        assert_eq!(o.sectors.last().map(|s| s.start + s.size), Some(992 << 10));
        assert_eq!(o.old_image.len(), 48 << 10);
        assert_eq!(o.fifo, 1, "ST polls the USART's data register");
        assert_eq!(parse_args(&["--personality", "spec"]).unwrap().fifo, 256);
        assert_eq!(parse_args(&["--fifo", "64"]).unwrap().fifo, 64);
    }

    #[test]
    fn stm32f4_can_be_cut_on_a_sector_boundary() {
        let o = parse_args(&["--flash-size", "224K"]).unwrap();
        assert_eq!(o.sectors.len(), 4);
        let e = parse_args(&["--flash-size", "256K"]).err().unwrap();
        assert!(e.contains("sector boundary"), "{e}");
    }

    #[test]
    fn uniform_sectors_and_times() {
        let o = parse_args(&[
            "--sector-size",
            "4K",
            "--flash-size",
            "64K",
            "--erase-ms",
            "5",
            "--program-ms-per-kb",
            "1",
        ])
        .unwrap();
        assert_eq!(o.sectors.len(), 16);
        assert_eq!(o.sectors[3].erase, Duration::from_millis(5));
        assert_eq!(o.program_per_kib, Duration::from_millis(1));
    }

    #[test]
    fn bad_values_name_the_option() {
        for (args, word) in [
            (&["--personality", "xmodem"][..], "--personality"),
            (&["--baud", "0"], "--baud"),
            (&["--baud", "fast"], "--baud"),
            (&["--drop-rate", "1.5"], "--drop-rate"),
            (&["--timeout", "1e30"], "--timeout"),
            (&["--erase-ms", "nan"], "--erase-ms"),
            (&["--flash-scale", "inf"], "--flash-scale"),
            (&["--bitflip-rate", "-0.1"], "--bitflip-rate"),
            (&["--fifo", "-1"], "--fifo"),
            (&["--rx-buffers", "3"], "--rx-buffers"),
            (
                &["--sector-size", "1000", "--flash-size", "4K"],
                "--flash-size",
            ),
            (&["--drop-ack", "1,x"], "--drop-ack"),
            (&["--old-image", "/nonexistent/x"], "--app"),
            (&["--app", "/nonexistent/x"], "--app"),
            (&["--delta", "maybe"], "--delta"),
            (&["--seed"], "--seed"),
            (&["--bogus", "1"], "--bogus"),
        ] {
            let e = parse_args(args)
                .err()
                .unwrap_or_else(|| panic!("{args:?} accepted"));
            assert!(e.contains(word), "{args:?}: {e}");
        }
        assert!(parse(Vec::<String>::new())
            .err()
            .unwrap()
            .contains("--listen"));
    }

    #[test]
    fn drop_ack_takes_a_list() {
        let o = parse_args(&["--drop-ack", "0,3, 300"]).unwrap();
        assert_eq!(o.mcu_faults.drop_acks, vec![0, 3, 300]);
    }
}
