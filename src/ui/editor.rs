//! The YAML editor: a textarea over a highlight layer, with a line-number gutter that marks the
//! lines of findings; open or drop files (several become several documents); clear; Tab indents
//! (Esc then Tab leaves the editor); undo and redo reach back past Clear and loaded examples.
//!
//! A long text is not put in the textarea whole: Chromium lays out a textarea's whole value
//! (about a second per megabyte, 70 ms per keystroke at 1.35 MB). Past `textwin::WHOLE_LINES`
//! lines the textarea holds a window of lines around the view, placed where those lines sit in
//! a scroller as tall as the whole text; it moves as the view or the caret nears its edge. The
//! whole text lives in the `text` signal. A selection of the whole window stands for the whole
//! text (select all, then copy, cut, type or paste); paste and undo go through the model, so a
//! 20 MB paste never enters the textarea.

use std::cell::RefCell;

use ambient_netpol::Severity;
use leptos::html;
use leptos::prelude::*;

use super::textwin::{self, Edit, History, Lines, Window};
use super::{Analysis, browser, highlight};

/// The line height in pixels (13 px font × 1.5, as in the stylesheet), and the space above the
/// first line.
const LINE_HEIGHT: f64 = 19.5;
const PADDING: f64 = 8.0;

/// Pixels kept between the gutter and a caret the browser scrolls into view: the textarea's left
/// padding (0.5rem), as much again, and the gutter's border.
const CLEARANCE: i32 = 17;

/// The first line in view (0-based) and the line after the last, for a scroller at `top` that is
/// `height` pixels high (two spare lines for partly visible ones).
fn on_screen(top: f64, height: f64) -> (usize, usize) {
    let first = ((top - PADDING) / LINE_HEIGHT).floor().max(0.0) as usize;
    (first, first + (height / LINE_HEIGHT).ceil() as usize + 2)
}

/// A selection in bytes of the whole text; `backward` when the caret is at its start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Selection {
    start: usize,
    end: usize,
    backward: bool,
}

impl Selection {
    fn forward(start: usize, end: usize) -> Self {
        Selection {
            start,
            end,
            backward: false,
        }
    }
    fn caret(at: usize) -> Self {
        Selection::forward(at, at)
    }
    fn caret_byte(&self) -> usize {
        if self.backward { self.start } else { self.end }
    }
    /// The caret moved to `target`; with `extend` (Shift) the selection grows from its anchor.
    fn moved_to(self, target: usize, extend: bool) -> Self {
        let anchor = if self.backward { self.end } else { self.start };
        if !extend {
            return Selection::caret(target);
        }
        Selection {
            start: anchor.min(target),
            end: anchor.max(target),
            backward: target < anchor,
        }
    }
}

/// The editor's state beside the text and the window: the undo history, a selection kept while
/// the view is scrolled away from it, and whether an input replaces the whole text.
#[derive(Default)]
struct Model {
    history: History,
    parked: Option<Selection>,
    replace_all: bool,
    selecting: bool,
    /// The scroller's left scroll padding in pixels, as last set (see `clear_gutter`).
    scroll_padding: i32,
}

thread_local! {
    /// The text as the editor last saw it: tells the editor's own edits from outside ones (an
    /// example, Clear, a file, a link), and is what the panic hook saves.
    static KNOWN: RefCell<String> = const { RefCell::new(String::new()) };
}

/// The whole text as the editor holds it, for the panic hook (`None` if it is being changed).
pub fn text_now() -> Option<String> {
    KNOWN.with(|k| k.try_borrow().ok().map(|t| t.clone()))
}

/// Line breaks as a textarea keeps them (it turns `\r\n` and `\r` into `\n`).
fn normalized(text: &str) -> Option<String> {
    text.contains('\r')
        .then(|| text.replace("\r\n", "\n").replace('\r', "\n"))
}

fn now() -> f64 {
    js_sys::Date::now()
}

#[component]
pub fn Editor(
    text: ReadSignal<String>,
    set_text: WriteSignal<String>,
    goto: ReadSignal<Option<u32>>,
    analysis: ReadSignal<Analysis>,
) -> impl IntoView {
    let scroller = NodeRef::<html::Div>::new();
    let textarea = NodeRef::<html::Textarea>::new();
    let code = NodeRef::<html::Div>::new();
    let file_input = NodeRef::<html::Input>::new();
    let (escaped, set_escaped) = signal(false);
    let (dragging, set_dragging) = signal(false);
    // The scroller's position and height, for the lines drawn.
    let (view, set_view) = signal((0.0f64, 640.0f64));
    let lines = Memo::new(move |_| text.with(|t| Lines::new(t)));
    // The lines the textarea holds.
    let (window, set_window) = signal(Window::default());
    let model = StoredValue::new_local(Model::default());
    KNOWN.with_borrow_mut(|k| k.clone_from(&text.get_untracked()));

    let text_height =
        move || lines.with_untracked(Lines::count) as f64 * LINE_HEIGHT + 2.0 * PADDING;
    let code_style = move |height: f64| {
        let widest = lines.with_untracked(Lines::widest);
        format!("height: {height}px; min-width: calc({widest}ch + 2rem)")
    };
    let view_lines = move || {
        let (top, height) = view.get_untracked();
        on_screen(top, height)
    };

    // The selection in bytes of the whole text.
    let selection = move || -> Option<Selection> {
        let area = textarea.get_untracked()?;
        let w = window.get_untracked();
        let (start, end) = (area.selection_start().ok()??, area.selection_end().ok()??);
        let backward = area.selection_direction().ok()?.as_deref() == Some("backward");
        text.with_untracked(|t| {
            // (The window always fits the text; `get` keeps a slip from panicking the page.)
            let value = t.get(w.start..w.stop)?;
            Some(Selection {
                start: w.start + textwin::byte_at(value, start as usize),
                end: w.start + textwin::byte_at(value, end as usize),
                backward,
            })
        })
    };
    // Whether the whole window is selected while it is part of the text: select all, which
    // stands for the whole text (copy, cut, typing and paste act on all of it).
    let all_selected = move || {
        let w = window.get_untracked();
        !lines.with_untracked(|l| w.is_whole(l))
            && selection().is_some_and(|s| s.start == w.start && s.end == w.stop)
    };
    // What an edit replaces: the selection, or the whole text.
    let target = move || {
        if all_selected() {
            Some(Selection::forward(0, text.with_untracked(String::len)))
        } else {
            selection()
        }
    };

    // Puts window `w` in the textarea with `sel` (clamped to the window), keeping the scroll.
    let show = move |w: Window, sel: Selection| {
        let (Some(area), Some(scroll)) = (textarea.get_untracked(), scroller.get_untracked())
        else {
            return;
        };
        let top = scroll.scroll_top();
        text.with_untracked(|t| {
            let value = &t[w.start..w.stop];
            let at = |b: usize| textwin::utf16_at(value, b.clamp(w.start, w.stop) - w.start) as u32;
            // Setting the value costs layout of all of it; the window is short.
            if area.value() != value {
                area.set_value(value);
            }
            let direction = if sel.backward { "backward" } else { "forward" };
            let _ = area.set_selection_range_with_direction(at(sel.start), at(sel.end), direction);
        });
        scroll.set_scroll_top(top);
        set_window.set(w);
    };

    // Scrolls so that a line is in view (a few lines of context above it). The code box gets
    // its height first: the text may have just grown, and the scroller stops at its old end.
    let reveal = move |line: usize| {
        let (first, last) = view_lines();
        if (line < first || line + 3 > last)
            && let (Some(scroll), Some(code)) = (scroller.get_untracked(), code.get_untracked())
        {
            let _ = code.set_attribute("style", &code_style(text_height()));
            let top = (line as f64 - 3.0).max(0.0) * LINE_HEIGHT;
            scroll.set_scroll_top(top as i32);
            set_view.set((top, view.get_untracked().1));
        }
    };

    // A window around the view and `sel` (moved to hold the caret's line when `follow`).
    let place = move |sel: Selection, follow: bool| {
        if follow {
            reveal(lines.with_untracked(|l| l.line_of(sel.caret_byte())));
        }
        let w = lines.with_untracked(|l| {
            let (a, b) = (l.line_of(sel.start), l.line_of(sel.end));
            Window::around(l, view_lines(), &[a, b])
        });
        model.update_value(|m| m.parked = None);
        show(w, sel);
    };

    // Puts an edit into the text (and the editor's copy) and the undo history.
    let commit = move |edit: Edit| {
        let mut fits = false;
        set_text.update(|t| fits = edit.apply(t));
        if fits {
            KNOWN.with_borrow_mut(|k| edit.apply(k));
            model.update_value(|m| m.history.record(edit, now()));
        }
        fits
    };
    // Moves the window when the caret nears its edge, so that keys can move it on.
    let keep_room = move || {
        if let Some(sel) = selection() {
            let line = lines.with_untracked(|l| l.line_of(sel.caret_byte()));
            let w = window.get_untracked();
            if !lines.with_untracked(|l| w.holds(l, line, line + 1)) {
                place(sel, false);
            }
        }
    };

    // Applies an edit made outside the textarea (paste, cut, Tab) and selects `after`.
    let apply = move |edit: Edit, after: Selection| {
        if commit(edit) {
            browser::mark(browser::EDIT_MARK);
            place(after, true);
        }
    };

    let replace_selection = move |inserted: String| {
        let Some(sel) = target() else { return };
        let Some(removed) = text.with_untracked(|t| t.get(sel.start..sel.end).map(str::to_string))
        else {
            return;
        };
        let after = Selection::caret(sel.start + inserted.len());
        let edit = Edit {
            at: sel.start,
            removed,
            inserted,
        };
        apply(edit, after);
    };

    let history = move |redo: bool| {
        let mut range = None;
        set_text.update(|t| {
            model.update_value(|m| {
                range = if redo {
                    m.history.redo(t)
                } else {
                    m.history.undo(t)
                }
            })
        });
        if let Some((start, end)) = range {
            KNOWN.with_borrow_mut(|k| k.clone_from(&text.get_untracked()));
            browser::mark(browser::EDIT_MARK);
            // What came back is selected, unless it is long: then the caret goes to its start
            // (a selection must sit in the textarea whole).
            let long =
                lines.with_untracked(|l| l.line_of(end) - l.line_of(start) > textwin::WHOLE_LINES);
            let end = if long { start } else { end };
            place(Selection::forward(start, end), true);
        }
    };

    // A text typed, deleted or dropped in the textarea: the window's new value goes into the
    // whole text.
    let on_input = move |_| {
        let Some(area) = textarea.get_untracked() else {
            return;
        };
        browser::mark(browser::EDIT_MARK);
        let value = area.value();
        let w = window.get_untracked();
        let all = model.with_value(|m| m.replace_all);
        model.update_value(|m| m.replace_all = false);
        let (start, stop) = if all {
            (0, text.with_untracked(String::len))
        } else {
            (w.start, w.stop)
        };
        let Some(mut edit) = text.with_untracked(|t| Edit::between(t.get(start..stop)?, &value))
        else {
            return;
        };
        edit.at += start;
        let stop = stop + edit.inserted.len() - edit.removed.len();
        commit(edit);
        // The textarea holds the new window already; move it if the caret nears its edge.
        let first = if all { 0 } else { w.first };
        set_window.set(lines.with_untracked(|l| Window::of(l, first, l.line_of(stop) + 1)));
        keep_room();
    };

    // Outside edits (an example, Clear, a file, a link): undoable, shown from the top. Their
    // line breaks become the textarea's first (the text comes back through here once more).
    Effect::new(move |_| {
        if let Some(fixed) = text.with(|t| normalized(t)) {
            set_text.set(fixed);
            return;
        }
        let Some(edit) = text.with(|t| KNOWN.with_borrow(|k| Edit::between(k, t))) else {
            return;
        };
        KNOWN.with_borrow_mut(|k| k.clone_from(&text.get_untracked()));
        model.update_value(|m| m.history.record(edit, f64::NEG_INFINITY));
        if let Some(scroll) = scroller.get_untracked() {
            scroll.set_scroll_top(0);
            set_view.update(|v| v.0 = 0.0);
        }
        place(Selection::caret(0), false);
    });

    // Start with the real height and the first window.
    Effect::new(move |_| {
        if let Some(scroll) = scroller.get() {
            set_view.set((0.0, scroll.client_height() as f64));
            place(Selection::caret(0), false);
        }
    });

    // The window follows the view, except while the mouse is selecting. A selection left out of
    // it is kept, and comes back with the next key.
    let on_scroll = move |_| {
        let Some(scroll) = scroller.get_untracked() else {
            return;
        };
        set_view.set((scroll.scroll_top() as f64, scroll.client_height() as f64));
        let (first, last) = view_lines();
        let w = window.get_untracked();
        if model.with_value(|m| m.selecting) || lines.with_untracked(|l| w.holds(l, first, last)) {
            return;
        }
        let Some(sel) = model.with_value(|m| m.parked).or_else(selection) else {
            return;
        };
        let new = lines.with_untracked(|l| Window::around(l, (first, last), &[]));
        let parked = sel.start < new.start || sel.end > new.stop;
        show(new, sel);
        model.update_value(|m| m.parked = parked.then_some(sel));
    };

    // The gutter stays on the left of the scroller over the lines (sticky), and the browser,
    // bringing the caret into view, counts the space under it as visible: Home on a line
    // scrolled right left the caret and the lines' first characters under the gutter. Before a
    // key or a click moves the caret, the scroller's left scroll padding becomes the gutter's
    // width (it grows with the line count) and some: a caret at the start of a line scrolls the
    // view back to the very left, and any other stays clear of the gutter. (Set here, not bound
    // in the view: a reactive style costs the page's wasm a copy of the editor's render code.)
    let clear_gutter = move || {
        let Some(scroll) = scroller.get_untracked() else {
            return;
        };
        let Some(width) = scroll
            .query_selector(".gutter")
            .ok()
            .flatten()
            .map(|g| g.client_width())
        else {
            return;
        };
        let padding = width + CLEARANCE;
        if model.with_value(|m| m.scroll_padding) != padding {
            model.update_value(|m| m.scroll_padding = padding);
            let _ = scroll.set_attribute("style", &format!("scroll-padding-left: {padding}px"));
        }
    };

    // Move the caret to the requested line and scroll it into view.
    Effect::new(move |_| {
        let Some(line) = goto.get() else { return };
        let Some(area) = textarea.get() else { return };
        let (start, end) = lines.with_untracked(|l| l.range(line.saturating_sub(1) as usize));
        let options = web_sys::FocusOptions::new();
        options.set_prevent_scroll(true);
        let _ = area.focus_with_options(&options);
        clear_gutter();
        place(Selection::forward(start, end), true);
    });

    let on_keydown = move |ev: web_sys::KeyboardEvent| {
        // Keys that compose a character (an IME) are the input method's.
        if ev.is_composing() {
            return;
        }
        clear_gutter();
        let key = ev.key();
        let command = ev.ctrl_key() || ev.meta_key();
        if matches!(key.as_str(), "Control" | "Shift" | "Alt" | "Meta") {
            return;
        }
        // A selection the view scrolled away from comes back before the key acts on it.
        if let Some(sel) = model.with_value(|m| m.parked) {
            place(sel, true);
        }
        if key == "Escape" {
            set_escaped.set(true);
            return;
        }
        let escaped_before = escaped.get_untracked();
        set_escaped.set(false);
        match key.as_str() {
            "Tab" if !escaped_before && !ev.shift_key() && !command => {
                ev.prevent_default();
                replace_selection("  ".to_string());
            }
            "z" | "Z" if command => {
                ev.prevent_default();
                history(ev.shift_key());
            }
            "y" if command => {
                ev.prevent_default();
                history(true);
            }
            "Home" | "End" if command => {
                let whole = lines.with_untracked(|l| window.get_untracked().is_whole(l));
                if whole {
                    return;
                }
                ev.prevent_default();
                let Some(sel) = selection() else { return };
                let target = if key == "Home" {
                    0
                } else {
                    text.with_untracked(String::len)
                };
                place(sel.moved_to(target, ev.shift_key()), true);
            }
            // The textarea does not scroll itself (the scroller does), so the browser's own
            // Page Up/Down would not move the caret: a page of lines, same column, and the view
            // moves with it.
            "PageUp" | "PageDown" if !command => {
                ev.prevent_default();
                let Some(sel) = selection() else { return };
                let (top, height) = view.get_untracked();
                let page = ((height / LINE_HEIGHT) as usize).saturating_sub(1).max(1);
                let down = key == "PageDown";
                let target = text.with_untracked(|t| {
                    lines.with_untracked(|l| {
                        let caret = sel.caret_byte();
                        let line = l.line_of(caret);
                        let column = t[l.range(line).0..caret].chars().count();
                        let to = if down {
                            (line + page).min(l.count() - 1)
                        } else {
                            line.saturating_sub(page)
                        };
                        let (start, end) = l.range(to);
                        start
                            + t[start..end]
                                .char_indices()
                                .nth(column)
                                .map_or(end - start, |(i, _)| i)
                    })
                });
                let sel = sel.moved_to(target, ev.shift_key());
                if let Some(scroll) = scroller.get_untracked() {
                    let shift = page as f64 * LINE_HEIGHT;
                    let top = if down {
                        top + shift
                    } else {
                        (top - shift).max(0.0)
                    };
                    scroll.set_scroll_top(top as i32);
                    set_view.set((scroll.scroll_top() as f64, height));
                }
                place(sel, true);
            }
            // (A select-all stays as it is: the key may act on the whole text.)
            _ if !all_selected() => keep_room(),
            _ => {}
        }
    };

    let on_beforeinput = move |ev: web_sys::InputEvent| {
        match ev.input_type().as_str() {
            // The browser's Undo and Redo menu items.
            "historyUndo" | "historyRedo" => {
                ev.prevent_default();
                history(ev.input_type() == "historyRedo");
            }
            _ => {
                let all = all_selected();
                model.update_value(|m| m.replace_all = all);
            }
        }
    };

    // Paste goes into the text directly (a long one never enters the textarea).
    let on_paste = move |ev: web_sys::ClipboardEvent| {
        let Some(data) = ev
            .clipboard_data()
            .and_then(|d| d.get_data("text/plain").ok())
        else {
            return;
        };
        ev.prevent_default();
        replace_selection(normalized(&data).unwrap_or(data));
    };
    // Copy and cut of a whole window carry the whole text.
    let on_copy = move |ev: web_sys::ClipboardEvent, cut: bool| {
        if !all_selected() {
            return;
        }
        let Some(data) = ev.clipboard_data() else {
            return;
        };
        ev.prevent_default();
        let _ = text.with_untracked(|t| data.set_data("text/plain", t));
        if cut {
            replace_selection(String::new());
        }
    };

    let _ = window_event_listener(leptos::ev::mouseup, move |_| {
        model.update_value(|m| m.selecting = false);
    });

    // Only the numbers of the lines on screen, placed where they belong (the gutter is as wide
    // as the largest number).
    let numbers = move || {
        let count = lines.with(Lines::count);
        let (top, height) = view.get();
        let (first, last) = on_screen(top, height);
        let first = first.min(count - 1);
        let last = last.min(count);
        let mut out = String::with_capacity((last - first) * 8);
        for n in first + 1..=last {
            out.push_str(&n.to_string());
            out.push('\n');
        }
        let style = format!("top: {}px", PADDING + first as f64 * LINE_HEIGHT);
        view! { <pre style=style>{out}</pre> }
    };
    // The lines with findings, each with the worst severity on it, in line order: computed once
    // per set of findings (a whole cluster has thousands).
    let marked = Memo::new(move |_| {
        analysis.with(|a| {
            let mut marked: Vec<(u32, Severity)> = a
                .report
                .findings
                .iter()
                .filter_map(|f| Some((f.line()?, f.severity)))
                .collect();
            ambient_netpol::sort::sort(&mut marked);
            // The most severe sorts first on each line (`Severity` orders errors first).
            marked.dedup_by_key(|(line, _)| *line);
            marked
        })
    });
    // One marker per line with findings on screen, coloured by the worst severity on it.
    let markers = move || {
        let (top, height) = view.get();
        let (first, last) = on_screen(top, height);
        marked.with(|marked| {
            let start = marked.partition_point(|(line, _)| (*line as usize) <= first);
            marked[start..]
                .iter()
                .take_while(|(line, _)| (*line as usize) <= last)
                .map(|&(line, severity)| {
                    let top = format!("top: {}px", PADDING + (line - 1) as f64 * LINE_HEIGHT);
                    let class = format!("marker {}", severity.as_str());
                    view! { <span class=class style=top title=format!("{} on line {line}", severity.as_str())></span> }
                })
                .collect_view()
        })
    };
    // Only the lines on screen are coloured, placed where the textarea shows them.
    let highlighted = move || {
        let (top, height) = view.get();
        let (first, last) = on_screen(top, height);
        let style = format!("top: {}px", PADDING + first as f64 * LINE_HEIGHT);
        let drawn = text.with(|t| {
            lines.with(|l| {
                (first..last.min(l.count()))
                    .map(|i| {
                        let (a, b) = l.range(i);
                        let pieces = highlight::tokens(&t[a..b])
                            .into_iter()
                            .map(|(token, piece)| view! { <span class=token.class()>{piece.to_string()}</span> })
                            .collect_view();
                        view! { <span class="hl-line">{pieces}</span> }
                    })
                    .collect_view()
            })
        });
        view! { <pre class="highlight" aria-hidden="true" style=style>{drawn}</pre> }
    };
    let gutter_style = move || {
        let digits = lines.with(Lines::count).to_string().len();
        format!("width: calc({digits}ch + 1.5rem)")
    };
    // The lines' box: as tall as the whole text, as wide as its widest line.
    let height = move || {
        lines.track();
        text_height().max(view.get().1)
    };
    // The textarea sits where its window's lines are; the last window reaches the bottom.
    let area_style = move || {
        let w = window.get();
        let count = lines.with(Lines::count);
        let (top, pad) = if w.first == 0 {
            (0.0, PADDING)
        } else {
            (PADDING + w.first as f64 * LINE_HEIGHT, 0.0)
        };
        let tall = if w.end >= count {
            height() - top
        } else {
            pad + (w.end - w.first) as f64 * LINE_HEIGHT
        };
        format!("top: {top}px; height: {tall}px; padding-top: {pad}px")
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
            <p class="hint" id="editor-hint">"Drop files here or open them; several files become several documents. Tab indents; Esc then Tab leaves the editor. Ctrl+Z undoes, Clear and loading an example too."</p>
            <div
                class="editor-body"
                class:dragging=move || dragging.get()
                node_ref=scroller
                on:scroll=on_scroll
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
                <div class="editor-lines">
                    <div class="gutter" aria-hidden="true" style=gutter_style>
                        {numbers}
                        {markers}
                    </div>
                    <div class="code-area" node_ref=code style=move || code_style(height())>
                        {highlighted}
                        <textarea
                            id="yaml-input"
                            node_ref=textarea
                            spellcheck="false"
                            autocomplete="off"
                            wrap="off"
                            aria-describedby="editor-hint"
                            style=area_style
                            on:input=on_input
                            on:beforeinput=on_beforeinput
                            on:keydown=on_keydown
                            on:paste=on_paste
                            on:copy=move |ev| on_copy(ev, false)
                            on:cut=move |ev| on_copy(ev, true)
                            on:mousedown=move |_| {
                                clear_gutter();
                                model.update_value(|m| {
                                    m.parked = None;
                                    m.selecting = true;
                                });
                            }
                        ></textarea>
                    </div>
                </div>
            </div>
        </section>
    }
}
