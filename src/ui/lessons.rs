//! Lessons: a guided walk through one example in four steps (what NetworkPolicy allows today, what
//! breaks once enrolled, the fix and why it is minimal, an exercise the page checks). The text
//! lives in `lessons/*.md`, so docs writers change it without touching code.

use ambient_netpol::Code;
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
    /// The finding the exercise must make disappear.
    pub goal: &'static str,
    /// (title, body) of each step.
    pub steps: Vec<(&'static str, &'static str)>,
}

const SOURCES: &[(&str, &str)] = &[
    ("hbone", include_str!("../../lessons/hbone.md")),
    ("probes", include_str!("../../lessons/probes.md")),
    ("egress", include_str!("../../lessons/egress.md")),
    ("waypoint", include_str!("../../lessons/waypoint.md")),
    (
        "named-probe-port",
        include_str!("../../lessons/named-probe-port.md"),
    ),
    (
        "multi-namespace",
        include_str!("../../lessons/multi-namespace.md"),
    ),
    (
        "ingress-gateway",
        include_str!("../../lessons/ingress-gateway.md"),
    ),
];

/// The diagram view each step shows.
pub const STEP_VIEWS: [View; 4] = [View::Today, View::Enrolled, View::Fixed, View::Enrolled];

/// Reads a lesson file: `# Title`, then `example:` and `goal:` lines, then `## ` steps.
pub fn parse(id: &'static str, text: &'static str) -> Lesson {
    let mut lesson = Lesson {
        id,
        title: "",
        example: "",
        goal: "",
        steps: Vec::new(),
    };
    let mut rest = text;
    while let Some((line, tail)) = rest.split_once('\n') {
        if let Some(title) = line.strip_prefix("# ") {
            lesson.title = title.trim();
        } else if let Some(example) = line.strip_prefix("example:") {
            lesson.example = example.trim();
        } else if let Some(goal) = line.strip_prefix("goal:") {
            lesson.goal = goal.trim();
        } else if line.starts_with("## ") {
            break;
        }
        rest = tail;
    }
    for section in rest.split("\n## ").map(|s| s.trim_start_matches("## ")) {
        let (title, body) = section.split_once('\n').unwrap_or((section, ""));
        if !title.trim().is_empty() {
            lesson.steps.push((title.trim(), body.trim()));
        }
    }
    lesson
}

pub fn all() -> Vec<Lesson> {
    SOURCES.iter().map(|(id, text)| parse(id, text)).collect()
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
    analysis: Memo<Analysis>,
    view_mode: RwSignal<View>,
) -> impl IntoView {
    let lessons = StoredValue::new(all());
    // Each step shows its view of the diagram (and the diagram, which the steps talk about).
    let tab = use_context::<ResultsTab>();
    Effect::new(move |_| {
        if let Some(p) = place.get() {
            view_mode.set(STEP_VIEWS[p.step.min(3)]);
            if let Some(ResultsTab(tab)) = tab {
                tab.set(Tab::Paths);
            }
        }
    });
    let content = move || {
        let p = place.get()?;
        lessons.with_value(|all| {
            let lesson = all.get(p.lesson)?;
            let steps = lesson.steps.len();
            let (title, body) = *lesson.steps.get(p.step)?;
            let goal = lesson.goal;
            let exercise = p.step + 1 == steps;
            let outcome = move || {
                analysis.with(|a| {
                    if a.id == 0 || !exercise {
                        return None;
                    }
                    let code = Code::from_id(goal);
                    let left: Vec<u32> = a
                        .report
                        .findings
                        .iter()
                        .filter(|f| Some(f.code) == code)
                        .filter_map(|f| f.line())
                        .collect();
                    Some(if left.is_empty() {
                        view! { <p class="exercise done" role="status">{format!("Done: {goal} is gone. Compare your edit with the corrected YAML below.")}</p> }.into_any()
                    } else {
                        let lines = left.iter().map(u32::to_string).collect::<Vec<_>>().join(", ");
                        view! { <p class="exercise todo" role="status">{format!("Not yet: {goal} is still reported (line {lines}).")}</p> }.into_any()
                    })
                })
            };
            Some(view! {
                <section class="lesson" aria-labelledby="lesson-title">
                    <h2 id="lesson-title" class="panel-title">{lesson.title}</h2>
                    <p class="lesson-step">{format!("Step {} of {steps}: ", p.step + 1)}<strong>{title}</strong></p>
                    <div class="doc">{markdown_view(body)}</div>
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

#[cfg(test)]
mod tests {
    use super::*;

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
            assert!(Code::from_id(lesson.goal).is_some(), "{}", lesson.id);
            assert!(
                lesson
                    .steps
                    .iter()
                    .all(|(t, b)| !t.is_empty() && !b.is_empty())
            );
        }
    }
}
