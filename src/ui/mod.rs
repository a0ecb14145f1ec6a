//! Leptos components of the playground. State lives in a few signals (text, settings); the
//! analysis is one `Memo` over the debounced text and the settings, and components only read it.

mod browser;
mod diagram;
mod diff_view;
mod editor;
mod examples;
mod findings;
mod highlight;
pub mod protocol;
mod settings;
mod worker;

use std::time::Duration;

use gloo_timers::callback::Timeout;
use leptos::prelude::*;

use diagram::Diagram;
use diff_view::DiffView;
use editor::Editor;
use findings::FindingsPanel;
pub use protocol::Analysis;
use protocol::Settings;
use settings::SettingsPanel;
use worker::AnalysisWorker;

/// How long typing must pause before the text is analysed again.
const DEBOUNCE: Duration = Duration::from_millis(150);

const TEXT_KEY: &str = "ambient-netpol.text";
const SETTINGS_KEY: &str = "ambient-netpol.settings";
const THEME_KEY: &str = "ambient-netpol.theme";

/// Asks the editor to put its caret on a line (set by the findings panel).
#[derive(Clone, Copy)]
pub struct GoToLine(pub WriteSignal<Option<u32>>);

/// The example a deep link (`#example=<id>`) names, if any.
fn linked_example() -> Option<&'static examples::Example> {
    let hash = browser::hash();
    let id = hash
        .split('&')
        .find_map(|part| part.strip_prefix("example="))?;
    examples::EXAMPLES.iter().find(|e| e.id == id)
}

/// The text to show for a deep link: the example, unless that would silently replace work the
/// visitor saved (then they are asked).
fn text_for_link(example: &examples::Example, saved: Option<&str>) -> Option<String> {
    let is_own_work = saved
        .is_some_and(|s| !s.trim().is_empty() && examples::EXAMPLES.iter().all(|e| e.text != s));
    if is_own_work
        && !browser::confirm(&format!(
            "This link opens the example \"{}\". Replace the text you were working on?",
            example.title
        ))
    {
        return None;
    }
    Some(example.text.to_string())
}

#[component]
pub fn App() -> impl IntoView {
    let saved = browser::load(TEXT_KEY);
    let initial = linked_example()
        .and_then(|e| text_for_link(e, saved.as_deref()))
        .or(saved)
        .unwrap_or_else(|| examples::first().text.to_string());
    let (text, set_text) = signal(initial);
    let settings = RwSignal::new(
        browser::load(SETTINGS_KEY).map_or_else(Settings::default, |s| Settings::decode(&s)),
    );
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
    // Autosave: the settled text and the settings survive a reload.
    Effect::new(move |_| settled.with(|t| browser::save(TEXT_KEY, t)));
    Effect::new(move |_| settings.with(|s| browser::save(SETTINGS_KEY, &s.encode())));

    // The analysis runs in a web worker; the page shows the newest answer.
    let (result, set_result) = signal(Analysis::default());
    let (worker_error, set_worker_error) = signal(None::<String>);
    let worker = StoredValue::new_local(match AnalysisWorker::start(move |a| set_result.set(a)) {
        Ok(worker) => Some(worker),
        Err(err) => {
            set_worker_error.set(Some(err));
            None
        }
    });
    Effect::new(move |_| {
        let text = settled.get();
        let settings = settings.with(Settings::encode);
        worker.with_value(|w| {
            if let Some(w) = w {
                w.analyse(text, settings);
            }
        });
    });
    let analysis = Memo::new(move |_| result.get());

    let load_example = move |id: String| {
        if let Some(example) = examples::EXAMPLES.iter().find(|e| e.id == id) {
            set_text.set(example.text.to_string());
            set_settled.set(example.text.to_string());
        }
    };
    // A deep link followed while the page is open.
    let _ = window_event_listener(leptos::ev::hashchange, move |_| {
        if let Some(example) = linked_example()
            && let Some(text) = text_for_link(example, browser::load(TEXT_KEY).as_deref())
        {
            set_text.set(text.clone());
            set_settled.set(text);
        }
    });
    let reset = move |_| {
        browser::remove(TEXT_KEY);
        browser::remove(SETTINGS_KEY);
        settings.set(Settings::default());
        load_example(examples::first().id.to_string());
    };

    view! {
        <header class="app-header">
            <div class="title">
                <h1>"ambient-netpol"</h1>
                <p class="tagline">
                    "Paste NetworkPolicies and workloads: see what Istio ambient mode will break, and take the fix. "
                    "Everything runs in your browser; nothing is uploaded."
                </p>
            </div>
            <div class="header-actions">
                <label class="examples">
                    <span>"Examples"</span>
                    <select
                        id="examples"
                        on:change=move |ev| {
                            let id = event_target_value(&ev);
                            load_example(id);
                        }
                    >
                        <option value="" selected>"Load an example…"</option>
                        {examples::EXAMPLES.iter().map(|e| view! { <option value=e.id>{e.title}</option> }).collect_view()}
                    </select>
                </label>
                <button id="reset" on:click=reset title="Restore the first example and the default settings">"Reset"</button>
                <ThemeToggle />
            </div>
        </header>
        {move || worker_error.get().map(|e| view! { <p class="banner" role="alert">{e}</p> })}
        <main class="workspace">
            <div class="left">
                <SettingsPanel settings=settings />
                <Editor text=text set_text=set_text goto=goto analysis=analysis />
            </div>
            <FindingsPanel analysis=analysis />
            <Diagram analysis=analysis />
            <DiffView analysis=analysis />
        </main>
    }
}

/// Light, dark, or the system's choice; remembered across visits.
#[component]
fn ThemeToggle() -> impl IntoView {
    let (theme, set_theme) = signal(browser::load(THEME_KEY));
    Effect::new(move |_| {
        let current = theme.get();
        browser::set_theme(current.as_deref());
        match current {
            Some(t) => browser::save(THEME_KEY, &t),
            None => browser::remove(THEME_KEY),
        }
    });
    let next = move |_| {
        set_theme.update(|t| {
            *t = match t.as_deref() {
                None => Some("dark".into()),
                Some("dark") => Some("light".into()),
                _ => None,
            }
        })
    };
    let label = move || match theme.get().as_deref() {
        Some("dark") => "Theme: dark",
        Some("light") => "Theme: light",
        _ => "Theme: system",
    };
    view! { <button id="theme" on:click=next aria-label=move || format!("{}; change theme", label())>{label}</button> }
}
