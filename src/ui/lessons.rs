//! Lessons: a guided walk through one example in four steps (what NetworkPolicy allows today, what
//! breaks once enrolled, the fix and why it is minimal, an exercise the page checks). The text
//! lives in `lessons/*.md`, so docs writers change it without touching code.
//!
//! The exercise's goal is the `goal:` line (the findings to remove); the analysis worker checks
//! the learner's text against it with `ambient_netpol::exercise`, which also holds the edit to
//! the example's policies and connections, and the panel shows that check once it answers the
//! text in the editor (never an older text's).

use ambient_netpol::ambient::paths::EdgeKind;
use ambient_netpol::exercise::Goal;
use leptos::prelude::*;

use super::Analysis;
use super::diagram::View;
use super::findings::markdown_view;
use super::results::{ResultsTab, Tab};

pub struct Lesson {
    pub id: &'static str,
    pub title: &'static str,
    /// The example the lesson works on.
    pub example: &'static str,
    /// The findings the exercise must make disappear.
    pub goal: Goal,
    pub steps: Vec<Step>,
}

pub struct Step {
    pub title: &'static str,
    pub body: &'static str,
    /// The path the text talks about (a `path:` line first in the step), which the diagram
    /// marks.
    pub path: Option<PathRef>,
}

/// A kind of path in one verdict, as a step's `path: hbone blocked` line names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PathRef {
    pub kind: EdgeKind,
    pub allowed: bool,
}

impl PathRef {
    fn parse(text: &str) -> Option<PathRef> {
        let (kind, verdict) = text.trim().split_once(' ')?;
        Some(PathRef {
            kind: match kind {
                "app" => EdgeKind::App,
                "hbone" => EdgeKind::Hbone,
                "probe" => EdgeKind::Probe,
                _ => return None,
            },
            allowed: match verdict.trim() {
                "allowed" => true,
                "blocked" => false,
                _ => return None,
            },
        })
    }
}

/// The diagram marks the path the lesson's step talks about.
#[derive(Clone, Copy)]
pub struct LessonPath(pub RwSignal<Option<PathRef>>);

/// A lesson's text as built in: in the page its outline, which `build.rs` writes (the title,
/// example, goal, and each step's title and `path:` line), the steps' text being fetched
/// (`lessons/<id>.md` beside the page) when the lesson is opened; natively, for the tests, the
/// whole file.
#[cfg(target_arch = "wasm32")]
macro_rules! lesson {
    ($id:literal) => {
        (
            $id,
            include_str!(concat!(env!("OUT_DIR"), "/lessons/", $id, ".md")),
        )
    };
}
#[cfg(not(target_arch = "wasm32"))]
macro_rules! lesson {
    ($id:literal) => {
        ($id, include_str!(concat!("../../lessons/", $id, ".md")))
    };
}

const SOURCES: &[(&str, &str)] = &[
    lesson!("hbone"),
    lesson!("probes"),
    lesson!("egress"),
    lesson!("waypoint"),
    lesson!("named-probe-port"),
    lesson!("multi-namespace"),
    lesson!("ingress-gateway"),
    lesson!("sidecars"),
];

/// The diagram view each step shows.
pub const STEP_VIEWS: [View; 4] = [View::Today, View::Enrolled, View::Fixed, View::Enrolled];

/// Reads a lesson file: `# Title`, then `example:` and `goal:` lines, then `## ` steps, each
/// perhaps starting with a `path:` line.
pub fn parse(id: &'static str, text: &'static str) -> Lesson {
    let mut lesson = Lesson {
        id,
        title: "",
        example: "",
        goal: Goal { gone: Vec::new() },
        steps: Vec::new(),
    };
    let mut rest = text;
    while let Some((line, tail)) = rest.split_once('\n') {
        if let Some(title) = line.strip_prefix("# ") {
            lesson.title = title.trim();
        } else if let Some(example) = line.strip_prefix("example:") {
            lesson.example = example.trim();
        } else if let Some(goal) = line.strip_prefix("goal:") {
            // A goal that does not parse has no codes: its exercise is never done (and a test
            // reads every lesson's).
            lesson.goal = Goal::parse(goal).unwrap_or(Goal { gone: Vec::new() });
        } else if line.starts_with("## ") {
            break;
        }
        rest = tail;
    }
    for section in rest.split("\n## ").map(|s| s.trim_start_matches("## ")) {
        let (title, body) = section.split_once('\n').unwrap_or((section, ""));
        let body = body.trim();
        let (path, body) = match body.strip_prefix("path:") {
            Some(rest) => {
                let (line, body) = rest.split_once('\n').unwrap_or((rest, ""));
                (PathRef::parse(line), body.trim())
            }
            None => (None, body),
        };
        if !title.trim().is_empty() {
            lesson.steps.push(Step {
                title: title.trim(),
                body,
                path,
            });
        }
    }
    lesson
}

pub fn all() -> Vec<Lesson> {
    SOURCES.iter().map(|(id, text)| parse(id, text)).collect()
}

/// A lesson's goal and its example's text (for the worker, which checks the learner's text).
pub fn exercise(id: &str) -> Option<(Goal, &'static str)> {
    let lesson = all().into_iter().find(|l| l.id == id)?;
    let example = super::examples::EXAMPLES
        .iter()
        .find(|e| e.id == lesson.example)?;
    Some((lesson.goal, example.text))
}

/// The id of the lesson whose exercise (its last step) is shown at `place`.
pub fn exercise_shown(place: Place) -> Option<&'static str> {
    let (id, text) = SOURCES.get(place.lesson)?;
    (place.step + 1 == parse(id, text).steps.len()).then_some(*id)
}

/// A lesson's steps' text, fetched when the lesson is first opened.
#[derive(Clone)]
enum Fetched {
    Waiting,
    /// Each step's text. The fetched file lives as long as the page, as the built-in texts do
    /// (once per lesson).
    Steps(Vec<&'static str>),
    Failed,
}

/// The lesson and step being shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Place {
    pub lesson: usize,
    pub step: usize,
}

#[component]
pub fn LessonPanel(
    place: RwSignal<Option<Place>>,
    analysis: ReadSignal<Analysis>,
    /// Whether `analysis` answers the text in the editor as it is now.
    current: Signal<bool>,
    view_mode: RwSignal<View>,
) -> impl IntoView {
    let lessons = StoredValue::new(all());
    // The steps' text of each lesson opened (by index), fetched once it is (a failed fetch is
    // tried again at the next step).
    let texts = RwSignal::new(Vec::<(usize, Fetched)>::new());
    Effect::new(move |_| {
        let Some(p) = place.get() else { return };
        let known = texts.with_untracked(|t| {
            t.iter()
                .any(|(l, f)| *l == p.lesson && !matches!(f, Fetched::Failed))
        });
        let Some(&(id, _)) = SOURCES.get(p.lesson).filter(|_| !known) else {
            return;
        };
        let set = move |fetched: Fetched| {
            texts.update(|t| {
                t.retain(|(l, _)| *l != p.lesson);
                t.push((p.lesson, fetched));
            })
        };
        set(Fetched::Waiting);
        leptos::task::spawn_local(async move {
            set(
                match super::browser::fetch_text(&format!("lessons/{id}.md")).await {
                    Some(text) => {
                        let text: &'static str = Box::leak(text.into_boxed_str());
                        Fetched::Steps(parse(id, text).steps.iter().map(|s| s.body).collect())
                    }
                    None => Fetched::Failed,
                },
            );
        });
    });
    // Each step shows its view of the diagram (and the diagram, which the steps talk about), and
    // the diagram marks the path the step's text names.
    let tab = use_context::<ResultsTab>();
    let marked = use_context::<LessonPath>();
    Effect::new(move |_| {
        let place = place.get();
        if let Some(p) = place {
            view_mode.set(STEP_VIEWS[p.step.min(3)]);
            if let Some(ResultsTab(tab)) = tab {
                tab.set(Tab::Paths);
            }
        }
        if let Some(LessonPath(marked)) = marked {
            let path = place
                .and_then(|p| lessons.with_value(|all| all.get(p.lesson)?.steps.get(p.step)?.path));
            marked.set(path);
        }
    });
    let content = move || {
        let p = place.get()?;
        lessons.with_value(|all| {
            let lesson = all.get(p.lesson)?;
            let steps = lesson.steps.len();
            let step = lesson.steps.get(p.step)?;
            let title = step.title;
            let doc = move || {
                let fetched = texts.with(|t| {
                    t.iter()
                        .find(|(l, _)| *l == p.lesson)
                        .map(|(_, f)| f.clone())
                });
                match fetched {
                    Some(Fetched::Steps(bodies)) => {
                        markdown_view(bodies.get(p.step).copied().unwrap_or_default()).into_any()
                    }
                    Some(Fetched::Failed) => view! {
                        <p>"The lesson's text could not be loaded (offline before a first visit?)."</p>
                    }
                    .into_any(),
                    _ => view! { <p class="loading">"Loading…"</p> }.into_any(),
                }
            };
            let id = lesson.id;
            let exercise = p.step + 1 == steps;
            let last = StoredValue::new(Vec::new());
            let outcome = move || exercise.then(|| exercise_view(id, analysis, current, last));
            let path = step.path.map(|path| path_view(path, analysis, view_mode, tab));
            Some(view! {
                <section class="lesson" aria-labelledby="lesson-title">
                    <h2 id="lesson-title" class="panel-title">{lesson.title}</h2>
                    <p class="lesson-step">{format!("Step {} of {steps}: ", p.step + 1)}<strong>{title}</strong></p>
                    <div class="doc">{doc}</div>
                    {path}
                    {outcome}
                    <div class="lesson-nav">
                        <button id="lesson-prev" prop:disabled=p.step == 0 on:click=move |_| place.update(|p| if let Some(p) = p { p.step = p.step.saturating_sub(1) })>
                            "Previous"
                        </button>
                        <button id="lesson-next" prop:disabled=exercise on:click=move |_| place.update(|p| if let Some(p) = p { p.step = (p.step + 1).min(steps - 1) })>
                            "Next"
                        </button>
                        <button id="lesson-close" on:click=move |_| place.set(None)>"Close the lesson"</button>
                    </div>
                </section>
            })
        })
    };
    view! { {content} }
}

/// Where the path a step talks about is in the diagram: its view, its ends, and a button that
/// brings it into view (on a narrow screen the diagram is below the text).
fn path_view(
    path: PathRef,
    analysis: ReadSignal<Analysis>,
    view_mode: RwSignal<View>,
    tab: Option<ResultsTab>,
) -> impl IntoView {
    let what = format!(
        "{} {}",
        if path.allowed { "allowed" } else { "blocked" },
        match path.kind {
            EdgeKind::App => "app traffic",
            EdgeKind::Hbone => "HBONE tunnel",
            EdgeKind::Probe => "kubelet probe",
        }
    );
    let drawn = move || {
        let view = view_mode.get();
        let view_name = match view {
            View::Today => "Today",
            View::Enrolled => "After enrolling",
            View::Fixed => "After the fix",
        };
        analysis.with(|a| {
            let (paths, edges) = super::diagram::edges_for(view, a);
            let name = |id: &str| {
                paths
                    .nodes
                    .iter()
                    .find(|n| n.id == id)
                    .map_or(id.to_string(), |n| {
                        if n.namespace.is_empty() {
                            n.label.clone()
                        } else {
                            format!("{} ({})", n.label, n.namespace)
                        }
                    })
            };
            let ends: Vec<String> = edges
                .iter()
                .filter(|e| e.kind == path.kind && e.allowed == path.allowed)
                .map(|e| format!("{} to {}", name(&e.from), name(&e.to)))
                .collect();
            if ends.is_empty() {
                format!("The diagram ({view_name}) draws no {what} for the text as it is now.")
            } else {
                format!(
                    "In the diagram ({view_name}), marked: the {what} from {}.",
                    ends.join("; from ")
                )
            }
        })
    };
    let show = move |_| {
        if let Some(ResultsTab(tab)) = tab {
            tab.set(Tab::Paths);
        }
        // After the tab is drawn.
        request_animation_frame(|| {
            super::browser::focus_first("svg.paths .edge.lesson-path");
        });
    };
    view! {
        <p class="lesson-path-note">
            {drawn}
            " "
            <button class="lesson-show" on:click=show>"Show it in the diagram"</button>
        </p>
    }
}

/// The exercise's verdict on the text in the editor: what is still missing, or what was checked
/// once nothing is. While the text's analysis is on its way, only that it is being checked, over
/// the last verdict's lines greyed (`last`), so the editor below does not jump at each keystroke.
fn exercise_view(
    lesson: &'static str,
    analysis: ReadSignal<Analysis>,
    current: Signal<bool>,
    last: StoredValue<Vec<String>>,
) -> impl IntoView {
    let answer = analysis.with(|a| {
        a.exercise
            .as_ref()
            .filter(|e| e.lesson == lesson && current.get())
            .map(|e| e.outcome.clone())
    });
    let (class, headline, items) = match answer {
        None => ("exercise checking", "Checking your edit…", last.get_value()),
        Some(o) if o.done() => (
            "exercise done",
            "Done: your edit is the fix. Checked:",
            o.checked,
        ),
        Some(o) => ("exercise todo", "Not yet:", o.missing),
    };
    last.set_value(items.clone());
    view! {
        <div class=class role="status">
            <p><strong>{headline}</strong></p>
            <ul>{items.into_iter().map(|m| view! { <li>{m}</li> }).collect_view()}</ul>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ambient_netpol::exercise::{Outcome, check};
    use ambient_netpol::{Options, Source, analyze};
    use serde_json::Value;

    /// Each lesson's fix and wrong edits, as the browser tests drive them too.
    const DATA: &str = include_str!("../../tests/data/lessons.json");

    fn outcome(id: &str, text: &str) -> Outcome {
        let (goal, example) = exercise(id).expect("the lesson and its example");
        let options = Options::default();
        let report = analyze(
            &[Source {
                name: "playground.yaml",
                text,
            }],
            &options,
        );
        check(&goal, example, text, &report, &options)
    }

    fn replace_once(text: &str, find: &str, replace: &str, lesson: &str) -> String {
        assert!(text.contains(find), "{lesson}: `{find}` is not in the text");
        text.replacen(find, replace, 1)
    }

    /// The intended fix: where it goes in the example, how many bytes of it it replaces (none
    /// for an insertion after `after`) and the text it writes there.
    fn fix_edit(example: &str, data: &Value) -> (usize, usize, String) {
        let fix = &data["fix"];
        let (at, removed, text) = match fix["find"].as_str() {
            Some(find) => (
                example.find(find).expect("fix.find is in the example"),
                find.len(),
                fix["replace"].as_str().expect("fix.replace"),
            ),
            None => {
                let after = fix["after"].as_str().expect("fix.after or fix.find");
                let at = example.find(after).expect("fix.after is in the example");
                (
                    at + after.len(),
                    0,
                    fix["insert"].as_str().expect("fix.insert"),
                )
            }
        };
        (at, removed, text.to_string())
    }

    /// The page's outlines (`build.rs`) are the lessons without their steps' text.
    #[test]
    fn outlines_are_the_lessons_without_their_text() {
        for lesson in all() {
            let file = std::path::Path::new(env!("OUT_DIR"))
                .join("lessons")
                .join(format!("{}.md", lesson.id));
            let text = std::fs::read_to_string(file).expect("build.rs wrote the outline");
            let outline = parse(lesson.id, Box::leak(text.into_boxed_str()));
            let id = lesson.id;
            assert_eq!(
                (outline.title, outline.example, &outline.goal),
                (lesson.title, lesson.example, &lesson.goal),
                "{id}"
            );
            let steps =
                |l: &Lesson| -> Vec<_> { l.steps.iter().map(|s| (s.title, s.path)).collect() };
            assert_eq!(steps(&outline), steps(&lesson), "{id}");
            assert!(outline.steps.iter().all(|s| s.body.is_empty()), "{id}");
        }
    }

    /// The first three steps name the diagram view they show and the path they talk about,
    /// which the diagram marks: a step that speaks of a red path names a blocked one.
    #[test]
    fn steps_name_their_view_and_path() {
        for lesson in all() {
            for (i, step) in lesson.steps.iter().enumerate().take(3) {
                let name = match STEP_VIEWS[i] {
                    View::Today => "**Today**",
                    View::Enrolled => "**After enrolling**",
                    View::Fixed => "**After the fix**",
                };
                assert!(
                    step.body.contains(name),
                    "{} step {}: no {name}",
                    lesson.id,
                    i + 1
                );
                let path = step
                    .path
                    .unwrap_or_else(|| panic!("{} step {}: no path:", lesson.id, i + 1));
                if step.body.contains(" red") {
                    assert!(!path.allowed, "{} step {}", lesson.id, i + 1);
                }
                assert!(
                    step.body.lines().all(|l| !l.starts_with("path:")),
                    "{} step {}",
                    lesson.id,
                    i + 1
                );
            }
        }
        assert_eq!(
            PathRef::parse(" hbone blocked"),
            Some(PathRef {
                kind: EdgeKind::Hbone,
                allowed: false
            })
        );
        assert_eq!(PathRef::parse("hbone"), None);
        assert_eq!(PathRef::parse("tunnel allowed"), None);
    }

    /// Every lesson: the fix is done; every part of it typed so far is not; nor are the example
    /// itself, an empty editor, the fix with broken YAML, the other examples, and the lesson's
    /// wrong edits, each with the sentence that says what is wrong.
    #[test]
    fn every_exercise_is_done_by_its_fix_only() {
        let data: Value = serde_json::from_str(DATA).expect("tests/data/lessons.json");
        for lesson in all() {
            let id = lesson.id;
            let case = &data[id];
            assert!(
                case.is_object(),
                "{id} has no case in tests/data/lessons.json"
            );
            let (_, example) = exercise(id).expect("the lesson");
            let (at, removed, insert) = fix_edit(example, case);
            let text = [&example[..at], &insert, &example[at + removed..]].concat();
            let done = outcome(id, &text);
            assert!(done.done(), "{id}: the fix is not done: {:?}", done.missing);
            // Typed one character at a time (over the text it replaces), it is done only once
            // complete.
            for (cut, _) in insert.char_indices().skip(1) {
                let typed = [&example[..at], &insert[..cut], &example[at + removed..]].concat();
                assert!(
                    !outcome(id, &typed).done(),
                    "{id}: done with the fix typed up to {:?}",
                    &insert[..cut]
                );
            }
            assert!(!outcome(id, example).done(), "{id}: done unchanged");
            let empty = outcome(id, "");
            assert!(
                empty
                    .missing
                    .iter()
                    .any(|m| m.contains("is no longer in the text")),
                "{id}: {:?}",
                empty.missing
            );
            let broken = outcome(id, &format!("{text}\nkey: [unclosed\n"));
            assert!(
                broken.missing[0].contains("the YAML does not parse (INP001)"),
                "{id}: {:?}",
                broken.missing
            );
            for other in super::super::examples::EXAMPLES {
                if other.id != lesson.example {
                    assert!(
                        !outcome(id, other.text).done(),
                        "{id}: done with {}",
                        other.id
                    );
                }
            }
            for wrong in case["wrong"].as_array().expect("wrong edits") {
                let what = wrong["what"].as_str().expect("what");
                let mut edited = if wrong["fix"].as_bool() == Some(true) {
                    text.clone()
                } else {
                    example.to_string()
                };
                for edit in wrong["edits"].as_array().expect("edits") {
                    let find = edit["find"].as_str().expect("find");
                    let replace = edit["replace"].as_str().expect("replace");
                    edited = replace_once(&edited, find, replace, id);
                }
                let says = wrong["says"].as_str().expect("says");
                let todo = outcome(id, &edited);
                assert!(
                    todo.missing.iter().any(|m| m.contains(says)),
                    "{id}, {what}: expected \"{says}\" in {:?}",
                    todo.missing
                );
                // It is wrong for another reason than the goal's finding.
                let codes = lesson.goal.gone.iter().map(|c| c.id()).collect::<Vec<_>>();
                assert!(
                    todo.missing.iter().all(|m| !codes
                        .iter()
                        .any(|c| m.ends_with(&format!("{c} is still reported")))),
                    "{id}, {what}: the goal's finding is still there, so the case tests nothing new: {:?}",
                    todo.missing
                );
            }
        }
    }

    #[test]
    fn every_lesson_has_four_steps_an_example_and_a_goal() {
        for lesson in all() {
            assert_eq!(lesson.steps.len(), 4, "{}", lesson.id);
            assert!(!lesson.title.is_empty());
            assert!(
                super::super::examples::EXAMPLES
                    .iter()
                    .any(|e| e.id == lesson.example),
                "{}",
                lesson.id
            );
            assert!(!lesson.goal.gone.is_empty(), "{}", lesson.id);
            assert!(
                lesson
                    .steps
                    .iter()
                    .all(|s| !s.title.is_empty() && !s.body.is_empty())
            );
        }
    }
}
