//! The playground page's entry (wasm only, built by Trunk): mounts the app.

mod ui;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(ui::App);
}
