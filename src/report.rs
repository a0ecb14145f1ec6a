//! Renderings of a [`Report`] for the command line: compiler-style text and JSON.
//!
//! Pure functions from a report (and the names of its sources) to a string; the CLI prints them.

use serde::Serialize;

use crate::{Finding, Report, Severity};

/// `file:line:column: CODE severity: message`, one line a finding, then a summary line.
pub fn text(report: &Report, source_names: &[&str]) -> String {
    let mut out = String::new();
    for finding in &report.findings {
        let place = match finding.location {
            Some(l) => format!(
                "{}:{}:{}",
                source_names.get(l.source).copied().unwrap_or("<input>"),
                l.line,
                l.column
            ),
            None => "<input>".to_string(),
        };
        out.push_str(&format!(
            "{place}: {} {}: {}\n",
            finding.code.id(),
            finding.severity.as_str(),
            finding.message
        ));
    }
    out.push_str(&summary(report));
    out.push('\n');
    out
}

/// "2 errors, 1 warning, 0 info in 5 objects (6 documents)".
pub fn summary(report: &Report) -> String {
    let plural = |n: usize, word: &str| {
        if n == 1 {
            format!("{n} {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    format!(
        "{}, {}, {} info in {} ({})",
        plural(report.count(Severity::Error), "error"),
        plural(report.count(Severity::Warning), "warning"),
        report.count(Severity::Info),
        plural(report.objects, "object"),
        plural(report.documents, "document"),
    )
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    #[serde(flatten)]
    finding: &'a Finding,
    file: Option<&'a str>,
    document: Option<usize>,
    line: Option<u32>,
    column: Option<u32>,
}

#[derive(Serialize)]
struct JsonSummary {
    errors: usize,
    warnings: usize,
    info: usize,
    objects: usize,
    documents: usize,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    findings: Vec<JsonFinding<'a>>,
    summary: JsonSummary,
}

/// One JSON object: `findings` (the fields of DOMAIN.md section 6, plus file, document and
/// column) and `summary` (counts).
pub fn json(report: &Report, source_names: &[&str]) -> String {
    let findings = report
        .findings
        .iter()
        .map(|finding| JsonFinding {
            finding,
            file: finding
                .location
                .and_then(|l| source_names.get(l.source).copied()),
            document: finding.location.map(|l| l.document),
            line: finding.location.map(|l| l.line),
            column: finding.location.map(|l| l.column),
        })
        .collect();
    let doc = JsonReport {
        findings,
        summary: JsonSummary {
            errors: report.count(Severity::Error),
            warnings: report.count(Severity::Warning),
            info: report.count(Severity::Info),
            objects: report.objects,
            documents: report.documents,
        },
    };
    let mut out = serde_json::to_string_pretty(&doc).expect("report types serialize infallibly");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Options, Source, analyze};

    #[test]
    fn text_lines_name_file_line_and_code() {
        let report = analyze(
            &[Source {
                name: "x.yaml",
                text: "a: [\n",
            }],
            &Options::default(),
        );
        let out = text(&report, &["x.yaml"]);
        let first = out.lines().next().unwrap();
        assert!(
            first.starts_with("x.yaml:2:1: INP001 error: YAML syntax error"),
            "{first}"
        );
        assert_eq!(
            out.lines().last().unwrap(),
            "1 error, 0 warnings, 0 info in 0 objects (1 document)"
        );
    }

    #[test]
    fn json_has_the_contract_fields() {
        let report = analyze(
            &[Source {
                name: "x.yaml",
                text: "kind: Service\nmetadata: {name: web}\n",
            }],
            &Options::default(),
        );
        let value: serde_json::Value = serde_json::from_str(&json(&report, &["x.yaml"])).unwrap();
        let f = &value["findings"][0];
        assert_eq!(f["code"], "INP002");
        assert_eq!(f["severity"], "info");
        assert_eq!(f["line"], 1);
        assert_eq!(f["file"], "x.yaml");
        assert_eq!(f["fixable"], false);
        assert!(f["policy"].is_null() && f["workload"].is_null());
        assert!(f["message"].as_str().unwrap().contains("Service `web`"));
        assert_eq!(value["summary"]["info"], 1);
    }
}
