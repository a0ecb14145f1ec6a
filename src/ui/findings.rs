//! The findings panel: one group per code (errors first), each with the rule's title, its
//! explanation once, and the findings it holds as a compact list (subject and line; the message
//! and fix open on demand). Input codes that say the same of many objects are summarised
//! ("ignored: 12 Service, 12 ServiceAccount"); information starts collapsed. Severity buttons and
//! a text box filter the list; a line button moves the editor there.

use std::collections::BTreeSet;

use ambient_netpol::input::yaml::insert_separators;
use ambient_netpol::{Code, Finding, Severity};
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::cap::Cap;
use super::groups::{self, Filter, Group, SEVERITIES};
use super::{Analysis, EditorText, GoToLine};

const SEED_PAGE: &str = "https://istio.io/latest/docs/ambient/usage/networkpolicy/";
/// What ztunnel enforces of Istio's security policy (AMB010-AMB012).
const L4_POLICY_PAGE: &str = "https://istio.io/latest/docs/ambient/usage/l4-policy/";

/// Findings listed per group before a "Show all" button on narrow screens, where each takes a
/// line of a short page; wide screens list `SHOWN_PER_GROUP`.
const SHOWN_PER_GROUP_NARROW: usize = 5;

/// Findings listed per group before a "Show all" button: a whole cluster can have thousands,
/// and drawing them all made each analysis of the L cluster cost the page ~0.5 s (BENCHMARKS.md).
const SHOWN_PER_GROUP: usize = 50;

/// Findings drawn in the frame that first shows a set of findings (a screen's worth, in the open
/// groups from the top: 16 rows are in sight at 1280 x 900): the rest of the lists is drawn once
/// that frame is painted.
const FIRST_FRAME: usize = 24;

/// A group's identity across analyses (its open state survives typing).
type Key = (Severity, Code);

#[component]
pub fn FindingsPanel(
    analysis: ReadSignal<Analysis>,
    /// The worker failed or was stopped (the page's banner says why).
    stopped: Signal<bool>,
    /// A finding the page was asked to show (by the diagram).
    reveal: ReadSignal<Option<usize>>,
) -> impl IntoView {
    let filter = RwSignal::new(Filter::default());
    // Groups whose open state the user flipped from its default, and groups showing every item.
    let flipped = RwSignal::new(BTreeSet::<Key>::new());
    let uncapped = RwSignal::new(BTreeSet::<Key>::new());
    let count = move |severity: Severity| analysis.with(|a| a.report.count(severity));
    let status = move || {
        analysis.with(|a| {
            if a.id == 0 && stopped.get() {
                return "Not analysed: see the message at the top.".to_string();
            }
            if a.id == 0 {
                return "Starting the analysis worker…".to_string();
            }
            let plural = |n: usize, word: &str| match n {
                1 => format!("1 {word}"),
                n => format!("{n} {word}s"),
            };
            format!(
                "Analysed {} in {} in {:.1} ms",
                plural(a.report.objects, "object"),
                plural(a.report.documents, "document"),
                a.millis
            )
        })
    };
    // Showing one finding: let the filter through, open its group, then scroll to it.
    Effect::new(move |_| {
        let Some(index) = reveal.get() else { return };
        let Some(key) =
            analysis.with_untracked(|a| a.report.findings.get(index).map(|f| (f.severity, f.code)))
        else {
            return;
        };
        let shown = analysis
            .with_untracked(|a| filter.with_untracked(|f| f.matches(&a.report.findings[index])));
        if !shown {
            filter.set(Filter::default());
        }
        let open = groups::open_by_default(key.0) != flipped.with_untracked(|f| f.contains(&key));
        if !open {
            flipped.update(|f| {
                f.remove(&key);
                if !groups::open_by_default(key.0) {
                    f.insert(key);
                }
            });
        }
        uncapped.update(|u| {
            u.insert(key);
        });
        request_animation_frame(move || focus_finding(index));
    });
    let toggle = move |severity: Severity| {
        let i = SEVERITIES.iter().position(|&s| s == severity).unwrap_or(0);
        let pressed = move || filter.with(|f| f.severities[i]);
        view! {
            <button
                class=format!("count {}", severity.as_str())
                aria-pressed=move || pressed().to_string()
                title=move || if pressed() { "Shown: press to hide" } else { "Hidden: press to show" }
                on:click=move |_| filter.update(|f| f.severities[i] = !f.severities[i])
            >
                {move || match severity {
                    Severity::Error => plural(count(severity), "error"),
                    Severity::Warning => plural(count(severity), "warning"),
                    Severity::Info => format!("{} info", count(severity)),
                }}
            </button>
        }
    };
    // The lists are drawn again for new findings, not for the complete analysis of a large text
    // that follows its findings with the same ones (`Analysis::findings_given`).
    let given = Memo::new(move |_| analysis.with(|a| a.findings_given));
    let shown_groups = move || {
        // Read, not `track`ed: tracking alone would never run the memo.
        given.get();
        analysis.with_untracked(|a| filter.with(|f| groups::groups(&a.report.findings, f)))
    };
    view! {
        <section class="findings" aria-labelledby="findings-title">
            <h2 id="findings-title" class="panel-title visually-hidden">"Findings"</h2>
            <div class="finding-filters">
                <div class="counts" role="group" aria-label="Show findings of these severities" aria-live="polite">
                    {SEVERITIES.map(toggle).collect_view()}
                </div>
                <input
                    type="search"
                    id="finding-filter"
                    aria-label="Filter findings by code, policy, workload or words"
                    placeholder="Filter: code, policy, workload…"
                    prop:value=move || filter.with(|f| f.text.clone())
                    on:input=move |ev| {
                        let text = event_target_value(&ev);
                        filter.update(|f| f.text = text);
                    }
                />
            </div>
            <Show
                when=move || analysis.with(|a| a.id == 0 || !a.report.findings.is_empty())
                fallback=|| view! { <p class="empty">"No findings: nothing in this input breaks under ambient."</p> }
            >
                <Show when=move || analysis.with(|a| a.id == 0) && !stopped.get()>
                    <p class="empty">"Analysing…"</p>
                </Show>
                {move || {
                    let shown = shown_groups();
                    if shown.is_empty() && analysis.with_untracked(|a| !a.report.findings.is_empty()) {
                        return view! {
                            <p class="empty">
                                "No finding matches the filter. "
                                <button on:click=move |_| filter.set(Filter::default())>"Show all findings"</button>
                            </p>
                        }
                            .into_any();
                    }
                    // The first frame's rows go to the open groups from the top.
                    let mut first = FIRST_FRAME;
                    analysis.with_untracked(|a| {
                        shown
                            .into_iter()
                            .map(|g| {
                                let key = (g.severity, g.code);
                                let open = groups::open_by_default(key.0)
                                    != flipped.with_untracked(|f| f.contains(&key));
                                let rows = if open { first.min(g.items.len()) } else { 0 };
                                first -= rows;
                                group_view(g, analysis, &a.report.findings, flipped, uncapped, rows)
                            })
                            .collect_view()
                    })
                        .into_any()
                }}
            </Show>
            <Show when=move || analysis.with(|a| !a.report.notes.is_empty())>
                <details class="notes-box" open=super::browser::is_wide()>
                    <summary>{move || analysis.with(|a| match a.report.notes.len() {
                        1 => "1 note about this analysis".to_string(),
                        n => format!("{n} notes about this analysis"),
                    })}</summary>
                    <ul class="notes">
                        {move || analysis.with(|a| a.report.notes.iter().map(|n| view! { <li>{message_view(n)}</li> }).collect_view())}
                    </ul>
                </details>
            </Show>
            <p class="status">{status}</p>
        </section>
    }
}

/// Scrolls the finding `index` into view and gives it the focus.
fn focus_finding(index: usize) {
    let Some(element) = document().get_element_by_id(&format!("finding-{index}")) else {
        return;
    };
    element.scroll_into_view();
    if let Ok(element) = element.dyn_into::<web_sys::HtmlElement>() {
        let _ = element.focus();
    }
}

/// One code's findings: a disclosure whose summary says what, how many, and for the input codes
/// of what kinds; inside, the rule's explanation once and the list.
fn group_view(
    group: Group,
    analysis: ReadSignal<Analysis>,
    findings: &[Finding],
    flipped: RwSignal<BTreeSet<Key>>,
    uncapped: RwSignal<BTreeSet<Key>>,
    first_frame: usize,
) -> impl IntoView + use<> {
    let key = (group.severity, group.code);
    let rule = group.code.rule();
    let severity = group.severity.as_str();
    let total = group.items.len();
    let summary = groups::kinds_summary(group.code, findings, &group.items)
        .map(|kinds| format!("{}: {kinds}", groups::kinds_verb(group.code)));
    let open = move || groups::open_by_default(key.0) != flipped.with(|f| f.contains(&key));
    let on_toggle = move |ev: leptos::ev::Event| {
        if let Some(details) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlDetailsElement>().ok())
            && details.open() != open()
        {
            flipped.update(|f| {
                if !f.remove(&key) {
                    f.insert(key);
                }
            });
        }
    };
    let cap = Cap::new(if super::browser::is_wide() {
        SHOWN_PER_GROUP
    } else {
        SHOWN_PER_GROUP_NARROW
    });
    if uncapped.with_untracked(|u| u.contains(&key)) {
        cap.show_all();
    }
    // The top of the list first: on a whole cluster (300 rows in all) the findings reach the
    // screen without waiting for rows below it.
    let whole = RwSignal::new(total <= first_frame);
    if !whole.get_untracked() {
        request_animation_frame(move || {
            set_timeout(move || whole.set(true), std::time::Duration::ZERO)
        });
    }
    let items = group.items;
    let fixable = items.iter().filter(|&&i| findings[i].fixable).count();
    let code = group.code;
    view! {
        <details class=format!("finding-group {severity}") data-code=rule.id prop:open=open on:toggle=on_toggle>
            <summary class="group-summary">
                <span class="code">{rule.id}</span>
                <span class="severity">{severity}</span>
                <span class="title">{rule.title}</span>
                <span class="group-count">{format!("× {total}")}</span>
                {summary.map(|s| view! { <span class="kinds">{message_view(&s)}</span> })}
            </summary>
            <div class="group-body">
                <p class="group-why">{message_view(&code.summary().replace("**", ""))}</p>
                {(fixable > 0).then(|| view! {
                    <p class="group-fix">{format!("{fixable} of {total} fixed in the corrected YAML.")}</p>
                })}
                {(code == Code::Inp006).then(|| separators_button(items.iter().filter_map(|&i| findings[i].line()).collect()))}
                <ol class="finding-list">
                    {move || {
                        let limit = if whole.get() { cap.limit() } else { cap.limit().min(first_frame) };
                        // Copied from the shown analysis as drawn (its findings stay those the
                        // list was made for: `findings_given` draws the list again).
                        analysis.with_untracked(|a| {
                            items
                                .iter()
                                .take(limit)
                                .filter_map(|&i| Some(view! { <FindingItem index=i finding=a.report.findings.get(i)?.clone() /> }))
                                .collect_view()
                        })
                    }}
                </ol>
                {cap.button(move || total, |n| format!("Show {n} more"))}
                <About code=code />
            </div>
        </details>
    }
}

/// INP006's fix in one click: the `---` lines inserted into the editor's text above the objects
/// its findings point at (undoable like any outside edit).
fn separators_button(lines: Vec<u32>) -> impl IntoView {
    let EditorText { text, set } = expect_context::<EditorText>();
    let label = if lines.len() == 1 {
        "Insert the missing `---` line".to_string()
    } else {
        format!("Insert the {} missing `---` lines", lines.len())
    };
    let insert = move |_| {
        let fixed = text.with_untracked(|t| insert_separators(t, &lines));
        set.set(fixed);
    };
    view! { <button class="split-documents" on:click=insert>{message_view(&label)}</button> }
}

/// The rule's whole documentation, fetched (`rules/<CODE>.md` beside the page, which the service
/// worker keeps for offline use) and drawn when first opened, and the Istio page section it
/// implements.
#[component]
fn About(code: Code) -> impl IntoView {
    let rule = code.rule();
    let seed_section = seed_section(code);
    let open = RwSignal::new(false);
    let doc = RwSignal::new(None::<Option<String>>);
    let on_toggle = move |ev: leptos::ev::Event| {
        if let Some(details) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlDetailsElement>().ok())
        {
            open.set(details.open());
            if details.open() && doc.get_untracked().is_none() {
                leptos::task::spawn_local(async move {
                    let text = super::browser::fetch_text(&format!("rules/{}.md", rule.id)).await;
                    doc.set(Some(text));
                });
            }
        }
    };
    let text = move || {
        match doc.get() {
        None => view! { <p class="loading">"Loading…"</p> }.into_any(),
        Some(Some(text)) => markdown_view(&text).into_any(),
        Some(None) => view! {
            <p>{message_view(&format!("The documentation could not be loaded (offline before a first visit?); `ambient-netpol check --explain {}` prints it.", rule.id))}</p>
        }
        .into_any(),
    }
    };
    view! {
        <details class="explanation" on:toggle=on_toggle>
            <summary>{format!("About {}", rule.id)}</summary>
            <Show when=move || open.get()>
                <div class="doc">{text}</div>
                {seed_section.map(|(anchor, name)| view! {
                    <p class="seed-link">
                        <a href=if anchor.is_empty() { L4_POLICY_PAGE.to_string() } else { format!("{SEED_PAGE}#{anchor}") } target="_blank" rel="noopener noreferrer">
                            {format!("Istio docs: {name}")}
                        </a>
                    </p>
                })}
            </Show>
        </details>
    }
}

/// One finding in its group: the line button, the subject, and the message and fix on demand.
#[component]
fn FindingItem(index: usize, finding: Finding) -> impl IntoView {
    let GoToLine(goto) = expect_context::<GoToLine>();
    let line = finding.line();
    let severity = finding.severity.as_str();
    let subject = groups::subject(&finding);
    view! {
        <li class=format!("finding {severity}") id=format!("finding-{index}") tabindex="-1">
            {line.map(|l| view! {
                <button class="line" on:click=move |_| goto.set(Some(l)) title="Show this line in the editor">
                    {format!("line {l}")}
                </button>
            })}
            <details class="finding-detail">
                <summary class="subject" title=subject.clone()>{subject.clone()}</summary>
                <p class="message">{message_view(&finding.message)}</p>
                {finding.fix.map(|fix| view! { <p class="fix">"Fix: " {message_view(&fix)}</p> })}
            </details>
        </li>
    }
}

/// The section of the Istio page a code implements (an empty anchor: the L4 policy page).
fn seed_section(code: Code) -> Option<(&'static str, &'static str)> {
    match code {
        Code::Amb001 | Code::Amb002 | Code::Amb004 | Code::Amb005 | Code::Amb007 => Some((
            "ambient-traffic-overlay-and-kubernetes-networkpolicy",
            "Ambient traffic overlay and Kubernetes NetworkPolicy",
        )),
        Code::Amb003 | Code::Amb006 => Some((
            "ambient-health-probes-and-kubernetes-networkpolicy",
            "Ambient, health probes, and Kubernetes NetworkPolicy",
        )),
        Code::Amb010 | Code::Amb011 | Code::Amb012 => Some((
            // A whole page, not a section of the seed's.
            "",
            "Use Layer 4 security policy",
        )),
        _ => None,
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Messages mark field names and values with backticks; show those as code. Every part is a text
/// node, so markup in the user's names stays inert.
pub fn message_view(message: &str) -> impl IntoView + use<> {
    message
        .split('`')
        .enumerate()
        .map(|(i, part)| {
            let part = part.to_string();
            if i % 2 == 1 {
                view! { <code>{part}</code> }.into_any()
            } else {
                part.into_any()
            }
        })
        .collect_view()
}

/// The rule documents' small Markdown: `## ` headings, fenced code blocks and paragraphs with
/// inline code. Rendered as elements and text nodes, never as HTML.
pub fn markdown_view(doc: &str) -> impl IntoView {
    let mut blocks = Vec::new();
    let mut paragraph = String::new();
    let mut code: Option<String> = None;
    let flush = |paragraph: &mut String, blocks: &mut Vec<AnyView>| {
        if !paragraph.trim().is_empty() {
            let text = std::mem::take(paragraph);
            let text = text.trim().replace("**", "");
            blocks.push(view! { <p>{message_view(&text)}</p> }.into_any());
        }
        paragraph.clear();
    };
    for line in doc.lines() {
        if let Some(buffer) = code.as_mut() {
            if line.starts_with("```") {
                let text = code.take().unwrap_or_default();
                blocks.push(view! { <pre><code>{text}</code></pre> }.into_any());
            } else {
                buffer.push_str(line);
                buffer.push('\n');
            }
        } else if line.starts_with("```") {
            flush(&mut paragraph, &mut blocks);
            code = Some(String::new());
        } else if let Some(heading) = line.strip_prefix("## ") {
            flush(&mut paragraph, &mut blocks);
            blocks.push(view! { <h4>{heading.to_string()}</h4> }.into_any());
        } else if line.trim().is_empty() {
            flush(&mut paragraph, &mut blocks);
        } else {
            paragraph.push_str(line);
            paragraph.push(' ');
        }
    }
    flush(&mut paragraph, &mut blocks);
    blocks
}
