//! Test only: `python/qsota/codes.py`, the one Python list of the action codes, failure
//! names and native receiver ERROR names that the driver and both backends use, says what
//! the core defines.
use crate::ffi;
use crate::native::frame::code;
use crate::transfer::Fail;
use std::string::String;
use std::vec::Vec;

fn codes_py() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/python/qsota/codes.py");
    std::fs::read_to_string(path).unwrap()
}

/// The int bound to `name` by a `NAME = N` line.
fn constant(text: &str, name: &str) -> i32 {
    let prefix = std::format!("{name} = ");
    let line = text.lines().find(|l| l.starts_with(&prefix)).unwrap();
    line[prefix.len()..].trim().parse().unwrap()
}

/// The quoted strings of the line that starts with `start` (a tuple on one line) or of the
/// lines after it up to `}` or `)` (a dict's keys, a tuple's items).
fn strings(text: &str, start: &str) -> Vec<String> {
    let mut lines = text.lines().skip_while(|l| !l.starts_with(start));
    let first = lines.next().unwrap();
    let quoted =
        |l: &str| -> Vec<String> { l.split('"').skip(1).step_by(2).map(String::from).collect() };
    if first.trim_end().ends_with(['{', '(']) {
        lines
            .take_while(|l| !l.starts_with(['}', ')']))
            .map(|l| quoted(l)[0].clone())
            .collect()
    } else {
        quoted(first)
    }
}

#[test]
fn action_codes_are_the_c_abi_ones() {
    let text = codes_py();
    for (name, value) in [
        ("SEND", ffi::QSOTA_ACTION_SEND),
        ("READ", ffi::QSOTA_ACTION_READ),
        ("WAIT", ffi::QSOTA_ACTION_WAIT),
        ("DONE", ffi::QSOTA_ACTION_DONE),
        ("FAILED", ffi::QSOTA_ACTION_FAILED),
        ("DIGEST", ffi::QSOTA_ACTION_DIGEST),
    ] {
        assert_eq!(constant(&text, name), value, "{name}");
    }
}

#[test]
fn every_failure_has_a_message_and_io_is_the_only_extra() {
    let all = [
        Fail::Timeout,
        Fail::Cancelled,
        Fail::Retries,
        Fail::Protocol,
        Fail::Source,
        Fail::Rejected,
        Fail::Usage,
    ];
    let mut want: Vec<String> = all.iter().map(|f| String::from(f.name())).collect();
    want.push(String::from("io"));
    assert_eq!(strings(&codes_py(), "MESSAGES = {"), want);
}

#[test]
fn receiver_error_names_follow_the_codes() {
    let names = strings(&codes_py(), "RECEIVER_ERRORS = (");
    for (value, name) in [
        (code::VERSION, "version"),
        (code::SIZE, "size"),
        (code::FLASH, "flash"),
        (code::DIGEST, "digest"),
        (code::NOT_OPEN, "not open"),
        (code::STATE, "state"),
        (code::ARGUMENT, "argument"),
        (code::FLAGS, "flags"),
        (code::BASE, "base"),
        (code::DELTA, "delta"),
    ] {
        assert_eq!(names[usize::from(value)], name);
    }
    assert_eq!(names.len(), usize::from(code::DELTA) + 1);
}
