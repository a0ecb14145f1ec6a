//! The few browser services the page uses: local storage, clipboard, history, downloads, timing.
//! Each degrades to doing nothing when the browser refuses (private mode, no clipboard
//! permission), and says so where the page must tell the visitor (copying).

use wasm_bindgen::JsCast;

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// The page's performance marks: an edit of the text, and the findings of the newest analysis
/// on screen. `tests/e2e/page.measure.mjs` reads the measure between them.
pub const EDIT_MARK: &str = "ambient-netpol:edit";
pub const SHOWN_MEASURE: &str = "ambient-netpol:edit-to-findings";
/// Each request posted to the analysis worker, and each answer of it (stale or not).
pub const REQUEST_MARK: &str = "ambient-netpol:request";
pub const ANSWER_MARK: &str = "ambient-netpol:answer";
/// Each answer of the worker as it arrives, and once decoded (`page.measure.mjs` lays them out).
pub const RECEIVED_MARK: &str = "ambient-netpol:received";
pub const DECODED_MARK: &str = "ambient-netpol:decoded";

fn performance() -> Option<web_sys::Performance> {
    web_sys::window()?.performance()
}

thread_local! {
    /// The newest edit's findings were measured as shown (an analysis may answer twice).
    static SHOWN: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Marks a moment; only the latest mark of a name is kept (observers see each).
pub fn mark(name: &str) {
    if name == EDIT_MARK {
        SHOWN.set(false);
    }
    if let Some(p) = performance() {
        p.clear_marks_with_mark_name(name);
        let _ = p.mark(name);
    }
}

/// Once the next frame is painted, measures from the last edit to then: the first findings shown
/// for that edit (a later answer for the same edit, e.g. the checked fix, is not measured).
pub fn measure_shown_after_paint() {
    if SHOWN.replace(true) {
        return;
    }
    measure_after_paint(SHOWN_MEASURE, EDIT_MARK);
}

/// Once the next frame is painted, measures `name` from the latest mark `start`.
pub fn measure_after_paint(name: &'static str, start: &'static str) {
    if web_sys::window().is_none() {
        return;
    }
    leptos::prelude::request_animation_frame(move || {
        // A task queued from the frame callback runs once that frame is painted.
        gloo_timers::callback::Timeout::new(0, move || {
            if let Some(p) = performance() {
                p.clear_measures_with_measure_name(name);
                let _ = p.measure_with_start_mark(name, start);
            }
        })
        .forget();
    });
}

pub fn load(key: &str) -> Option<String> {
    storage()?.get_item(key).ok()?
}

/// Whether the value was stored (the browser refuses past its quota, about 5 MB per site).
pub fn save(key: &str, value: &str) -> bool {
    storage().is_some_and(|s| s.set_item(key, value).is_ok())
}

pub fn remove(key: &str) {
    if let Some(s) = storage() {
        let _ = s.remove_item(key);
    }
}

/// The text of a file of the page's own (a relative URL), or `None` when it cannot be fetched
/// (offline before the service worker kept it, or a server error).
pub async fn fetch_text(url: &str) -> Option<String> {
    let response = wasm_bindgen_futures::JsFuture::from(web_sys::window()?.fetch_with_str(url))
        .await
        .ok()?
        .dyn_into::<web_sys::Response>()
        .ok()?;
    if !response.ok() {
        return None;
    }
    let text = wasm_bindgen_futures::JsFuture::from(response.text().ok()?)
        .await
        .ok()?;
    text.as_string()
}

/// Copies text: with the clipboard API where the browser has one, else (plain-http pages have
/// none, and a browser may refuse it) with the copy command on a selection. Whether the text
/// reached the clipboard.
pub async fn copy(text: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let navigator = window.navigator();
    let has_api = js_sys::Reflect::get(&navigator, &"clipboard".into())
        .is_ok_and(|c| !c.is_undefined() && !c.is_null());
    if has_api {
        let written = wasm_bindgen_futures::JsFuture::from(navigator.clipboard().write_text(text));
        if written.await.is_ok() {
            return true;
        }
    }
    copy_selection(text)
}

/// The older way: the text selected in a scratch box and the copy command; focus goes back where
/// it was.
fn copy_selection(text: &str) -> bool {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return false;
    };
    let Some(body) = document.body() else {
        return false;
    };
    let Some(scratch) = document
        .create_element("textarea")
        .ok()
        .and_then(|e| e.dyn_into::<web_sys::HtmlTextAreaElement>().ok())
    else {
        return false;
    };
    let focused = document.active_element();
    scratch.set_value(text);
    let _ = scratch.set_attribute("readonly", "");
    // In view and unseen, so that selecting it scrolls nothing.
    let _ = scratch.set_attribute("style", "position: fixed; top: 0; left: 0; opacity: 0");
    let _ = body.append_child(&scratch);
    scratch.select();
    // Every page's document is an HTMLDocument; a missing method is an error, not a crash.
    let copied = document
        .unchecked_ref::<web_sys::HtmlDocument>()
        .exec_command("copy")
        .unwrap_or(false);
    scratch.remove();
    if let Some(e) = focused.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = e.focus();
    }
    copied
}

/// Offers text as a file download.
pub fn download(filename: &str, text: &str, mime: &str) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    if let Some(a) = document
        .create_element("a")
        .ok()
        .and_then(|e| e.dyn_into::<web_sys::HtmlAnchorElement>().ok())
    {
        a.set_href(&url);
        a.set_download(filename);
        a.click();
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}

/// Sets `data-theme` on the root element (`light`, `dark`, or removed to follow the system).
pub fn set_theme(theme: Option<&str>) {
    let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    else {
        return;
    };
    let _ = match theme {
        Some(t) => root.set_attribute("data-theme", t),
        None => root.remove_attribute("data-theme"),
    };
}

/// The theme shown: the one chosen, else the system's.
pub fn shown_theme() -> &'static str {
    let window = web_sys::window();
    let chosen = window
        .as_ref()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
        .and_then(|e| e.get_attribute("data-theme"));
    match chosen.as_deref() {
        Some("dark") => "dark",
        Some(_) => "light",
        None => {
            let dark = window
                .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
                .is_some_and(|m| m.matches());
            if dark { "dark" } else { "light" }
        }
    }
}

/// Whether the window is wide enough for the editor and the results side by side (the width
/// `style/main.css` switches at).
pub fn is_wide() -> bool {
    web_sys::window()
        .and_then(|w| w.match_media("(min-width: 1000px)").ok().flatten())
        .is_some_and(|m| m.matches())
}

/// The page's URL fragment without its `#`.
pub fn hash() -> String {
    web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .map(|h| h.trim_start_matches('#').to_string())
        .unwrap_or_default()
}

/// Asks the visitor a yes/no question (the browser's own dialog).
pub fn confirm(question: &str) -> bool {
    web_sys::window()
        .and_then(|w| w.confirm_with_message(question).ok())
        .unwrap_or(false)
}

/// The query string (with its `?`).
pub fn search() -> String {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default()
}

/// The page's address without its fragment and without the embed options (a link from an
/// embedded view opens the full page).
pub fn page_url() -> String {
    let Some(location) = web_sys::window().map(|w| w.location()) else {
        return String::new();
    };
    format!(
        "{}{}{}",
        location.origin().unwrap_or_default(),
        location.pathname().unwrap_or_default(),
        super::address::without_options(&search())
    )
}

/// Marks the page as embedded in another (`data-embed` on the root element, for the styles).
pub fn mark_embedded() {
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.set_attribute("data-embed", "");
    }
}

/// Texts longer than this are not kept for Back (each entry would hold its own copy).
pub const MAX_REMEMBERED: usize = 1 << 20;

fn history() -> Option<web_sys::History> {
    web_sys::window()?.history().ok()
}

thread_local! {
    /// Entries written by this page so far (part of each entry's id).
    static ENTRIES: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// The current entry's state object (a copy), or a new one with a new id.
fn entry_state(new: bool) -> js_sys::Object {
    if !new
        && let Some(state) = history()
            .and_then(|h| h.state().ok())
            .filter(|s| s.is_object())
    {
        return state.into();
    }
    let state = js_sys::Object::new();
    let id = format!(
        "{}-{}",
        js_sys::Date::now(),
        ENTRIES.replace(ENTRIES.get() + 1)
    );
    let _ = js_sys::Reflect::set(&state, &"id".into(), &id.into());
    state
}

/// Puts a fragment in the address bar: a new history entry (which Back undoes) or, with
/// `push` false, in place of the current one. The page's own entries carry a state object with
/// an id, which tells a reload that the saved text belongs to this address, and tells two entries
/// with the same address apart.
pub fn write_fragment(fragment: &str, push: bool) {
    let (Some(history), Some(location)) = (history(), web_sys::window().map(|w| w.location()))
    else {
        return;
    };
    let url = format!(
        "{}{}{}{fragment}",
        location.pathname().unwrap_or_default(),
        search(),
        if fragment.is_empty() { "" } else { "#" }
    );
    let state = entry_state(push);
    let _ = if push {
        history.push_state_with_url(&state, "", Some(&url))
    } else {
        history.replace_state_with_url(&state, "", Some(&url))
    };
}

/// Keeps the text in the current history entry, for Back to bring back (before the page opens
/// something else in a new entry).
pub fn remember_text(text: &str) {
    let Some(history) = history() else {
        return;
    };
    let state = entry_state(false);
    let text = if text.len() <= MAX_REMEMBERED {
        wasm_bindgen::JsValue::from_str(text)
    } else {
        wasm_bindgen::JsValue::UNDEFINED
    };
    let _ = js_sys::Reflect::set(&state, &"text".into(), &text);
    let _ = history.replace_state(&state, "");
}

/// The text kept in the current history entry by [`remember_text`].
pub fn remembered_text() -> Option<String> {
    let state = history()?.state().ok()?;
    js_sys::Reflect::get(&state, &"text".into())
        .ok()?
        .as_string()
}

/// The current entry: its fragment and the id the page gave it (none for a link followed).
pub fn entry_key() -> String {
    let id = history()
        .and_then(|h| h.state().ok())
        .and_then(|s| js_sys::Reflect::get(&s, &"id".into()).ok())
        .and_then(|id| id.as_string());
    format!("{}|{}", hash(), id.unwrap_or_default())
}

/// Whether the current history entry is one the page wrote (a reload, or Back to it), rather
/// than a link followed.
pub fn entry_is_ours() -> bool {
    history()
        .and_then(|h| h.state().ok())
        .is_some_and(|s| s.is_object())
}

/// Registers the service worker that keeps the page working offline after the first visit.
pub fn register_offline_support() {
    if let Some(window) = web_sys::window() {
        let _ = window.navigator().service_worker().register("./sw.js");
    }
}

/// Gives the focus to the first element `selector` finds (an SVG element too, which
/// `HtmlElement` is not); the browser scrolls it into view. Returns whether there was one.
pub fn focus_first(selector: &str) -> bool {
    let Some(element) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector(selector).ok().flatten())
    else {
        return false;
    };
    js_sys::Reflect::get(&element, &"focus".into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        .is_some_and(|focus| focus.call0(&element).is_ok())
}
