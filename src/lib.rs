//! ambient-netpol's core: finds the Kubernetes NetworkPolicies that break Istio ambient mode.
//!
//! Pure Rust: no I/O, no web APIs. The CLI (`src/bin/`) and the playground page (`src/main.rs`,
//! `src/ui/`) are thin shells over [`analyze`].

pub mod findings;
pub mod input;
pub mod report;

pub use findings::{Code, Finding, Location, Severity};
pub use input::Source;

/// How to analyse; every field has the default the CLI and the page start with.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {}

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

/// Analyses the given sources (files, standard input or the page's text) as one cluster.
pub fn analyze(sources: &[Source], _options: &Options) -> Report {
    let loaded = input::load(sources);
    let mut findings = loaded.findings;
    findings.sort_by_key(|f| (f.location, f.code));
    Report {
        findings,
        objects: loaded.objects.len(),
        documents: loaded.documents,
    }
}
