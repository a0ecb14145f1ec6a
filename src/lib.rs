//! ambient-netpol's core: finds the Kubernetes NetworkPolicies that break Istio ambient mode.
//!
//! Pure Rust: no I/O, no web APIs. The CLI (`src/bin/`) and the playground page (`src/main.rs`,
//! `src/ui/`) are thin shells over [`analyze`].

pub mod ambient;
pub mod calico;
pub mod cilium;
pub mod cnp;
pub mod diff;
pub mod exercise;
pub mod findings;
pub mod fix;
pub mod input;
pub mod istio;
pub mod layout;
pub mod model;
pub mod net;
pub mod netpol;
pub mod pipeline;
pub mod report;
pub mod rules;
pub mod sort;

pub use findings::{Code, Finding, Location, Severity};
pub use input::Source;

/// How to analyse; every field has the default the CLI and the page start with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// The CNI enforcing NetworkPolicy (decides whether SNATed probes are blocked).
    pub cni: ambient::Cni,
    /// Who is in the ambient mesh.
    pub mode: ambient::mesh::MeshMode,
    /// Where kubelet probes come from once pods are enrolled.
    pub probe_snat: ambient::ProbeSnat,
    /// Edit the user's policies, or add separate ones.
    pub fix_style: ambient::FixStyle,
    /// Whether policies apply to `hostNetwork: true` pods (CNI-dependent).
    pub host_network: pipeline::engine::HostNetwork,
    /// Whether Istio proxies (sidecars, gateways) tunnel to ambient destinations over HBONE
    /// (proxy metadata `ENABLE_HBONE`, on in the `ambient` profile). Off: they keep the
    /// original port, as before ambient.
    pub proxy_hbone: bool,
    /// Namespaces istio-cni never captures (its `excludeNamespaces`), whatever their labels.
    pub exclude_namespaces: Vec<String>,
    /// Where istiod runs: gateways and waypoints need 15012/TCP to it.
    pub istiod_namespace: String,
    /// The mesh's trust domain: principals are `<trust domain>/ns/<namespace>/sa/<account>`.
    pub trust_domain: String,
    /// Istio's root namespace: its AuthorizationPolicies and PeerAuthentications without a
    /// selector apply to the whole mesh.
    pub istio_root_namespace: String,
    /// The pods' address ranges (`--pod-cidr`): under Calico, `nets` and `ipBlock` blocks match
    /// the pods whose range they overlap. Empty: unknown (pods are assumed inside the blocks).
    pub pod_cidrs: Vec<net::ip::Cidr>,
}

impl Options {
    /// The policy engine for these options: Calico's semantics under `--cni calico`, Cilium's
    /// reading of `ipBlock` under `--cni cilium`.
    pub fn engine<'c>(&self, cluster: &'c pipeline::Cluster) -> pipeline::engine::Engine<'c> {
        pipeline::engine::Engine::for_cni(
            cluster,
            self.host_network,
            self.calico_pods(),
            self.cni == ambient::Cni::Cilium,
        )
    }

    /// Where pods' addresses are, under `--cni calico`; `None` for other CNIs.
    pub fn calico_pods(&self) -> Option<calico::eval::PodAddresses> {
        (self.cni == ambient::Cni::Calico).then(|| calico::eval::PodAddresses {
            ranges: (!self.pod_cidrs.is_empty()).then(|| {
                self.pod_cidrs
                    .iter()
                    .fold(net::ip::IpSet::default(), |acc, c| acc.union(&c.set()))
            }),
        })
    }
}

/// istio-cni's default `excludeNamespaces`.
pub const DEFAULT_EXCLUDED_NAMESPACES: &[&str] = &["kube-system", "istio-system"];

impl Default for Options {
    fn default() -> Self {
        Options {
            cni: Default::default(),
            mode: Default::default(),
            probe_snat: Default::default(),
            fix_style: Default::default(),
            host_network: Default::default(),
            proxy_hbone: true,
            exclude_namespaces: DEFAULT_EXCLUDED_NAMESPACES
                .iter()
                .map(|ns| ns.to_string())
                .collect(),
            istiod_namespace: "istio-system".into(),
            trust_domain: "cluster.local".into(),
            istio_root_namespace: "istio-system".into(),
            pod_cidrs: Vec::new(),
        }
    }
}

/// The result of one analysis.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Report {
    /// Sorted by source, line, then code.
    pub findings: Vec<Finding>,
    /// Kubernetes objects read (ignored kinds not counted).
    pub objects: usize,
    /// Non-empty documents read, broken ones included.
    pub documents: usize,
    /// Workloads analysed, inferred ones included (paths are drawn up to [`MAX_DRAWN_WORKLOADS`]).
    #[serde(default)]
    pub workloads: usize,
    /// Things the user should know about how the input was read (e.g. assumed enrollment).
    pub notes: Vec<String>,
    /// The input with every automatic fix applied.
    pub fixed: fix::Fixed,
    /// The app, HBONE and probe paths for drawing (past [`MAX_DRAWN_WORKLOADS`], only their
    /// counts per pair of namespaces).
    pub paths: ambient::paths::Paths,
}

/// Past this many workloads the paths are not computed one by one (the cost and the size grow
/// with the square of the workloads): only their counts per pair of namespaces.
pub const MAX_DRAWN_WORKLOADS: usize = 300;

impl Report {
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }
}

/// The input read as a cluster, with the findings reading it produced.
#[derive(Debug)]
pub struct Loaded {
    pub cluster: pipeline::Cluster,
    pub findings: Vec<Finding>,
    pub objects: usize,
    pub documents: usize,
    /// Where a `---` line is missing (INP006): source and byte offset.
    pub joined: Vec<(usize, usize)>,
}

/// Reads the sources into a cluster: parsing, validation, model (INP findings only).
pub fn load(sources: &[Source]) -> Loaded {
    let loaded = input::load(sources);
    let (cluster, invalid) = pipeline::load(&loaded.objects);
    let mut findings = loaded.findings;
    findings.extend(invalid);
    Loaded {
        cluster,
        findings,
        objects: loaded.objects.len(),
        documents: loaded.documents,
        joined: loaded.joined,
    }
}

/// Analyses the given sources (files, standard input or the page's text) as one cluster.
///
/// Nothing leaves unchecked: the corrected text is analysed again, and unless it reads as well as
/// the input did and no fix it was meant to make is still wanted, it is withheld (the input is
/// returned unchanged) and an INT001 error says why.
pub fn analyze(sources: &[Source], options: &Options) -> Report {
    analyze_unchecked(sources, options).check(options)
}

/// The findings of [`analyze`], for a report that does not show the corrected text: its fix is
/// made (for the extra documents it asks for and its notes) but not checked, so no INT001 and
/// no next round; a note says when a next round may add to it. No paths.
pub fn findings(sources: &[Source], options: &Options) -> Report {
    let input = input::load(sources);
    let loaded = loaded(&input, &input.objects);
    let mut report = analyze_loaded(sources, loaded, options, Fixing::Findings);
    if may_take_rounds(&input, &report) && fixable_errors(&report.findings).next().is_some() {
        report.notes.push(UNCHECKED.into());
    }
    report
}

/// The note of [`findings`] where the check of a fix can add a round.
pub const UNCHECKED: &str = "the fix is checked only with --fix FILE, --diff or --write: for cluster-wide or Calico policies, or traffic a fix sends through a waypoint, that check can add a second round of fixes and extra documents";

/// Whether the input has policies of layers that pass a decision on (cluster-wide or Calico):
/// their fix may need a next round ([`Unchecked::check`]).
fn layered(input: &input::Loaded) -> bool {
    input
        .objects
        .iter()
        .any(|o| cnp::is_cluster_policy(o) || calico::is_calico(o))
}

/// Whether the check of `report`'s fix may go on to a next round: the input has layered
/// policies, or the fix sends traffic through a waypoint, and no `---` is missing.
fn may_take_rounds(input: &input::Loaded, report: &Report) -> bool {
    (layered(input) || report.fixed.reroutes) && input.joined.is_empty()
}

/// [`analyze`] in two steps, for a caller that shows the findings before the fix is checked (the
/// page): the findings and paths of [`Unchecked::report`] are final but for an INT001 error that
/// the check may add (and the fixer's notes may change when the fix is made again); its fix must
/// not be offered before [`Unchecked::check`].
pub fn analyze_unchecked<'a>(sources: &'a [Source<'a>], options: &Options) -> Unchecked<'a> {
    let input = input::load(sources);
    let loaded = loaded(&input, &input.objects);
    let report = analyze_loaded(sources, loaded, options, Fixing::Fast);
    Unchecked {
        sources,
        input,
        report,
    }
}

/// An analysis whose fix is not checked yet ([`analyze_unchecked`]).
pub struct Unchecked<'a> {
    sources: &'a [Source<'a>],
    input: input::Loaded,
    /// The findings and paths (final but for INT001) and the unchecked fix: not to be offered.
    pub report: Report,
}

impl Unchecked<'_> {
    /// The report [`analyze`] gives: the fix is checked, made again with every edited document
    /// verified if the check fails, and withheld (INT001) if it fails again.
    pub fn check(self, options: &Options) -> Report {
        let Unchecked {
            sources,
            input,
            mut report,
        } = self;
        // A fix of a cluster-wide policy can hand a decision to NetworkPolicy (a Pass rule
        // that now passes 15008 on), whose own fix shows only on the fixed text; a Service
        // labelled to use a waypoint (AMB010) sends the traffic on a new path, the waypoint
        // hop, whose own fixes show only there: one more round, on top of the first.
        let layered = layered(&input);
        let rounds = may_take_rounds(&input, &report);
        if let Err(failed) = check_fix(sources, &input.objects, &report, options, rounds) {
            let next = failed.next.as_deref();
            if layered
                && let Some(next) = next_round(
                    sources,
                    &report,
                    options,
                    "the first hands 15008/TCP on to another policy, which then decides it",
                    next,
                )
            {
                return next;
            }
            if report.fixed.reroutes
                && let Some(next) = next_round(
                    sources,
                    &report,
                    options,
                    "the first sends the traffic through a waypoint, whose hop then needs its own rules",
                    next,
                )
            {
                return next;
            }
            // Again, with every edited document verified: a policy whose edit is not safe is
            // fixed by a separate policy instead.
            report = analyze_loaded(
                sources,
                loaded(&input, &input.objects),
                options,
                Fixing::Careful,
            );
            if check_fix(sources, &input.objects, &report, options, false).is_err() {
                withhold(sources, &mut report, failed.problems);
            }
        }
        report
    }
}

fn loaded(input: &input::Loaded, objects: &[input::Object]) -> Loaded {
    let (cluster, invalid) = pipeline::load(objects);
    let mut findings = input.findings.clone();
    findings.extend(invalid);
    Loaded {
        cluster,
        findings,
        objects: objects.len(),
        documents: input.documents,
        joined: input.joined.clone(),
    }
}

/// What the analysis does besides finding.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fixing {
    /// Nothing: the check of a fix needs only the findings.
    No,
    /// Fix, trusting the edits (the check that follows catches a bad one).
    Fast,
    /// Fix, parsing every edited document again first.
    Careful,
    /// Fix (as `Fast`) only where the findings the check of a fix needs hold a fixable error:
    /// the check that fails goes on to make the next round's fix (without paths: the first
    /// round's are drawn).
    IfFailing,
    /// Fix (as `Fast`), without paths: for a report that shows the findings, not the fix
    /// ([`findings`]).
    Findings,
}

/// Whether the check of a fix fails on `findings`: some error its fix removes remains.
fn fixable_errors(findings: &[Finding]) -> impl Iterator<Item = &Finding> {
    findings
        .iter()
        .filter(|f| f.fixable && f.severity == Severity::Error)
}

/// A check of a fix that failed ([`check_fix`]).
struct Failed {
    /// What is wrong.
    problems: Vec<String>,
    /// When asked for and some fixable error remains: the next round, made from the check's own
    /// reading of the corrected text.
    next: Option<Box<NextRound>>,
}

/// The analysis of a corrected text with its own fix, and the objects it was read into.
struct NextRound {
    objects: Vec<input::Object>,
    report: Report,
}

/// The check before a fix leaves the core: the corrected text is analysed again and must read as
/// well as the input did, with no fix it was meant to make still wanted. `objects` are those
/// `sources` were read into: the documents the fix leaves as they were are not read again.
/// `Err` says what is wrong and, with `then_fix`, brings the next round's analysis and fix of
/// the corrected text (the objects kept are moved to where the fix put them).
fn check_fix(
    sources: &[Source],
    objects: &[input::Object],
    report: &Report,
    options: &Options,
    then_fix: bool,
) -> Result<(), Failed> {
    if report
        .fixed
        .texts
        .iter()
        .zip(sources)
        .all(|(t, s)| t == s.text)
    {
        return Ok(());
    }
    let fixed: Vec<Source> = sources
        .iter()
        .zip(&report.fixed.texts)
        .map(|(s, text)| Source { name: s.name, text })
        .collect();
    let texts: Vec<&str> = report.fixed.texts.iter().map(String::as_str).collect();
    let mut fresh = Vec::new();
    let (reloaded, unreadable) = input::reload(sources, &texts, objects, &mut fresh);
    let moved: Vec<input::Object> = if then_fix {
        reloaded
            .iter()
            .map(|&(o, to)| to.map_or_else(|| o.clone(), |to| o.moved(to)))
            .collect()
    } else {
        Vec::new()
    };
    let (cluster, mut findings) = if then_fix {
        pipeline::load(&moved)
    } else {
        pipeline::load(reloaded.iter().map(|&(o, _)| o))
    };
    // A syntax error in what the fix wrote, or more invalid fields than the input had.
    let count = |findings: &[Finding], code| findings.iter().filter(|f| f.code == code).count();
    let worse = count(&unreadable, Code::Inp001) > 0
        || count(&unreadable, Code::Inp003) + count(&findings, Code::Inp003)
            > count(&report.findings, Code::Inp003);
    findings.extend(unreadable);
    let loaded = Loaded {
        cluster,
        findings,
        objects: moved.len(),
        documents: 0,
        joined: Vec::new(),
    };
    let fixing = if then_fix {
        Fixing::IfFailing
    } else {
        Fixing::No
    };
    let again = analyze_loaded(&fixed, loaded, options, fixing);
    let mut problems: Vec<String> = fixable_errors(&again.findings)
        .map(|f| format!("{} ({})", f.code.id(), f.message))
        .collect();
    let fixed_again = again.fixed.texts.len() == sources.len();
    let next = (then_fix && fixed_again && !problems.is_empty()).then(|| {
        Box::new(NextRound {
            objects: moved,
            report: again,
        })
    });
    if worse {
        problems.insert(
            0,
            "the corrected YAML has input errors the input did not have".into(),
        );
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Failed { problems, next })
    }
}

/// The fix of `report`'s fixed text, on top of it, when that one passes its check: the report
/// keeps the findings of the input, and its notes say what the second round fixed. `given` is
/// that round when the check of the first made it.
fn next_round(
    sources: &[Source],
    report: &Report,
    options: &Options,
    why: &str,
    given: Option<&NextRound>,
) -> Option<Report> {
    next_round_within(sources, report, options, why, MORE_ROUNDS, given)
}

/// Rounds [`next_round`] may take after the second: a chain of Pass rules across Calico tiers
/// hands 15008/TCP on one tier per round.
const MORE_ROUNDS: usize = 2;

fn next_round_within(
    sources: &[Source],
    report: &Report,
    options: &Options,
    why: &str,
    more: usize,
    given: Option<&NextRound>,
) -> Option<Report> {
    let fixed: Vec<Source> = sources
        .iter()
        .zip(&report.fixed.texts)
        .map(|(s, text)| Source { name: s.name, text })
        .collect();
    let unchecked;
    let (objects, again) = match given {
        Some(next) => (next.objects.as_slice(), &next.report),
        None => {
            unchecked = analyze_unchecked(&fixed, options);
            (unchecked.input.objects.as_slice(), &unchecked.report)
        }
    };
    let calico = objects.iter().any(calico::is_calico);
    let further;
    let again = match check_fix(&fixed, objects, again, options, more > 0 && calico) {
        Ok(()) => again,
        Err(failed) if more > 0 && calico => {
            further = next_round_within(
                &fixed,
                again,
                options,
                why,
                more - 1,
                failed.next.as_deref(),
            )?;
            &further
        }
        Err(_) => return None,
    };
    let mut next = report.clone();
    next.fixed.texts = again.fixed.texts.clone();
    // The second round writes again the extra documents of the first (its findings are the
    // same where the first's fixes do not reach): each once.
    // (A document's text is written once, when first read; its hash reads its kind and name.)
    #[allow(clippy::mutable_key_type)]
    let known: foldhash::HashSet<&fix::Generated> = report.fixed.extras.iter().collect();
    let added: Vec<fix::Generated> = again
        .fixed
        .extras
        .iter()
        .filter(|e| !known.contains(e))
        .cloned()
        .collect();
    // (A later round's count of its documents is in this round's: left out.)
    let written = format!("also written, in a second round ({why})");
    for note in &again.notes {
        if !next.notes.contains(note) && !note.starts_with(&written) {
            next.notes.push(note.clone());
        }
    }
    next.notes
        .extend(again.findings.iter().filter(|f| f.fixable).map(|f| {
            format!(
                "also fixed, in a second round ({why}): {} {}",
                f.code.id(),
                f.message
            )
        }));
    // The documents only the second round's findings ask for (AMB004's AuthorizationPolicies
    // for the rules its fixes open): no finding of the first names them.
    if !added.is_empty() {
        let names = added.iter().map(|e| format!("`{}`", e.name)).collect();
        next.notes.push(format!(
            "{written}: {} extra document{} the findings of the corrected YAML ask for: {}",
            added.len(),
            if added.len() == 1 { "" } else { "s" },
            rules::list(names)
        ));
    }
    next.fixed.extras.extend(added);
    Some(next)
}

/// Gives the input back unchanged, with an INT001 error saying why the fix was withheld.
fn withhold(sources: &[Source], report: &mut Report, mut problems: Vec<String>) {
    problems.truncate(3);
    let mut finding = Finding::new(
        Code::Int001,
        format!(
            "internal check failed: the corrected YAML did not pass its check ({}), so it is withheld and the input is left as it was; please report this input",
            problems.join("; ")
        ),
        None,
    );
    finding.fix = Some("fix the findings above by hand, or try --fix-style add".into());
    report.findings.push(finding);
    report.fixed = fix::Fixed {
        texts: sources.iter().map(|s| s.text.to_string()).collect(),
        ..fix::Fixed::default()
    };
}

/// The analysis of a cluster read from `sources`, and unless `fixing` is `No` its fix and paths.
fn analyze_loaded(
    sources: &[Source],
    mut loaded: Loaded,
    options: &Options,
    fixing: Fixing,
) -> Report {
    let mut findings = std::mem::take(&mut loaded.findings);
    let given = loaded.cluster.workloads.len();
    loaded
        .cluster
        .add_inferred_for(options.cni == ambient::Cni::Calico);
    let engine = options.engine(&loaded.cluster);
    // INP004 speaks of the workloads given, not of the inferred ones.
    findings.extend(rules::inp004::check(&engine, given));
    let cx = ambient::Context::new(&engine, options);

    let mut notes = Vec::new();
    if options.cni != ambient::Cni::Cilium
        && cx
            .cluster
            .policies
            .network
            .iter()
            .any(|p| p.cilium.is_some())
    {
        notes.push("the input has Cilium policies (CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy): they are evaluated as Cilium enforces them, together with NetworkPolicy; give --cni cilium to judge the probes as Cilium does too".to_string());
    }
    if options.mode == ambient::mesh::MeshMode::Auto && cx.mode == ambient::mesh::MeshMode::All {
        notes.push(format!("no `istio.io/dataplane-mode` label in the input: every namespace is treated as enrolled in the ambient mesh, except those istio-cni never captures ({}) (what-if; use --mode labels to follow labels only)", if options.exclude_namespaces.is_empty() { "none here".to_string() } else { options.exclude_namespaces.join(", ") }));
    }
    if loaded
        .cluster
        .workloads
        .iter()
        .any(model::Workload::is_inferred)
    {
        notes.push("some selectors match none of the workloads given: they are analysed as the pods they stand for (\"pods matching ... (not in the input)\")".to_string());
    }
    notes.extend(calico_notes(&loaded.cluster, options));

    // The paths' summary (past MAX_DRAWN_WORKLOADS) counts the blocks the rules gather.
    let draw = matches!(fixing, Fixing::Fast | Fixing::Careful)
        && loaded.cluster.workloads.len() > MAX_DRAWN_WORKLOADS;
    let mut out = rules::check_blocking(&cx, draw);
    // A next round's report gives its fix only: the paths drawn are the first round's.
    let next_round = fixing == Fixing::IfFailing;
    let passes = fixable_errors(&findings)
        .chain(fixable_errors(&out.findings))
        .next()
        .is_none();
    let fixing = match fixing {
        Fixing::IfFailing if passes => Fixing::No,
        Fixing::IfFailing => Fixing::Fast,
        other => other,
    };
    if fixing != Fixing::No {
        rules::check_rest(&cx, &mut out);
    }
    findings.extend(out.findings);
    crate::sort::sort_by_key(&mut findings, |f| (f.location, f.code));
    // Findings made on a rule (`pipeline::Cluster::rule_finding`) and the other families' say
    // their kind themselves; the NetworkPolicy family's others name only the policy.
    let cilium: foldhash::HashMap<String, &str> = cx
        .cluster
        .policies
        .network
        .iter()
        .filter(|p| p.cilium.is_some())
        .map(|p| (p.qualified_name(), p.kind()))
        .collect();
    for f in &mut findings {
        if let Some(name) = f.policy.as_ref().filter(|_| f.policy_kind.is_none()) {
            let kind = cilium.get(name).copied().unwrap_or("NetworkPolicy");
            f.policy_kind = Some(kind.into());
        }
    }
    if fixing == Fixing::No {
        return Report {
            findings,
            ..Report::default()
        };
    }
    let mut fixed = fix::fix(
        sources,
        &loaded.cluster,
        &out.fixes,
        &fix::FixOptions {
            style: options.fix_style,
            probe_snat: &options.probe_snat,
            cni: options.cni,
            careful: fixing == Fixing::Careful,
            separators: &loaded.joined,
        },
    );
    fixed.extras.extend(out.extras);
    notes.append(&mut fixed.notes);
    let paths = if next_round || fixing == Fixing::Findings {
        ambient::paths::Paths::default()
    } else if loaded.cluster.workloads.len() <= MAX_DRAWN_WORKLOADS {
        ambient::paths::paths(&cx)
    } else {
        // Too many pairs to send one by one: the page draws a matrix of namespaces instead.
        ambient::paths::Paths {
            namespace_pairs: ambient::paths::summary(&cx, &out.blocked),
            ..ambient::paths::Paths::default()
        }
    };
    Report {
        findings,
        objects: loaded.objects,
        documents: loaded.documents,
        workloads: loaded.cluster.workloads.len(),
        notes,
        fixed,
        paths,
    }
}

/// What the analysis assumed about Calico: its policies are evaluated only under `--cni
/// calico`, and without `--pod-cidr` pods are taken to be inside the address blocks.
fn calico_notes(cluster: &pipeline::Cluster, options: &Options) -> Vec<String> {
    let mut notes = Vec::new();
    let calico = options.cni == ambient::Cni::Calico;
    if !calico && !cluster.policies.calico.is_empty() {
        notes.push("the input has Calico policies (projectcalico.org): they are evaluated only with --cni calico".to_string());
    }
    let blocks = cluster.policies.calico.iter().any(|p| {
        [net::Direction::Ingress, net::Direction::Egress]
            .into_iter()
            .flat_map(|d| p.rules(d))
            .any(|r| {
                [&r.source, &r.destination]
                    .iter()
                    .any(|e| e.nets.is_some() || e.not_nets.is_some())
            })
    }) || cluster.policies.network.iter().any(|p| {
        [net::Direction::Ingress, net::Direction::Egress]
            .into_iter()
            .flat_map(|d| p.rules(d))
            .flat_map(|r| r.peers.iter().flatten())
            .any(|peer| matches!(peer, netpol::policy::Peer::IpBlock { .. }))
    });
    if calico && options.pod_cidrs.is_empty() && blocks {
        notes.push("Calico matches `nets` and `ipBlock` blocks against pod addresses too, and the input does not say which addresses pods have (--pod-cidr): the verdicts assume pods fall inside every `nets`/`ipBlock` block and outside every `notNets`/`except` block".to_string());
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = include_str!("../tests/seed/hbone-blocked.yaml");

    fn source(text: &str) -> Vec<Source<'_>> {
        vec![Source {
            name: "x.yaml",
            text,
        }]
    }

    /// Files pasted without `---`: the fix writes the missing marker (and fixes the policy in
    /// the second part), and its check passes.
    #[test]
    fn the_fix_separates_pasted_files() {
        let namespace = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: default\n";
        let text = format!("{namespace}{SEED}");
        let report = analyze(&source(&text), &Options::default());
        let codes: Vec<&str> = report.findings.iter().map(|f| f.code.id()).collect();
        assert!(codes.contains(&"INP006"), "{codes:?}");
        assert!(codes.contains(&"AMB001"), "{codes:?}");
        assert!(
            !codes.contains(&"INT001") && !codes.contains(&"INP001"),
            "{codes:?}"
        );
        let fixed = &report.fixed.texts[0];
        assert!(fixed.starts_with(&format!("{namespace}---\n")), "{fixed}");
        let again = analyze(&source(fixed), &Options::default());
        assert!(again.findings.iter().all(|f| f.code != Code::Inp006));
        assert!(!again.has_errors(), "{:?}", again.findings);

        // The object above gets rules appended at its end, where the marker goes: the rules
        // come first (found in the L benchmark cluster pasted without its markers).
        let deny_all = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: a}\nspec:\n  podSelector: {}\n  policyTypes: [Ingress]\n";
        let text = format!("{deny_all}{SEED}");
        let report = analyze(&source(&text), &Options::default());
        assert!(
            report.findings.iter().all(|f| f.code != Code::Int001),
            "{:?}",
            report.findings
        );
        let fixed = &report.fixed.texts[0];
        let marker = fixed.find("\n---\n").expect("the marker");
        assert!(
            fixed[..marker].ends_with("cidr: 169.254.7.127/32"),
            "{fixed}"
        );
        assert!(fixed[marker..].starts_with("\n---\napiVersion"), "{fixed}");
    }

    /// A corrected text that does not parse, or that does not fix what it should, never leaves:
    /// the input comes back unchanged with an INT001 error.
    #[test]
    fn a_fix_that_fails_its_check_is_withheld() {
        let options = Options::default();
        let good = analyze(&source(SEED), &options);
        assert!(good.findings.iter().all(|f| f.code != Code::Int001));
        assert_ne!(good.fixed.texts[0], SEED);

        for broken in [
            format!(
                "{SEED}
  ports: [
"
            ),
            format!(
                "{SEED}# unchanged
"
            ),
        ] {
            let objects = input::load(&source(SEED)).objects;
            let mut report =
                analyze_loaded(&source(SEED), load(&source(SEED)), &options, Fixing::Fast);
            report.fixed.texts[0] = broken;
            let failed = check_fix(&source(SEED), &objects, &report, &options, false)
                .expect_err("the check fails");
            withhold(&source(SEED), &mut report, failed.problems);
            let int = report
                .findings
                .iter()
                .find(|f| f.code == Code::Int001)
                .expect("INT001");
            assert_eq!(int.severity, Severity::Error);
            assert_eq!(report.fixed.texts[0], SEED, "{}", int.message);
            assert!(report.fixed.extras.is_empty());
        }
    }
}
