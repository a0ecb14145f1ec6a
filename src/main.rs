//! The playground page's entry (wasm only, built by Trunk): mounts the app.

mod ui;

fn main() {
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
