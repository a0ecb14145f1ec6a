//! ambient-netpol's core: finds the Kubernetes NetworkPolicies that break Istio ambient mode.
//!
//! Pure Rust: no I/O, no web APIs. The CLI (`src/bin/`) and the playground page (`src/main.rs`,
//! `src/ui/`) are thin shells over [`analyze`].

pub mod findings;
pub mod input;
pub mod model;
pub mod netpol;
pub mod report;
pub mod rules;

pub use findings::{Code, Finding, Location, Severity};
pub use input::Source;

/// How to analyse; every field has the default the CLI and the page start with.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Whether policies apply to `hostNetwork: true` pods (CNI-dependent).
    pub host_network: netpol::eval::HostNetwork,
}

/// The result of one analysis.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Sorted by source, line, then code.
    pub findings: Vec<Finding>,
    /// Kubernetes objects read (ignored kinds not counted).
    pub objects: usize,
    /// Non-empty documents read, broken ones included.
    pub documents: usize,
}

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
    pub cluster: model::Cluster,
    pub findings: Vec<Finding>,
    pub objects: usize,
    pub documents: usize,
}

/// Reads the sources into a cluster: parsing, validation, model (INP findings only).
pub fn load(sources: &[Source]) -> Loaded {
    let loaded = input::load(sources);
    let (cluster, invalid) = model::build(&loaded.objects);
    let mut findings = loaded.findings;
    findings.extend(invalid);
    Loaded {
        cluster,
        findings,
        objects: loaded.objects.len(),
        documents: loaded.documents,
    }
}

/// Analyses the given sources (files, standard input or the page's text) as one cluster.
pub fn analyze(sources: &[Source], options: &Options) -> Report {
    let loaded = load(sources);
    let engine = netpol::eval::Engine::with(&loaded.cluster, options.host_network);
    let mut findings = loaded.findings;
    findings.extend(rules::inp004::check(&engine));
    findings.sort_by_key(|f| (f.location, f.code));
    Report {
        findings,
        objects: loaded.objects,
        documents: loaded.documents,
    }
}
