//! The image: read once into memory (what is verified is exactly what is sent, whatever
//! happens to the file meanwhile) and checked by the core's `Verifier`, as on the module.

use crate::failure::{Class, Failure};
use qsota::ffi::verify::{
    QSOTA_FIELD_CRC, QSOTA_FIELD_MD5, QSOTA_FIELD_SHA256, QSOTA_FIELD_SIGNATURE, QSOTA_FIELD_SIZE,
};
use qsota::verify::{CrcPolicy, CrcVariant, Verifier};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// The platform's limit for one file (Quectel's SOTA: 100 MB).
const MAX_SIZE: u64 = 100 * 1000 * 1000;

/// What the image is expected to be (`--md5`, `--sha256`, `--crc`, `--size`).
#[derive(clap::Args, Clone, Debug)]
#[command(next_help_heading = "Expected image")]
pub struct Expect {
    /// Expected MD5, 32 hex digits (as the platform's sotaInfo gives it)
    #[arg(long, value_name = "HEX")]
    pub md5: Option<String>,
    /// Expected SHA-256, 64 hex digits
    #[arg(long, value_name = "HEX")]
    pub sha256: Option<String>,
    /// Expected CRC-32, decimal or hex (digits only: either reading may match)
    #[arg(long, value_name = "CRC")]
    pub crc: Option<String>,
    /// Which CRC-32 the expected one is: auto (either), mpeg2 or iso-hdlc
    #[arg(long, value_name = "VARIANT", default_value = "auto")]
    pub crc_variant: String,
    /// Expected size in bytes
    #[arg(long, value_name = "BYTES")]
    pub size: Option<u64>,
    /// Require an MCUboot image signed by this Ed25519 key (a file: the raw 32 bytes, or
    /// its DER SubjectPublicKeyInfo as `imgtool getpub -e raw` writes it); up to 4
    #[arg(long, value_name = "FILE")]
    pub key: Vec<PathBuf>,
}

impl Expect {
    /// The names of the expectations given: what checks the image.
    pub fn checks(&self) -> Vec<&'static str> {
        let given = [
            ("md5", self.md5.is_some()),
            ("sha256", self.sha256.is_some()),
            ("crc", self.crc.is_some()),
            ("size", self.size.is_some()),
            ("signature", !self.key.is_empty()),
        ];
        given
            .into_iter()
            .filter_map(|(name, on)| on.then_some(name))
            .collect()
    }
}

/// The DER SubjectPublicKeyInfo of an Ed25519 key, before its 32 raw bytes (RFC 8410).
const ED25519_SPKI: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// The keys of `--key`, concatenated as the Verifier takes them.
fn keys(paths: &[PathBuf]) -> Result<Vec<u8>, Failure> {
    let mut keys = Vec::new();
    for path in paths {
        let bytes = std::fs::read(path)
            .map_err(|e| Failure::new(Class::Usage, format!("--key {}: {e}", path.display())))?;
        match bytes.len() {
            32 => keys.extend_from_slice(&bytes),
            44 if bytes[..12] == ED25519_SPKI => keys.extend_from_slice(&bytes[12..]),
            n => {
                return Err(Failure::new(
                    Class::Usage,
                    format!(
                        "--key {}: expected a raw 32-byte Ed25519 key or its 44-byte DER \
                         SubjectPublicKeyInfo, got {n} bytes",
                        path.display()
                    ),
                ))
            }
        }
    }
    Ok(keys)
}

/// An image read from disk.
pub struct Image {
    pub bytes: Vec<u8>,
    /// The file's base name (YMODEM's default file name).
    pub name: String,
}

/// What the verifier found.
pub struct Report {
    pub md5: [u8; 16],
    pub sha256: [u8; 32],
    /// The CRC-32 of each variant the policy computes.
    pub crcs: Vec<(CrcVariant, u32)>,
    /// The variant the expected CRC matched.
    pub crc_matched: Option<CrcVariant>,
    /// One "field: expected X, got Y" per mismatch (the wording of qsota.VerifyError).
    pub problems: Vec<String>,
}

impl Image {
    pub fn load(path: &Path) -> Result<Image, Failure> {
        let fail = |what: String| Failure::new(Class::Image, format!("{}: {what}", path.display()));
        let meta = std::fs::metadata(path).map_err(|e| fail(e.to_string()))?;
        if !meta.is_file() {
            return Err(fail("not a regular file".into()));
        }
        if meta.len() > MAX_SIZE {
            return Err(fail(format!(
                "{} bytes: above the platform's {MAX_SIZE}-byte limit",
                meta.len()
            )));
        }
        let bytes = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
        let name = path
            .file_name()
            .map_or_else(|| "image.bin".into(), |n| n.to_string_lossy().into_owned());
        Ok(Image { bytes, name })
    }

    /// The image's SHA-256 (the native protocol's OPEN names the image by it).
    pub fn sha256(&self) -> [u8; 32] {
        let mut v = Verifier::new();
        v.update(&self.bytes).expect("a fresh verifier takes bytes");
        v.sha256()
    }

    /// Runs the verifier over the image with the expectations. Malformed expectations are a
    /// usage failure naming the option.
    pub fn verify(&self, expect: &Expect) -> Result<Report, Failure> {
        let usage = |msg: String| Failure::new(Class::Usage, msg);
        let mut v = Verifier::new();
        let policy = CrcPolicy::from_name(expect.crc_variant.as_bytes())
            .map_err(|_| usage("--crc-variant: expected 'auto', 'mpeg2' or 'iso-hdlc'".into()))?;
        v.set_crc_policy(policy)
            .expect("a fresh verifier takes a policy");
        if let Some(md5) = &expect.md5 {
            v.expect_md5_hex(md5.as_bytes())
                .map_err(|_| usage(hex_problem("--md5", md5, 32)))?;
        }
        if let Some(sha) = &expect.sha256 {
            v.expect_sha256_hex(sha.as_bytes())
                .map_err(|_| usage(hex_problem("--sha256", sha, 64)))?;
        }
        if let Some(crc) = &expect.crc {
            v.expect_crc_text(crc.as_bytes()).map_err(|_| {
                usage(format!(
                    "--crc: expected a 32-bit CRC in decimal or hex, got {crc:?}"
                ))
            })?;
        }
        if let Some(size) = expect.size {
            v.expect_size(size);
        }
        if !expect.key.is_empty() {
            v.expect_signature(&keys(&expect.key)?)
                .map_err(|_| usage("--key: 1 to 4 keys".into()))?;
        }
        v.update(&self.bytes).expect("a fresh verifier takes bytes");
        let crcs: Vec<(CrcVariant, u32)> = [CrcVariant::Mpeg2, CrcVariant::IsoHdlc]
            .into_iter()
            .filter_map(|variant| v.crc32(variant).ok().map(|crc| (variant, crc)))
            .collect();
        let mismatch = v.check();
        let (md5, sha256) = (v.md5(), v.sha256());
        let mut problems = Vec::new();
        let failed = |field| mismatch & field != 0;
        if let (Some(want), true) = (&expect.md5, failed(QSOTA_FIELD_MD5)) {
            problems.push(format!("md5: expected {want}, got {}", hex(&md5)));
        }
        if let (Some(want), true) = (&expect.sha256, failed(QSOTA_FIELD_SHA256)) {
            problems.push(format!("sha256: expected {want}, got {}", hex(&sha256)));
        }
        if let (Some(want), true) = (&expect.crc, failed(QSOTA_FIELD_CRC)) {
            let got: Vec<String> = crcs
                .iter()
                .map(|(variant, crc)| format!("{}=0x{crc:08x}", variant.name()))
                .collect();
            problems.push(format!("crc: expected {want}, got {}", got.join(" ")));
        }
        if let (Some(want), true) = (expect.size, failed(QSOTA_FIELD_SIZE)) {
            problems.push(format!("size: expected {want}, got {}", self.bytes.len()));
        }
        if failed(QSOTA_FIELD_SIGNATURE) {
            // The core's text, as qsota.VerifyError says it.
            problems.push(match v.image().and_then(|i| i.verdict()) {
                Some(Err(problem)) => problem.to_string(),
                _ => "signature: refused".into(),
            });
        }
        Ok(Report {
            md5,
            sha256,
            crcs,
            crc_matched: v.crc_matched(),
            problems,
        })
    }
}

impl Report {
    /// A verify failure with every mismatch, or Ok.
    pub fn require(&self) -> Result<(), Failure> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(Failure::new(Class::Verify, self.problems.join("; ")))
        }
    }

    pub fn to_json(&self, size: usize) -> Value {
        json!({
            "size": size,
            "md5": hex(&self.md5),
            "sha256": hex(&self.sha256),
            "crc32": self.crcs.iter().map(|(v, crc)| (v.name().to_string(), json!(format!("0x{crc:08x}")))).collect::<serde_json::Map<_, _>>(),
            "crc_matched": self.crc_matched.map(CrcVariant::name),
            "ok": self.problems.is_empty(),
            "problems": self.problems,
        })
    }
}

/// What is wrong with a hex digest option, in the words of qsota's Python API.
fn hex_problem(option: &str, text: &str, digits: usize) -> String {
    if text.bytes().all(|c| c.is_ascii_hexdigit()) {
        format!("{option}: expected {digits} hex digits, got {}", text.len())
    } else {
        format!("{option}: expected {digits} hex digits, got a non-hex character")
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
