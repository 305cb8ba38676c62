//! What no entry point sends to an MCU as its application, whatever the protocol: an empty
//! image (ST's IAP would erase the whole application area and program nothing; a native
//! receiver would commit nothing) and a diff package, a patch that the MCU's bootloader
//! would store as if it were the application, while qsota reports success.
//!
//! `qsota.send` and the agent (`python/qsota/source.py`) and the `qsota` command apply these
//! rules, each with its own option to send such an image anyway; the texts and the table
//! reach Python through `qsota.codes`, which tests/tables.rs writes from these.
//!
//! One kind of package passes on one protocol: qsota's own (esp_delta_ota's format, with
//! qsota's extension) over the native protocol, whose OPEN says it is a delta and whose
//! receiver applies it, checking base and result, or refuses it before erasing anything.

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

/// The format of qsota's own packages (`qsota delta`), which the native protocol carries.
pub const PACKAGE: &PatchFormat = &PATCH_FORMATS[0];

/// The refusal of an image of `size` bytes that starts with `head`, unless the caller
/// allows an empty one, says that the MCU's own bootloader applies diff packages, or speaks
/// a protocol that carries qsota's packages as such (`carries_packages`: native).
pub fn refusal(
    head: &[u8],
    size: u64,
    allow_empty: bool,
    mcu_applies_diffs: bool,
    carries_packages: bool,
) -> Option<Refusal> {
    if size == 0 {
        return (!allow_empty).then_some(Refusal::Empty);
    }
    patch_format(head)
        .filter(|&p| !(mcu_applies_diffs || carries_packages && p == PACKAGE))
        .map(Refusal::Patch)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(refusal(b"", 0, false, false, false), Some(Refusal::Empty));
        assert_eq!(refusal(b"", 0, true, false, false), None);
        let Some(Refusal::Patch(f)) = refusal(bsdiff, 100, true, false, true) else {
            panic!("a patch is refused, even where qsota's packages pass")
        };
        assert_eq!(f.name, "bsdiff");
        assert_eq!(refusal(bsdiff, 100, false, true, false), None);
        assert_eq!(refusal(&[0; 16], 100, false, false, false), None);
        let package = b"\x10\xde\xcd\xfc\0\0\0\0";
        assert_eq!(refusal(package, 100, false, false, true), None, "native");
        assert_eq!(
            refusal(package, 100, false, false, false),
            Some(Refusal::Patch(PACKAGE))
        );
    }
}
