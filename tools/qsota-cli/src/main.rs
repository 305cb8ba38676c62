//! `qsota`: verify a firmware image and send it to an MCU's bootloader over a serial port
//! (or TCP), with the same core senders the module runs. See docs/cli.md.

mod delta;
mod failure;
mod image;
mod line;
mod probe;
mod protocol;
mod session;

use clap::{Parser, Subcommand};
use failure::{Class, Failure};
use image::{hex, Expect, Image};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use line::{Line, Target};
use protocol::{Options, Protocol};
use qsota::source::{self, Refusal};
use qsota::transfer::Fail;
use serde_json::{json, Map, Value};
use serialport::Parity;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::Duration;

#[derive(Parser)]
#[command(name = "qsota", version, about, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

const EXIT_CODES: &str = "\
Exit status: 0 done; 2 usage; 3 the image does not match --md5/--sha256/--crc/--size;
4 the image cannot be read; 5 the port cannot be opened or failed; 10 timeout,
11 cancelled by the receiver, 12 retries, 13 protocol, 14 source, 15 rejected, 16 sender
misuse (the transfer's TransferError class); 130 interrupted (Ctrl-C: the receiver got the
protocol's abort; a native transfer resumes on the next send; stm32 and mcuboot have no abort,
the message says what the MCU holds).";

/// The MCU at the other end: where, how fast, with which protocol and its options.
#[derive(clap::Args)]
struct Peer {
    #[command(flatten)]
    target: Target,
    /// Line rate (default 115200 on a port; over TCP only used for waits and figures)
    #[arg(long)]
    baud: Option<u32>,
    #[arg(long, value_enum, default_value_t = Protocol::Ymodem)]
    protocol: Protocol,
    /// The port's parity instead of the protocol's (8N1; stm32: 8E1). A pty has none: use
    /// none there
    #[arg(long, value_enum)]
    parity: Option<ParityArg>,
    #[command(flatten)]
    options: Options,
    /// Print one JSON line on stdout at the end
    #[arg(long, help_heading = "Output")]
    json: bool,
}

/// What `send` refuses unless told: the core's rules (`qsota::source`), as `qsota.send`'s.
#[derive(clap::Args)]
#[command(next_help_heading = "Refused unless told")]
struct Allow {
    /// Send a 0-byte image (ST's IAP erases the whole application area for it)
    #[arg(long)]
    allow_empty: bool,
    /// Send a diff package (a patch: bsdiff, esp_delta_ota, ...) as it is: the MCU's own
    /// bootloader applies it
    #[arg(long)]
    mcu_applies_diffs: bool,
}

impl Peer {
    /// The line rate: given, or 115200 on a port; 0 (unknown) over TCP.
    fn baud(&self) -> u32 {
        let default = if self.target.port.is_some() {
            115_200
        } else {
            0
        };
        self.baud.unwrap_or(default)
    }

    /// Opens the line with the protocol's framing (or `--parity`'s).
    fn open(&self) -> Result<(Line, String), Failed> {
        let parity = match self.parity {
            Some(ParityArg::None) => Parity::None,
            Some(ParityArg::Even) => Parity::Even,
            None => self.protocol.parity(),
        };
        Line::open(&self.target, self.baud().max(1), parity).map_err(bare)
    }
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum ParityArg {
    None,
    Even,
}

#[derive(Subcommand)]
enum Command {
    /// Verify IMAGE against the expected digests, then send it to the MCU
    #[command(after_help = EXIT_CODES)]
    Send {
        /// The firmware image
        image: PathBuf,
        #[command(flatten)]
        peer: Peer,
        #[command(flatten)]
        expect: Expect,
        #[command(flatten)]
        allow: Allow,
    },
    /// Say what the verifier finds in IMAGE (digests, CRCs, size) and check expectations
    #[command(after_help = EXIT_CODES)]
    Verify {
        image: PathBuf,
        #[command(flatten)]
        expect: Expect,
        #[arg(long)]
        json: bool,
    },
    /// Make a delta package OLD -> NEW (-o PKG), say what a package holds (--info PKG), or
    /// apply one (--apply PKG --base OLD -o NEW)
    #[command(after_help = EXIT_CODES)]
    Delta(delta::Args),
    /// Say what is on the other end: a YMODEM receiver's 'C', the native receiver's ACCEPT
    /// and how much of IMAGE it holds (native needs IMAGE), the ROM bootloader's PID and
    /// version, MCUboot's image list (and, with IMAGE, whether it lists it and how much of
    /// an upload it holds); the MCU keeps what it holds
    #[command(after_help = EXIT_CODES)]
    Probe {
        /// The image whose resume state to ask for (native, mcuboot; stm32: does it fit)
        image: Option<PathBuf>,
        #[command(flatten)]
        peer: Peer,
        /// YMODEM: how long to listen, ms
        #[arg(long, default_value_t = 3500)]
        listen_ms: u64,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The first Ctrl-C stops the transfer cleanly (the receiver gets the abort); a second
    // one leaves at once.
    let _ = ctrlc::set_handler(|| {
        if session::INTERRUPTED.swap(true, Ordering::SeqCst) {
            std::process::exit(i32::from(Class::Interrupted.code()));
        }
    });
    let (json, result) = match cli.command {
        Command::Send {
            image,
            peer,
            expect,
            allow,
        } => (peer.json, send(&image, &peer, &expect, &allow)),
        Command::Verify {
            image,
            expect,
            json,
        } => (json, verify(&image, &expect)),
        Command::Probe {
            image,
            peer,
            listen_ms,
        } => (peer.json, probe(image.as_deref(), &peer, listen_ms)),
        Command::Delta(args) => (
            args.json,
            delta::run(&args)
                .map(|(text, json)| Report { text, json })
                .map_err(bare),
        ),
    };
    let (code, line) = match result {
        Ok(mut report) => {
            eprintln!("{}", report.text);
            if let Value::Object(map) = &mut report.json {
                map.insert("result".into(), json!("ok"));
            }
            (0, report.json)
        }
        Err((failure, mut stats)) => {
            eprintln!("qsota: {failure}");
            stats.insert("result".into(), json!("error"));
            stats.insert("class".into(), json!(failure.class.name()));
            stats.insert("message".into(), json!(failure.message));
            (failure.class.code(), Value::Object(stats))
        }
    };
    if json {
        println!("{line}");
    }
    ExitCode::from(code)
}

/// What a command prints: a line for people (stderr) and one JSON object (`--json`).
struct Report {
    text: String,
    json: Value,
}

/// A failure and whatever stats there are by then.
type Failed = (Failure, Map<String, Value>);

fn bare(failure: Failure) -> Failed {
    (failure, Map::new())
}

fn send(
    path: &std::path::Path,
    peer: &Peer,
    expect: &Expect,
    allow: &Allow,
) -> Result<Report, Failed> {
    let (protocol, baud) = (peer.protocol, peer.baud());
    // Everything about the image is settled before the port is touched.
    let image = Image::load(path).map_err(bare)?;
    let verified = image.verify(expect).map_err(bare)?;
    verified.require().map_err(bare)?;
    refuse(&image, allow, protocol == Protocol::Native).map_err(bare)?;
    if expect.checks().is_empty() {
        eprintln!("qsota: {}: sending it unverified", nothing_checked());
    }
    let mut job =
        protocol::sender(protocol, &peer.options, &image, &verified.sha256, baud).map_err(bare)?;
    let (mut line, port) = peer.open()?;
    let size = image.bytes.len() as u64;
    let bar = progress_bar(size, &format!("{} {}", protocol.name(), image.name));
    let outcome = session::run(
        job.as_mut(),
        &mut line,
        &image.bytes,
        protocol.name(),
        |_| false,
        |j| bar.set_position(j.acked()),
    );
    bar.finish_and_clear();
    let mut stats = job.stats();
    stats.insert("protocol".into(), json!(protocol.name()));
    stats.insert("port".into(), json!(port));
    stats.insert("baud".into(), json!(baud));
    stats.insert("image".into(), json!(path.display().to_string()));
    stats.insert("size".into(), json!(size));
    stats.insert("sha256".into(), json!(hex(&verified.sha256)));
    stats.insert(
        "elapsed_ms".into(),
        json!(outcome.elapsed.as_millis() as u64),
    );
    let resumed = stats
        .get("resumed_from")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let sent = job.acked().saturating_sub(resumed);
    let mut rate = String::new();
    let data_time = job
        .data_ms()
        .map(Duration::from_millis)
        .or(outcome.data_time);
    if let Some(data) = data_time {
        stats.insert("data_ms".into(), json!(data.as_millis() as u64));
        if baud > 0 {
            // The protocol's framing, which the MCU's line has whatever `--parity` says
            // (a pty has none).
            let bits = if protocol.parity() == Parity::None {
                10.0
            } else {
                11.0
            };
            let eff =
                |t: Duration| sent as f64 / (t.as_secs_f64().max(1e-3) * f64::from(baud) / bits);
            let (e, overall) = (eff(data), eff(outcome.elapsed));
            stats.insert(
                "line_efficiency".into(),
                json!((e * 1000.0).round() / 1000.0),
            );
            stats.insert(
                "line_efficiency_overall".into(),
                json!((overall * 1000.0).round() / 1000.0),
            );
            rate = format!(", line efficiency {e:.3} in the data phase");
            if e > 1.0 {
                // More payload than the line can carry: the line is faster than `baud`.
                rate += &format!(
                    " (above 1: the line is faster than --baud {baud} says; give its real rate)"
                );
            }
        }
    }
    if let Err(failure) = outcome.result {
        return Err((failure, stats));
    }
    stats.insert("checked".into(), json!(expect.checks()));
    let secs = outcome.elapsed.as_secs_f64();
    Ok(Report {
        text: format!(
            "sent {} ({size} bytes{}) with {} to {port} in {secs:.1} s: {:.1} KB/s{rate}",
            image.name,
            if resumed > 0 {
                format!(", resumed from {resumed}")
            } else {
                String::new()
            },
            protocol.name(),
            sent as f64 / secs.max(1e-3) / 1000.0,
        ),
        json: Value::Object(stats),
    })
}

/// What the core refuses to send (`qsota::source`), with the option that sends it anyway;
/// `carries_packages`: the protocol sends qsota's delta packages as such (native).
fn refuse(image: &Image, allow: &Allow, carries_packages: bool) -> Result<(), Failure> {
    let bytes = &image.bytes;
    let head = &bytes[..bytes.len().min(source::HEAD)];
    let size = bytes.len() as u64;
    let (empty, diffs) = (allow.allow_empty, allow.mcu_applies_diffs);
    match source::refusal(head, size, empty, diffs, carries_packages) {
        None => Ok(()),
        Some(refusal) => {
            let option = match refusal {
                Refusal::Empty => "--allow-empty sends it",
                Refusal::Patch(_) => "--mcu-applies-diffs sends it as it is",
            };
            Err(Failure::new(
                Class::Transfer(Fail::Source),
                format!("source: {refusal} ({option})"),
            ))
        }
    }
}

fn verify(path: &std::path::Path, expect: &Expect) -> Result<Report, Failed> {
    let image = Image::load(path).map_err(bare)?;
    let report = image.verify(expect).map_err(bare)?;
    let mut json = report.to_json(image.bytes.len());
    json["image"] = json!(path.display().to_string());
    json["checked"] = json!(expect.checks());
    let crcs: Vec<String> = report
        .crcs
        .iter()
        .map(|(v, crc)| format!("crc32/{} 0x{crc:08x}", v.name()))
        .collect();
    let text = format!(
        "{}: {} bytes, md5 {}, sha256 {}, {}",
        path.display(),
        image.bytes.len(),
        hex(&report.md5),
        hex(&report.sha256),
        crcs.join(", ")
    );
    match report.require() {
        Ok(()) if expect.checks().is_empty() => Ok(Report {
            text: format!("{text}\n{}", nothing_checked()),
            json,
        }),
        Ok(()) => Ok(Report {
            text: format!(
                "{text}\nok: {}{}",
                expect.checks().join(", "),
                matched(&report)
            ),
            json,
        }),
        Err(failure) => {
            eprintln!("{text}");
            let stats = json.as_object().cloned().unwrap_or_default();
            Err((failure, stats))
        }
    }
}

/// What `verify` and `send` say when no expectation was given (as the agent's
/// `allow_unverified` says it).
fn nothing_checked() -> &'static str {
    "NOT verified: nothing was checked (no --md5, --sha256, --crc, --size or --key)"
}

fn matched(report: &image::Report) -> String {
    report
        .crc_matched
        .map_or(String::new(), |v| format!(" (crc matched as {})", v.name()))
}

fn probe(path: Option<&std::path::Path>, peer: &Peer, listen_ms: u64) -> Result<Report, Failed> {
    // Native and MCUboot say how much of an image they hold; stm32 checks that it fits.
    let image = path.map(Image::load).transpose().map_err(bare)?;
    let needed = |image: Option<Image>| {
        image.ok_or_else(|| {
            bare(Failure::new(
                Class::Usage,
                format!(
                    "probe --protocol {} needs IMAGE: the MCU says how much of it it holds",
                    peer.protocol.name()
                ),
            ))
        })
    };
    let found = match peer.protocol {
        Protocol::Ymodem => probe::ymodem(&mut peer.open()?.0, Duration::from_millis(listen_ms)),
        Protocol::Native => {
            let image = needed(image)?;
            let (sha, baud) = (image.sha256(), peer.baud());
            probe::native(&mut peer.open()?.0, &image, &peer.options, &sha, baud)
        }
        Protocol::Mcuboot => probe::mcuboot(&mut peer.open()?.0, image.as_ref(), &peer.options),
        Protocol::Stm32 => {
            let size = image.as_ref().map(|i| i.bytes.len() as u64);
            probe::stm32(&mut peer.open()?.0, &peer.options, size, peer.baud())
        }
    }
    .map_err(bare)?;
    Ok(Report {
        text: found.text,
        json: found.json,
    })
}

/// A progress bar with rate and ETA on stderr; hidden when stderr is not a terminal.
fn progress_bar(size: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(size), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_string());
    bar
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// clap's own consistency checks (unique names and groups, ...), which a release build
    /// skips.
    #[test]
    fn the_command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
