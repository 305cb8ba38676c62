//! Test only: the defaults that `python/qsota/rules.py` gives `qsota.pure` for the senders'
//! optional arguments are the ones the C ABI's `qsota_*_options_default` give `_qsota`.
use crate::ffi::link::qsota_link_options_default;
use crate::ffi::smp::qsota_smp_options_default;
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

fn assert_same(table: &str, c: &[(&str, u32)]) {
    let c: Vec<(String, u32)> = c.iter().map(|(n, v)| (String::from(*n), *v)).collect();
    assert_eq!(defaults(table), c, "{table}");
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

#[test]
fn the_defaults_are_the_c_abi_ones() {
    let y = c_defaults(qsota_ymodem_options_default);
    assert_same(
        "YMODEM",
        &[
            ("block_size", y.block_size),
            ("timeout_ms", y.timeout_ms),
            ("header_timeout_ms", y.header_timeout_ms),
            ("start_timeout_ms", y.start_timeout_ms),
            ("end_gap_ms", y.end_gap_ms),
            ("retries", y.retries),
            ("baud", y.baud),
        ],
    );
    let l = c_defaults(qsota_link_options_default);
    assert_same(
        "LINK",
        &[
            ("rto_ms", l.rto_ms),
            ("open_timeout_ms", l.open_timeout_ms),
            ("retries", l.retries),
            ("baud", l.baud),
        ],
    );
    let s = c_defaults(qsota_stm32_options_default);
    assert_same(
        "STM32",
        &[
            ("address", s.address),
            ("go", s.go),
            ("flash_size", s.flash_size),
            ("page_size", s.page_size),
            ("timeout_ms", s.timeout_ms),
            ("erase_timeout_ms", s.erase_timeout_ms),
            ("start_timeout_ms", s.start_timeout_ms),
            ("retries", s.retries),
            ("baud", s.baud),
        ],
    );
    let m = c_defaults(qsota_smp_options_default);
    assert_same(
        "SMP",
        &[
            ("image", m.image),
            ("buf_size", m.buf_size),
            ("enter", m.enter),
            ("resume", m.resume),
            ("reset", m.reset),
            ("timeout_ms", m.timeout_ms),
            ("erase_timeout_ms", m.erase_timeout_ms),
            ("boot_ms", m.boot_ms),
            ("retries", m.retries),
        ],
    );
}
