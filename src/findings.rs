//! Findings: what the evaluator reports, and the registry of their stable codes.
//!
//! Codes are a public interface (tests, docs and users search for them): one table here lists
//! each code with its severity, title and explanation, and the CLI (`--explain`) and the page
//! both read it. Codes are never renumbered or reused.

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
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

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Code {
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
}

/// The registry entry of a code: everything about it that does not depend on one finding.
pub struct Rule {
    pub code: Code,
    pub id: &'static str,
    pub severity: Severity,
    pub title: &'static str,
    /// User documentation: what it means and how to fix it (Markdown).
    pub explanation: &'static str,
}

pub static RULES: &[Rule] = &[
    Rule {
        code: Code::Inp001,
        id: "INP001",
        severity: Severity::Error,
        title: "YAML syntax error",
        explanation: "The document is not valid YAML (or JSON), so nothing in it is evaluated. \
The message gives the line and column where the parser stopped. The other documents of the \
input are still evaluated. Common causes: a tab used for indentation (YAML allows only \
spaces), an unclosed `[` or `\"`, a key written twice in one map (Kubernetes rejects \
duplicate keys), or two documents pasted without a `---` line between them.",
    },
    Rule {
        code: Code::Inp002,
        id: "INP002",
        severity: Severity::Info,
        title: "Object kind not used by the evaluator",
        explanation: "The evaluator reads NetworkPolicies, Namespaces, Pods and the workloads \
that carry pod templates (Deployment, StatefulSet, DaemonSet, ReplicaSet, \
ReplicationController, Job, CronJob). Other objects (Services, ConfigMaps, custom resources) \
are ignored: they do not change what NetworkPolicy allows.",
    },
    Rule {
        code: Code::Inp003,
        id: "INP003",
        severity: Severity::Error,
        title: "Invalid field value",
        explanation: "A field has a value Kubernetes would reject: a document that is not an \
object, a missing `kind`, a wrong type (a list where a map belongs), a bad CIDR, a port \
outside 1..65535, an `endPort` without a numeric `port`, an unknown selector operator. The \
object is skipped and the rest of the input is evaluated; fix the value the message names.",
    },
    Rule {
        code: Code::Inp004,
        id: "INP004",
        severity: Severity::Warning,
        title: "Policy selects no pod among the pods given",
        explanation: "The input contains workloads, but this NetworkPolicy's `podSelector` matches \
none of them in the policy's namespace. Usually a label typo or a policy in the wrong namespace: \
the policy then protects nothing. It may also select pods the input does not show (pods an \
operator creates); the analysis still treats those as workloads it cannot see. Check the \
policy's namespace and `spec.podSelector` against the pods' labels.",
    },
    Rule {
        code: Code::Inp005,
        id: "INP005",
        severity: Severity::Info,
        title: "Object without namespace placed in `default`",
        explanation: "The object has no `metadata.namespace`, so it is evaluated in the \
`default` namespace, where `kubectl apply` would put it unless you pass `-n`. If you apply \
these manifests to another namespace, add `metadata.namespace` so the analysis matches \
what the cluster will see.",
    },
];

impl Code {
    pub fn rule(self) -> &'static Rule {
        RULES
            .iter()
            .find(|r| r.code == self)
            .expect("every code has a registry entry (checked by a test)")
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Location {
    /// Index of the source in the input given to `analyze`.
    pub source: usize,
    /// 1-based position of the document among all documents of the input.
    pub document: usize,
    pub line: u32,
    pub column: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    pub code: Code,
    pub severity: Severity,
    /// The policy concerned, as `namespace/name`.
    pub policy: Option<String>,
    /// The workload (or abstract selector) concerned, as `namespace/name`.
    pub workload: Option<String>,
    pub message: String,
    #[serde(skip)]
    pub location: Option<Location>,
    pub fixable: bool,
}

impl Finding {
    /// A finding with the code's default severity and nothing but a message and a place.
    pub fn new(code: Code, message: String, location: Option<Location>) -> Finding {
        Finding {
            code,
            severity: code.rule().severity,
            policy: None,
            workload: None,
            message,
            location,
            fixable: false,
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
}
