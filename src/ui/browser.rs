//! The few browser services the page uses: local storage, clipboard, downloads, timing. Each
//! degrades to doing nothing when the browser refuses (private mode, no clipboard permission).

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

/// Copies text; returns whether the browser accepted the request.
pub fn copy(text: &str) -> bool {
    web_sys::window()
        .map(|w| w.navigator().clipboard())
        .map(|c| {
            let _ = c.write_text(text);
        })
        .is_some()
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

/// The page's address without its fragment and without `embed` in the query (a share link opens
/// the full page).
pub fn page_url() -> String {
    let Some(location) = web_sys::window().map(|w| w.location()) else {
        return String::new();
    };
    let base = format!(
        "{}{}",
        location.origin().unwrap_or_default(),
        location.pathname().unwrap_or_default()
    );
    let query: Vec<String> = search()
        .trim_start_matches('?')
        .split('&')
        .filter(|p| !p.is_empty() && *p != "embed")
        .map(str::to_string)
        .collect();
    if query.is_empty() {
        base
    } else {
        format!("{base}?{}", query.join("&"))
    }
}

/// In an iframe: tells the embedding page the content's height (`ambient-netpol:height:<px>`).
pub fn post_height_to_parent() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let Some(height) = window
        .document()
        .and_then(|d| d.document_element())
        .map(|e| e.scroll_height())
    else {
        return;
    };
    if let Ok(Some(parent)) = window.parent()
        && parent != window
    {
        let _ = parent.post_message(
            &wasm_bindgen::JsValue::from_str(&format!("ambient-netpol:height:{height}")),
            "*",
        );
    }
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
