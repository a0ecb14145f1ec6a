//! The YAML editor: a textarea with a line-number gutter that scrolls with it and marks the lines
//! of findings; open or drop files (several become several documents); clear; Tab indents (Esc
//! then Tab leaves the editor). Undo stays the browser's own.

use ambient_netpol::Severity;
use leptos::html;
use leptos::prelude::*;

use super::Analysis;
use super::{browser, highlight};

/// The gutter's line height in pixels (13 px font × 1.5, as in the stylesheet).
const LINE_HEIGHT: f64 = 19.5;
const PADDING: f64 = 8.0;

/// The first line in view (0-based) and how many lines to draw, for a textarea scrolled to `top`
/// and `height` pixels high (two spare lines for partly visible ones).
fn on_screen(top: f64, height: f64) -> (usize, usize) {
    let first = ((top - PADDING) / LINE_HEIGHT).floor().max(0.0) as usize;
    (first, (height / LINE_HEIGHT).ceil() as usize + 2)
}

#[component]
pub fn Editor(
    text: ReadSignal<String>,
    set_text: WriteSignal<String>,
    goto: ReadSignal<Option<u32>>,
    analysis: Memo<Analysis>,
) -> impl IntoView {
    let textarea = NodeRef::<html::Textarea>::new();
    let gutter = NodeRef::<html::Div>::new();
    let file_input = NodeRef::<html::Input>::new();
    let (escaped, set_escaped) = signal(false);
    let (dragging, set_dragging) = signal(false);
    // The editor's scroll position and height, for the highlighter's window of lines.
    let (scroll, set_scroll) = signal((0.0f64, 0.0f64, 640.0f64));

    // Only the numbers of the lines on screen, placed where they belong (a gutter of every
    // number costs seconds of layout on a pasted cluster dump); the pre is as tall as the text
    // so the gutter scrolls with the textarea, and as wide as the largest number.
    let numbers = move || {
        let lines = text.with(|t| t.lines().count().max(1) + usize::from(t.ends_with('\n')));
        let (top, _, height) = scroll.get();
        let (first, count) = on_screen(top, height);
        let first = first.min(lines - 1);
        let last = (first + count).min(lines);
        let mut out = String::with_capacity((last - first) * 8);
        for n in first + 1..=last {
            out.push_str(&n.to_string());
            out.push('\n');
        }
        let style = format!(
            "padding-top: {}px; padding-bottom: {}px; min-width: {}ch",
            PADDING + first as f64 * LINE_HEIGHT,
            PADDING + (lines - last) as f64 * LINE_HEIGHT,
            lines.to_string().len()
        );
        view! { <pre style=style>{out}</pre> }
    };
    // One marker per line with findings, coloured by the worst severity on it.
    let markers = move || {
        analysis.with(|a| {
            let mut lines: Vec<(u32, Severity)> = Vec::new();
            for f in &a.report.findings {
                if let Some(line) = f.line() {
                    match lines.iter_mut().find(|(l, _)| *l == line) {
                        Some((_, s)) => *s = (*s).min(f.severity),
                        None => lines.push((line, f.severity)),
                    }
                }
            }
            lines
                .into_iter()
                .map(|(line, severity)| {
                    let top = format!("top: {}px", PADDING + (line - 1) as f64 * LINE_HEIGHT);
                    let class = format!("marker {}", severity.as_str());
                    view! { <span class=class style=top title=format!("{} on line {line}", severity.as_str())></span> }
                })
                .collect_view()
        })
    };

    let sync_scroll = move |_| {
        if let (Some(area), Some(gutter)) = (textarea.get(), gutter.get()) {
            gutter.set_scroll_top(area.scroll_top());
            set_scroll.set((
                area.scroll_top() as f64,
                area.scroll_left() as f64,
                area.client_height() as f64,
            ));
        }
    };
    // Only the lines on screen are coloured, placed where the textarea shows them.
    let highlighted = move || {
        let (top, left, height) = scroll.get();
        let (first, count) = on_screen(top, height);
        let style = format!(
            "transform: translate({}px, {}px)",
            -left,
            first as f64 * LINE_HEIGHT - top
        );
        let lines = text.with(|t| {
            t.lines()
                .skip(first)
                .take(count)
                .map(|line| {
                    highlight::tokens(line)
                        .into_iter()
                        .map(|(token, piece)| view! { <span class=token.class()>{piece.to_string()}</span> })
                        .collect_view()
                })
                .map(|line| view! { <span class="hl-line">{line}</span> })
                .collect_view()
        });
        view! { <pre class="highlight" aria-hidden="true" style=style>{lines}</pre> }
    };

    // Start with the real height of the textarea.
    Effect::new(move |_| {
        if let Some(area) = textarea.get() {
            set_scroll.set((0.0, 0.0, area.client_height() as f64));
        }
    });

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
        area.set_scroll_top(((line as f64 - 3.0).max(0.0) * LINE_HEIGHT) as i32);
    });

    // Tab indents by two spaces; Esc then Tab moves on, so the keyboard never gets stuck.
    let on_keydown = move |ev: web_sys::KeyboardEvent| {
        if ev.key() == "Escape" {
            set_escaped.set(true);
            return;
        }
        if ev.key() == "Tab" && !escaped.get_untracked() && !ev.shift_key() {
            ev.prevent_default();
            if let Some(area) = textarea.get() {
                let (start, end) = (
                    area.selection_start().ok().flatten(),
                    area.selection_end().ok().flatten(),
                );
                if let (Some(start), Some(end)) = (start, end) {
                    let _ = area.set_range_text_with_start_and_end("  ", start, end);
                    let _ = area.set_selection_range(start + 2, start + 2);
                    set_text.set(area.value());
                }
            }
        }
        set_escaped.set(false);
    };

    let load_files = move |files: web_sys::FileList| {
        let files: Vec<web_sys::File> = (0..files.length()).filter_map(|i| files.get(i)).collect();
        if files.is_empty() {
            return;
        }
        leptos::task::spawn_local(async move {
            let mut documents = Vec::new();
            for file in files {
                if let Ok(value) = wasm_bindgen_futures::JsFuture::from(file.text()).await
                    && let Some(content) = value.as_string()
                {
                    documents.push(format!(
                        "# {}\n{}",
                        file.name(),
                        content.trim_end_matches('\n')
                    ));
                }
            }
            set_text.set(documents.join("\n---\n") + "\n");
        });
    };

    view! {
        <section class="editor" aria-label="Manifests">
            <div class="editor-head">
                <label for="yaml-input" class="panel-title">"Manifests (YAML or JSON)"</label>
                <div class="editor-actions">
                    <button id="open-files" on:click=move |_| {
                        if let Some(input) = file_input.get() {
                            input.click();
                        }
                    }>"Open files…"</button>
                    <input
                        type="file"
                        id="file-input"
                        class="visually-hidden"
                        tabindex="-1"
                        aria-hidden="true"
                        multiple
                        accept=".yaml,.yml,.json,application/json,text/yaml"
                        node_ref=file_input
                        on:change=move |ev| {
                            let input: web_sys::HtmlInputElement = event_target(&ev);
                            if let Some(files) = input.files() {
                                load_files(files);
                            }
                            input.set_value("");
                        }
                    />
                    <button id="clear" on:click=move |_| set_text.set(String::new())>"Clear"</button>
                </div>
            </div>
            <p class="hint" id="editor-hint">"Drop files here or open them; several files become several documents. Tab indents; Esc then Tab leaves the editor."</p>
            <div
                class="editor-body"
                class:dragging=move || dragging.get()
                on:dragover=move |ev: web_sys::DragEvent| {
                    ev.prevent_default();
                    set_dragging.set(true);
                }
                on:dragleave=move |_| set_dragging.set(false)
                on:drop=move |ev: web_sys::DragEvent| {
                    ev.prevent_default();
                    set_dragging.set(false);
                    if let Some(files) = ev.data_transfer().and_then(|d| d.files()) {
                        load_files(files);
                    }
                }
            >
                <div class="gutter" node_ref=gutter aria-hidden="true">
                    {numbers}
                    {markers}
                </div>
                <div class="code-area">
                {highlighted}
                <textarea
                    id="yaml-input"
                    node_ref=textarea
                    spellcheck="false"
                    autocomplete="off"
                    wrap="off"
                    aria-describedby="editor-hint"
                    prop:value=move || text.get()
                    on:input=move |ev| {
                        browser::mark(browser::EDIT_MARK);
                        set_text.set(event_target_value(&ev))
                    }
                    on:scroll=sync_scroll
                    on:keydown=on_keydown
                ></textarea>
                </div>
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
