//! Leptos components of the playground. State lives in a few signals (text, settings); the
//! analysis is one `Memo` over the debounced text and the settings, and components only read it.

mod browser;
mod cap;
mod diagram;
mod diff_view;
mod editor;
mod examples;
mod findings;
mod groups;
mod highlight;
mod lessons;
pub mod protocol;
mod results;
mod settings;
mod share;
mod textwin;
mod worker;

use std::time::Duration;

use gloo_timers::callback::Timeout;
use leptos::prelude::*;

use diagram::View;
use editor::Editor;
use lessons::{LessonPanel, Place};
pub use protocol::Analysis;
use protocol::Settings;
use results::{Results, ResultsTab, Tab};
use settings::SettingsPanel;
use worker::AnalysisWorker;

/// How long typing must pause before the text is analysed again. Short: the worker takes one
/// request at a time and only the newest edit waits for it (`worker.rs`), so a burst of typing
/// on a large input never queues stale analyses.
const DEBOUNCE: Duration = Duration::from_millis(10);

const TEXT_KEY: &str = "ambient-netpol.text";
const SETTINGS_KEY: &str = "ambient-netpol.settings";
const THEME_KEY: &str = "ambient-netpol.theme";

/// Saves the editor's whole text where a reload finds it (the page's panic hook calls this). If
/// the panic came while the editor was changing it, the autosave (a moment behind) stays.
pub fn keep_text() {
    if let Some(text) = editor::text_now() {
        let _ = browser::save(TEXT_KEY, &text);
    }
}

/// Asks the editor to put its caret on a line (set by the findings panel).
#[derive(Clone, Copy)]
pub struct GoToLine(pub WriteSignal<Option<u32>>);

/// The editor's text, for the parts of the page that correct it in one click (INP006).
#[derive(Clone, Copy)]
pub struct EditorText {
    pub text: ReadSignal<String>,
    pub set: WriteSignal<String>,
}

/// Asks the page to show one finding (an index into `Analysis::report.findings`): the results
/// switch to the findings, open its group, scroll to it and focus it (set by the diagram).
#[derive(Clone, Copy)]
pub struct RevealFinding(pub WriteSignal<Option<usize>>);

/// What a link (the URL fragment) asks to open: an example (`#example=<id>`) or shared state
/// (`#share=<payload>`).
struct Linked {
    what: String,
    text: String,
    settings: Option<String>,
    /// For `#lesson=<id>&step=<n>`: the lesson and step to open.
    lesson: Option<Place>,
}

fn linked() -> Result<Option<Linked>, String> {
    let hash = browser::hash();
    if let Some(payload) = share::from_hash(&hash) {
        let (settings, text) = share::decode(payload).ok_or_else(|| {
            "This share link is damaged (it was probably cut short): nothing was loaded from it.".to_string()
        })?;
        return Ok(Some(Linked {
            what: "the shared manifests".into(),
            text,
            settings: Some(settings),
            lesson: None,
        }));
    }
    let param = |key: &str| {
        hash.split('&')
            .find_map(|part| part.strip_prefix(key))
            .map(str::to_string)
    };
    if let Some(id) = param("lesson=") {
        let all = lessons::all();
        let Some(index) = all.iter().position(|l| l.id == id) else {
            return Ok(None);
        };
        let lesson = &all[index];
        let step = param("step=")
            .and_then(|s| s.parse::<usize>().ok())
            .unwrap_or(1)
            .clamp(1, lesson.steps.len());
        let example = examples::EXAMPLES.iter().find(|e| e.id == lesson.example);
        return Ok(example.map(|e| Linked {
            what: format!("the lesson \"{}\"", lesson.title),
            text: e.text.to_string(),
            settings: None,
            lesson: Some(Place {
                lesson: index,
                step: step - 1,
            }),
        }));
    }
    let Some(id) = hash
        .split('&')
        .find_map(|part| part.strip_prefix("example="))
    else {
        return Ok(None);
    };
    Ok(examples::EXAMPLES
        .iter()
        .find(|e| e.id == id)
        .map(|e| Linked {
            what: format!("the example \"{}\"", e.title),
            text: e.text.to_string(),
            settings: None,
            lesson: None,
        }))
}

/// Whether to open a link: yes, unless that would silently replace work the visitor saved
/// (then they are asked).
fn accept_link(link: &Linked, saved: Option<&str>) -> bool {
    let is_own_work = saved.is_some_and(|s| {
        !s.trim().is_empty() && s != link.text && examples::EXAMPLES.iter().all(|e| e.text != s)
    });
    !is_own_work
        || browser::confirm(&format!(
            "This link opens {}. Replace the text you were working on?",
            link.what
        ))
}

/// `?embed` or `#embed`: the compact view for an iframe in a docs page.
fn is_embed() -> bool {
    browser::search().split(['?', '&']).any(|p| p == "embed")
        || browser::hash().split('&').any(|p| p == "embed")
}

#[component]
pub fn App() -> impl IntoView {
    let embed = is_embed();
    browser::register_offline_support();
    // An embedded view shows what its link says and leaves the visitor's saved work alone.
    let saved = if embed { None } else { browser::load(TEXT_KEY) };
    let mut initial_settings = if embed {
        Settings::default()
    } else {
        browser::load(SETTINGS_KEY).map_or_else(Settings::default, |s| Settings::decode(&s))
    };
    let (link_error, set_link_error) = signal(None::<String>);
    let lesson = RwSignal::new(None::<Place>);
    let view_mode = RwSignal::new(View::Enrolled);
    let initial = match linked() {
        Ok(Some(link)) if embed || accept_link(&link, saved.as_deref()) => {
            if let Some(s) = &link.settings {
                initial_settings = Settings::decode(s);
            }
            lesson.set(link.lesson);
            Some(link.text)
        }
        Err(err) => {
            set_link_error.set(Some(err));
            None
        }
        _ => None,
    }
    .or(saved)
    .unwrap_or_else(|| examples::first().text.to_string());
    let (text, set_text) = signal(initial);
    let settings = RwSignal::new(initial_settings);
    let (settled, set_settled) = signal(text.get_untracked());
    let (goto, set_goto) = signal(None::<u32>);
    provide_context(GoToLine(set_goto));
    provide_context(EditorText {
        text,
        set: set_text,
    });
    let (reveal, set_reveal) = signal(None::<usize>);
    provide_context(RevealFinding(set_reveal));
    provide_context(ResultsTab(RwSignal::new(Tab::Findings)));
    provide_context(lessons::LessonPath(RwSignal::new(None)));

    // Debounce: each edit replaces the pending timeout; dropping the old one cancels it.
    let pending = StoredValue::new_local(None::<Timeout>);
    Effect::new(move |_| {
        let current = text.get();
        let timeout = Timeout::new(DEBOUNCE.as_millis() as u32, move || {
            set_settled.set(current)
        });
        pending.set_value(Some(timeout));
    });
    // Autosave: the settled text and the settings survive a reload (not in an embedded view).
    let (unsaved, set_unsaved) = signal(false);
    if !embed {
        Effect::new(move |_| set_unsaved.set(!settled.with(|t| browser::save(TEXT_KEY, t))));
        Effect::new(move |_| {
            let _ = settings.with(|s| browser::save(SETTINGS_KEY, &s.encode()));
        });
    }

    // The analysis runs in a web worker; the page shows the newest answer.
    let (result, set_result) = signal(Analysis::default());
    let (worker_error, set_worker_error) = signal(None::<String>);
    let on_event = move |event| match event {
        worker::Event::Done(analysis) => {
            set_worker_error.set(None);
            set_result.set(*analysis);
            browser::measure_shown_after_paint();
        }
        worker::Event::Failed(reason) => {
            set_worker_error.set(Some(if result.with_untracked(|r| r.id == 0) {
                format!("{reason} Edit the text to analyse it again.")
            } else {
                format!("{reason} The findings shown are those of the last text analysed.")
            }))
        }
    };
    let worker = StoredValue::new_local(match AnalysisWorker::start(on_event) {
        Ok(worker) => Some(worker),
        Err(err) => {
            set_worker_error.set(Some(err));
            None
        }
    });
    // The lesson whose exercise is shown: the worker checks the text against its goal.
    let exercise = Memo::new(move |_| lesson.get().and_then(lessons::exercise_shown));
    let requested = RwSignal::new(0u32);
    Effect::new(move |_| {
        let text = settled.get();
        let settings = settings.with(Settings::encode);
        let exercise = exercise.get().map(str::to_string);
        worker.with_value(|w| {
            if let Some(w) = w {
                requested.set(w.analyse(text, settings, exercise));
            }
        });
    });
    let analysis = Memo::new(move |_| result.get());
    // The analysis shown is that of the text in the editor: no edit waits for its debounce, no
    // newer request for an answer, and the fix's check is done.
    let current = Signal::derive(move || {
        analysis.with(|a| a.id == requested.get() && !a.checking)
            && text.with(|t| settled.with(|s| t == s))
    });
    let stopped = Signal::derive(move || worker_error.with(Option::is_some));

    let load_example = move |id: String| {
        if let Some(example) = examples::EXAMPLES.iter().find(|e| e.id == id) {
            set_text.set(example.text.to_string());
            set_settled.set(example.text.to_string());
        }
    };
    // A link followed while the page is open.
    let _ = window_event_listener(leptos::ev::hashchange, move |_| match linked() {
        Ok(Some(link)) if accept_link(&link, Some(&text.get_untracked())) => {
            if let Some(s) = &link.settings {
                settings.set(Settings::decode(s));
            }
            lesson.set(link.lesson);
            set_text.set(link.text.clone());
            set_settled.set(link.text);
        }
        Err(err) => set_link_error.set(Some(err)),
        _ => {}
    });
    let open_lesson = move |id: String| {
        let all = lessons::all();
        if let Some(index) = all.iter().position(|l| l.id == id) {
            load_example(all[index].example.to_string());
            lesson.set(Some(Place {
                lesson: index,
                step: 0,
            }));
        }
    };
    let reset = move |_| {
        browser::remove(TEXT_KEY);
        browser::remove(SETTINGS_KEY);
        settings.set(Settings::default());
        load_example(examples::first().id.to_string());
    };

    let share_url = move || {
        let payload = share::encode(&settings.with(Settings::encode), &text.get());
        format!("{}#share={payload}", browser::page_url())
    };
    if embed {
        // Tell the embedding page how tall the content is, after each analysis.
        Effect::new(move |_| {
            analysis.track();
            browser::post_height_to_parent();
        });
        return view! {
            <div class="embed-bar">
                <span>"ambient-netpol"</span>
                <a href=share_url target="_blank" rel="noopener">"Open in the full playground"</a>
            </div>
            {move || link_error.get().map(|e| view! { <p class="banner" role="alert">{e}</p> })}
            <main class="workspace embed">
                <Editor text=text set_text=set_text goto=goto analysis=analysis />
                <Results analysis=analysis stopped=stopped view_mode=view_mode reveal=reveal />
            </main>
        }
        .into_any();
    }

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
                <label class="examples">
                    <span>"Lessons"</span>
                    <select id="lessons" on:change=move |ev| open_lesson(event_target_value(&ev))>
                        <option value="" selected>"Start a lesson…"</option>
                        {lessons::all().into_iter().map(|l| view! { <option value=l.id>{l.title}</option> }).collect_view()}
                    </select>
                </label>
                <button id="reset" on:click=reset title="Restore the first example and the default settings">"Reset"</button>
                <ShareButton url=Signal::derive(share_url) text=text />
                <ThemeToggle />
            </div>
        </header>
        {move || worker_error.get().map(|e| view! { <p class="banner" role="alert">{e}</p> })}
        {move || unsaved.get().then(|| view! {
            <p class="banner" role="alert">
                "This text is too large for the browser to keep (about 5 MB per site): \
                 a reload would bring back an older one. Copy it somewhere safe before you reload."
            </p>
        })}
        {move || link_error.get().map(|e| view! { <p class="banner" role="alert">{e}</p> })}
        // On a narrow screen, a lesson step's diagram comes right below its text (style/main.css).
        <main class="workspace" class:lesson-diagram=move || lesson.get().is_some() && exercise.get().is_none()>
            <div class="left">
                <LessonPanel place=lesson analysis=analysis current=current view_mode=view_mode />
                <SettingsPanel settings=settings />
                <Editor text=text set_text=set_text goto=goto analysis=analysis />
            </div>
            <Results analysis=analysis stopped=stopped view_mode=view_mode reveal=reveal />
        </main>
    }
    .into_any()
}

/// Copies a link that carries the whole state in its fragment (never sent to a server); past a
/// safe length it says so and offers the YAML as a download instead.
#[component]
fn ShareButton(url: Signal<String>, text: ReadSignal<String>) -> impl IntoView {
    let (message, set_message) = signal(None::<(String, bool)>);
    let share = move |_| {
        let link = url.get_untracked();
        if link.len() > share::SAFE_URL_LENGTH {
            set_message.set(Some((
                format!("Too long for a link ({} characters; links past {} get cut). Download the YAML and share the file instead.", link.len(), share::SAFE_URL_LENGTH),
                true,
            )));
        } else {
            let copied = browser::copy(&link);
            set_message.set(Some((
                if copied {
                    "Link copied: it holds the text and settings, nothing is uploaded.".to_string()
                } else {
                    link
                },
                false,
            )));
        }
    };
    view! {
        <button id="share" on:click=share>"Share link"</button>
        {move || message.get().map(|(m, too_long)| view! {
            <p class="share-message" role="status">
                {m}
                {too_long.then(|| view! {
                    <button id="share-download" on:click=move |_| browser::download("manifests.yaml", &text.get_untracked(), "application/yaml")>
                        "Download YAML"
                    </button>
                })}
            </p>
        })}
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
            Some(t) => {
                let _ = browser::save(THEME_KEY, &t);
            }
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
