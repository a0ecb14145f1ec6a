//! The results beside the editor: one line that says how many paths ambient breaks and what the
//! fix does, then three tabs (findings, paths, corrected YAML) a user switches between without
//! scrolling past the others. The tabs follow the WAI-ARIA tabs pattern: arrow keys, Home and
//! End move between them; Tab goes into the shown panel.

use ambient_netpol::ambient::paths::{EdgeKind, Paths, ZtunnelExtent};
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::Analysis;
use super::diagram::{Diagram, View};
use super::diff_view::DiffView;
use super::findings::FindingsPanel;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    Findings,
    Paths,
    Fix,
}

const TABS: [(Tab, &str); 3] = [
    (Tab::Findings, "findings"),
    (Tab::Paths, "paths"),
    (Tab::Fix, "fix"),
];

impl Tab {
    /// The tab's name in ids and addresses (`view=paths`).
    pub fn name(self) -> &'static str {
        TABS.iter()
            .find(|(t, _)| *t == self)
            .map_or("findings", |(_, n)| n)
    }

    pub fn from_name(name: &str) -> Option<Tab> {
        TABS.iter().find(|(_, n)| *n == name).map(|(t, _)| *t)
    }
}

/// The shown tab, for the parts of the page that send the user to one (a lesson, the diagram).
#[derive(Clone, Copy)]
pub struct ResultsTab(pub RwSignal<Tab>);

/// Blocked HBONE and probe paths in a set of paths.
fn blocked(paths: &Paths) -> (usize, usize) {
    let count = |kind| {
        paths
            .edges
            .iter()
            .filter(|e| e.kind == kind && !e.allowed)
            .count()
    };
    (count(EdgeKind::Hbone), count(EdgeKind::Probe))
}

/// "10 HBONE paths and 3 probe paths", "1 probe path".
fn paths_phrase(hbone: usize, probe: usize) -> String {
    let part = |n: usize, what: &str| match n {
        0 => None,
        1 => Some(format!("1 {what} path")),
        n => Some(format!("{n} {what} paths")),
    };
    [part(hbone, "HBONE"), part(probe, "probe")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" and ")
}

/// The summary line: what ambient breaks here and what the corrected YAML leaves blocked.
fn summary(a: &Analysis) -> String {
    let (hbone, probe) = blocked(&a.report.paths);
    if a.report.paths.nodes.is_empty() && a.report.workloads > ambient_netpol::MAX_DRAWN_WORKLOADS {
        return format!(
            "{} workloads: too many to list every path; the findings say what breaks.",
            a.report.workloads
        );
    }
    // Connections the CNI lets through and ztunnel refuses (Istio's security policy).
    let refused = a
        .report
        .paths
        .ztunnel
        .iter()
        .filter(|z| z.extent == ZtunnelExtent::All)
        .count();
    let refused_phrase = match refused {
        1 => "ztunnel refuses 1 connection that the CNI lets through (Istio's security policy)"
            .to_string(),
        n => format!(
            "ztunnel refuses {n} connections that the CNI lets through (Istio's security policy)"
        ),
    };
    if hbone + probe == 0 {
        return if refused == 0 {
            "Once enrolled, ambient blocks no path of this input.".to_string()
        } else {
            format!("Once enrolled, the CNI blocks no path of this input, but {refused_phrase}.")
        };
    }
    let after = a.fixed_paths.as_ref().map_or((hbone, probe), blocked);
    let left = after.0 + after.1;
    let fix = if a.diff.is_empty() {
        "nothing here can be corrected automatically".to_string()
    } else if left == 0 {
        "the corrected YAML opens every one".to_string()
    } else {
        format!(
            "the corrected YAML opens {} of them; {} {} blocked",
            (hbone + probe).saturating_sub(left),
            paths_phrase(after.0, after.1),
            if left == 1 { "stays" } else { "stay" }
        )
    };
    let also = if refused == 0 {
        String::new()
    } else {
        format!(" Besides, {refused_phrase}.")
    };
    format!(
        "Once enrolled, ambient blocks {}: {fix}.{also}",
        paths_phrase(hbone, probe)
    )
}

#[component]
pub fn Results(
    analysis: ReadSignal<Analysis>,
    stopped: Signal<bool>,
    view_mode: RwSignal<View>,
    reveal: ReadSignal<Option<usize>>,
) -> impl IntoView {
    let ResultsTab(tab) = expect_context::<ResultsTab>();
    // The diagram asks for a finding: show the findings first.
    Effect::new(move |_| {
        if reveal.get().is_some() {
            tab.set(Tab::Findings);
        }
    });
    let findings_count = move || analysis.with(|a| a.report.findings.len());
    let label = move |t: Tab| match t {
        Tab::Findings => format!("Findings ({})", findings_count()),
        Tab::Paths => "Paths".to_string(),
        Tab::Fix => {
            if analysis.with(|a| a.diff.is_empty()) {
                "Corrected YAML".to_string()
            } else {
                "Corrected YAML ●".to_string()
            }
        }
    };
    // Arrow keys, Home and End move the selection and the focus along the tabs.
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let current = TABS.iter().position(|(t, _)| *t == tab.get_untracked());
        let Some(current) = current else { return };
        let next = match ev.key().as_str() {
            "ArrowRight" => (current + 1) % TABS.len(),
            "ArrowLeft" => (current + TABS.len() - 1) % TABS.len(),
            "Home" => 0,
            "End" => TABS.len() - 1,
            _ => return,
        };
        ev.prevent_default();
        tab.set(TABS[next].0);
        if let Some(button) = document()
            .get_element_by_id(&format!("tab-{}", TABS[next].1))
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = button.focus();
        }
    };
    let tab_button = move |(t, id): (Tab, &'static str)| {
        view! {
            <button
                role="tab"
                id=format!("tab-{id}")
                class="tab"
                aria-controls=format!("panel-{id}")
                aria-selected=move || (tab.get() == t).to_string()
                tabindex=move || if tab.get() == t { "0" } else { "-1" }
                on:click=move |_| tab.set(t)
            >
                {move || label(t)}
            </button>
        }
    };
    let panel = move |t: Tab, id: &'static str, content: AnyView| {
        view! {
            <div
                role="tabpanel"
                id=format!("panel-{id}")
                class="tab-panel"
                aria-labelledby=format!("tab-{id}")
                hidden=move || tab.get() != t
            >
                {content}
            </div>
        }
    };
    view! {
        <div class="results">
            <div class="summary-bar">
                <p class="summary" aria-live="polite">
                    {move || analysis.with(|a| (a.id != 0).then(|| summary(a)))}
                </p>
                <Show when=move || analysis.with(|a| !a.diff.is_empty())>
                    <button class="take-fix" on:click=move |_| tab.set(Tab::Fix)>"Review the corrected YAML"</button>
                </Show>
            </div>
            <div class="tabs" role="tablist" aria-label="Results" on:keydown=on_key>
                {TABS.map(tab_button).collect_view()}
            </div>
            {panel(Tab::Findings, "findings", view! { <FindingsPanel analysis=analysis stopped=stopped reveal=reveal /> }.into_any())}
            {panel(Tab::Paths, "paths", view! { <Diagram analysis=analysis view_mode=view_mode /> }.into_any())}
            {panel(Tab::Fix, "fix", view! { <DiffView analysis=analysis /> }.into_any())}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ambient_netpol::ambient::paths::Edge;

    fn edge(kind: EdgeKind, allowed: bool) -> Edge {
        Edge {
            from: "a".into(),
            to: "b".into(),
            kind,
            port: String::new(),
            allowed,
            blocked_by: Vec::new(),
            explanation: String::new(),
        }
    }

    fn analysis(before: Vec<Edge>, after: Option<Vec<Edge>>) -> Analysis {
        let mut a = Analysis {
            id: 1,
            ..Analysis::default()
        };
        a.report.paths.edges = before;
        a.report.paths.nodes = vec![ambient_netpol::ambient::paths::Node {
            id: "a".into(),
            namespace: String::new(),
            label: "a".into(),
            kind: ambient_netpol::ambient::paths::NodeKind::Workload,
            ambient: true,
            ingress_isolated: true,
            egress_isolated: false,
        }];
        a.diff = if after.is_some() {
            "diff".into()
        } else {
            String::new()
        };
        a.fixed_paths = after.map(|edges| Paths {
            edges,
            ..Paths::default()
        });
        a
    }

    #[test]
    fn the_summary_counts_blocked_tunnels_and_probes_and_what_the_fix_leaves() {
        use EdgeKind::*;
        let before = vec![
            edge(App, true),
            edge(Hbone, false),
            edge(Hbone, false),
            edge(Hbone, true),
            edge(Probe, false),
        ];
        let all_fixed = analysis(
            before.clone(),
            Some(vec![edge(Hbone, true), edge(Probe, true)]),
        );
        assert_eq!(
            summary(&all_fixed),
            "Once enrolled, ambient blocks 2 HBONE paths and 1 probe path: the corrected YAML opens every one."
        );
        let one_left = analysis(before.clone(), Some(vec![edge(Probe, false)]));
        assert_eq!(
            summary(&one_left),
            "Once enrolled, ambient blocks 2 HBONE paths and 1 probe path: the corrected YAML opens 2 of them; 1 probe path stays blocked."
        );
        let no_fix = analysis(before, None);
        assert!(summary(&no_fix).ends_with("nothing here can be corrected automatically."));
        let fine = analysis(vec![edge(App, true), edge(Hbone, true)], None);
        assert_eq!(
            summary(&fine),
            "Once enrolled, ambient blocks no path of this input."
        );
        // What ztunnel refuses is said too, never "no path" (only whole refusals count).
        let denial = |extent| ambient_netpol::ambient::paths::ZtunnelDenial {
            from: "a".into(),
            to: "a".into(),
            extent,
            port: "TCP 8080".into(),
            uncertain: String::new(),
            identity: None,
            denied_by: vec!["AuthorizationPolicy x/y".into()],
            explanation: String::new(),
        };
        let mut refused = analysis(vec![edge(App, true), edge(Hbone, true)], None);
        refused.report.paths.ztunnel =
            vec![denial(ZtunnelExtent::All), denial(ZtunnelExtent::Some)];
        assert_eq!(
            summary(&refused),
            "Once enrolled, the CNI blocks no path of this input, but ztunnel refuses 1 connection that the CNI lets through (Istio's security policy)."
        );
        refused.report.paths.edges.push(edge(Probe, false));
        assert_eq!(
            summary(&refused),
            "Once enrolled, ambient blocks 1 probe path: nothing here can be corrected automatically. Besides, ztunnel refuses 1 connection that the CNI lets through (Istio's security policy)."
        );
    }
}
