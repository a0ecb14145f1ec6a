//! Leptos components of the playground. State lives in a few signals; the analysis is one
//! `Memo` over the (debounced) text, and components only read it.

mod editor;
mod examples;
mod findings;

use std::time::Duration;

use ambient_netpol::{Options, Report, Source, analyze};
use gloo_timers::callback::Timeout;
use leptos::prelude::*;

use editor::Editor;
use findings::FindingsPanel;

/// How long typing must pause before the text is analysed again.
const DEBOUNCE: Duration = Duration::from_millis(150);

/// The name findings give the editor's text.
pub const SOURCE_NAME: &str = "playground.yaml";

/// One analysis of the editor's text, with how long it took.
#[derive(Clone)]
pub struct Analysis {
    pub report: Report,
    pub millis: f64,
}

/// Asks the editor to put its caret on a line (set by the findings panel).
#[derive(Clone, Copy)]
pub struct GoToLine(pub WriteSignal<Option<u32>>);

#[component]
pub fn App() -> impl IntoView {
    let (text, set_text) = signal(examples::SEED_HBONE.to_string());
    let (settled, set_settled) = signal(text.get_untracked());
    let (goto, set_goto) = signal(None::<u32>);
    provide_context(GoToLine(set_goto));

    // Debounce: each edit replaces the pending timeout; dropping the old one cancels it.
    let pending = StoredValue::new_local(None::<Timeout>);
    Effect::new(move |_| {
        let current = text.get();
        let timeout = Timeout::new(DEBOUNCE.as_millis() as u32, move || {
            set_settled.set(current)
        });
        pending.set_value(Some(timeout));
    });

    let analysis = Memo::new(move |_| {
        let text = settled.get();
        let started = now();
        let report = analyze(
            &[Source {
                name: SOURCE_NAME,
                text: &text,
            }],
            &Options::default(),
        );
        Analysis {
            report,
            millis: now() - started,
        }
    });

    view! {
        <header class="app-header">
            <h1>"ambient-netpol"</h1>
            <p class="tagline">
                "Paste NetworkPolicies and workloads: see what Istio ambient mode will break. "
                "Everything runs in your browser; nothing is uploaded."
            </p>
        </header>
        <main class="workspace">
            <Editor text=text set_text=set_text goto=goto />
            <FindingsPanel analysis=analysis />
        </main>
    }
}

impl PartialEq for Analysis {
    fn eq(&self, other: &Self) -> bool {
        // A new analysis always counts as a change: its timing differs even when findings don't.
        self.millis == other.millis && self.report.findings == other.report.findings
    }
}

fn now() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}
