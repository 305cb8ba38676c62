//! The verifier's CRC-32s (the tables, and on x86_64 with PCLMULQDQ the folding path) equal
//! the `crc` crate's for any bytes fed in any pieces.
#![no_main]

use crc::{Crc, CRC_32_ISO_HDLC, CRC_32_MPEG_2};
use libfuzzer_sys::fuzz_target;
use qsota::crc32::Crc32s;

fuzz_target!(|data: &[u8]| {
    // The first two bytes set the piece size, the third which variants run.
    let Some((&[low, high, which], image)) = data.split_first_chunk::<3>() else {
        return;
    };
    let (mpeg2, iso) = (which & 1 == 0, which & 2 == 0);
    let mut crcs = Crc32s::new();
    for piece in image.chunks(usize::from(u16::from_le_bytes([low, high])).max(1)) {
        crcs.update(piece, mpeg2, iso);
    }
    if mpeg2 {
        assert_eq!(
            crcs.mpeg2(),
            Crc::<u32>::new(&CRC_32_MPEG_2).checksum(image)
        );
    }
    if iso {
        assert_eq!(
            crcs.iso_hdlc(),
            Crc::<u32>::new(&CRC_32_ISO_HDLC).checksum(image)
        );
    }
});
