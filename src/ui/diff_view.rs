//! The corrected YAML: a coloured unified diff of the input against it, with copy and download
//! buttons, and the extra documents (Cilium, AuthorizationPolicy) each with their own.

use leptos::prelude::*;

use super::{Analysis, browser};

#[component]
pub fn DiffView(analysis: Memo<Analysis>) -> impl IntoView {
    let (copied, set_copied) = signal(None::<&'static str>);
    let fixed = move || analysis.with(|a| a.report.fixed.combined());
    let diff = move || analysis.with(|a| a.diff.clone());
    let copy = move |what: &'static str, text: String| {
        let ok = browser::copy(&text);
        set_copied.set(Some(if ok {
            what
        } else {
            "Copy failed: select the text and copy it yourself"
        }));
    };
    view! {
        <section class="diff" aria-labelledby="diff-title">
            <h2 id="diff-title" class="panel-title">"Corrected YAML"</h2>
            <Show
                when=move || !diff().is_empty()
                fallback=|| view! { <p class="empty">"Nothing to change: the input needs no fix."</p> }
            >
                <div class="actions">
                    <button id="copy-fixed" on:click=move |_| copy("Fixed YAML copied", fixed())>"Copy fixed YAML"</button>
                    <button id="download-fixed" on:click=move |_| browser::download("fixed.yaml", &fixed(), "application/yaml")>
                        "Download fixed YAML"
                    </button>
                    <button id="download-diff" on:click=move |_| browser::download("ambient-netpol.diff", &diff(), "text/x-diff")>
                        "Download diff"
                    </button>
                    <span class="copied" role="status">{move || copied.get()}</span>
                </div>
                <pre class="diff-text" aria-label="Unified diff of the input against the corrected YAML">
                    {move || diff().lines().map(|line| {
                        let class = match line.as_bytes().first() {
                            Some(b'+') if !line.starts_with("+++") => "add",
                            Some(b'-') if !line.starts_with("---") => "del",
                            Some(b'@') => "hunk",
                            _ if line.starts_with("+++") || line.starts_with("---") => "file",
                            _ => "ctx",
                        };
                        view! { <span class=class>{line.to_string()}"\n"</span> }
                    }).collect_view()}
                </pre>
            </Show>
            <For
                each=move || analysis.with(|a| a.report.fixed.extras.clone())
                key=|extra| extra.name.clone()
                let:extra
            >
                {
                    let yaml = extra.yaml.clone();
                    let yaml_for_copy = extra.yaml.clone();
                    let filename = format!("{}.yaml", extra.name);
                    view! {
                        <div class="extra">
                            <h3>{format!("Extra: {} {}", extra.kind, extra.name)}</h3>
                            <div class="actions">
                                <button on:click=move |_| copy("Extra document copied", yaml_for_copy.clone())>
                                    {format!("Copy {}", extra.name)}
                                </button>
                                <button on:click=move |_| browser::download(&filename, &yaml, "application/yaml")>
                                    {format!("Download {}", extra.name)}
                                </button>
                            </div>
                            <pre class="extra-text">{extra.yaml.clone()}</pre>
                        </div>
                    }
                }
            </For>
        </section>
    }
}
