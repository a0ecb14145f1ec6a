//! Renderings for CI systems: GitHub Actions workflow commands (pull-request annotations), JUnit
//! XML (one test case per policy), GitLab Code Quality JSON (stable fingerprints) and a Markdown
//! summary (GitHub's job summary); and the `--fail-on` threshold they share with the exit status.
//!
//! Like the rest of `report`, pure functions from a [`Report`] (and the names of its sources) to
//! a string.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::json;

use crate::{Finding, Location, Report, Severity};

/// Which findings fail the run (exit status 1, a failing JUnit test case).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailOn {
    /// Error findings (the default: today's exit status).
    Error,
    /// Error and warning findings.
    Warning,
    /// None: the findings are reported, the run passes (unusable input still exits 2).
    Never,
}

impl FailOn {
    /// Whether a finding of this severity fails the run.
    pub fn fails(self, severity: Severity) -> bool {
        match self {
            FailOn::Error => severity == Severity::Error,
            FailOn::Warning => severity != Severity::Info,
            FailOn::Never => false,
        }
    }

    /// Whether any finding of the report fails the run.
    pub fn failed(self, report: &Report) -> bool {
        report.findings.iter().any(|f| self.fails(f.severity))
    }
}

/// The file a finding is in, as given on the command line (`./` dropped: CI systems want paths
/// relative to the repository root, which is where a CI step runs).
fn file_of<'a>(finding: &Finding, source_names: &[&'a str]) -> Option<&'a str> {
    finding
        .location
        .and_then(|l| source_names.get(l.source).copied())
        .map(|name| name.trim_start_matches("./"))
}

/// The finding's message and, on the next line, its fix.
fn message_with_fix(finding: &Finding) -> String {
    match &finding.fix {
        Some(fix) => format!("{}\nfix: {fix}", finding.message),
        None => finding.message.clone(),
    }
}

/// Errors first, then warnings, then information, each in the report's order (by file and
/// line). GitHub shows only the first few annotations of each kind per step, so the order
/// decides which ones a reader sees.
fn by_severity(report: &Report) -> Vec<&Finding> {
    let mut findings: Vec<&Finding> = report.findings.iter().collect();
    findings.sort_by_key(|f| match f.severity {
        Severity::Error => 0,
        Severity::Warning => 1,
        Severity::Info => 2,
    });
    findings
}

// ---------------------------------------------------------------------------------------------
// GitHub Actions workflow commands

/// One workflow command a finding (`::error file=app.yaml,line=57,col=5,title=AMB001 ...::`),
/// which the runner turns into an annotation on the pull request's diff, then the summary line.
/// Errors first (GitHub shows a limited number of annotations of each kind).
pub fn github(report: &Report, source_names: &[&str]) -> String {
    let mut out = String::new();
    for finding in by_severity(report) {
        let command = match finding.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let mut properties = Vec::new();
        if let (Some(file), Some(l)) = (file_of(finding, source_names), finding.location) {
            properties.push(format!("file={}", escape_property(file)));
            properties.push(format!("line={}", l.line));
            properties.push(format!("col={}", l.column));
        }
        let rule = finding.code.rule();
        properties.push(format!(
            "title={}",
            escape_property(&format!("{}: {}", rule.id, rule.title))
        ));
        let _ = writeln!(
            out,
            "::{command} {}::{}",
            properties.join(","),
            escape_data(&message_with_fix(finding))
        );
    }
    out.push_str(&super::summary(report));
    out.push('\n');
    out
}

/// The message of a workflow command: `%`, CR and LF are escaped (the runner's own
/// `escapeData`), so a message of several lines stays one command.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value of a workflow command: as [`escape_data`], plus `:` and `,`, which end a
/// value (the runner's `escapeProperty`).
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

// ---------------------------------------------------------------------------------------------
// JUnit XML

/// A policy of the input, for the JUnit report: every policy is a test case, also those
/// without findings (they pass).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyEntry {
    /// `NetworkPolicy`, `ClusterNetworkPolicy`, ...
    pub kind: String,
    /// `namespace/name`, or `name` for cluster-scoped kinds.
    pub name: String,
    pub location: Option<Location>,
}

/// The policies of a loaded cluster, of every family, named and kinded as their findings are.
pub fn policy_entries(cluster: &crate::pipeline::Cluster) -> Vec<PolicyEntry> {
    use crate::pipeline::PolicyRef;
    let policies = &cluster.policies;
    // A Cilium policy's deny rules sit in the tiers under the same object: its entry is the
    // one of its allow part.
    let tiered = (0..policies.tiered.len())
        .filter(|&c| !policies.tiered[c].kind.starts_with("Cilium"))
        .map(PolicyRef::Tiered);
    (0..policies.network.len())
        .map(PolicyRef::Network)
        .chain(tiered)
        .chain((0..policies.calico.len()).map(PolicyRef::Calico))
        .map(|p| PolicyEntry {
            kind: cluster.policy_kind(p),
            name: cluster.policy_name(p),
            location: Some(cluster.policy_location(p)),
        })
        .collect()
}

/// A test case: a policy, or the input of one file (findings that concern no policy).
struct Case<'a> {
    classname: String,
    name: String,
    line: u32,
    findings: Vec<&'a Finding>,
}

/// JUnit XML (the Jenkins/Surefire schema every CI system reads): one test suite per input file,
/// one test case per policy (`classname` its kind, `name` its name), failing with one
/// `<failure>` per finding that `fail_on` counts; the other findings are its `<system-out>`.
/// Findings that concern no policy (syntax errors, workloads) make a case `input` per file.
pub fn junit(
    report: &Report,
    source_names: &[&str],
    policies: &[PolicyEntry],
    fail_on: FailOn,
) -> String {
    const NO_FILE: &str = "<input>";
    // Suites by source index (`usize::MAX`: no location), cases keyed by (kind, name).
    let mut suites: BTreeMap<usize, BTreeMap<(String, String), Case>> = BTreeMap::new();
    let suite_of = |location: Option<Location>| location.map_or(usize::MAX, |l| l.source);
    for policy in policies {
        suites.entry(suite_of(policy.location)).or_default().insert(
            (policy.kind.clone(), policy.name.clone()),
            Case {
                classname: policy.kind.clone(),
                name: policy.name.clone(),
                line: policy.location.map_or(0, |l| l.line),
                findings: Vec::new(),
            },
        );
    }
    for finding in &report.findings {
        let key = match (&finding.policy, &finding.policy_kind) {
            (Some(name), kind) => (
                kind.clone().unwrap_or_else(|| "NetworkPolicy".into()),
                name.clone(),
            ),
            (None, _) => (
                "input".to_string(),
                file_of(finding, source_names)
                    .unwrap_or(NO_FILE)
                    .to_string(),
            ),
        };
        // A policy's case may sit in another file's suite than the finding (a rule's place).
        let known = suites.values_mut().find_map(|cases| cases.get_mut(&key));
        match known {
            Some(case) => case.findings.push(finding),
            None => {
                let case = Case {
                    classname: key.0.clone(),
                    name: key.1.clone(),
                    line: if finding.policy.is_some() {
                        finding.line().unwrap_or(0)
                    } else {
                        0
                    },
                    findings: vec![finding],
                };
                suites
                    .entry(suite_of(finding.location))
                    .or_default()
                    .insert(key, case);
            }
        }
    }

    let failing = |case: &Case| case.findings.iter().any(|f| fail_on.fails(f.severity));
    let total: usize = suites.values().map(BTreeMap::len).sum();
    let total_failed: usize = suites
        .values()
        .map(|cases| cases.values().filter(|c| failing(c)).count())
        .sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"ambient-netpol\" tests=\"{total}\" failures=\"{total_failed}\" errors=\"0\" time=\"0\">"
    );
    for (source, cases) in &suites {
        let file = source_names
            .get(*source)
            .map_or(NO_FILE, |n| n.trim_start_matches("./"));
        let mut cases: Vec<&Case> = cases.values().collect();
        // In the file's order; the `input` case first.
        cases.sort_by_key(|c| (c.classname != "input", c.line));
        let failed = cases.iter().filter(|c| failing(c)).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" file=\"{}\" tests=\"{}\" failures=\"{failed}\" errors=\"0\" skipped=\"0\" time=\"0\">",
            xml_escape(file),
            xml_escape(file),
            cases.len()
        );
        for case in cases {
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"0\"",
                xml_escape(&case.classname),
                xml_escape(&case.name)
            );
            if case.findings.is_empty() {
                out.push_str("/>\n");
                continue;
            }
            out.push_str(">\n");
            let mut passed = String::new();
            for finding in &case.findings {
                let line = finding_line(finding, source_names);
                if fail_on.fails(finding.severity) {
                    let _ = writeln!(
                        out,
                        "      <failure type=\"{}\" message=\"{}\">{}</failure>",
                        finding.code.id(),
                        xml_escape(&finding.message),
                        xml_escape(&line)
                    );
                } else {
                    passed.push_str(&line);
                    passed.push('\n');
                }
            }
            if !passed.is_empty() {
                let _ = writeln!(
                    out,
                    "      <system-out>{}</system-out>",
                    xml_escape(&passed)
                );
            }
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// The finding as the text report writes it: `file:line:col: CODE severity: message`, then
/// the fix.
fn finding_line(finding: &Finding, source_names: &[&str]) -> String {
    let place = match (file_of(finding, source_names), finding.location) {
        (Some(file), Some(l)) => format!("{file}:{}:{}: ", l.line, l.column),
        _ => String::new(),
    };
    let mut line = format!(
        "{place}{} {}: {}",
        finding.code.id(),
        finding.severity.as_str(),
        finding.message
    );
    if let Some(fix) = &finding.fix {
        let _ = write!(line, "\n  fix: {fix}");
    }
    line
}

/// Text for XML content and (double-quoted) attribute values. Line breaks and tabs become
/// character references, which attribute-value normalisation keeps; characters XML 1.0 does
/// not allow (other control characters, unpaired surrogates cannot occur in a `str`) become
/// U+FFFD.
fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// GitLab Code Quality

/// GitLab Code Quality (a subset of the Code Climate issue format): a JSON array of issues with
/// `description`, `check_name` (the code), `fingerprint`, `severity` (error: `major`, warning:
/// `minor`, info: `info`) and `location` (`path`, `lines.begin`).
///
/// The fingerprint is what GitLab compares between the base and the head of a merge request,
/// so it leaves out the line: a finding that only moved is the same finding. It is a hash of
/// the code, the file, the policy (kind and name), the workload and the message, and, for
/// findings equal in all of these, of their rank among them (GitLab needs them unique).
pub fn gitlab(report: &Report, source_names: &[&str]) -> String {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let issues: Vec<serde_json::Value> = report
        .findings
        .iter()
        .map(|f| {
            let path = file_of(f, source_names)
                .or_else(|| source_names.first().copied())
                .unwrap_or("<stdin>");
            let identity = [
                f.code.id(),
                path,
                f.policy_kind.as_deref().unwrap_or(""),
                f.policy.as_deref().unwrap_or(""),
                f.workload.as_deref().unwrap_or(""),
                &f.message,
            ]
            .join("\u{0}");
            let rank = seen.entry(identity.clone()).or_insert(0);
            *rank += 1;
            let fingerprint = fingerprint(&format!("{identity}\u{0}{rank}"));
            json!({
                "description": message_with_fix(f),
                "check_name": f.code.id(),
                "fingerprint": fingerprint,
                "severity": match f.severity {
                    Severity::Error => "major",
                    Severity::Warning => "minor",
                    Severity::Info => "info",
                },
                "categories": ["Bug Risk"],
                "location": {
                    "path": path,
                    "lines": { "begin": f.line().unwrap_or(1) },
                },
            })
        })
        .collect();
    let mut out = serde_json::to_string_pretty(&issues).expect("JSON values serialize infallibly");
    out.push('\n');
    out
}

/// 128-bit FNV-1a, as 32 hexadecimal digits: the same on every platform, build and version
/// (unlike `std`'s hasher), which is all a fingerprint needs.
fn fingerprint(text: &str) -> String {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013B;
    let hash = text.bytes().fold(OFFSET, |hash, byte| {
        (hash ^ u128::from(byte)).wrapping_mul(PRIME)
    });
    format!("{hash:032x}")
}

// ---------------------------------------------------------------------------------------------
// Markdown summary

/// Errors and warnings listed in the summary at most (GitHub takes 1 MiB of summary a step).
const SUMMARY_ROWS: usize = 200;

/// A Markdown summary for GitHub's job summary (`$GITHUB_STEP_SUMMARY`) or a merge-request
/// comment: the counts, then a table of the error and warning findings (errors first, at most
/// 200), with where they are and what to do.
pub fn markdown(report: &Report, source_names: &[&str]) -> String {
    let errors = report.count(Severity::Error);
    let warnings = report.count(Severity::Warning);
    let info = report.count(Severity::Info);
    let mut out = String::from("## ambient-netpol\n\n");
    let verdict = if errors > 0 {
        "Istio ambient mode will break traffic these policies allow today."
    } else if warnings > 0 {
        "No error: nothing ambient mode breaks, but warnings to read."
    } else {
        "No error and no warning."
    };
    let _ = writeln!(out, "{verdict}\n");
    out.push_str("| errors | warnings | info | objects | documents |\n");
    out.push_str("| ---: | ---: | ---: | ---: | ---: |\n");
    let _ = writeln!(
        out,
        "| {errors} | {warnings} | {info} | {} | {} |",
        report.objects, report.documents
    );
    let listed: Vec<&Finding> = by_severity(report)
        .into_iter()
        .filter(|f| f.severity != Severity::Info)
        .collect();
    if !listed.is_empty() {
        out.push_str("\n| | code | where | policy or workload | finding | fix |\n");
        out.push_str("| --- | --- | --- | --- | --- | --- |\n");
        for finding in listed.iter().take(SUMMARY_ROWS) {
            let icon = match finding.severity {
                Severity::Error => ":x: error",
                _ => ":warning: warning",
            };
            let place = match (file_of(finding, source_names), finding.location) {
                (Some(file), Some(l)) => format!("`{file}:{}`", l.line),
                _ => String::new(),
            };
            let subject = match (&finding.policy, &finding.policy_kind, &finding.workload) {
                (Some(name), kind, _) => {
                    format!("{} `{name}`", kind.as_deref().unwrap_or("policy"))
                }
                (None, _, Some(workload)) => format!("`{workload}`"),
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "| {icon} | {} | {} | {} | {} | {} |",
                finding.code.id(),
                table_cell(&place),
                table_cell(&subject),
                table_cell(&finding.message),
                table_cell(finding.fix.as_deref().unwrap_or(""))
            );
        }
        if listed.len() > SUMMARY_ROWS {
            let _ = writeln!(
                out,
                "\n{} more errors and warnings: `--format text` lists them all.",
                listed.len() - SUMMARY_ROWS
            );
        }
    }
    if info > 0 {
        let _ = writeln!(
            out,
            "\n{info} info findings are not listed here (`--format text` shows them)."
        );
    }
    let fixable = report.findings.iter().filter(|f| f.fixable).count();
    if fixable > 0 {
        let _ = writeln!(
            out,
            "\n{fixable} fixable: `ambient-netpol check --write` corrects the files, `--diff` shows the change."
        );
    }
    out
}

/// Text for one cell of a GitHub-flavoured Markdown table: `|` escaped (also inside code spans,
/// as GFM tables want), line breaks as `<br>`; outside code spans, `<`, `>` and `&` as entities
/// (so `<unnamed-1>` is not read as an HTML tag) and emphasis characters escaped. With an odd
/// number of backticks there are no code spans: every backtick is escaped.
fn table_cell(text: &str) -> String {
    let balanced = text.matches('`').count().is_multiple_of(2);
    let mut out = String::with_capacity(text.len());
    let mut in_code = false;
    for c in text.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '\n' => out.push_str("<br>"),
            '\r' => {}
            '`' if balanced => {
                in_code = !in_code;
                out.push('`');
            }
            '`' => out.push_str("\\`"),
            _ if in_code => out.push(c),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '*' | '_' | '[' | ']' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Code, Options, Source, analyze};

    fn finding(code: Code, message: &str, line: u32) -> Finding {
        let mut f = Finding::new(
            code,
            message.into(),
            Some(Location {
                source: 0,
                document: 1,
                line,
                column: 3,
            }),
        );
        f.policy = Some("shop/server".into());
        f.policy_kind = Some("NetworkPolicy".into());
        f
    }

    #[test]
    fn workflow_command_escaping_follows_the_runner() {
        assert_eq!(escape_data("50% a\r\nb: c, d"), "50%25 a%0D%0Ab: c, d");
        assert_eq!(
            escape_property("dir,x/a:b%.yaml\n"),
            "dir%2Cx/a%3Ab%25.yaml%0A"
        );
        // `%` first: an escape is never escaped again.
        assert_eq!(escape_property("%3A"), "%253A");
    }

    #[test]
    fn github_commands_carry_file_line_and_an_escaped_title_errors_first() {
        let mut report = Report {
            findings: vec![
                finding(Code::Amb004, "a warning", 3),
                finding(Code::Amb001, "two\nlines, 100%", 9),
            ],
            ..Report::default()
        };
        report.findings[1].fix = Some("add 15008".into());
        let out = github(&report, &["./dir, x/app:1.yaml"]);
        let lines: Vec<&str> = out.lines().collect();
        assert!(
            lines[0].starts_with(
                "::error file=dir%2C x/app%3A1.yaml,line=9,col=3,title=AMB001%3A HBONE"
            ),
            "{}",
            lines[0]
        );
        assert!(
            lines[0].ends_with("::two%0Alines, 100%25%0Afix: add 15008"),
            "{}",
            lines[0]
        );
        assert!(lines[1].starts_with("::warning file="), "{}", lines[1]);
        assert_eq!(lines.len(), 3, "{out}");
        // Every command is one line with exactly one `::` after its properties.
        for line in &lines[..2] {
            let rest = line.strip_prefix("::").unwrap();
            assert_eq!(rest.matches("::").count(), 1, "{line}");
        }
    }

    #[test]
    fn fingerprints_ignore_the_line_and_tell_equal_findings_apart() {
        let at = |line| {
            let report = Report {
                findings: vec![
                    finding(Code::Amb001, "blocked", line),
                    finding(Code::Amb001, "blocked", line + 10),
                    finding(Code::Amb004, "port list", line),
                ],
                ..Report::default()
            };
            let value: serde_json::Value =
                serde_json::from_str(&gitlab(&report, &["app.yaml"])).unwrap();
            value
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["fingerprint"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        };
        let before = at(5);
        assert_eq!(before, at(40), "moving a finding keeps its fingerprint");
        let mut unique = before.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 3, "{before:?}");
        assert!(
            before
                .iter()
                .all(|f| f.len() == 32 && f.bytes().all(|b| b.is_ascii_hexdigit()))
        );
        // Pinned: a change of the hash would make GitLab see every finding as new.
        assert_eq!(fingerprint(""), "6c62272e07bb014262b821756295c58d");
        assert_eq!(fingerprint("a"), "d228cb696f1a8caf78912b704e4a8964");
    }

    #[test]
    fn table_cells_keep_code_spans_and_escape_the_rest() {
        assert_eq!(
            table_cell("policy `default/<unnamed-1>` a|b <x> *y*"),
            "policy `default/<unnamed-1>` a\\|b &lt;x&gt; \\*y\\*"
        );
        assert_eq!(table_cell("odd ` <b>"), "odd \\` &lt;b&gt;");
        assert_eq!(table_cell("two\nlines"), "two<br>lines");
    }

    #[test]
    fn xml_escape_keeps_line_breaks_in_attributes_and_drops_control_characters() {
        assert_eq!(
            xml_escape("a<b & \"c\"\n\u{1}"),
            "a&lt;b &amp; &quot;c&quot;&#10;\u{FFFD}"
        );
    }

    #[test]
    fn junit_has_a_case_per_policy_and_fails_by_threshold() {
        let text = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: quiet, namespace: shop}\nspec: {podSelector: {}, policyTypes: [Egress], egress: [{}]}\n";
        let report = analyze(
            &[Source {
                name: "p.yaml",
                text,
            }],
            &Options::default(),
        );
        let loaded = crate::load(&[Source {
            name: "p.yaml",
            text,
        }]);
        let policies = policy_entries(&loaded.cluster);
        assert_eq!(policies.len(), 1);
        let out = junit(&report, &["p.yaml"], &policies, FailOn::Error);
        assert!(
            out.contains("<testcase classname=\"NetworkPolicy\" name=\"shop/quiet\" time=\"0\""),
            "{out}"
        );
        assert!(out.contains("tests=\"1\" failures=\"0\""), "{out}");
    }
}
