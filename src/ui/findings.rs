//! The findings panel: counts by severity and one entry a finding; clicking an entry moves the
//! editor to its line.

use ambient_netpol::{Finding, Severity};
use leptos::prelude::*;

use super::{Analysis, GoToLine};

#[component]
pub fn FindingsPanel(analysis: Memo<Analysis>) -> impl IntoView {
    let count = move |severity: Severity| analysis.with(|a| a.report.count(severity));
    let status = move || {
        analysis.with(|a| {
            format!(
                "Analysed {} objects in {} documents in {:.1} ms",
                a.report.objects, a.report.documents, a.millis
            )
        })
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
                when=move || analysis.with(|a| !a.report.findings.is_empty())
                fallback=|| view! { <p class="empty">"No findings: nothing in this input breaks."</p> }
            >
                <ol class="finding-list">
                    {move || analysis.with(|a| a.report.findings.iter().cloned().map(|f| view! { <FindingItem finding=f /> }).collect_view())}
                </ol>
            </Show>
            <p class="status">{status}</p>
        </section>
    }
}

#[component]
fn FindingItem(finding: Finding) -> impl IntoView {
    let GoToLine(goto) = expect_context::<GoToLine>();
    let line = finding.line();
    let severity = finding.severity.as_str();
    let subject = [finding.policy.clone(), finding.workload.clone()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ");
    view! {
        <li class=format!("finding {severity}")>
            <button
                class="finding-button"
                on:click=move |_| goto.set(line)
                disabled=line.is_none()
            >
                <span class="code">{finding.code.id()}</span>
                <span class="severity">{severity}</span>
                <span class="line">{line.map(|l| format!("line {l}"))}</span>
                <span class="subject">{subject}</span>
                <span class="message">{message_view(&finding.message)}</span>
                {finding.fix.map(|fix| view! { <span class="fix">"Fix: " {message_view(&fix)}</span> })}
            </button>
        </li>
    }
}

/// Messages mark field names and values with backticks; show those as code. Every part is a text
/// node, so markup in the user's names stays inert.
fn message_view(message: &str) -> impl IntoView + use<> {
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

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}
