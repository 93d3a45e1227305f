//! The page's view of the network: timers, online/offline, the page coming back into view, and
//! beacons (a word to the server that needs no answer).
//! Coming back online or into view *nudges* every waiting upload at once: a backoff is cut
//! short and an upload that stalled while the phone was in another app is restarted.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use futures::channel::oneshot;
use futures::future::{select, Either};
use futures::FutureExt;
use leptos::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::problem::Problem;
use super::progress::now_ms;

/// No byte sent for this long: the upload is stuck; abort it and try again.
const STALL_MS: f64 = 60_000.0;
/// After a nudge, a quiet spell this long is enough to call it stuck.
const NUDGED_STALL_MS: f64 = 5_000.0;
/// How often the stall watch looks.
const WATCH_EVERY_MS: f64 = 5_000.0;

thread_local! {
    static WAITING: RefCell<Vec<oneshot::Sender<()>>> = RefCell::default();
    static WATCHING: Cell<bool> = const { Cell::new(false) };
}

/// Listens (once per page) for the events that nudge uploads: `online`, `offline` (so running
/// uploads pause at once) and `visibilitychange` back to visible.
pub fn watch() {
    if WATCHING.with(|w| w.replace(true)) {
        return;
    }
    for name in ["online", "offline"] {
        // Page-long listeners: never removed.
        let _ = window_event_listener_untyped(name, |_| nudge());
    }
    // `visibilitychange` bubbles from the document to the window.
    let _ = window_event_listener_untyped("visibilitychange", |_| {
        if !document().hidden() {
            nudge();
        }
    });
}

fn nudge() {
    let waiting = WAITING.with(|w| std::mem::take(&mut *w.borrow_mut()));
    for sender in waiting {
        let _ = sender.send(());
    }
}

/// Resolves at the next nudge.
fn nudged() -> oneshot::Receiver<()> {
    let (sender, receiver) = oneshot::channel();
    WAITING.with(|w| w.borrow_mut().push(sender));
    receiver
}

pub fn online() -> bool {
    window().navigator().on_line()
}

pub async fn sleep(ms: f64) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let _ = window()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms.min(2e9) as i32);
    });
    let _ = JsFuture::from(promise).await;
}

/// Waits `ms`, or less if the page is nudged. True when nudged.
pub async fn pause(ms: f64) -> bool {
    matches!(
        select(sleep(ms).boxed_local(), nudged()).await,
        Either::Right(_)
    )
}

/// Returns when the browser is online again.
pub async fn until_online() {
    while !online() {
        pause(30_000.0).await;
    }
}

/// How an upload is moving: when a byte was last sent, and whether all were.
#[derive(Clone)]
pub struct Motion(Rc<Cell<(f64, bool)>>);

impl Motion {
    pub fn new() -> Self {
        Motion(Rc::new(Cell::new((now_ms(), false))))
    }

    pub fn moved(&self, loaded: f64, total: f64) {
        self.0.set((now_ms(), loaded >= total));
    }
}

/// Resolves when the upload should be given up and sent again: the browser went offline, or
/// no byte has moved for a minute (five seconds when the page was just nudged). Once every
/// byte is sent the storage may take its time to answer: that is not a stall.
pub async fn stalled(motion: Motion) -> Problem {
    loop {
        let woke = pause(WATCH_EVERY_MS).await;
        if !online() {
            return Problem::Offline;
        }
        let (last, all_sent) = motion.0.get();
        let quiet = now_ms() - last;
        if !all_sent && (quiet >= STALL_MS || (woke && quiet >= NUDGED_STALL_MS)) {
            return Problem::Stalled;
        }
    }
}

/// POSTs `json` to the portal's `path` (a server fn with JSON input) and forgets it: no
/// answer is read, so the page carries no client for that fn, and it goes even as the page
/// closes. Same origin: the session cookie goes with it.
pub fn beacon(path: &str, json: &str) {
    if let Some(window) = web_sys::window() {
        let _ = window
            .navigator()
            .send_beacon_with_opt_str(path, Some(json));
    }
}
