//! `qsota delta`: make a delta package from two images, say what a package holds
//! (`--info`), or apply one to a base (`--apply`) with the core's applier, as the MCU or
//! the module will. docs/delta.md describes the package.

pub mod encode;
mod make;

use crate::failure::{Class, Failure};
use crate::image::hex;
use encode::Compression;
use qsota::delta::{
    Applier, Base, Extension, Header, IoError, Package, Pair, Sink, DIGEST_LEN, HEADER_LEN, MAGIC,
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The largest image (the core's limit on sizes in a patch: 2^30 - 1).
const MAX_IMAGE: usize = (1 << 30) - 1;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompressionArg {
    Heatshrink,
    Crle,
    None,
}

#[derive(clap::Args)]
pub struct Args {
    /// The base image: the firmware the MCU runs now
    #[arg(required_unless_present_any = ["info", "apply"])]
    old: Option<PathBuf>,
    /// The target image
    #[arg(required_unless_present_any = ["info", "apply"])]
    new: Option<PathBuf>,
    /// Where the package (or, with --apply, the target) goes
    #[arg(short, long, value_name = "FILE", required_unless_present = "info")]
    output: Option<PathBuf>,
    /// The patch's compression
    #[arg(long, value_enum, default_value_t = CompressionArg::Heatshrink)]
    compression: CompressionArg,
    /// heatshrink: log2 of the window (4 to 12; the MCU needs 2^window bytes of RAM)
    #[arg(long, default_value_t = 8)]
    window: u8,
    /// heatshrink: log2 of the lookahead (3 to window - 1)
    #[arg(long, default_value_t = 7)]
    lookahead: u8,
    /// Leave out qsota's extension (reserved bytes zero, as esp_delta_ota's tool writes): the
    /// receiver can then check the base but not the result
    #[arg(long)]
    esp: bool,
    /// Say what the package PKG holds
    #[arg(long, value_name = "PKG", conflicts_with_all = ["old", "new", "apply"])]
    info: Option<PathBuf>,
    /// Apply PKG (a package, or a bare detools patch) to --base and write the target to -o
    #[arg(long, value_name = "PKG", requires = "base", conflicts_with_all = ["old", "new"])]
    apply: Option<PathBuf>,
    /// The base for --apply
    #[arg(long, value_name = "FILE")]
    base: Option<PathBuf>,
    /// Print one JSON line on stdout at the end
    #[arg(long)]
    pub json: bool,
}

/// What the command says: a line for people and the JSON object.
pub type Said = (String, Value);

pub fn run(args: &Args) -> Result<Said, Failure> {
    if let Some(pkg) = &args.info {
        return info(pkg);
    }
    let output = args
        .output
        .as_deref()
        .ok_or_else(|| usage("-o is required"))?;
    if let (Some(pkg), Some(base)) = (&args.apply, &args.base) {
        return apply(pkg, base, output);
    }
    let (Some(old), Some(new)) = (&args.old, &args.new) else {
        return Err(usage("OLD and NEW are required"));
    };
    let compression = match args.compression {
        CompressionArg::None => Compression::None,
        CompressionArg::Crle => Compression::Crle,
        CompressionArg::Heatshrink => Compression::Heatshrink {
            window: args.window,
            lookahead: args.lookahead,
        },
    };
    make(old, new, output, compression, args.esp)
}

fn usage(message: &str) -> Failure {
    Failure::new(Class::Usage, message)
}

fn read(path: &Path) -> Result<Vec<u8>, Failure> {
    let bytes = std::fs::read(path)
        .map_err(|e| Failure::new(Class::Image, format!("{}: {e}", path.display())))?;
    if bytes.len() > MAX_IMAGE {
        return Err(Failure::new(
            Class::Image,
            format!("{}: larger than {MAX_IMAGE} bytes", path.display()),
        ));
    }
    Ok(bytes)
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    std::fs::write(path, bytes)
        .map_err(|e| Failure::new(Class::Image, format!("{}: {e}", path.display())))
}

fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

fn make(
    old: &Path,
    new: &Path,
    output: &Path,
    compression: Compression,
    esp: bool,
) -> Result<Said, Failure> {
    let (base, target) = (read(old)?, read(new)?);
    let stream = make::stream(&base, &target);
    let patch = encode::patch(&stream, target.len() as u64, compression)
        .ok_or_else(|| usage("--window must be 4 to 12 and --lookahead 3 to window - 1"))?;
    let header = Header {
        base_sha256: sha256(&base),
        extension: (!esp).then(|| Extension {
            base_size: base.len() as u32,
            target_digest: sha256(&target)[..DIGEST_LEN].try_into().unwrap_or_default(),
        }),
    };
    let mut package = header.to_bytes().to_vec();
    package.extend_from_slice(&patch);
    write(output, &package)?;
    let text = format!(
        "{}: {} bytes for {} ({} bytes) against {} ({} bytes): {:.1}%",
        output.display(),
        package.len(),
        new.display(),
        target.len(),
        old.display(),
        base.len(),
        100.0 * package.len() as f64 / target.len().max(1) as f64
    );
    let json = json!({"result": "ok", "package": output.display().to_string(),
        "size": package.len(), "patch": patch.len(), "base_size": base.len(),
        "target_size": target.len(), "base_sha256": hex(&header.base_sha256),
        "target_sha256": hex(&sha256(&target))});
    Ok((text, json))
}

/// What a patch's first bytes say: compression, heatshrink parameters, target size.
fn describe_patch(patch: &[u8]) -> Value {
    let mut v = json!({});
    let Some(&kind) = patch.first() else {
        return v;
    };
    v["patch_type"] = json!((kind >> 4) & 7);
    v["compression"] = json!(match kind & 0x0f {
        0 => "none",
        1 => "lzma",
        2 => "crle",
        3 => "bz2",
        4 => "heatshrink",
        5 => "zstd",
        6 => "lz4",
        _ => "unknown",
    });
    // The target size: detools' size field after the first byte.
    let mut size = 0u64;
    let mut at = 1;
    for (i, &b) in patch.iter().enumerate().skip(1).take(5) {
        let bits = if i == 1 {
            u64::from(b & 0x3f)
        } else {
            u64::from(b & 0x7f)
        };
        size |= bits << if i == 1 { 0 } else { 6 + 7 * (i - 2) };
        at = i + 1;
        if b & 0x80 == 0 {
            break;
        }
    }
    v["target_size"] = json!(size);
    if kind & 0x0f == 4 {
        if let Some(&p) = patch.get(at) {
            v["window"] = json!((p >> 4) + 4);
            v["lookahead"] = json!((p & 0x0f) + 3);
        }
    }
    v
}

fn info(path: &Path) -> Result<Said, Failure> {
    let bytes = read(path)?;
    let bad = |m: &str| Failure::new(Class::Verify, format!("{}: {m}", path.display()));
    let head: &[u8; HEADER_LEN] = bytes
        .first_chunk()
        .ok_or_else(|| bad("shorter than the 64-byte header"))?;
    let header = Header::parse(head).map_err(|f| bad(f.message()))?;
    let patch = &bytes[HEADER_LEN..];
    let mut json = describe_patch(patch);
    json["package"] = json!(path.display().to_string());
    json["size"] = json!(bytes.len());
    json["patch"] = json!(patch.len());
    json["base_sha256"] = json!(hex(&header.base_sha256));
    json["extension"] = json!(header.extension.is_some());
    if let Some(e) = header.extension {
        json["base_size"] = json!(e.base_size);
        json["target_digest"] = json!(hex(&e.target_digest));
    }
    let text = format!(
        "{}: delta package, {} bytes; base sha256 {}{}; patch {} bytes, {}{}, target {} bytes{}",
        path.display(),
        bytes.len(),
        hex(&header.base_sha256),
        header
            .extension
            .map_or(String::new(), |e| format!(" ({} bytes)", e.base_size)),
        patch.len(),
        json["compression"].as_str().unwrap_or("?"),
        match (&json["window"], &json["lookahead"]) {
            (Value::Number(w), Value::Number(l)) => format!(" {w}/{l}"),
            _ => String::new(),
        },
        json["target_size"],
        header.extension.map_or(
            " (made for ESP: the result cannot be checked)".to_string(),
            |e| format!(", target sha256 {}...", hex(&e.target_digest))
        ),
    );
    json["result"] = json!("ok");
    Ok((text, json))
}

struct Mem<'a>(&'a [u8]);

impl Base for Mem<'_> {
    fn read(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), IoError> {
        let at = offset as usize;
        buf.copy_from_slice(self.0.get(at..at + buf.len()).ok_or(IoError)?);
        Ok(())
    }
}

struct Out(Vec<u8>);

impl Sink for Out {
    fn write(&mut self, data: &[u8]) -> Result<(), IoError> {
        self.0.extend_from_slice(data);
        Ok(())
    }
}

fn apply(pkg: &Path, base_path: &Path, output: &Path) -> Result<Said, Failure> {
    let (input, base) = (read(pkg)?, read(base_path)?);
    let mut window = vec![0u8; 1 << 15];
    let mut out = Out(Vec::new());
    let is_package = input.get(..4) == Some(&MAGIC.to_le_bytes()[..]);
    let started = std::time::Instant::now();
    let result = if is_package {
        let mut p = Package::new(&mut window, base.len() as u32, MAX_IMAGE as u32, true);
        p.push(&input, &mut Pair(&mut Mem(&base), &mut out))
            .and_then(|()| p.finish())
            .map(|(n, _)| n)
    } else {
        let mut a = Applier::new(&mut window, base.len() as u32, MAX_IMAGE as u32);
        a.push(&input, &mut Pair(&mut Mem(&base), &mut out))
            .and_then(|()| a.finish())
    };
    let elapsed = started.elapsed();
    let size = result.map_err(|f| {
        Failure::new(
            Class::Verify,
            format!("{}: {} ({})", pkg.display(), f.message(), f.name()),
        )
    })?;
    write(output, &out.0)?;
    let text = format!(
        "{}: {size} bytes from {} and {}",
        output.display(),
        pkg.display(),
        base_path.display()
    );
    let json = json!({"result": "ok", "output": output.display().to_string(), "size": size,
        "sha256": hex(&sha256(&out.0)), "package": is_package,
        "apply_us": elapsed.as_micros() as u64});
    Ok((text, json))
}
