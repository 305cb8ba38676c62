//! `qsota probe`: what is on the other end of the line, without changing what the MCU holds.

use crate::failure::{Class, Failure};
use crate::image::{hex, Image};
use crate::line::Line;
use crate::protocol::{self, Job, Options};
use crate::session::{self, interrupted};
use qsota::mcuboot::{self, Step};
use qsota::native::sender as native;
use qsota::stm32::devices::{self, Layout};
use qsota::stm32::Reason;
use qsota::transfer::Fail;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// What the probe found: a line for people and the same as JSON.
pub struct Found {
    pub text: String,
    pub json: Value,
}

/// YMODEM: a receiver only ever asks, so the probe listens (sending anything could start or
/// cancel a session: ST's IAP aborts on `a` and on CAN). A receiver waiting for a file sends
/// `C` (CRC mode) every 1 s (ST) to 3 s (spec); ST prints a banner when its menu starts it.
pub fn ymodem(line: &mut Line, wait: Duration) -> Result<Found, Failure> {
    let start = Instant::now();
    let mut heard = Vec::new();
    let mut buf = [0u8; 256];
    while start.elapsed() < wait && !interrupted() {
        let n = line
            .read(&mut buf, wait - start.elapsed(), 0)
            .map_err(|e| Failure::new(Class::Port, format!("the port failed: {e}")))?;
        heard.extend_from_slice(&buf[..n]);
    }
    if interrupted() {
        return Err(Failure::new(Class::Interrupted, "probe: interrupted"));
    }
    let asks = heard
        .iter()
        .filter(|&&b| qsota::ymodem::asks_for_file(b))
        .count();
    let text: String = String::from_utf8_lossy(&heard)
        .chars()
        .filter(|c| !c.is_control() || *c == '\n')
        .collect();
    let json = json!({"protocol": "ymodem", "heard_bytes": heard.len(), "crc_requests": asks,
                      "text": text, "listened_ms": wait.as_millis() as u64});
    if asks == 0 {
        let (class, what) = if heard.is_empty() {
            (Class::Transfer(Fail::Timeout), "nothing".to_string())
        } else {
            (
                Class::Transfer(Fail::Protocol),
                format!("{} bytes but no 'C' ({text:?})", heard.len()),
            )
        };
        return Err(Failure::new(
            class,
            format!(
                "ymodem: heard {what} in {} ms: no YMODEM receiver waiting for a file",
                wait.as_millis()
            ),
        ));
    }
    Ok(Found {
        text: format!(
            "ymodem: a receiver asks for a file in CRC mode ('C' x{asks} in {} ms){}",
            wait.as_millis(),
            if text.trim().is_empty() {
                String::new()
            } else {
                format!("; it printed {:?}", text.trim())
            }
        ),
        json,
    })
}

/// Native: OPEN for `image`, what `send` does first; the ACCEPT tells the receiver's window
/// and how much of this image it already holds. Then ABORT, which keeps its resume record.
/// A receiver holding another image starts a record for this one (and erases for it).
pub fn native(
    line: &mut Line,
    image: &Image,
    opts: &Options,
    sha256: &[u8; 32],
    baud: u32,
) -> Result<Found, Failure> {
    let mut tx = protocol::native_sender(&opts.native, opts.retries, image, sha256, baud)?;
    let outcome = session::run(
        &mut tx,
        line,
        &image.bytes,
        "native",
        |s| s.window().0 > 0,
        |_| {},
    );
    let (window, payload) = tx.window();
    if window == 0 {
        outcome.result?;
        return Err(Failure::new(
            Class::Transfer(Fail::Protocol),
            "native: no ACCEPT",
        ));
    }
    let size = image.bytes.len() as u64;
    let resume = native::Sender::stats(&tx).resumed_from;
    let held = if resume == size {
        "the whole image (a send commits it)".to_string()
    } else if resume == 0 {
        "none of it: a send starts from 0".to_string()
    } else {
        format!(
            "{resume} bytes ({}%): a send resumes there",
            resume * 100 / size.max(1)
        )
    };
    Ok(Found {
        text: format!(
            "native: the receiver accepts {size} bytes, a window of {window} frames of \
             {payload} bytes; it holds {held}"
        ),
        json: json!({"protocol": "native", "size": size, "window": window, "payload": payload,
                     "resume": resume, "stats": Job::stats(&tx)}),
    })
}

/// ST's ROM: autobaud, Get (bootloader version, erase command) and Get ID (the PID), then
/// a stop before anything is erased (AN3155 has no abort: the ROM waits for a command). With
/// IMAGE its size is checked against the part's flash, as `send` does first.
pub fn stm32(
    line: &mut Line,
    opts: &Options,
    size: Option<u64>,
    baud: u32,
) -> Result<Found, Failure> {
    let mut tx = protocol::stm32_sender(&opts.stm32, opts.retries, size.unwrap_or(1), baud)?;
    let outcome = session::run(&mut tx, line, &[], "stm32", |s| s.stats().pid != 0, |_| {});
    let s = tx.stats();
    if s.pid == 0 {
        outcome.result?;
        return Err(Failure::new(
            Class::Transfer(Fail::Protocol),
            "stm32: no Get ID answer",
        ));
    }
    let part = devices::find(s.pid);
    let flash = match (opts.stm32.flash_size, part) {
        (0, Some(p)) => p.flash,
        (n, _) => n,
    };
    let layout = match part.map(|p| p.layout) {
        Some(Layout::Pages(n)) => format!("{} KiB pages", n / 1024),
        Some(Layout::Sectors(u)) => format!("F2/F4/F7 sectors from {} KiB", u / 1024),
        None => "not in the device table (give --flash-size and --page-size)".into(),
    };
    let erase = if s.erase_cmd == 0x44 {
        "Extended Erase 0x44"
    } else {
        "Erase 0x43"
    };
    let mut text = format!(
        "stm32: ROM bootloader {}.{}, PID 0x{:03x}, {erase}; flash {} KiB, {layout}",
        s.version >> 4,
        s.version & 0xF,
        s.pid,
        flash / 1024
    );
    let fits = size.map(|_| s.reason != Some(Reason::TooLarge));
    if let (Some(n), Some(fits)) = (size, fits) {
        text += &format!(
            "; the {n}-byte image {} at 0x{:08x}",
            if fits { "fits" } else { "does not fit" },
            opts.stm32.address
        );
    }
    Ok(Found {
        text,
        json: json!({"protocol": "stm32", "pid": s.pid, "version": s.version,
                     "erase_cmd": s.erase_cmd, "flash_size": flash, "known_part": part.is_some(),
                     "image_fits": fits}),
    })
}

/// MCUboot: the image list (each slot MCUboot validated: version, hash, state), asked
/// without uploading anything; with IMAGE, also whether the list shows it and how much of
/// it an upload under way holds (the upload probe `send` starts with).
pub fn mcuboot(line: &mut Line, image: Option<&Image>, opts: &Options) -> Result<Found, Failure> {
    let mut lister = protocol::mcuboot_lister(&opts.mcuboot, opts.retries)?;
    session::run(&mut lister, line, &[], "mcuboot", |_| false, |_| {}).result?;
    let list = lister
        .image_list()
        .and_then(protocol::image_list)
        .ok_or_else(|| {
            Failure::new(
                Class::Transfer(Fail::Protocol),
                "mcuboot: the image list could not be read",
            )
        })?;
    let buf_size = lister.stats().buf_size;
    let slots: Vec<String> = list
        .iter()
        .map(|e| {
            let hash = e["hash"].as_str().map_or(String::new(), |h| {
                format!(", hash {}…", &h[..16.min(h.len())])
            });
            format!(
                "slot {}: version {}{hash}",
                e["slot"],
                e["version"].as_str().unwrap_or("?")
            )
        })
        .collect();
    let listing = if slots.is_empty() {
        "it lists no valid image".to_string()
    } else {
        format!("it lists {}", slots.join("; "))
    };
    let mut json = json!({"protocol": "mcuboot", "buf_size": buf_size, "images": list});
    let mut text =
        format!("mcuboot: serial recovery answers, requests of {buf_size} bytes; {listing}");
    if let Some(image) = image {
        let (held, off) = upload_probe(line, image, opts)?;
        let hash =
            qsota::image::tlv_hash(&image.bytes, &[], image.bytes.len() as u64).map(|h| hex(&h));
        let listed = list.iter().any(|e| e["hash"].as_str() == hash.as_deref());
        text += &format!(
            "; {} {}; it holds {}",
            image.name,
            if listed { "is listed" } else { "is not listed" },
            held
        );
        json["size"] = image.bytes.len().into();
        json["resume"] = off.into();
        json["listed"] = listed.into();
    }
    Ok(Found { text, json })
}

/// The upload probe (MCUboot answers the offset it wants next), after the lister: the MCU
/// is in recovery already, so no `enter`.
fn upload_probe(line: &mut Line, image: &Image, opts: &Options) -> Result<(String, u64), Failure> {
    let o = mcuboot::Options {
        enter: false,
        ..protocol::mcuboot_options(&opts.mcuboot, opts.retries)
    };
    let mut tx = protocol::mcuboot_upload(image, &image.sha256(), o)?;
    let past_probe = |s: &mcuboot::Sender| s.stats().step as u8 >= Step::Upload as u8;
    let outcome = session::run(&mut tx, line, &image.bytes, "mcuboot", past_probe, |_| {});
    if !past_probe(&tx) {
        outcome.result?;
        return Err(Failure::new(
            Class::Transfer(Fail::Protocol),
            "mcuboot: no answer to the upload probe",
        ));
    }
    // The offset MCUboot wants next (`bytes`; `resumed_from` stays 0 when it already holds
    // the whole image, which a send then only checks).
    let (size, off) = (image.bytes.len() as u64, tx.stats().bytes);
    let held = match off {
        0 => "no upload of it under way: a send starts from 0".to_string(),
        n if n >= size => "the whole image: a send only checks it".to_string(),
        n => format!("{n} bytes of an upload under way: a send resumes there"),
    };
    Ok((held, off))
}
