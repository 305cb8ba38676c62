//! Which STM32 the ROM bootloader runs on: the product ID it answers to Get ID (AN2606
//! "Bootloader device-dependent parameters") mapped to its flash size and erase layout (each
//! family's reference manual, "Embedded flash memory"). The size is the family's largest
//! part: a smaller variant is described with the sender's `flash_size` option.

/// Where main flash starts on every part below (and the default start of an image).
pub const FLASH_BASE: u32 = 0x0800_0000;

const K: u32 = 1024;

/// How a part's flash is divided into erasable units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Uniform pages (or sectors) of this many bytes, numbered from 0.
    Pages(u32),
    /// The F2/F4/F7 sector map in units of `u` bytes (16 KiB or 32 KiB): four sectors of
    /// `u`, one of `4u`, then sectors of `8u`, twelve per bank of `64u` (RM0090 3.3, RM0385
    /// 3.3); a second bank repeats the map from sector 12.
    Sectors(u32),
}

impl Layout {
    /// The erase unit that holds flash offset `off`, and the offset where that unit ends.
    pub fn page_of(self, off: u32) -> (u32, u32) {
        match self {
            Layout::Pages(size) => (off / size, (off / size + 1).saturating_mul(size)),
            Layout::Sectors(u) => {
                let bank = 64 * u;
                let (b, r) = (off / bank, off % bank);
                let (j, end) = if r < 4 * u {
                    (r / u, (r / u + 1) * u)
                } else if r < 8 * u {
                    (4, 8 * u)
                } else {
                    let j = 5 + (r - 8 * u) / (8 * u);
                    (j, 8 * u + (j - 4) * 8 * u)
                };
                (b * 12 + j, (b * bank).saturating_add(end))
            }
        }
    }
}

/// One product ID's flash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Part {
    pub pid: u16,
    /// Bytes of main flash from [`FLASH_BASE`] (the family's largest).
    pub flash: u32,
    pub layout: Layout,
}

const fn p(pid: u16, kib: u32, layout: Layout) -> Part {
    Part {
        pid,
        flash: kib * K,
        layout,
    }
}

use Layout::{Pages, Sectors};

/// The known parts (PIDs from AN2606 rev 60; layouts from the reference manuals named).
pub const PARTS: &[Part] = &[
    // F0 (RM0091, RM0360): 1 KiB pages up to 64 KiB parts, 2 KiB above.
    p(0x444, 32, Pages(K)),      // F03x
    p(0x445, 32, Pages(K)),      // F04x, F070x6
    p(0x440, 64, Pages(K)),      // F05x, F030x8
    p(0x448, 128, Pages(2 * K)), // F07x
    p(0x442, 256, Pages(2 * K)), // F09x, F030xC
    // F1 (RM0008, RM0041): low/medium density 1 KiB pages, high/XL/connectivity 2 KiB.
    p(0x412, 32, Pages(K)),       // low density
    p(0x410, 128, Pages(K)),      // medium density
    p(0x420, 128, Pages(K)),      // medium density value line
    p(0x414, 512, Pages(2 * K)),  // high density
    p(0x428, 512, Pages(2 * K)),  // high density value line
    p(0x430, 1024, Pages(2 * K)), // XL density (two banks, pages numbered through)
    p(0x418, 256, Pages(2 * K)),  // connectivity line
    // F2 (RM0033), F4 (RM0090, RM0368, RM0383, RM0390, RM0386): 16/64/128 KiB sectors.
    p(0x411, 1024, Sectors(16 * K)), // F2xx
    p(0x413, 1024, Sectors(16 * K)), // F405/407/415/417
    p(0x419, 2048, Sectors(16 * K)), // F42x/43x (dual bank: sectors 12-23)
    p(0x423, 256, Sectors(16 * K)),  // F401xB/C
    p(0x433, 512, Sectors(16 * K)),  // F401xD/E
    p(0x431, 512, Sectors(16 * K)),  // F411
    p(0x421, 512, Sectors(16 * K)),  // F446
    p(0x434, 2048, Sectors(16 * K)), // F469/479
    // F7 (RM0385, RM0431, RM0410 single-bank mode).
    p(0x449, 1024, Sectors(32 * K)), // F74x/75x: 32/128/256 KiB sectors
    p(0x452, 512, Sectors(16 * K)),  // F72x/73x: 16/64/128 KiB sectors
    p(0x451, 2048, Sectors(32 * K)), // F76x/77x
    // G0 (RM0444, RM0454), G4 category 2 (RM0440): 2 KiB pages.
    p(0x466, 64, Pages(2 * K)),  // G03x/04x
    p(0x460, 128, Pages(2 * K)), // G07x/08x
    p(0x468, 128, Pages(2 * K)), // G431/441
    // L0 (RM0377, RM0367, RM0376): 128-byte pages.
    p(0x425, 32, Pages(128)),  // L031/041
    p(0x417, 64, Pages(128)),  // L05x/06x
    p(0x447, 192, Pages(128)), // L07x/08x
    // L1 (RM0038): 256-byte pages.
    p(0x416, 128, Pages(256)), // category 1
    p(0x429, 128, Pages(256)), // category 2
    p(0x427, 256, Pages(256)), // category 3
    p(0x436, 384, Pages(256)), // category 4
    p(0x437, 512, Pages(256)), // category 5
    // L4 (RM0351, RM0394): 2 KiB pages (dual-bank parts number them through both banks).
    p(0x435, 256, Pages(2 * K)),  // L43x/44x
    p(0x462, 512, Pages(2 * K)),  // L45x/46x
    p(0x415, 1024, Pages(2 * K)), // L47x/48x
    p(0x461, 1024, Pages(2 * K)), // L496/4A6
    // H7 (RM0433, RM0468): 128 KiB sectors.
    p(0x450, 2048, Pages(128 * K)), // H74x/75x
    p(0x483, 1024, Pages(128 * K)), // H72x/73x
];

/// The part with product ID `pid`, if it is in the table.
pub fn find(pid: u16) -> Option<Part> {
    PARTS.iter().copied().find(|p| p.pid == pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f4_sector_map() {
        let s = Sectors(16 * K);
        assert_eq!(s.page_of(0), (0, 16 * K));
        assert_eq!(s.page_of(48 * K), (3, 64 * K));
        assert_eq!(s.page_of(64 * K), (4, 128 * K));
        assert_eq!(s.page_of(128 * K), (5, 256 * K));
        assert_eq!(s.page_of(1024 * K - 1), (11, 1024 * K));
        // F42x bank 2 starts at sector 12 with 16 KiB sectors again.
        assert_eq!(s.page_of(1024 * K), (12, 1040 * K));
        assert_eq!(s.page_of(2048 * K - 1), (23, 2048 * K));
        // F74x: 32 KiB x4, 128 KiB, 256 KiB x3 = 1 MiB.
        let f7 = Sectors(32 * K);
        assert_eq!(f7.page_of(127 * K), (3, 128 * K));
        assert_eq!(f7.page_of(128 * K), (4, 256 * K));
        assert_eq!(f7.page_of(1024 * K - 1), (7, 1024 * K));
    }

    #[test]
    fn every_layout_tiles_its_flash() {
        for part in PARTS {
            let (mut off, mut next) = (0, 0);
            while off < part.flash {
                let (page, end) = part.layout.page_of(off);
                assert_eq!(page, next, "{:#x}", part.pid);
                assert!(end > off);
                (off, next) = (end, next + 1);
            }
            assert_eq!(off, part.flash, "{:#x} ends between units", part.pid);
            assert_eq!(find(part.pid), Some(*part));
        }
        assert_eq!(find(0x999), None);
    }
}
