//! The playground's analysis worker (wasm only, built by Trunk as a web worker): receives the
//! editor's text and settings, runs the core, posts the analysis back. Keeping the core here
//! keeps typing smooth on large input and the page's own wasm small.

#[path = "../ui/protocol.rs"]
mod protocol;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;

fn main() {
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
            let Ok(request) = serde_wasm_bindgen::from_value::<protocol::Request>(event.data())
            else {
                return;
            };
            let analysis = protocol::run(&request, js_sys::Date::now);
            // Maps as plain objects, so the page reads them back whatever serializer it uses.
            let serializer = serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true);
            if let Ok(value) = serde::Serialize::serialize(&analysis, &serializer) {
                let _ = reply.post_message(&value);
            }
        });
    scope.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    // The handler lives as long as the worker.
    onmessage.forget();
    // Messages that arrive before the handler is set are lost: the page waits for this.
    let _ = scope.post_message(&wasm_bindgen::JsValue::from_str(protocol::READY));
}
