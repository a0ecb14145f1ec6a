//! Copying, truthfully. A copy button says "copied" only when the browser took the text; where
//! it refuses, or has no clipboard at all (plain-http hosting on a workshop LAN), the text is
//! shown selected, for Ctrl+C. A note of success fades after a few seconds; one that asks
//! something of the visitor stays until the next.

use std::time::Duration;

use gloo_timers::callback::Timeout;
use leptos::prelude::*;

use super::browser;

/// How long a note of success stays.
const FADE: Duration = Duration::from_secs(4);

/// The notes of one group of copy buttons (the header's, the corrected YAML's).
#[derive(Clone, Copy)]
pub struct Notes {
    /// The sentence shown, if any.
    said: RwSignal<Option<String>>,
    /// (what, the note once copied, text): text the browser would not copy, to copy by hand.
    by_hand: RwSignal<Option<(&'static str, &'static str, String)>>,
    fade: StoredValue<Option<Timeout>, LocalStorage>,
}

impl Notes {
    pub fn new() -> Notes {
        Notes {
            said: RwSignal::new(None),
            by_hand: RwSignal::new(None),
            fade: StoredValue::new_local(None),
        }
    }

    /// Shows a sentence; `fades`: it goes away by itself.
    pub fn say(self, sentence: String, fades: bool) {
        self.said.set(Some(sentence));
        // A newer note drops (and so cancels) the older one's timer.
        self.fade.set_value(
            fades.then(|| Timeout::new(FADE.as_millis() as u32, move || self.said.set(None))),
        );
    }

    /// Copies `text` and says what happened: `done` when it is on the clipboard, otherwise that
    /// `what` ("the link") is selected below for Ctrl+C.
    pub fn copy(self, text: String, done: &'static str, what: &'static str) {
        self.by_hand.set(None);
        leptos::task::spawn_local(async move {
            if browser::copy(&text).await {
                self.say(done.to_string(), true);
            } else {
                self.say(
                    format!(
                        "The browser did not let the page copy {what}: it is selected below; \
                         press Ctrl+C (⌘C on a Mac) to copy it."
                    ),
                    false,
                );
                self.by_hand.set(Some((what, done, text)));
            }
        });
    }
}

/// The notes: a status line (read out by screen readers) and, after a refusal, the text
/// selected in a box. `children`: more in the status line (a button that goes with a note).
#[component]
pub fn NotesView(
    notes: Notes,
    class: &'static str,
    #[prop(optional)] children: Option<ChildrenFn>,
) -> impl IntoView {
    let Notes { said, by_hand, .. } = notes;
    // The box and the note about it go together.
    let close = move || {
        if by_hand.get_untracked().is_some() {
            by_hand.set(None);
            said.set(None);
        }
    };
    view! {
        <div class=class>
            <p class="note-text" role="status">{move || said.get()}{children.map(|c| c())}</p>
            // The box stays while it has the focus (to copy again), and goes with its note when
            // the visitor moves on or presses Escape.
            {move || by_hand.get().map(|(what, done, text)| {
                let node = NodeRef::<leptos::html::Textarea>::new();
                node.on_load(|box_| {
                    let _ = box_.focus();
                    box_.select();
                });
                view! {
                    <textarea
                        class="copy-box"
                        readonly
                        node_ref=node
                        aria-label=format!("{what}, selected: press Ctrl+C to copy it, Escape to close")
                        on:copy=move |_| notes.say(done.to_string(), true)
                        on:blur=move |_| close()
                        on:keydown=move |ev| if ev.key() == "Escape" { close() }
                    >
                        {text}
                    </textarea>
                }
            })}
        </div>
    }
}
