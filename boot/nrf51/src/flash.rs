//! The receiver's flash (qsota's `record::Flash`): the download slot and the meta page, on
//! the NVMC. Every write is read back: a word that did not take is a flash error, which the
//! receiver reports to the sender (ERROR FLASH) instead of acknowledging it.

use boot_hal::layout::{APP, APP_SIZE, META, PAGE, SLOT, SLOT_SIZE};
use boot_hal::nvmc;
use qsota::native::record::{Area, Flash, FlashError, Geometry};

pub struct BootFlash;

fn base(area: Area) -> u32 {
    match area {
        Area::Slot => SLOT,
        Area::Meta => META,
        Area::App => APP,
    }
}

impl Flash for BootFlash {
    fn geometry(&self) -> Geometry {
        Geometry {
            slot_size: SLOT_SIZE,
            meta_size: PAGE,
            program_unit: 4,
            app_size: APP_SIZE,
        }
    }

    fn sector(&self, addr: u32) -> (u32, u32) {
        (addr / PAGE * PAGE, PAGE)
    }

    fn erase(&mut self, area: Area, start: u32) -> Result<(), FlashError> {
        if area == Area::App {
            return Err(FlashError); // the receiver only ever reads the application
        }
        nvmc::nvmc_erase_page(base(area) + start);
        Ok(())
    }

    fn write(&mut self, area: Area, addr: u32, data: &[u8]) -> Result<(), FlashError> {
        if area == Area::App {
            return Err(FlashError);
        }
        let at = base(area) + addr;
        nvmc::nvmc_program(at, data);
        let took = nvmc::bytes(at, data.len() as u32) == data;
        took.then_some(()).ok_or(FlashError)
    }

    fn read(&mut self, area: Area, addr: u32, buf: &mut [u8]) -> Result<(), FlashError> {
        nvmc::nvmc_read(base(area) + addr, buf);
        Ok(())
    }
}
