//! `--personality stm32-rom`: ST's ROM system bootloader on its USART (AN3155), as an STM32
//! with no bootloader of its own answers once BOOT0 is high and NRST was pulsed.
//!
//! - The line is 8E1 (11 bit times a byte) unless `--parity none`.
//! - Autobaud: bytes are ignored until a 0x7F, which is ACKed (0x79).
//! - Then commands, each a byte and its complement; a wrong complement or an unknown
//!   command gets NACK (0x1F) and the ROM waits for the next command. Like the real one it
//!   has no timeouts: after a lost byte it waits for the rest of the frame.
//! - Get (version 3.1 and the command list: Erase 0x43 or Extended Erase 0x44, by
//!   `--erase-cmd`), Get Version, Get ID (`--pid`), Read Memory, Go, Write Memory, erase.
//!   Addresses outside the flash, bad checksums and a write length that is not a multiple
//!   of 4 are NACKed. Write-protect commands and the unprotect commands are not offered.
//! - Flash is the application area of the flash model from 0x08000000 (default: the
//!   STM32F4's whole 1 MiB, sectors 0 to 11, datasheet times); programming a byte that is
//!   not erased fails (NACK). `--protect read` NACKs Read, Write, Erase and Go at the
//!   command (RDP level 1); `--protect write` NACKs every erase and write (WRP).
//! - Faults: the line's (`--reply-latency` holds every answer back, as a USB-serial adapter's
//!   latency timer does), `--drop-ack N` (lose the ACK of the Nth accepted Write Memory, from
//!   0), `--blind-flip N` (the Nth accepted Write Memory arrives with one bit flipped in two
//!   bytes, which its XOR checksum cannot see: the ROM programs it), `--nack-write N` (the
//!   Nth Write Memory data frame, from 0, arrives with one bit flipped, which its XOR sees:
//!   the ROM NACKs it), `--reset-at BYTES` and `--reset-at-erase N` (a reset boots the ROM
//!   again: autobaud).
//!   Go ends the session (result "ok", app_state "new").

use crate::line::Halt;
use crate::mcu::{Bank, Mcu, Outcome, Receiver};
use std::time::Duration;

const ACK: u8 = 0x79;
const NACK: u8 = 0x1F;
const BASE: usize = 0x0800_0000;
const VERSION: u8 = 0x31;

/// The STM32F4's sectors 0 and 1 (16 KiB, 250 ms), which the default map of the YMODEM
/// personalities leaves to their bootloader; the ROM's flash starts with them.
pub const BOOT_SECTORS: [(usize, u64); 2] = [(16 << 10, 250), (16 << 10, 250)];

/// What `--pid`, `--erase-cmd` and `--protect` chose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RomOptions {
    pub pid: u16,
    pub erase_cmd: u8,
    /// b'n': none, b'r': read protection, b'w': write protection.
    pub protect: u8,
    /// `--blind-flip`: the accepted Write Memory (from 0) whose data is damaged unseen.
    pub blind_flip: Option<u64>,
    /// `--nack-write`: the Write Memory data frame (from 0) damaged where its XOR sees it.
    pub nack_write: Option<u64>,
}

impl Default for RomOptions {
    fn default() -> Self {
        RomOptions {
            pid: 0x413,
            erase_cmd: 0x44,
            protect: b'n',
            blind_flip: None,
            nack_write: None,
        }
    }
}

impl RomOptions {
    /// Takes `--pid`, `--erase-cmd`, `--protect`, `--blind-flip` or `--nack-write`; `None` if
    /// `flag` is none of them.
    pub fn parse(&mut self, flag: &str, v: &str) -> Option<Result<(), String>> {
        let hex = u16::from_str_radix(v.trim_start_matches("0x"), 16).ok();
        match (flag, hex, v) {
            ("--pid", Some(pid), _) => self.pid = pid,
            ("--erase-cmd", Some(c @ (0x43 | 0x44)), _) => self.erase_cmd = c as u8,
            ("--protect", _, "none" | "read" | "write") => self.protect = v.as_bytes()[0],
            ("--blind-flip", _, _) if v.parse::<u64>().is_ok() => self.blind_flip = v.parse().ok(),
            ("--nack-write", _, _) if v.parse::<u64>().is_ok() => self.nack_write = v.parse().ok(),
            ("--pid" | "--erase-cmd" | "--protect" | "--blind-flip" | "--nack-write", _, _) => {
                return Some(Err(format!("{flag}: bad value '{v}'")))
            }
            _ => return None,
        }
        Some(Ok(()))
    }
}

pub struct Rom {
    opts: RomOptions,
    /// Write Memory commands accepted so far (for `--drop-ack`).
    writes: u64,
    /// Write Memory data frames received so far (for `--nack-write`).
    data_frames: u64,
}

impl Rom {
    pub fn new(opts: &RomOptions) -> Rom {
        Rom {
            opts: *opts,
            writes: 0,
            data_frames: 0,
        }
    }

    fn commands(&self) -> [u8; 7] {
        [0x00, 0x01, 0x02, 0x11, 0x21, 0x31, self.opts.erase_cmd]
    }
}

/// The ROM waits for ever; this is long enough.
const FOREVER: Duration = Duration::from_secs(3600);

fn byte(mcu: &mut Mcu) -> Result<u8, Halt> {
    loop {
        if let Some(b) = mcu.recv_byte(mcu.now() + FOREVER)? {
            return Ok(b);
        }
    }
}

fn bytes(mcu: &mut Mcu, n: usize) -> Result<Vec<u8>, Halt> {
    (0..n).map(|_| byte(mcu)).collect()
}

fn xor(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |a, b| a ^ b)
}

impl Rom {
    /// An address frame: the flash offset it names, if its checksum is right and it lies
    /// in the flash with `len` bytes after it.
    fn address(&self, mcu: &mut Mcu, len: usize) -> Result<Option<usize>, Halt> {
        let a = bytes(mcu, 5)?;
        let addr = u32::from_be_bytes([a[0], a[1], a[2], a[3]]) as usize;
        let ok = xor(&a[..4]) == a[4] && addr >= BASE && addr - BASE + len <= mcu.flash.size();
        Ok(ok.then(|| addr - BASE))
    }

    /// Erases the units in `pages`, or NACKs: false if any is outside the flash or protected.
    fn erase(&self, mcu: &mut Mcu, pages: &[usize]) -> Result<bool, Halt> {
        let count = mcu.flash.sectors().len();
        if self.opts.protect == b'w' || pages.iter().any(|&p| p >= count) {
            return Ok(false);
        }
        mcu.session.name.get_or_insert_with(|| "flash".into());
        for &p in pages {
            mcu.erase(Bank::App, p);
        }
        Ok(true)
    }

    /// One command after its complement was checked; the answer is sent.
    fn command(&mut self, mcu: &mut Mcu, cmd: u8) -> Result<Option<Outcome>, Halt> {
        let protected = self.opts.protect == b'r';
        if protected && matches!(cmd, 0x11 | 0x21 | 0x31 | 0x43 | 0x44) {
            mcu.send(&[NACK])?;
            return Ok(None);
        }
        mcu.send(&[ACK])?;
        let ok = match cmd {
            0x00 => {
                let cmds = self.commands();
                mcu.send(&[cmds.len() as u8, VERSION])?;
                mcu.send(&cmds)?;
                true
            }
            0x01 => {
                mcu.send(&[VERSION, 0, 0])?;
                true
            }
            0x02 => {
                let [hi, lo] = self.opts.pid.to_be_bytes();
                mcu.send(&[1, hi, lo])?;
                true
            }
            0x11 => {
                let Some(off) = self.address(mcu, 1)? else {
                    return self.nack(mcu);
                };
                mcu.send(&[ACK])?;
                let n = bytes(mcu, 2)?;
                let len = usize::from(n[0]) + 1;
                if n[1] != !n[0] || off + len > mcu.flash.size() {
                    return self.nack(mcu);
                }
                mcu.send(&[ACK])?;
                let data = mcu.flash.data()[off..off + len].to_vec();
                mcu.send(&data)?;
                return Ok(None);
            }
            0x21 => {
                if self.address(mcu, 1)?.is_none() {
                    return self.nack(mcu);
                }
                mcu.send(&[ACK])?;
                mcu.session.finished = true;
                return Ok(Some(Outcome::Ok));
            }
            0x31 => {
                let Some(off) = self.address(mcu, 1)? else {
                    return self.nack(mcu);
                };
                mcu.send(&[ACK])?;
                let n = byte(mcu)?;
                let mut data = bytes(mcu, usize::from(n) + 1)?;
                let sum = byte(mcu)?;
                if self.opts.blind_flip == Some(self.writes) && data.len() >= 2 {
                    data[0] ^= 1;
                    data[1] ^= 1;
                }
                if self.opts.nack_write == Some(self.data_frames) {
                    data[0] ^= 1;
                }
                self.data_frames += 1;
                let ok = sum == n ^ xor(&data)
                    && data.len() % 4 == 0
                    && self.opts.protect != b'w'
                    && mcu.program(Bank::App, off, &data).is_ok();
                if ok {
                    let s = &mut mcu.session;
                    s.name.get_or_insert_with(|| "flash".into());
                    s.size = Some(s.size.unwrap_or(0).max((off + data.len()) as u64));
                    s.blocks += 1;
                    s.bytes += data.len() as u64;
                    self.writes += 1;
                    mcu.ack_with(self.writes - 1, ACK)?;
                    return Ok(None);
                }
                false
            }
            0x43 => {
                let n = byte(mcu)?;
                if n == 0xFF {
                    let all: Vec<usize> = (0..mcu.flash.sectors().len()).collect();
                    byte(mcu)? == 0 && self.erase(mcu, &all)?
                } else {
                    let pages = bytes(mcu, usize::from(n) + 1)?;
                    let sum = byte(mcu)?;
                    let list: Vec<usize> = pages.iter().map(|&p| usize::from(p)).collect();
                    sum == n ^ xor(&pages) && self.erase(mcu, &list)?
                }
            }
            _ => {
                let nb = bytes(mcu, 2)?;
                let n = usize::from(u16::from_be_bytes([nb[0], nb[1]]));
                if n >= 0xFFF0 {
                    // Mass (0xFFFF) or bank (0xFFFE, 0xFFFD) erase: the whole flash here.
                    let all: Vec<usize> = (0..mcu.flash.sectors().len()).collect();
                    byte(mcu)? == nb[0] ^ nb[1] && n >= 0xFFFD && self.erase(mcu, &all)?
                } else {
                    let pages = bytes(mcu, 2 * (n + 1))?;
                    let sum = byte(mcu)?;
                    let list: Vec<usize> = pages
                        .chunks(2)
                        .map(|p| usize::from(u16::from_be_bytes([p[0], p[1]])))
                        .collect();
                    sum == xor(&nb) ^ xor(&pages) && self.erase(mcu, &list)?
                }
            }
        };
        mcu.send(&[if ok { ACK } else { NACK }])?;
        Ok(None)
    }

    fn nack(&self, mcu: &mut Mcu) -> Result<Option<Outcome>, Halt> {
        mcu.send(&[NACK])?;
        Ok(None)
    }
}

impl Receiver for Rom {
    fn run(&mut self, mcu: &mut Mcu) -> Result<Outcome, Halt> {
        while byte(mcu)? != 0x7F {}
        mcu.send(&[ACK])?;
        loop {
            let cmd = byte(mcu)?;
            let complement = byte(mcu)?;
            if complement != !cmd || !self.commands().contains(&cmd) {
                if complement != !cmd {
                    mcu.session.errors += 1;
                }
                mcu.send(&[NACK])?;
                continue;
            }
            if let Some(outcome) = self.command(mcu, cmd)? {
                return Ok(outcome);
            }
        }
    }
}
