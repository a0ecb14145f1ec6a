//! Findings: what the evaluator reports, and the registry of their stable codes.
//!
//! Codes are a public interface (tests, docs and users search for them): one table here lists
//! each code with its severity, title and explanation, and the CLI (`--explain`) and the page
//! both read it. Codes are never renumbered or reused.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Code {
    #[serde(rename = "AMB001")]
    Amb001,
    #[serde(rename = "AMB002")]
    Amb002,
    #[serde(rename = "AMB003")]
    Amb003,
    #[serde(rename = "AMB004")]
    Amb004,
    #[serde(rename = "AMB005")]
    Amb005,
    #[serde(rename = "AMB006")]
    Amb006,
    #[serde(rename = "AMB007")]
    Amb007,
    #[serde(rename = "AMB008")]
    Amb008,
    #[serde(rename = "AMB009")]
    Amb009,
    #[serde(rename = "AMB010")]
    Amb010,
    #[serde(rename = "AMB011")]
    Amb011,
    #[serde(rename = "AMB012")]
    Amb012,
    #[serde(rename = "AMB013")]
    Amb013,
    #[serde(rename = "INP001")]
    Inp001,
    #[serde(rename = "INP002")]
    Inp002,
    #[serde(rename = "INP003")]
    Inp003,
    #[serde(rename = "INP004")]
    Inp004,
    #[serde(rename = "INP005")]
    Inp005,
    #[serde(rename = "INP006")]
    Inp006,
    #[serde(rename = "INP007")]
    Inp007,
    #[serde(rename = "INT001")]
    Int001,
}

/// The registry entry of a code: everything about it that does not depend on one finding.
pub struct Rule {
    pub code: Code,
    pub id: &'static str,
    pub severity: Severity,
    pub title: &'static str,
}

impl Rule {
    /// User documentation: what it means and how to fix it (Markdown).
    pub fn explanation(&self) -> &'static str {
        self.code.explanation()
    }
}

pub static RULES: &[Rule] = &[
    Rule {
        code: Code::Amb001,
        id: "AMB001",
        severity: Severity::Error,
        title: "HBONE (15008/TCP) blocked at the destination's ingress",
    },
    Rule {
        code: Code::Amb002,
        id: "AMB002",
        severity: Severity::Error,
        title: "HBONE (15008/TCP) blocked at the source's egress",
    },
    Rule {
        code: Code::Amb003,
        id: "AMB003",
        severity: Severity::Warning,
        title: "Kubelet probes from the SNAT address not admitted",
    },
    Rule {
        code: Code::Amb004,
        id: "AMB004",
        severity: Severity::Warning,
        title: "Port restriction lost through the HBONE tunnel",
    },
    Rule {
        code: Code::Amb005,
        id: "AMB005",
        severity: Severity::Error,
        title: "HBONE blocked on a waypoint hop",
    },
    Rule {
        code: Code::Amb006,
        id: "AMB006",
        severity: Severity::Info,
        title: "Deny-all policy: HBONE is not the issue, probes are",
    },
    Rule {
        code: Code::Amb007,
        id: "AMB007",
        severity: Severity::Info,
        title: "UDP or SCTP only: not tunneled, nothing to change",
    },
    Rule {
        code: Code::Amb008,
        id: "AMB008",
        severity: Severity::Info,
        title: "Pod not captured by ambient",
    },
    Rule {
        code: Code::Amb009,
        id: "AMB009",
        severity: Severity::Warning,
        title: "Cilium L7 rule on an ambient port: mesh traffic bypasses it",
    },
    Rule {
        code: Code::Amb010,
        id: "AMB010",
        severity: Severity::Error,
        title: "L7 AuthorizationPolicy enforced by ztunnel: its traffic is dropped",
    },
    Rule {
        code: Code::Amb011,
        id: "AMB011",
        severity: Severity::Error,
        title: "ALLOW policy behind a waypoint does not admit the waypoint",
    },
    Rule {
        code: Code::Amb012,
        id: "AMB012",
        severity: Severity::Error,
        title: "STRICT mTLS rejects a plaintext client NetworkPolicy admits",
    },
    Rule {
        code: Code::Amb013,
        id: "AMB013",
        severity: Severity::Error,
        title: "A gateway or waypoint cannot reach istiod or DNS",
    },
    Rule {
        code: Code::Inp001,
        id: "INP001",
        severity: Severity::Error,
        title: "YAML syntax error",
    },
    Rule {
        code: Code::Inp002,
        id: "INP002",
        severity: Severity::Info,
        title: "Object kind not used by the evaluator",
    },
    Rule {
        code: Code::Inp003,
        id: "INP003",
        severity: Severity::Error,
        title: "Invalid field value",
    },
    Rule {
        code: Code::Inp004,
        id: "INP004",
        severity: Severity::Warning,
        title: "Policy selects no pod among the pods given",
    },
    Rule {
        code: Code::Inp005,
        id: "INP005",
        severity: Severity::Info,
        title: "Object without namespace placed in `default`",
    },
    Rule {
        code: Code::Inp006,
        id: "INP006",
        severity: Severity::Error,
        title: "Several files pasted without `---` between them",
    },
    Rule {
        code: Code::Inp007,
        id: "INP007",
        severity: Severity::Info,
        title: "A peer the offline analysis cannot resolve",
    },
    Rule {
        code: Code::Int001,
        id: "INT001",
        severity: Severity::Error,
        title: "Internal check failed: the corrected YAML is withheld",
    },
];

impl Code {
    pub fn rule(self) -> &'static Rule {
        RULES
            .iter()
            .find(|r| r.code == self)
            .expect("every code has a registry entry (checked by a test)")
    }

    /// The code's documentation, `src/rules/docs/<CODE>.md` (outside [`RULES`], so the analysis
    /// worker, which only needs severities, does not carry the text).
    pub fn explanation(self) -> &'static str {
        match self {
            Code::Amb001 => include_str!("rules/docs/AMB001.md"),
            Code::Amb002 => include_str!("rules/docs/AMB002.md"),
            Code::Amb003 => include_str!("rules/docs/AMB003.md"),
            Code::Amb004 => include_str!("rules/docs/AMB004.md"),
            Code::Amb005 => include_str!("rules/docs/AMB005.md"),
            Code::Amb006 => include_str!("rules/docs/AMB006.md"),
            Code::Amb007 => include_str!("rules/docs/AMB007.md"),
            Code::Amb008 => include_str!("rules/docs/AMB008.md"),
            Code::Amb009 => include_str!("rules/docs/AMB009.md"),
            Code::Amb010 => include_str!("rules/docs/AMB010.md"),
            Code::Amb011 => include_str!("rules/docs/AMB011.md"),
            Code::Amb012 => include_str!("rules/docs/AMB012.md"),
            Code::Amb013 => include_str!("rules/docs/AMB013.md"),
            Code::Inp001 => include_str!("rules/docs/INP001.md"),
            Code::Inp002 => include_str!("rules/docs/INP002.md"),
            Code::Inp003 => include_str!("rules/docs/INP003.md"),
            Code::Inp004 => include_str!("rules/docs/INP004.md"),
            Code::Inp005 => include_str!("rules/docs/INP005.md"),
            Code::Inp006 => include_str!("rules/docs/INP006.md"),
            Code::Inp007 => include_str!("rules/docs/INP007.md"),
            Code::Int001 => include_str!("rules/docs/INT001.md"),
        }
    }

    /// The first paragraph of the code's documentation that is not a heading: what it finds.
    /// `build.rs` writes them, so the page carries these and not the whole documents, which it
    /// fetches (`rules/<CODE>.md` beside it) when one is opened.
    pub fn summary(self) -> &'static str {
        const SUMMARIES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/summaries.rs"));
        SUMMARIES
            .iter()
            .find(|(id, _)| *id == self.id())
            .map_or("", |(_, summary)| summary)
    }

    pub fn id(self) -> &'static str {
        self.rule().id
    }

    pub fn from_id(id: &str) -> Option<Code> {
        RULES
            .iter()
            .find(|r| r.id.eq_ignore_ascii_case(id))
            .map(|r| r.code)
    }
}

/// Where a finding points: a source (file) of the input, the document in it and a line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Location {
    /// Index of the source in the input given to `analyze`.
    pub source: usize,
    /// 1-based position of the document among all documents of the input.
    pub document: usize,
    pub line: u32,
    pub column: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub code: Code,
    pub severity: Severity,
    /// The policy concerned, as `namespace/name` (`name` for cluster-scoped kinds).
    pub policy: Option<String>,
    /// The policy's kind (`NetworkPolicy`, `ClusterNetworkPolicy`, ...), with `policy`.
    #[serde(default)]
    pub policy_kind: Option<String>,
    /// The workload (or abstract selector) concerned, as `namespace/name`.
    pub workload: Option<String>,
    pub message: String,
    pub location: Option<Location>,
    pub fixable: bool,
    /// The fix in one sentence, when there is one.
    pub fix: Option<String>,
}

impl Finding {
    /// A finding with the code's default severity and nothing but a message and a place.
    pub fn new(code: Code, message: String, location: Option<Location>) -> Finding {
        Finding {
            code,
            severity: code.rule().severity,
            policy: None,
            policy_kind: None,
            workload: None,
            message,
            location,
            fixable: false,
            fix: None,
        }
    }

    pub fn line(&self) -> Option<u32> {
        self.location.map(|l| l.line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_registered_once_with_its_serialized_id() {
        for rule in RULES {
            assert_eq!(Code::from_id(rule.id), Some(rule.code));
            let json = serde_json::to_string(&rule.code).unwrap();
            assert_eq!(json, format!("\"{}\"", rule.id));
            assert_eq!(RULES.iter().filter(|r| r.code == rule.code).count(), 1);
        }
    }

    /// The summary `build.rs` wrote is the document's first paragraph that is not a heading.
    #[test]
    fn every_summary_is_the_first_paragraph_of_its_document() {
        for rule in RULES {
            let first = rule
                .explanation()
                .split("\n\n")
                .map(str::trim)
                .find(|p| !p.is_empty() && !p.starts_with('#'));
            assert_eq!(Some(rule.code.summary()), first, "{}", rule.id);
        }
    }
}
