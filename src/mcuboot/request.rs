//! The requests the MCUboot sender frames in the driver's buffer: an SMP header and a CBOR body,
//! placed so that their console lines ([`console::encode`]) end where the frame does, and
//! the upload request's map (`image`, `len`, `off`, `sha` and `data` first; then `off` and
//! `data`), whose data the driver reads straight to where it goes.

use super::cbor;
use super::console::{self, encoded_len, HEADER, WRAP};

pub(super) const OP_READ: u8 = 0;
pub(super) const OP_WRITE: u8 = 2;
/// SMP version 2 in the header's first byte (MCUboot ignores it).
const VERSION: u8 = 1 << 3;
pub(super) const GROUP_OS: u16 = 0;
pub(super) const GROUP_IMAGE: u16 = 1;
pub(super) const OS_RESET: u8 = 5;
pub(super) const OS_PARAMS: u8 = 6;
pub(super) const IMG_STATE: u8 = 0;
pub(super) const IMG_UPLOAD: u8 = 1;
/// The longest upload prefix: map head, image, len, off, sha and the data's key and head.
const PREFIX_MAX: usize = 96;

/// A request's header fields: op, group, id, sequence number.
pub(super) type Req = (u8, u16, u8, u8);

/// What the upload requests say of the image: MCUboot's image number, the size and the
/// file's SHA-256 (all three in the first request only).
#[derive(Clone, Copy)]
pub(super) struct Image<'a> {
    pub image: u8,
    pub size: u64,
    pub sha: &'a [u8; 32],
}

impl Image<'_> {
    /// The upload prefix for a request at `off` with `len` data bytes: the CBOR map up to
    /// and including the data's head. Returns its length.
    fn prefix(&self, out: &mut [u8; PREFIX_MAX], off: u64, len: usize) -> usize {
        let mut at = cbor::head(out, 0, cbor::MAP, if off == 0 { 5 } else { 2 });
        if off == 0 {
            at = cbor::text(out, at, b"image");
            at = cbor::head(out, at, cbor::UINT, u64::from(self.image));
            at = cbor::text(out, at, b"len");
            at = cbor::head(out, at, cbor::UINT, self.size);
        }
        at = cbor::text(out, at, b"off");
        at = cbor::head(out, at, cbor::UINT, off);
        if off == 0 {
            at = cbor::text(out, at, b"sha");
            at = cbor::head(out, at, cbor::BYTES, 32);
            out[at..at + 32].copy_from_slice(self.sha);
            at += 32;
        }
        at = cbor::text(out, at, b"data");
        cbor::head(out, at, cbor::BYTES, len as u64)
    }

    /// Data bytes of the upload request at `off` in a request buffer of `buf` bytes: as
    /// many as fill it.
    pub(super) fn chunk_len(&self, buf: u16, off: u64) -> usize {
        let mut scratch = [0u8; PREFIX_MAX];
        let fixed = self.prefix(&mut scratch, off, 0) - 1;
        let room = usize::from(buf) - WRAP - HEADER - fixed;
        let len = match room {
            0..=24 => room - 1,
            25..=257 => room - 2,
            _ => room - 3,
        };
        len.min((self.size - off) as usize)
    }

    /// Where the upload request at `off` with `len` data bytes wants its data.
    pub(super) fn data_at(&self, off: u64, len: usize) -> usize {
        let mut scratch = [0u8; PREFIX_MAX];
        let n = self.prefix(&mut scratch, off, len);
        let raw = WRAP + HEADER + n + len;
        encoded_len(raw) - raw + 2 + HEADER + n
    }

    /// Frames the upload request `req` at `off` with `len` data bytes (already in the frame
    /// at `data_at` unless there are none); returns its line length.
    pub(super) fn upload(&self, frame: &mut [u8], req: Req, off: u64, len: usize) -> usize {
        let mut prefix = [0u8; PREFIX_MAX];
        let n = self.prefix(&mut prefix, off, len);
        let body = n + len;
        let (at, e) = place(body);
        header(frame, at, req, body);
        frame[at + HEADER..at + HEADER + n].copy_from_slice(&prefix[..n]);
        console::encode(&mut frame[..e], HEADER + body)
    }
}

/// Frames request `req` whose body is `body`; returns its line length.
pub(super) fn small(frame: &mut [u8], req: Req, body: &[u8]) -> usize {
    let (at, e) = place(body.len());
    header(frame, at, req, body.len());
    frame[at + HEADER..at + HEADER + body.len()].copy_from_slice(body);
    console::encode(&mut frame[..e], HEADER + body.len())
}

/// For a packet of `HEADER + body_len` bytes: where its header goes so that its lines end
/// at `frame[..e]`, and `e`.
fn place(body_len: usize) -> (usize, usize) {
    let raw = WRAP + HEADER + body_len;
    let e = encoded_len(raw);
    (e - raw + 2, e)
}

/// Writes the SMP header of `req` with a body of `body_len` bytes at `frame[at..]`.
fn header(frame: &mut [u8], at: usize, req: Req, body_len: usize) {
    let (op, group, id, seq) = req;
    let len = (body_len as u16).to_be_bytes();
    let g = group.to_be_bytes();
    frame[at..at + HEADER].copy_from_slice(&[op | VERSION, 0, len[0], len[1], g[0], g[1], seq, id]);
}
