//! What MCUboot's answers say: the fields of an answer to the request that is out, and the
//! entries of its image list (also for `qsota probe`, through [`each_listed`]).

use super::cbor;
use super::console::HEADER;

/// What an answer said.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Answer {
    pub rc: i32,
    pub off: Option<u64>,
    pub buf_size: Option<u64>,
    /// Our image's primary slot is listed (as valid), with its hash if MCUboot gave one.
    pub listed: bool,
    pub hash: Option<[u8; 32]>,
}

/// What a packet from the MCU says, if it answers the request `req` (op, group, id, seq).
pub(super) fn parse(p: &[u8], req: (u8, u16, u8, u8), image: u8) -> Option<Answer> {
    let (op, group, id, seq) = req;
    let len = usize::from(u16::from_be_bytes([p[2], p[3]]));
    if p[0] & 7 != op + 1
        || u16::from_be_bytes([p[4], p[5]]) != group
        || p[6] != seq
        || p[7] != id
        || HEADER + len != p.len()
    {
        return None;
    }
    let mut a = Answer::default();
    let mut r = cbor::Reader::new(&p[HEADER..]);
    r.map(|r, key| match key {
        b"rc" => r.int().map(|v| a.rc = v),
        b"err" => r.map(|r, key| match key {
            b"rc" => r.int().map(|v| a.rc = v),
            _ => r.skip(),
        }),
        b"off" => r.uint().map(|v| a.off = Some(v)),
        b"buf_size" => r.uint().map(|v| a.buf_size = Some(v)),
        b"images" => r.array(|r| {
            let e = listed(r)?;
            if e.image == u64::from(image) && e.slot == Some(0) {
                a.listed = true;
                a.hash = e.hash;
            }
            Some(())
        }),
        _ => r.skip(),
    })?;
    Some(a)
}

/// An image MCUboot lists: it found the image in `slot` valid (hash and signature).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Listed<'a> {
    /// The image number (0 unless MCUboot manages several).
    pub image: u64,
    pub slot: Option<u64>,
    /// As MCUboot prints it: "major.minor.revision[.build]".
    pub version: &'a [u8],
    /// The image's hash TLV (MCUboot built with `MCUBOOT_SERIAL_IMG_GRP_HASH`).
    pub hash: Option<[u8; 32]>,
    /// Image state (built with `MCUBOOT_SERIAL_IMG_GRP_IMAGE_STATE`).
    pub bootable: bool,
    pub confirmed: bool,
    pub pending: bool,
    pub permanent: bool,
}

/// One entry of the list; keys it does not know, and values of another type where only
/// a text or a flag is shown, are passed over.
fn listed<'a>(r: &mut cbor::Reader<'a>) -> Option<Listed<'a>> {
    use cbor::Item;
    let mut e = Listed::default();
    r.map(|r, key| {
        let flag = match key {
            b"image" => return r.uint().map(|v| e.image = v),
            b"slot" => return r.uint().map(|v| e.slot = Some(v)),
            b"hash" => return r.bytes().map(|v| e.hash = v.try_into().ok()),
            b"version" => {
                return r.value().map(|v| {
                    if let Item::Text(t) = v {
                        e.version = t;
                    }
                })
            }
            b"bootable" => &mut e.bootable,
            b"confirmed" => &mut e.confirmed,
            b"pending" => &mut e.pending,
            b"permanent" => &mut e.permanent,
            _ => return r.skip(),
        };
        r.value().map(|v| *flag = v == Item::Simple(21))
    })?;
    Some(e)
}

/// Calls `f` for each image in `body`, MCUboot's answer to the image list (as
/// [`Sender::image_list`] gives it); `None` if the answer is malformed.
pub fn each_listed<'a>(body: &'a [u8], mut f: impl FnMut(Listed<'a>)) -> Option<()> {
    cbor::Reader::new(body).map(|r, key| match key {
        b"images" => r.array(|r| listed(r).map(&mut f)),
        _ => r.skip(),
    })
}
