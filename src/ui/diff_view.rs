//! The corrected YAML: a coloured unified diff of the input against it, with copy and download
//! buttons, and the extra documents (Cilium, AuthorizationPolicy) in one block: one copy and one
//! download of them all as a multi-document file, each document expandable on its own.

use leptos::prelude::*;

use super::cap::Cap;
use super::copy::{Notes, NotesView};
use super::{Analysis, browser};

/// Extra documents drawn before a "Show all" button (one AuthorizationPolicy per destination can
/// make hundreds; the combined copy and download are not affected).
const SHOWN_EXTRAS: usize = 20;

/// Diff lines drawn before a "Show all" button (a whole cluster's diff can have tens of
/// thousands; copy and download always take all of it).
const SHOWN_LINES: usize = 400;

#[component]
pub fn DiffView(analysis: ReadSignal<Analysis>) -> impl IntoView {
    let notes = Notes::new();
    let extra_notes = Notes::new();
    let (side_by_side, set_side_by_side) = signal(false);
    let lines = Cap::new(SHOWN_LINES);
    let extras = Cap::new(SHOWN_EXTRAS);
    let fixed = move || analysis.with(|a| a.report.fixed.combined());
    let diff = move || analysis.with(|a| a.diff.clone());
    let extras_yaml = move || analysis.with(|a| a.report.fixed.extras_combined());
    view! {
        <section class="diff" aria-labelledby="diff-title">
            <h2 id="diff-title" class="panel-title">"Corrected YAML"</h2>
            <Show
                when=move || analysis.with(|a| !a.diff.is_empty())
                fallback=move || view! {
                    <p class="empty">
                        {move || if analysis.with(|a| a.checking) {
                            "Checking the fix…"
                        } else {
                            "Nothing to change: the input needs no fix."
                        }}
                    </p>
                }
            >
                <div class="actions">
                    <button id="copy-fixed" on:click=move |_| notes.copy(fixed(), "Fixed YAML copied", "the fixed YAML")>"Copy fixed YAML"</button>
                    <button id="download-fixed" on:click=move |_| browser::download("fixed.yaml", &fixed(), "application/yaml")>
                        "Download fixed YAML"
                    </button>
                    <button id="download-diff" on:click=move |_| browser::download("ambient-netpol.diff", &diff(), "text/x-diff")>
                        "Download diff"
                    </button>
                </div>
                <NotesView notes=notes class="copied fix-note" />
                <label class="side-by-side-toggle">
                    <input
                        type="checkbox"
                        id="side-by-side"
                        prop:checked=move || side_by_side.get()
                        on:change=move |ev| set_side_by_side.set(event_target_checked(&ev))
                    />
                    " Side by side"
                </label>
                <Show
                    when=move || side_by_side.get()
                    fallback=move || view! {
                        <pre class="diff-text" tabindex="0" aria-label="Unified diff of the input against the corrected YAML">
                            {move || analysis.with(|a| a.diff.lines().take(lines.limit()).map(|line| {
                                let class = match line.as_bytes().first() {
                                    Some(b'+') if !line.starts_with("+++") => "add",
                                    Some(b'-') if !line.starts_with("---") => "del",
                                    Some(b'@') => "hunk",
                                    _ if line.starts_with("+++") || line.starts_with("---") => "file",
                                    _ => "ctx",
                                };
                                view! { <span class=class>{line.to_string()}"\n"</span> }
                            }).collect_view())}
                        </pre>
                    }
                >
                    <div class="side-by-side" tabindex="0" role="table" aria-label="The input and the corrected YAML, side by side">
                        {move || side_by_side_rows(&diff()).into_iter().take(lines.limit()).map(|(left, right)| {
                            let cell = |side: Option<(char, String)>| match side {
                                Some((kind, text)) => {
                                    let class = match kind { '-' => "del", '+' => "add", '@' => "hunk", _ => "ctx" };
                                    view! { <pre class=class role="cell">{text}</pre> }.into_any()
                                }
                                None => view! { <pre class="gap" role="cell"></pre> }.into_any(),
                            };
                            view! { <div class="row" role="row">{cell(left)}{cell(right)}</div> }
                        }).collect_view()}
                    </div>
                </Show>
                {lines.button(
                    move || analysis.with(|a| a.diff.lines().count()),
                    |n| format!("Show the whole diff ({n} more lines)"),
                )}
            </Show>
            <Show when=move || analysis.with(|a| !a.report.fixed.extras.is_empty())>
                <div class="extras" role="group" aria-labelledby="extras-title">
                    <h3 id="extras-title">
                        {move || analysis.with(|a| match a.report.fixed.extras.len() {
                            1 => "Extra document (1)".to_string(),
                            n => format!("Extra documents ({n})"),
                        })}
                    </h3>
                    <p class="hint">
                        "New resources to apply besides the corrected YAML, all in one file: "
                        <code>"kubectl apply -f extras.yaml"</code>
                    </p>
                    <div class="actions">
                        <button id="copy-extras" on:click=move |_| extra_notes.copy(extras_yaml(), "Extra documents copied", "the extra documents")>
                            "Copy extra documents"
                        </button>
                        <button id="download-extras" on:click=move |_| browser::download("extras.yaml", &extras_yaml(), "application/yaml")>
                            "Download extras.yaml"
                        </button>
                    </div>
                    <NotesView notes=extra_notes class="copied extras-note" />
                    <For
                        each=move || {
                            let limit = extras.limit();
                            analysis.with(|a| a.report.fixed.extras.iter().take(limit).cloned().collect::<Vec<_>>())
                        }
                        // By content too: an edit can change a document and keep its name.
                        key=|extra| (extra.name.clone(), extra.yaml.clone())
                        let:extra
                    >
                        <details class="extra">
                            <summary><h4>{format!("{} {}", extra.kind, extra.name)}</h4></summary>
                            <pre class="extra-text" tabindex="0" aria-label=format!("{} {}", extra.kind, extra.name)>{extra.yaml.clone()}</pre>
                        </details>
                    </For>
                    {extras.button(
                        move || analysis.with(|a| a.report.fixed.extras.len()),
                        |n| format!("Show {n} more extra documents"),
                    )}
                </div>
            </Show>
        </section>
    }
}

/// A row of the side-by-side view: (kind, text) on the left (input) and the right (corrected),
/// `None` where the other side has a line the one side lacks.
type Row = (Option<(char, String)>, Option<(char, String)>);

/// The unified diff as aligned rows: context on both sides, removals left, additions right (a
/// removal and the additions that follow it share rows).
fn side_by_side_rows(diff: &str) -> Vec<Row> {
    let mut rows: Vec<Row> = Vec::new();
    let mut pending_dels: Vec<String> = Vec::new();
    let mut adds: Vec<String> = Vec::new();
    let flush = |rows: &mut Vec<Row>, dels: &mut Vec<String>, adds: &mut Vec<String>| {
        let n = dels.len().max(adds.len());
        let mut d = dels.drain(..);
        let mut a = adds.drain(..);
        for _ in 0..n {
            rows.push((d.next().map(|t| ('-', t)), a.next().map(|t| ('+', t))));
        }
    };
    for line in diff.lines() {
        if line.starts_with("---") || line.starts_with("+++") || line.starts_with('\\') {
            continue;
        }
        match line.chars().next() {
            Some('-') => pending_dels.push(line[1..].to_string()),
            Some('+') => adds.push(line[1..].to_string()),
            Some('@') => {
                flush(&mut rows, &mut pending_dels, &mut adds);
                rows.push((Some(('@', line.to_string())), Some(('@', line.to_string()))));
            }
            _ => {
                flush(&mut rows, &mut pending_dels, &mut adds);
                let text = line.get(1..).unwrap_or_default().to_string();
                rows.push((Some((' ', text.clone())), Some((' ', text))));
            }
        }
    }
    flush(&mut rows, &mut pending_dels, &mut adds);
    rows
}
