//! Why a command failed, and the exit status each class of failure gives (docs/cli.md, its
//! table): a script can tell a bad image from a missing port from a refusing MCU.

use qsota::ffi::qsota_action_t;
use qsota::transfer::{Action, Fail};
use std::fmt;

/// A class of failure; its exit status is [`Class::code`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// Bad arguments (clap's own usage errors exit with 2 as well).
    Usage,
    /// The image does not match the expected digests, CRC or size.
    Verify,
    /// The image file cannot be read.
    Image,
    /// The port cannot be opened (missing, not a tty, busy) or failed during the transfer.
    Port,
    /// The sender failed: one of the core's `transfer::Fail` classes.
    Transfer(Fail),
    /// The user pressed Ctrl-C; the receiver got the protocol's abort.
    Interrupted,
}

impl Class {
    /// The process exit status.
    pub fn code(self) -> u8 {
        match self {
            Class::Usage => 2,
            Class::Verify => 3,
            Class::Image => 4,
            Class::Port => 5,
            // 9 + the C ABI's QSOTA_FAIL_* code (1 timeout ... 7 usage): 10 to 16.
            Class::Transfer(fail) => 9 + qsota_action_t::from(Action::Failed(fail)).fail as u8,
            Class::Interrupted => 130,
        }
    }

    /// The class's name in `--json` output.
    pub fn name(self) -> &'static str {
        match self {
            Class::Usage => "usage",
            Class::Verify => "verify",
            Class::Image => "image",
            Class::Port => "port",
            Class::Transfer(fail) => fail.name(),
            Class::Interrupted => "interrupted",
        }
    }
}

/// A failure with a message that names the argument, file or port concerned.
#[derive(Debug)]
pub struct Failure {
    pub class: Class,
    pub message: String,
}

impl Failure {
    pub fn new(class: Class, message: impl Into<String>) -> Self {
        Failure {
            class,
            message: message.into(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_has_its_own_status() {
        let mut classes = vec![
            Class::Usage,
            Class::Verify,
            Class::Image,
            Class::Port,
            Class::Interrupted,
        ];
        classes.extend(Fail::ALL.map(Class::Transfer));
        let mut codes: Vec<u8> = classes.iter().map(|c| c.code()).collect();
        assert_eq!(codes[5..], [10, 11, 12, 13, 14, 15, 16]);
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), classes.len());
    }
}
