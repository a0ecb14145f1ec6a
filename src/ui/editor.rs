//! The YAML editor: a textarea with a line-number gutter that scrolls with it.

use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

#[component]
pub fn Editor(
    text: ReadSignal<String>,
    set_text: WriteSignal<String>,
    goto: ReadSignal<Option<u32>>,
) -> impl IntoView {
    let textarea = NodeRef::<html::Textarea>::new();
    let gutter = NodeRef::<html::Pre>::new();

    let numbers = move || {
        let lines = text.with(|t| t.lines().count().max(1) + usize::from(t.ends_with('\n')));
        let mut out = String::with_capacity(lines * 4);
        for n in 1..=lines {
            out.push_str(&n.to_string());
            out.push('\n');
        }
        out
    };

    let sync_scroll = move |_| {
        if let (Some(area), Some(gutter)) = (textarea.get(), gutter.get()) {
            gutter.set_scroll_top(area.scroll_top());
        }
    };

    // Move the caret to the requested line and scroll it into view.
    Effect::new(move |_| {
        let Some(line) = goto.get() else { return };
        let Some(area) = textarea.get() else { return };
        let value = area.value();
        let start = line_start_utf16(&value, line);
        let end = start
            + value
                .lines()
                .nth(line.saturating_sub(1) as usize)
                .map_or(0, |l| l.encode_utf16().count()) as u32;
        let _ = area.focus();
        let _ = area.set_selection_range(start, end);
        let line_height = area.dyn_ref::<web_sys::Element>().map_or(20, |e| {
            e.scroll_height() / value.lines().count().max(1) as i32
        });
        area.set_scroll_top((line as i32 - 3).max(0) * line_height);
    });

    view! {
        <section class="editor" aria-label="Manifests">
            <label for="yaml-input" class="panel-title">"Manifests (YAML or JSON)"</label>
            <div class="editor-body">
                <pre class="gutter" node_ref=gutter aria-hidden="true">{numbers}</pre>
                <textarea
                    id="yaml-input"
                    node_ref=textarea
                    spellcheck="false"
                    autocomplete="off"
                    wrap="off"
                    prop:value=move || text.get()
                    on:input=move |ev| set_text.set(event_target_value(&ev))
                    on:scroll=sync_scroll
                ></textarea>
            </div>
        </section>
    }
}

/// Offset (in UTF-16 units, as the DOM counts) of the first character of a 1-based line.
fn line_start_utf16(text: &str, line: u32) -> u32 {
    text.split_inclusive('\n')
        .take(line.saturating_sub(1) as usize)
        .map(|l| l.encode_utf16().count() as u32)
        .sum()
}
