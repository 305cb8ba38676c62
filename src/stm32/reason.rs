//! What the ROM's answers meant, beyond the failure code: `Stats::reason`, and its text for
//! messages.

/// What the ROM's answers said, beyond the failure code (`Stats::reason`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Reason {
    None = 0,
    NoAnswer,
    UnknownPart,
    TooLarge,
    ReadProtected,
    WriteProtected,
    WriteFailed,
    Mismatch,
    Unsupported,
    AddressRefused,
}

impl Reason {
    /// Every reason, in code order.
    pub const ALL: [Reason; 10] = [
        Reason::None,
        Reason::NoAnswer,
        Reason::UnknownPart,
        Reason::TooLarge,
        Reason::ReadProtected,
        Reason::WriteProtected,
        Reason::WriteFailed,
        Reason::Mismatch,
        Reason::Unsupported,
        Reason::AddressRefused,
    ];

    /// For messages (Python appends it to the TransferError's).
    pub const fn text(self) -> &'static str {
        match self {
            Reason::None => "",
            Reason::NoAnswer => "no answer to autobaud 0x7F: BOOT0 high and NRST pulsed? UART 8E1?",
            Reason::UnknownPart => "PID not in the device table: give flash_size and page_size",
            Reason::TooLarge => "the image does not fit the flash",
            Reason::ReadProtected => "flash is read-protected: the ROM NACKs the command (not unprotected: that erases the chip)",
            Reason::WriteProtected => "the ROM refused to erase: write-protected page?",
            Reason::WriteFailed => "the ROM refused a block: write-protected or not erased?",
            Reason::Mismatch => "read-back differs from the image",
            Reason::Unsupported => "the bootloader lacks a command this needs",
            Reason::AddressRefused => "the ROM refused the address",
        }
    }
}
