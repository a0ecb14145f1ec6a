//! The playground's entry (wasm only, built by Trunk). One module for the page and its analysis
//! worker, downloaded once: in the page it mounts the app; in the worker (started by
//! `ui/worker.rs` from `analysis-worker.js` with this very module) it serves analyses.

mod ui;

use ui::protocol;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;

fn main() {
    if web_sys::window().is_none() {
        serve_analyses();
        return;
    }
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        keep_text_and_say_so(&info.to_string());
    }));
    leptos::mount::mount_to_body(ui::App);
}

/// After a panic the page's wasm is dead: save the editor's text as it is now (the autosave may
/// be a moment behind) and put a banner above everything, built from plain DOM, with the error
/// in a read-only box to copy into a bug report. Nothing here may panic again.
fn keep_text_and_say_so(error: &str) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    ui::keep_text();
    let (Some(body), Ok(banner), Ok(text), Ok(details)) = (
        document.body(),
        document.create_element("div"),
        document.create_element("p"),
        document.create_element("textarea"),
    ) else {
        return;
    };
    banner.set_class_name("banner crash");
    let _ = banner.set_attribute("role", "alert");
    text.set_text_content(Some(
        "Something went wrong in the page. Your text is kept (saved in this browser): \
         reload the page to go on. To report the problem, copy the error below.",
    ));
    let _ = details.set_attribute("readonly", "");
    let _ = details.set_attribute("aria-label", "The error, to copy into a bug report");
    details.set_text_content(Some(error));
    let _ = banner.append_child(&text);
    let _ = banner.append_child(&details);
    let _ = body.insert_before(&banner, body.first_child().as_ref());
}

/// The worker's side: receives the editor's text and settings, runs the core, posts the analysis
/// back. Keeping the core off the page's thread keeps typing smooth on large input.
fn serve_analyses() {
    // A panic kills the worker's wasm: tell the page first, so it can say so and start a new one.
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
        let message = format!("{}{info}", protocol::PANIC);
        let _ = scope.post_message(&wasm_bindgen::JsValue::from_str(&message));
    }));
    let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let reply = scope.clone();
    let onmessage =
        Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            let Some(request) = protocol::Request::from_js(&event.data()) else {
                return;
            };
            // Each answer as JSON text (`protocol::Answer`).
            let encoder = std::cell::RefCell::new(protocol::Encoder::default());
            let send = |analysis: &mut protocol::Analysis| {
                let text = encoder
                    .borrow_mut()
                    .encode(analysis, |answer| serde_json::to_string(answer));
                if let Ok(text) = text {
                    let _ = reply.post_message(&wasm_bindgen::JsValue::from_str(&text));
                }
            };
            // The findings of a large text may come first, then the whole analysis.
            let mut complete = protocol::run(&request, js_sys::Date::now, send);
            send(&mut complete);
        });
    scope.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    // The handler lives as long as the worker.
    onmessage.forget();
    // Messages that arrive before the handler is set are lost: the page waits for this.
    let _ = scope.post_message(&wasm_bindgen::JsValue::from_str(protocol::READY));
}
