//! Leptos components of the playground. State lives in a few signals (text, settings); the
//! analysis is one `Memo` over the debounced text and the settings, and components only read it.

mod address;
mod browser;
mod cap;
mod copy;
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

use address::{Address, EmbedOptions, Opened};
use copy::{Notes, NotesView};
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
/// An edit that changes the text's length by more than this many bytes is not debounced.
const AT_ONCE: usize = 4096;

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

/// Whether to open a link: yes, unless that would silently replace work the visitor saved
/// (then they are asked).
fn accept_link(link: &address::Link, current: Option<&str>) -> bool {
    let Some(text) = &link.text else {
        return true;
    };
    let is_own_work = current
        .is_some_and(|s| !s.trim().is_empty() && s != text && address::example_of(s).is_none());
    !is_own_work
        || browser::confirm(&format!(
            "This link opens {}. Replace the text you were working on?",
            address::what(&link.address)
        ))
}

#[component]
pub fn App() -> impl IntoView {
    let options = EmbedOptions::read(&browser::search(), &browser::hash());
    let embed = options.embed;
    browser::register_offline_support();
    if embed {
        browser::mark_embedded();
        browser::set_theme(options.theme);
    }
    // An embedded view shows what its link says and leaves the visitor's saved work alone.
    let saved = if embed { None } else { browser::load(TEXT_KEY) };
    let mut initial_settings = if embed {
        Settings::default()
    } else {
        browser::load(SETTINGS_KEY).map_or_else(Settings::default, |s| Settings::decode(&s))
    };
    let (link_error, set_link_error) = signal(None::<String>);
    let lesson = RwSignal::new(None::<Place>);
    let opened = RwSignal::new(Opened::Own);
    let view_mode = RwSignal::new(View::Enrolled);
    // A reload of an address the page wrote itself keeps the saved text (edits included), unless
    // that is another example's (saved by another tab); a link followed brings its own text,
    // asking first if that would replace the visitor's work.
    let initial = match address::parse(&browser::hash()) {
        Ok(link) if link.text.is_some() => {
            let reload = browser::entry_is_ours()
                && saved.as_deref().is_some_and(|s| {
                    Some(s) == link.text.as_deref() || address::example_of(s).is_none()
                });
            if reload || embed || accept_link(&link, saved.as_deref()) {
                lesson.set(link.address.lesson);
                opened.set(link.address.opened);
                if let Some(s) = link.settings.as_deref().filter(|_| !reload) {
                    initial_settings = Settings::decode(s);
                }
                if reload { saved } else { link.text }
            } else {
                saved
            }
        }
        Ok(_) => saved,
        Err(err) => {
            set_link_error.set(Some(err));
            saved
        }
    }
    .unwrap_or_else(|| examples::first().text.to_string());
    if opened.get_untracked() == Opened::Own
        && let Some(id) = address::example_of(&initial)
    {
        opened.set(Opened::Example(id));
    }
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
    let tab = RwSignal::new(options.view.unwrap_or(Tab::Findings));
    provide_context(ResultsTab(tab));
    provide_context(lessons::LessonPath(RwSignal::new(None)));

    // Debounce: each edit replaces the pending timeout; dropping the old one cancels it.
    let pending = StoredValue::new_local(None::<Timeout>);
    Effect::new(move |_| {
        let current = text.get();
        // An edit that changes much of the text at once (a paste, an example loaded) is no burst
        // of typing: analysed at once.
        if settled.with_untracked(|s| s.len().abs_diff(current.len()) > AT_ONCE) {
            pending.set_value(None);
            set_settled.set(current);
            return;
        }
        let timeout = Timeout::new(DEBOUNCE.as_millis() as u32, move || {
            set_settled.set(current)
        });
        pending.set_value(Some(timeout));
    });
    // Autosave: the settled text and the settings survive a reload (not in an embedded view).
    let (unsaved, set_unsaved) = signal(false);
    if !embed {
        Effect::new(move |_| {
            settled.track();
            // Once the analysis is asked for: storing a whole cluster takes the browser a while.
            Timeout::new(0, move || {
                set_unsaved.set(!settled.with_untracked(|t| browser::save(TEXT_KEY, t)))
            })
            .forget();
        });
        Effect::new(move |_| {
            let _ = settings.with(|s| browser::save(SETTINGS_KEY, &s.encode()));
        });
    }

    // The analysis runs in a web worker; the page shows the newest answer.
    let (result, set_result) = signal(Analysis::default());
    let (worker_error, set_worker_error) = signal(None::<String>);
    let on_event = move |event| match event {
        worker::Event::Done(answer) => {
            set_worker_error.set(None);
            let protocol::Answer {
                findings,
                mut analysis,
            } = *answer;
            set_result.update(|shown| {
                match findings {
                    Some(findings) => {
                        analysis.report.findings = findings;
                        analysis.findings_given = shown.findings_given.wrapping_add(1);
                    }
                    // The complete analysis of the request whose findings are shown: the same.
                    None => {
                        analysis.report.findings = std::mem::take(&mut shown.report.findings);
                        analysis.findings_given = shown.findings_given;
                    }
                }
                *shown = analysis;
            });
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
    // Read in place, never cloned (a whole cluster's report and fixed text).
    let analysis = result;
    // The analysis shown is that of the text in the editor: no edit waits for its debounce, no
    // newer request for an answer, and the fix's check is done.
    let current = Signal::derive(move || {
        analysis.with(|a| a.id == requested.get() && !a.checking)
            && text.with(|t| settled.with(|s| t == s))
    });
    let stopped = Signal::derive(move || worker_error.with(Option::is_some));

    // The address follows what is open: each change the visitor makes is a new history entry
    // (Back undoes it); a change the address made itself (a link, Back) and every change in an
    // embed (whose entries would be the docs page's) rewrite the entry in place.
    let following = StoredValue::new(true);
    let seen = StoredValue::new(String::new());
    let shown = move || Address {
        opened: opened.get(),
        lesson: lesson.get(),
    };
    Effect::new(move |_| {
        let want = shown();
        let push = !embed && !following.get_value();
        following.set_value(false);
        let now = browser::hash();
        if !address::parse(&now).is_ok_and(|l| l.address == want) {
            browser::write_fragment(
                &address::with_options(&address::fragment(&want), &now),
                push,
            );
        }
        seen.set_value(browser::entry_key());
    });
    let set_shown = move |address: Address, new_text: Option<String>| {
        following.set_value(true);
        lesson.set(address.lesson);
        opened.set(address.opened);
        if let Some(t) = new_text {
            set_text.set(t.clone());
            set_settled.set(t);
        }
    };
    // The texts of the entries left (by Back, Forward, or to open something), newest first, for
    // Back and Forward to bring back.
    let left = StoredValue::new(Vec::<(String, String)>::new());
    let keep_left = move |entry: String| {
        left.update_value(|m| {
            m.retain(|(k, _)| *k != entry);
            m.truncate(50);
            if text.with_untracked(String::len) <= browser::MAX_REMEMBERED {
                m.insert(0, (entry, text.get_untracked()));
            }
        });
    };
    // A link followed, or Back and Forward (browsers send popstate, hashchange or both, the
    // first one while a script that changed the address still runs: so a moment later).
    let follow = move || {
        let entry = browser::entry_key();
        let leaving = seen.get_value();
        if leaving == entry {
            return;
        }
        seen.set_value(entry.clone());
        keep_left(leaving);
        let link = match address::parse(&browser::hash()) {
            Ok(link) => link,
            Err(err) => return set_link_error.set(Some(err)),
        };
        set_link_error.set(None);
        let same_text = link.address.opened == opened.get_untracked();
        let same_lesson = link.address.lesson.is_some()
            && link.address.lesson.map(|p| p.lesson)
                == lesson.with_untracked(|l| l.map(|p| p.lesson));
        // The text the entry had when it was left (by Back, Forward, or to open something); not
        // for a link typed or clicked, whose entries have no id to tell them apart.
        let kept = left
            .with_value(|m| m.iter().find(|(k, _)| *k == entry).map(|(_, t)| t.clone()))
            .filter(|_| !entry.ends_with('|'))
            .or_else(browser::remembered_text);
        if same_text && same_lesson {
            // Another step of the same lesson: the steps share the text, edits included.
            set_shown(link.address, None);
        } else if let Some(kept) = kept {
            set_shown(link.address, Some(kept));
        } else if same_text || link.text.is_none() {
            set_shown(link.address, None);
        } else if accept_link(&link, Some(&text.get_untracked())) {
            if let Some(s) = &link.settings {
                settings.set(Settings::decode(s));
            }
            set_shown(link.address, link.text);
        }
    };
    let later = move || {
        Timeout::new(0, follow).forget();
    };
    let _ = window_event_listener(leptos::ev::hashchange, move |_| later());
    let _ = window_event_listener(leptos::ev::popstate, move |_| later());
    // Opens something in a new history entry (even at the same address: Back then brings back
    // the edits); the entry left keeps its text for Back.
    let open = move |address: Address, new_text: String| {
        // (In the entry too, for Back after a reload.)
        text.with_untracked(|t| browser::remember_text(t));
        keep_left(browser::entry_key());
        browser::write_fragment(
            &address::with_options(&address::fragment(&address), &browser::hash()),
            true,
        );
        seen.set_value(browser::entry_key());
        set_shown(address, Some(new_text));
    };
    // (A lesson stays open: its exercise says the text is no longer its example's.)
    let choose_example = move |id: String| {
        if let Some(cni) = examples::EXAMPLES
            .iter()
            .find(|e| e.id == id)
            .and_then(|e| e.cni)
        {
            settings.update(|s| s.cni = cni);
        }
        if let Ok(link) = address::parse(&format!("example={id}")) {
            let address = Address {
                lesson: lesson.get_untracked(),
                ..link.address
            };
            open(address, link.text.unwrap_or_default());
        }
    };
    let choose_lesson = move |id: String| {
        if let Ok(link) = address::parse(&format!("lesson={id}")) {
            open(link.address, link.text.unwrap_or_default());
        }
    };
    let reset = move |_| {
        browser::remove(TEXT_KEY);
        browser::remove(SETTINGS_KEY);
        settings.set(Settings::default());
        let first = examples::first();
        open(
            Address {
                opened: Opened::Example(first.id),
                lesson: None,
            },
            first.text.to_string(),
        );
    };

    // A link to what is shown: the address while the text is the example's, the text and the
    // settings otherwise.
    let link_fragment = move || {
        let default = settings.with(|s| *s == Settings::default());
        let encoded = settings.with(Settings::encode);
        text.with(|t| address::link_fragment(&shown(), t, &encoded, default))
    };
    let share_url = move || format!("{}#{}", browser::page_url(), link_fragment());
    let top = if embed {
        view! {
            <header class="embed-bar">
                <h1>"ambient-netpol"</h1>
                <a href=share_url target="_blank" rel="noopener">"Open in the full playground"</a>
            </header>
        }
        .into_any()
    } else {
        let shown_lesson = Signal::derive(move || {
            lesson
                .get()
                .and_then(|p| lessons::all().get(p.lesson).map(|l| l.id))
        });
        view! {
            <Header
                text=text
                tab=tab
                choose_example=Callback::new(choose_example)
                choose_lesson=Callback::new(choose_lesson)
                reset=Callback::new(reset)
                shown_lesson=shown_lesson
                link=Signal::derive(link_fragment)
                what=Signal::derive(move || address::what(&shown()))
            />
        }
        .into_any()
    };
    view! {
        {top}
        {move || worker_error.get().map(|e| view! { <p class="banner" role="alert">{e}</p> })}
        {move || unsaved.get().then(|| view! {
            <p class="banner" role="alert">
                "This text is too large for the browser to keep (about 5 MB per site): \
                 a reload would bring back an older one. Copy it somewhere safe before you reload."
            </p>
        })}
        {move || link_error.get().map(|e| view! { <p class="banner" role="alert">{e}</p> })}
        // On a narrow screen, a lesson step's diagram comes right below its text (style/main.css;
        // an embed has a layout of its own).
        <main
            class="workspace"
            class:embed=embed
            class:lesson-diagram=move || !embed && lesson.get().is_some() && exercise.get().is_none()
        >
            <div class="left">
                <LessonPanel place=lesson analysis=analysis current=current view_mode=view_mode />
                {(!embed).then(|| view! { <SettingsPanel settings=settings /> })}
                <Editor text=text set_text=set_text goto=goto analysis=analysis />
            </div>
            <Results analysis=analysis stopped=stopped view_mode=view_mode reveal=reveal />
        </main>
    }
}

/// The full page's header: the menus, Reset, the copy buttons and their notes, the theme.
#[component]
fn Header(
    text: ReadSignal<String>,
    tab: RwSignal<Tab>,
    choose_example: Callback<String>,
    choose_lesson: Callback<String>,
    reset: Callback<()>,
    shown_lesson: Signal<Option<&'static str>>,
    /// The fragment of a link to what is shown (`address::link_fragment`).
    link: Signal<String>,
    /// What is shown, in words.
    what: Signal<String>,
) -> impl IntoView {
    let notes = Notes::new();
    let too_long = RwSignal::new(false);
    // Past a safe length a link is not offered; the YAML is, as a file.
    let copy_link = move |what: &'static str, done: &'static str, link: String| {
        too_long.set(link.len() > share::SAFE_URL_LENGTH);
        if too_long.get_untracked() {
            notes.say(format!("Too long for a link ({} characters; links past {} get cut). Download the YAML and share the file instead.", link.len(), share::SAFE_URL_LENGTH), false);
        } else {
            notes.copy(link, done, what);
        }
    };
    let share = move |_| {
        copy_link(
            "the link",
            "Link copied: it holds the text and the settings; nothing is uploaded.",
            format!("{}#{}", browser::page_url(), link.get_untracked()),
        )
    };
    let copy_embed = move |_| {
        let code = address::embed_code(
            &browser::page_url(),
            browser::shown_theme(),
            tab.get_untracked(),
            &link.get_untracked(),
            &what.get_untracked(),
        );
        copy_link(
            "the embed code",
            "Embed code copied: paste it into a docs page (an iframe 500 px high, in this theme).",
            code,
        )
    };
    let example_options = examples::EXAMPLES.iter().map(|e| (e.id, e.title)).collect();
    let lesson_options = lessons::all().iter().map(|l| (l.id, l.title)).collect();
    let shown_example = Signal::derive(move || text.with(|t| address::example_of(t)));
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
                <Menu id="examples" label="Examples" placeholder="Load an example…" options=example_options shown=shown_example choose=choose_example />
                <Menu id="lessons" label="Lessons" placeholder="Start a lesson…" options=lesson_options shown=shown_lesson choose=choose_lesson />
                <button id="reset" on:click=move |_| reset.run(()) title="Close the lesson, restore the first example and the default settings">"Reset"</button>
                <button id="share" on:click=share>"Share link"</button>
                <button id="embed-code" on:click=copy_embed title="An iframe for a docs page that shows what is shown here">"Copy embed code"</button>
                <ThemeToggle />
                <NotesView notes=notes class="share-message">
                    {move || too_long.get().then(|| view! {
                        <button id="share-download" on:click=move |_| browser::download("manifests.yaml", &text.get_untracked(), "application/yaml")>
                            "Download YAML"
                        </button>
                    })}
                </NotesView>
            </div>
        </header>
    }
}

/// A menu of things to open (examples, lessons) that shows the one open. A click opens the
/// choice; so does Enter (or leaving the menu) after the arrow keys, which on a closed menu only
/// browse: opening each entry passed would replace the text at every key press.
#[component]
fn Menu(
    id: &'static str,
    label: &'static str,
    placeholder: &'static str,
    options: Vec<(&'static str, &'static str)>,
    shown: Signal<Option<&'static str>>,
    choose: Callback<String>,
) -> impl IntoView {
    // A key that changes a closed menu's value (its change event comes in the same task), and a
    // value so reached that is not opened yet.
    let keyed = StoredValue::new(false);
    let browsed = StoredValue::new(false);
    let commit = move |value: String| {
        browsed.set_value(false);
        if !value.is_empty() && Some(value.as_str()) != shown.get_untracked() {
            choose.run(value);
        }
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let key = ev.key();
        if key == "Enter" {
            if browsed.get_value() {
                commit(event_target_value(&ev));
            }
        } else if !ev.alt_key()
            && (key.starts_with("Arrow")
                || key.starts_with("Page")
                || key == "Home"
                || key == "End"
                || key.chars().count() == 1 && key != " ")
        {
            keyed.set_value(true);
            Timeout::new(0, move || keyed.set_value(false)).forget();
        }
    };
    view! {
        <label class="examples">
            <span>{label}</span>
            <select
                id=id
                on:keydown=on_key
                on:change=move |ev| {
                    if keyed.get_value() {
                        browsed.set_value(true);
                    } else {
                        commit(event_target_value(&ev));
                    }
                }
                on:blur=move |ev| {
                    if browsed.get_value() {
                        commit(event_target_value(&ev));
                    }
                }
            >
                <option value="" prop:selected=move || shown.get().is_none()>{placeholder}</option>
                {options.into_iter().map(|(value, title)| view! {
                    <option value=value prop:selected=move || shown.get() == Some(value)>{title}</option>
                }).collect_view()}
            </select>
        </label>
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
