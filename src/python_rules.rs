//! Test only: the defaults that `python/qsota/rules.py` gives `qsota.pure` for the senders'
//! optional arguments are the ones the C ABI's `qsota_*_options_default` give `_qsota`.
use crate::ffi::mcuboot::qsota_mcuboot_options_default;
use crate::ffi::native_tx::qsota_native_options_default;
use crate::ffi::stm32::qsota_stm32_options_default;
use crate::ffi::ymodem::qsota_ymodem_options_default;
use crate::ffi::QSOTA_OK;
use core::mem::MaybeUninit;
use std::string::String;
use std::vec::Vec;

/// The (name, default) of each optional INT, BOOL or FLAG row of `table` (`NAME = (` up to
/// `)`), the defaults that are C options fields; True/False as 1/0.
fn defaults(table: &str) -> Vec<(String, u32)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/python/qsota/rules.py");
    let text = std::fs::read_to_string(path).unwrap();
    let start = std::format!("{table} = (");
    let rows = text
        .lines()
        .skip_while(|l| *l != start)
        .skip(1)
        .take_while(|l| *l != ")");
    let mut out = Vec::new();
    for row in rows {
        let fields: Vec<&str> = row.trim().trim_end_matches("),").split(", ").collect();
        let (name, kind, default) = (fields[0], fields[1], fields[fields.len() - 1]);
        if !["INT", "BOOL", "FLAG"].contains(&kind) || default == "REQUIRED" {
            continue;
        }
        let value = match default {
            "True" => 1,
            "False" => 0,
            d => match d.strip_prefix("0x") {
                Some(hex) => u32::from_str_radix(hex, 16).unwrap(),
                None => d.parse().unwrap(),
            },
        };
        out.push((
            String::from(name.trim_start_matches("(\"").trim_end_matches('"')),
            value,
        ));
    }
    assert!(!out.is_empty(), "{table}");
    out
}

/// What a `qsota_*_options_default` writes.
fn c_defaults<T>(default: unsafe extern "C" fn(*mut T) -> i32) -> T {
    let mut o = MaybeUninit::uninit();
    // SAFETY: a valid place for the options, which the function fills in whole.
    unsafe {
        assert_eq!(default(o.as_mut_ptr()), QSOTA_OK);
        o.assume_init()
    }
}

/// The table `$table`'s defaults are the fields of the C options `$default` writes.
macro_rules! same_defaults {
    ($table:literal, $default:expr, $($field:ident),+) => {{
        let o = c_defaults($default);
        let c = std::vec![$((String::from(stringify!($field)), o.$field)),+];
        assert_eq!(defaults($table), c, $table);
    }};
}

#[test]
fn the_defaults_are_the_c_abi_ones() {
    same_defaults! { "YMODEM", qsota_ymodem_options_default, block_size, timeout_ms,
    header_timeout_ms, start_timeout_ms, end_gap_ms, retries, baud, deferred }
    same_defaults! { "NATIVE", qsota_native_options_default, rto_ms, open_timeout_ms, retries, baud,
    deferred }
    same_defaults! { "STM32", qsota_stm32_options_default, address, go, flash_size, page_size,
    timeout_ms, erase_timeout_ms, start_timeout_ms, retries, baud }
    same_defaults! { "MCUBOOT", qsota_mcuboot_options_default, image, buf_size, enter, resume, reset,
    timeout_ms, erase_timeout_ms, boot_ms, retries }
}
