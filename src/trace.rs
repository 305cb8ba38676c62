//! Test only: records the sessions of the seeded Rust tests as trace files that
//! `tests/test_traces.py` replays on `_qsota` and on `qsota.pure`, requiring the same actions,
//! frames and stats (the pure twin's parity, checked rather than promised).
//!
//! A test that records starts a [`Recording`]; the drivers in the protocol tests call
//! [`begin`], [`poll`], [`receive`], [`provide`] and [`end`], which do nothing when the thread
//! is not recording. The file is `build/traces/NAME.jsonl`, one JSON value a line:
//! - a session starts with an object: `protocol`, `args`/`kwargs` of the Python constructor
//!   (a string `"hex:…"` is bytes), `frame_size`, `image` (hex: what the source gives);
//! - then events: `["p", now, action, …]` a poll and what it returned (SEND: length and the
//!   frame in hex; READ: offset, at, length; WAIT: until; FAILED: code and block), `["r", now,
//!   hex]` bytes received, `["v", n]` provide(n) after the driver copied `image[offset..]` into
//!   the frame at `at`, `["e", stats]` the end of a transfer with the stats dict.
use crate::transfer::Action;
use std::cell::RefCell;
use std::fmt::Write as _;
use std::string::String;
use std::vec::Vec;

struct Session {
    /// The session's head line but for its closing `"image": "…"}` ([`source`] sets it).
    head: String,
    image: Option<String>,
    lines: Vec<String>,
}

struct State {
    name: &'static str,
    max_sessions: usize,
    sessions: Vec<Session>,
    /// The current session is recorded (false past `max_sessions`).
    on: bool,
}

std::thread_local! {
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
}

/// While alive, the thread's sessions (the first `max_sessions`) are recorded; dropped, it
/// writes them to `build/traces/NAME.jsonl`.
pub struct Recording;

impl Recording {
    pub fn new(name: &'static str, max_sessions: usize) -> Recording {
        STATE.with(|s| {
            *s.borrow_mut() = Some(State {
                name,
                max_sessions,
                sessions: Vec::new(),
                on: false,
            })
        });
        Recording
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        let Some(state) = STATE.with(|s| s.borrow_mut().take()) else {
            return;
        };
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("build/traces");
        std::fs::create_dir_all(&dir).unwrap();
        let mut text = String::new();
        for session in &state.sessions {
            let image = session.image.as_deref().unwrap_or("");
            let _ = writeln!(text, "{}, \"image\": \"{image}\"}}", session.head);
            for line in &session.lines {
                text.push_str(line);
                text.push('\n');
            }
        }
        std::fs::write(dir.join(format!("{}.jsonl", state.name)), text).unwrap();
    }
}

/// Appends `line` to the current session, if the thread records one.
pub fn push(line: impl FnOnce() -> String) {
    STATE.with(|s| {
        if let Some(state) = s.borrow_mut().as_mut().filter(|state| state.on) {
            if let Some(session) = state.sessions.last_mut() {
                session.lines.push(line());
            }
        }
    });
}

pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Starts a session (ending the previous one); `args` and `kwargs` are JSON text. The image
/// the source gives is set by [`source`] before the first event.
pub fn begin(protocol: &str, args: &str, kwargs: &str, frame_size: usize) {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        let Some(state) = s.as_mut() else { return };
        state.on = state.sessions.len() < state.max_sessions;
        if !state.on {
            return;
        }
        let head = format!(
            "{{\"protocol\": \"{protocol}\", \"args\": {args}, \"kwargs\": {kwargs}, \
             \"frame_size\": {frame_size}"
        );
        state.sessions.push(Session {
            head,
            image: None,
            lines: Vec::new(),
        });
    });
}

/// The bytes the current session's source gives (the first call counts). A session with
/// an image over 64 KiB is dropped: the replay reads each line into MicroPython's heap.
pub fn source(image: &[u8]) {
    STATE.with(|s| {
        if let Some(state) = s.borrow_mut().as_mut().filter(|state| state.on) {
            if image.len() > 64 * 1024 {
                state.sessions.pop();
                state.on = false;
            } else if let Some(session) = state.sessions.last_mut() {
                session.image.get_or_insert_with(|| hex(image));
            }
        }
    });
}

/// `poll(now, frame)` returned `action` (for SEND, `frame` holds the frame); `block` is the
/// sender's block number, which a FAILED action reports.
pub fn poll(now: u32, action: Action, frame: &[u8], block: u64, error: &str) {
    push(|| match action {
        Action::Send(n) => format!("[\"p\", {now}, 1, {n}, \"{}\"]", hex(&frame[..n])),
        Action::Read { offset, at, len } => format!("[\"p\", {now}, 2, {offset}, {at}, {len}]"),
        Action::Wait { until_ms, expects } => {
            format!("[\"p\", {now}, 3, {until_ms}, {expects}]")
        }
        Action::Done => format!("[\"p\", {now}, 4]"),
        Action::Digest { at } => format!("[\"p\", {now}, 6, {at}]"),
        Action::Failed(_) => format!("[\"p\", {now}, 5, \"{error}\", {block}]"),
    });
}

pub fn receive(now: u32, bytes: &[u8]) {
    push(|| format!("[\"r\", {now}, \"{}\"]", hex(bytes)));
}

pub fn provide(n: usize) {
    push(|| format!("[\"v\", {n}]"));
}

/// The transfer ended; `stats` is the Python stats dict as JSON text.
pub fn end(stats: &str) {
    push(|| format!("[\"e\", {stats}]"));
}
