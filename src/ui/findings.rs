//! The findings panel: findings grouped by severity with counts; each shows code, policy,
//! workload and message, expands to the rule's explanation (the text `check --explain` prints)
//! and links to the part of the Istio page it implements; its line button moves the editor there.

use ambient_netpol::{Code, Finding, Severity};
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::cap::Cap;
use super::{Analysis, GoToLine};

const SEED_PAGE: &str = "https://istio.io/latest/docs/ambient/usage/networkpolicy/";

/// Findings listed per severity before a "Show all" button: a whole cluster can have thousands,
/// and drawing them all made each analysis of the L cluster cost the page ~0.5 s (BENCHMARKS.md).
const SHOWN_PER_GROUP: usize = 50;

#[component]
pub fn FindingsPanel(
    analysis: Memo<Analysis>,
    /// The worker failed or was stopped (the page's banner says why).
    stopped: Signal<bool>,
) -> impl IntoView {
    let count = move |severity: Severity| analysis.with(|a| a.report.count(severity));
    let status = move || {
        analysis.with(|a| {
            if a.id == 0 && stopped.get() {
                return "Not analysed: see the message at the top.".to_string();
            }
            if a.id == 0 {
                return "Starting the analysis worker…".to_string();
            }
            format!(
                "Analysed {} objects in {} documents in {:.1} ms",
                a.report.objects, a.report.documents, a.millis
            )
        })
    };
    // (`noun` is spelled out: `to_lowercase` would bring Unicode's case tables, 9 KB of wasm.)
    let group = move |severity: Severity, title: &'static str, noun: &'static str| {
        let cap = Cap::new(SHOWN_PER_GROUP);
        view! {
            <Show when=move || count(severity) != 0>
                <h3 class=format!("group-title {}", severity.as_str())>
                    {title} " (" {move || count(severity)} ")"
                </h3>
                <ol class="finding-list">
                    {move || {
                        let limit = cap.limit();
                        analysis.with(|a| {
                            a.report
                                .findings
                                .iter()
                                .filter(|f| f.severity == severity)
                                .take(limit)
                                .cloned()
                                .map(|f| view! { <FindingItem finding=f /> })
                                .collect_view()
                        })
                    }}
                </ol>
                {cap.button(move || count(severity), move |n| format!("Show {n} more {noun}"))}
            </Show>
        }
    };
    view! {
        <section class="findings" aria-labelledby="findings-title">
            <h2 id="findings-title" class="panel-title">"Findings"</h2>
            <p class="counts" aria-live="polite">
                <span class="count error">{move || plural(count(Severity::Error), "error")}</span>
                <span class="count warning">{move || plural(count(Severity::Warning), "warning")}</span>
                <span class="count info">{move || format!("{} info", count(Severity::Info))}</span>
            </p>
            <Show
                when=move || analysis.with(|a| a.id == 0 || !a.report.findings.is_empty())
                fallback=|| view! { <p class="empty">"No findings: nothing in this input breaks under ambient."</p> }
            >
                <Show when=move || analysis.with(|a| a.id == 0) && !stopped.get()>
                    <p class="empty">"Analysing…"</p>
                </Show>
                {group(Severity::Error, "Errors", "errors")}
                {group(Severity::Warning, "Warnings", "warnings")}
                {group(Severity::Info, "Information", "information findings")}
            </Show>
            <ul class="notes">
                {move || analysis.with(|a| a.report.notes.iter().map(|n| view! { <li>{message_view(n)}</li> }).collect_view())}
            </ul>
            <p class="status">{status}</p>
        </section>
    }
}

#[component]
fn FindingItem(finding: Finding) -> impl IntoView {
    let GoToLine(goto) = expect_context::<GoToLine>();
    let line = finding.line();
    let severity = finding.severity.as_str();
    let rule = finding.code.rule();
    let subject = [finding.policy.clone(), finding.workload.clone()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ");
    let seed_section = seed_section(finding.code);
    // The explanation is drawn when opened: thousands of closed ones cost the page time.
    let open = RwSignal::new(false);
    let on_toggle = move |ev: leptos::ev::Event| {
        if let Some(details) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlDetailsElement>().ok())
        {
            open.set(details.open());
        }
    };
    view! {
        <li class=format!("finding {severity}")>
            <div class="finding-head">
                <span class="code">{rule.id}</span>
                <span class="severity">{severity}</span>
                <span class="title">{rule.title}</span>
                {line.map(|l| view! {
                    <button class="line" on:click=move |_| goto.set(Some(l)) title="Show this line in the editor">
                        {format!("line {l}")}
                    </button>
                })}
            </div>
            <p class="subject">{subject}</p>
            <p class="message">{message_view(&finding.message)}</p>
            {finding.fix.map(|fix| view! { <p class="fix">"Fix: " {message_view(&fix)}</p> })}
            <details class="explanation" on:toggle=on_toggle>
                <summary>{format!("About {}", rule.id)}</summary>
                <Show when=move || open.get()>
                    <div class="doc">{markdown_view(rule.explanation())}</div>
                    {seed_section.map(|(anchor, name)| view! {
                        <p class="seed-link">
                            <a href=format!("{SEED_PAGE}#{anchor}") target="_blank" rel="noopener noreferrer">
                                {format!("Istio docs: {name}")}
                            </a>
                        </p>
                    })}
                </Show>
            </details>
        </li>
    }
}

/// The section of the Istio page a code implements.
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
pub fn markdown_view(doc: &'static str) -> impl IntoView {
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
