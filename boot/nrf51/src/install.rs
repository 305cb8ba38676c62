//! The install: copies a committed image from the download slot into the application area,
//! a page at a time, keeping its progress in the journal page, so that a power cut at any
//! instant resumes it at the next reset (docs/bootloader.md, "Install").
//!
//! The journal (one page, written a word at a time, never a word twice):
//!
//! ```text
//! word 0..8   the image's SHA-256          (as the receiver's record names it)
//! word 8      its size
//! word 9      MAGIC, written last: it vouches for the words before it
//! word 10+p   MARK ^ p once page p is copied
//! word 255    INSTALLED once the copy was read back and matched the SHA-256
//! ```
//!
//! A word whose programming was cut reads as neither its old nor its new value, so each
//! mark is checked for its exact value: a torn mark makes its page copied again (at every
//! boot until INSTALLED: it is not written twice). A torn INSTALLED is completed by writing
//! the same value again, the one word written twice between erases.

use crate::app_looks_startable;
use crate::flash::BootFlash;
use boot_hal::layout::{APP, JOURNAL, PAGE, SLOT};
use boot_hal::nvmc;
use qsota::native::record::{self, ImageId};
use sha2::{Digest, Sha256};

const MAGIC: u32 = u32::from_le_bytes(*b"QSI1");
const MARK: u32 = 0x4D41_0000;
const INSTALLED: u32 = u32::from_le_bytes(*b"DONE");
const SIZE_WORD: u32 = 8;
const MAGIC_WORD: u32 = 9;
const MARKS: u32 = 10;
const INSTALLED_WORD: u32 = PAGE / 4 - 1;
const ERASED: u32 = 0xFFFF_FFFF;
const _: () = assert!(MARKS + boot_hal::layout::APP_SIZE / PAGE <= INSTALLED_WORD);

fn journal(word: u32) -> u32 {
    nvmc::word(JOURNAL + 4 * word)
}

fn program_journal(word: u32, value: u32) {
    nvmc::nvmc_program(JOURNAL + 4 * word, &value.to_le_bytes());
}

/// Whether the journal names `id`'s image (a complete header for it).
fn names(id: &ImageId) -> bool {
    let sha_matches = id
        .sha256
        .chunks_exact(4)
        .zip(0..)
        .all(|(w, i)| journal(i).to_le_bytes() == w);
    journal(MAGIC_WORD) == MAGIC && journal(SIZE_WORD) == id.size && sha_matches
}

/// Finishes any install, then says whether the application area holds an application to
/// start: the image the journal says was installed, or, with no journal at all (a board as
/// the factory programmed it), whatever is there; in either case one whose vector table can
/// be started. An interrupted install that no committed image can finish (the record was
/// replaced since) leaves no valid application: the bootloader stays, for an update.
pub fn prepare(flash: &mut BootFlash) -> bool {
    if let Ok(Some(id)) = record::stored_image(flash) {
        if !(names(&id) && journal(INSTALLED_WORD) == INSTALLED) && install(&id).is_err() {
            return false;
        }
    }
    let settled = journal(INSTALLED_WORD) == INSTALLED || journal(MAGIC_WORD) == ERASED;
    settled && app_looks_startable()
}

/// The copy read back did not match the image's SHA-256 (a flash fault).
struct Mismatch;

/// Copies `id`'s image from the slot, resuming where the journal says it stopped, and marks
/// it installed once the copy reads back right. On a mismatch the application's first page
/// (its vector table) and then the journal are erased: the next reset starts the copy over,
/// and until it is done nothing can take the broken copy for a factory application.
fn install(id: &ImageId) -> Result<(), Mismatch> {
    if !names(id) {
        nvmc::nvmc_erase_page(JOURNAL);
        for (w, i) in id.sha256.chunks_exact(4).zip(0..) {
            program_journal(i, u32::from_le_bytes([w[0], w[1], w[2], w[3]]));
        }
        program_journal(SIZE_WORD, id.size);
        program_journal(MAGIC_WORD, MAGIC);
    }
    for page in 0..id.size.div_ceil(PAGE) {
        let mark = journal(MARKS + page);
        if mark == MARK ^ page {
            continue;
        }
        copy_page(page);
        if mark == ERASED {
            program_journal(MARKS + page, MARK ^ page);
        }
    }
    if app_digest(id.size) != id.sha256 {
        nvmc::nvmc_erase_page(APP);
        nvmc::nvmc_erase_page(JOURNAL);
        return Err(Mismatch);
    }
    program_journal(INSTALLED_WORD, INSTALLED);
    Ok(())
}

/// Erases the application's page `page` and programs it from the slot's.
fn copy_page(page: u32) {
    nvmc::nvmc_erase_page(APP + page * PAGE);
    nvmc::nvmc_program(APP + page * PAGE, nvmc::bytes(SLOT + page * PAGE, PAGE));
}

/// The SHA-256 of the application area's first `size` bytes.
fn app_digest(size: u32) -> [u8; 32] {
    Sha256::digest(nvmc::bytes(APP, size)).into()
}
