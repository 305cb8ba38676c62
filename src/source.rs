//! What no entry point sends to an MCU as its application, whatever the protocol: an empty
//! image (ST's IAP would erase the whole application area and program nothing; a native
//! receiver would commit nothing) and a diff package, a patch that the MCU's bootloader
//! would store as if it were the application, while qsota reports success.
//!
//! `qsota.send` and the agent (`python/qsota/source.py`) and the `qsota` command apply these
//! rules, each with its own option to send such an image anyway; `cargo test` checks that the
//! Python copy of the texts and the table is this one (`src/python_codes.rs`).

use core::fmt;

/// A patch format, known by the bytes its files start with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PatchFormat {
    /// What the format is called in messages.
    pub name: &'static str,
    /// The bytes a patch of this format starts with.
    pub magic: &'static [u8],
}

/// The patch formats a firmware vendor may upload as the platform's diff package. None of
/// them can start a firmware image: as an ARM vector table each would be an initial stack
/// pointer outside any RAM, and ESP, MCUboot and Intel HEX images start otherwise.
pub const PATCH_FORMATS: [PatchFormat; 7] = [
    // Espressif's esp_delta_ota: 0xfccdde10 little-endian, then detools inside.
    PatchFormat {
        name: "esp_delta_ota",
        magic: &[0x10, 0xde, 0xcd, 0xfc],
    },
    // Colin Percival's bsdiff 4 (and Chromium's, Google's and most ports).
    PatchFormat {
        name: "bsdiff",
        magic: b"BSDIFF40",
    },
    // mendsley/bsdiff (a streaming bsdiff).
    PatchFormat {
        name: "bsdiff (endsley)",
        magic: b"ENDSLEY/BSDIFF43",
    },
    // Android's bsdiff with per-stream compression.
    PatchFormat {
        name: "bsdiff (BSDF2)",
        magic: b"BSDF2",
    },
    // Arm Pelion / Izuma's delta update (manifest-delta-tool).
    PatchFormat {
        name: "Pelion bsdiff",
        magic: b"PELION/BSDIFF",
    },
    // HDiffPatch (HDIFF13, HDIFFSF20, ...).
    PatchFormat {
        name: "HDiffPatch",
        magic: b"HDIFF",
    },
    // RFC 3284 VCDIFF (xdelta3, open-vcdiff), version 0.
    PatchFormat {
        name: "VCDIFF",
        magic: &[0xd6, 0xc3, 0xc4, 0x00],
    },
];

/// How many of an image's first bytes [`patch_format`] looks at.
pub const HEAD: usize = 16;

/// What refusing an empty image says (each entry point adds the option that sends it).
pub const EMPTY: &str = "the image is empty (0 bytes): refused";
/// What refusing a patch says, before and after the format's name in parentheses.
pub const PATCH: &str = "the image is a diff package";
pub const NOT_AN_APPLICATION: &str =
    ", not an application: qsota cannot apply it and the MCU would store it as one: refused";

/// The patch format an image's first bytes (`head`, at least [`HEAD`] of them where the
/// image has them) say it is, if any. The one place that knows diff packages: what qsota
/// learns to apply itself (issue 20) is decided by its callers from this answer.
pub fn patch_format(head: &[u8]) -> Option<&'static PatchFormat> {
    PATCH_FORMATS.iter().find(|f| head.starts_with(f.magic))
}

/// Why an image is not sent; its `Display` is the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    Empty,
    Patch(&'static PatchFormat),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Refusal::Empty => f.write_str(EMPTY),
            Refusal::Patch(p) => write!(f, "{PATCH} ({}){NOT_AN_APPLICATION}", p.name),
        }
    }
}

/// The refusal of an image of `size` bytes that starts with `head`, unless the caller
/// allows an empty one or says that the MCU's own bootloader applies diff packages.
pub fn refusal(
    head: &[u8],
    size: u64,
    allow_empty: bool,
    mcu_applies_diffs: bool,
) -> Option<Refusal> {
    if size == 0 {
        return (!allow_empty).then_some(Refusal::Empty);
    }
    patch_format(head)
        .filter(|_| !mcu_applies_diffs)
        .map(Refusal::Patch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;
    use std::vec::Vec;

    #[test]
    fn every_known_patch_is_found_and_no_image_is_taken_for_one() {
        for f in PATCH_FORMATS {
            let mut head = f.magic.to_vec();
            head.extend_from_slice(&[0; HEAD]);
            assert_eq!(patch_format(&head[..HEAD]), Some(&f), "{}", f.name);
            assert!(f.magic.len() <= HEAD);
            assert_eq!(patch_format(&f.magic[..f.magic.len() - 1]), None);
        }
        // A Cortex-M vector table (SP in SRAM), an MCUboot header, an ESP image.
        for head in [
            &[0x00, 0x50, 0x00, 0x20, 0xc1, 0x01, 0x00, 0x08][..],
            &[0x3d, 0xb8, 0xf3, 0x96, 0, 0, 0, 0],
            &[0xe9, 0x06, 0x02, 0x20],
            b"",
        ] {
            assert_eq!(patch_format(head), None);
        }
    }

    #[test]
    fn an_empty_image_and_a_patch_are_refused_unless_allowed() {
        let bsdiff = b"BSDIFF40\0\0\0\0\0\0\0\0";
        assert_eq!(refusal(b"", 0, false, false), Some(Refusal::Empty));
        assert_eq!(refusal(b"", 0, true, false), None);
        let Some(Refusal::Patch(f)) = refusal(bsdiff, 100, true, false) else {
            panic!("a patch is refused")
        };
        assert_eq!(f.name, "bsdiff");
        assert_eq!(refusal(bsdiff, 100, false, true), None);
        assert_eq!(refusal(&[0; 16], 100, false, false), None);
    }

    fn source_py() -> String {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/python/qsota/source.py");
        std::fs::read_to_string(path).unwrap()
    }

    /// The value after `NAME = ` in `py`: the line's rest, or the lines up to `)` when it
    /// opens a parenthesis.
    fn value(py: &str, name: &str) -> String {
        let prefix = std::format!("{name} = ");
        let mut lines = py.lines().skip_while(|l| !l.starts_with(&prefix));
        let first = &lines.next().unwrap()[prefix.len()..];
        if first == "(" {
            lines.take_while(|l| !l.starts_with(')')).collect()
        } else {
            String::from(first)
        }
    }

    /// The str constant `name`: its quoted pieces, joined.
    fn text(py: &str, name: &str) -> String {
        value(py, name).split('"').skip(1).step_by(2).collect()
    }

    /// A Python bytes literal's contents (`\xNN` escapes, else ASCII).
    fn bytes_literal(body: &str) -> Vec<u8> {
        let mut out = Vec::new();
        let mut rest = body;
        while let Some(c) = rest.chars().next() {
            if let Some(hex) = rest.strip_prefix("\\x") {
                out.push(u8::from_str_radix(&hex[..2], 16).unwrap());
                rest = &hex[2..];
            } else {
                out.push(c as u8);
                rest = &rest[1..];
            }
        }
        out
    }

    #[test]
    fn the_python_copy_says_and_finds_the_same() {
        let py = source_py();
        assert_eq!(text(&py, "EMPTY"), EMPTY);
        assert_eq!(text(&py, "PATCH"), PATCH);
        assert_eq!(text(&py, "NOT_AN_APPLICATION"), NOT_AN_APPLICATION);
        assert_eq!(value(&py, "HEAD"), std::format!("{HEAD}"));
        let formats: Vec<(String, Vec<u8>)> = py
            .lines()
            .skip_while(|l| !l.starts_with("PATCH_FORMATS = ("))
            .skip(1)
            .take_while(|l| !l.starts_with(')'))
            .map(|l| {
                let (name, magic) = l.trim().split_once(", b\"").unwrap();
                let magic = magic.strip_suffix("\"),").unwrap();
                (
                    String::from(name.trim_matches(['(', '"'])),
                    bytes_literal(magic),
                )
            })
            .collect();
        let want: Vec<(String, Vec<u8>)> = PATCH_FORMATS
            .iter()
            .map(|f| (String::from(f.name), f.magic.to_vec()))
            .collect();
        assert_eq!(formats, want);
    }
}
