//! How the findings panel arranges a report: one group per code, errors first, each listing the
//! findings it holds; the filters (severities, text) a user sets; and the one-line summaries of
//! the input codes, whose hundreds of findings on a real application say one thing each
//! ("ignored: 12 Service, 12 ServiceAccount"). No Leptos here: tested natively.

use std::collections::BTreeMap;

use ambient_netpol::{Code, Finding, Severity};

/// The severities in the order the panel shows them.
pub const SEVERITIES: [Severity; 3] = [Severity::Error, Severity::Warning, Severity::Info];

/// What the user asked to see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter {
    /// Shown severities, in the order of `SEVERITIES`.
    pub severities: [bool; 3],
    /// Words every shown finding contains (code, policy, workload or message; any case).
    pub text: String,
}

impl Default for Filter {
    fn default() -> Self {
        Filter {
            severities: [true; 3],
            text: String::new(),
        }
    }
}

impl Filter {
    pub fn shows_severity(&self, severity: Severity) -> bool {
        SEVERITIES
            .iter()
            .position(|&s| s == severity)
            .is_some_and(|i| self.severities[i])
    }

    pub fn matches(&self, finding: &Finding) -> bool {
        self.shows_severity(finding.severity)
            && self.text.split_whitespace().all(|word| {
                let fields = [
                    Some(finding.code.id()),
                    finding.policy.as_deref(),
                    finding.workload.as_deref(),
                    Some(finding.message.as_str()),
                ];
                fields
                    .into_iter()
                    .flatten()
                    .any(|f| contains_ignore_case(f, word))
            })
    }
}

/// Case-insensitive (ASCII) substring search: `to_lowercase` would bring Unicode's case tables
/// into the page (9 KB of wasm), and names and codes are ASCII.
fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    n.is_empty() || h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

/// The findings of one code that the filter lets through.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    pub code: Code,
    pub severity: Severity,
    /// Indices into the report's findings, in their order.
    pub items: Vec<usize>,
}

/// The groups to show: per severity (errors first), per code in the registry's order. A code
/// whose findings differ in severity (AMB003 is an error or a warning by CNI) gets one group per
/// severity.
pub fn groups(findings: &[Finding], filter: &Filter) -> Vec<Group> {
    let mut by_key: BTreeMap<(Severity, Code), Vec<usize>> = BTreeMap::new();
    for (i, f) in findings.iter().enumerate() {
        if filter.matches(f) {
            by_key.entry((f.severity, f.code)).or_default().push(i);
        }
    }
    by_key
        .into_iter()
        .map(|((severity, code), items)| Group {
            code,
            severity,
            items,
        })
        .collect()
}

/// For codes whose findings each name one object and say the same thing about it (INP002
/// "ignored", INP005 "placed in `default`"): the objects counted by kind, most first, e.g.
/// "12 Service, 12 ServiceAccount". `None` for the other codes.
pub fn kinds_summary(code: Code, findings: &[Finding], items: &[usize]) -> Option<String> {
    if !matches!(code, Code::Inp002 | Code::Inp005) {
        return None;
    }
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for &i in items {
        // Their messages start with the object's kind: "ServiceAccount `frontend` is ignored…".
        let message = &findings[i].message;
        let kind = message.split_once(" `").map_or("object", |(kind, _)| kind);
        *counts.entry(kind).or_default() += 1;
    }
    let mut counts: Vec<_> = counts.into_iter().collect();
    ambient_netpol::sort::sort_by(&mut counts, |a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    Some(
        counts
            .iter()
            .map(|(kind, n)| format!("{n} {kind}"))
            .collect::<Vec<_>>()
            .join(", "),
    )
}

/// The words a code's summary starts with ("ignored: 12 Service").
pub fn kinds_verb(code: Code) -> &'static str {
    match code {
        Code::Inp002 => "ignored",
        _ => "placed in `default`",
    }
}

/// Whether a group starts open: errors and warnings do; information waits to be asked for.
pub fn open_by_default(severity: Severity) -> bool {
    severity != Severity::Info
}

/// A finding's one-line subject: the policy and the workload it is about, or, for findings
/// about no policy nor workload, the start of its message.
pub fn subject(finding: &Finding) -> String {
    let parts: Vec<&str> = [finding.policy.as_deref(), finding.workload.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    match parts.as_slice() {
        [] => {
            let first = finding.message.split(": ").next().unwrap_or_default();
            first.replace('`', "")
        }
        [one] => one.to_string(),
        [policy, workload] if policy == workload => policy.to_string(),
        [policy, workload] => format!("{policy} → {workload}"),
        _ => parts.join(" · "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ambient_netpol::{Options, Source, analyze};

    fn boutique() -> Vec<Finding> {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/realworld/online-boutique"
        );
        let mut texts = Vec::new();
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .collect();
        ambient_netpol::sort::sort(&mut names);
        for path in &names {
            texts.push((
                path.display().to_string(),
                std::fs::read_to_string(path).unwrap(),
            ));
        }
        let sources: Vec<Source> = texts
            .iter()
            .map(|(name, text)| Source { name, text })
            .collect();
        analyze(&sources, &Options::default()).findings
    }

    #[test]
    fn online_boutique_groups_by_code_errors_first_and_every_finding_once() {
        let findings = boutique();
        let groups = groups(&findings, &Filter::default());
        let mut seen: Vec<usize> = groups.iter().flat_map(|g| g.items.clone()).collect();
        ambient_netpol::sort::sort(&mut seen);
        assert_eq!(seen, (0..findings.len()).collect::<Vec<_>>());
        // Severities never go back up.
        assert!(groups.windows(2).all(|w| w[0].severity <= w[1].severity));
        assert_eq!(groups[0].severity, Severity::Error);
        // One group per (severity, code): far fewer entries than findings.
        let amb001 = groups.iter().find(|g| g.code == Code::Amb001).unwrap();
        assert!(amb001.items.len() >= 10, "{}", amb001.items.len());
        assert!(
            groups.len() < 10 && findings.len() > 60,
            "{} groups",
            groups.len()
        );
        for g in &groups {
            assert!(g.items.iter().all(|&i| findings[i].code == g.code));
        }
    }

    #[test]
    fn input_codes_are_summarised_by_kind() {
        let findings = boutique();
        let groups = groups(&findings, &Filter::default());
        let inp002 = groups.iter().find(|g| g.code == Code::Inp002).unwrap();
        let summary = kinds_summary(Code::Inp002, &findings, &inp002.items).unwrap();
        // Online Boutique's manifests hold a ServiceAccount per service.
        let accounts = findings
            .iter()
            .filter(|f| f.code == Code::Inp002 && f.message.starts_with("ServiceAccount `"))
            .count();
        assert!(accounts > 0);
        assert!(
            summary.contains(&format!("{accounts} ServiceAccount")),
            "{summary}"
        );
        let amb001 = groups.iter().find(|g| g.code == Code::Amb001).unwrap();
        assert_eq!(kinds_summary(Code::Amb001, &findings, &amb001.items), None);
    }

    #[test]
    fn filters_by_severity_and_by_words_in_any_field_and_case() {
        let findings = boutique();
        let errors_only = Filter {
            severities: [true, false, false],
            text: String::new(),
        };
        let groups_e = groups(&findings, &errors_only);
        assert!(!groups_e.is_empty());
        assert!(groups_e.iter().all(|g| g.severity == Severity::Error));

        let cart = Filter {
            text: "CARTSERVICE amb001".into(),
            ..Filter::default()
        };
        let shown: Vec<_> = groups(&findings, &cart)
            .into_iter()
            .flat_map(|g| g.items)
            .collect();
        assert!(!shown.is_empty());
        for i in shown {
            let f = &findings[i];
            assert_eq!(f.code, Code::Amb001);
            assert!(
                f.policy
                    .iter()
                    .chain(&f.workload)
                    .any(|s| s.contains("cartservice"))
                    || f.message.contains("cartservice")
            );
        }
        let none = Filter {
            text: "no-such-workload".into(),
            ..Filter::default()
        };
        assert!(groups(&findings, &none).is_empty());
    }

    #[test]
    fn subjects_name_policy_and_workload_once() {
        let mut f = Finding::new(Code::Amb003, "x".into(), None);
        f.policy = Some("default/a".into());
        f.workload = Some("default/a".into());
        assert_eq!(subject(&f), "default/a");
        f.workload = Some("default/b".into());
        assert_eq!(subject(&f), "default/a → default/b");
        let bare = Finding::new(
            Code::Inp002,
            "ServiceAccount `frontend` is ignored: it does not change anything".into(),
            None,
        );
        assert_eq!(subject(&bare), "ServiceAccount frontend is ignored");
    }
}
