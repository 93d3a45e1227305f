//! Server-sent events into an island: one `EventSource` per stream, each event handed over
//! once (by its id).

/// Listens to the event stream at `url`; `take` gets each new event's data. The `seen` ids
/// are not handed over (what the page already shows). `None` when the browser refuses.
/// Each event is handed over once, by its id: a stream that reconnects, or starts a little
/// early, repeats some. (`take` is boxed: one copy of this code for every caller.)
#[cfg(feature = "hydrate")]
pub fn listen(
    url: &str,
    mut seen: Vec<String>,
    mut take: Box<dyn FnMut(String)>,
) -> Option<web_sys::EventSource> {
    use wasm_bindgen::JsCast;
    let source = web_sys::EventSource::new(url).ok()?;
    let on_event = wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
        move |event: web_sys::MessageEvent| {
            let id = event.last_event_id();
            if seen.contains(&id) {
                return;
            }
            if let Some(data) = event.data().as_string() {
                seen.push(id);
                take(data);
            }
        },
    );
    source.set_onmessage(Some(on_event.as_ref().unchecked_ref()));
    // The listener lives as long as the page (or until the source is closed).
    on_event.forget();
    Some(source)
}
