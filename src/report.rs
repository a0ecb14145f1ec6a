//! Renderings of a [`Report`] for the command line: compiler-style text and JSON, SARIF, and
//! (in `ci`) the formats of CI systems.
//!
//! Pure functions from a report (and the names of its sources) to a string; the CLI prints them.

mod ci;

pub use ci::{
    FailOn, PolicyEntry, escape_data, escape_property, github, gitlab, junit, markdown,
    policy_entries,
};

use serde::Serialize;

use crate::ambient::Context;
use crate::ambient::paths::Edge;
use crate::ambient::ztunnel_layer::{Judgement, Layer, Via};
use crate::cnp::Action;
use crate::net::Direction;
use crate::net::conn::Protocol;
use crate::pipeline::connectivity::Connection;
use crate::pipeline::engine::{Engine, SideVerdict, Verdict};
use crate::pipeline::{PolicyRef, RuleRef};
use crate::{Finding, Report, Severity};

/// `file:line:column: CODE severity: message`, one line a finding, then a summary line.
pub fn text(report: &Report, source_names: &[&str]) -> String {
    use std::fmt::Write as _;
    // Written into one string as it grows (a whole cluster's report is megabytes): no string
    // per line. (Writing to a `String` cannot fail.)
    let mut out = String::new();
    for finding in &report.findings {
        match finding.location {
            Some(l) => {
                let source = source_names.get(l.source).copied().unwrap_or("<input>");
                let _ = write!(out, "{source}:{}:{}", l.line, l.column);
            }
            None => out.push_str("<input>"),
        }
        let _ = writeln!(
            out,
            ": {} {}: {}",
            finding.code.id(),
            finding.severity.as_str(),
            finding.message
        );
        if let Some(fix) = &finding.fix {
            let _ = writeln!(out, "  fix: {fix}");
        }
    }
    for note in &report.notes {
        out.push_str(&format!("note: {note}\n"));
    }
    let fixable = report.findings.iter().filter(|f| f.fixable).count();
    if fixable > 0 {
        out.push_str(&format!(
            "{fixable} fixable: --fix FILE writes the corrected YAML, --diff shows the change, --write corrects the files\n"
        ));
    }
    if !report.fixed.extras.is_empty() {
        // A whole cluster can have thousands: the file has them all, the line names up to a
        // dozen.
        const NAMED: usize = 12;
        let extras = &report.fixed.extras;
        let shown = if extras.len() > NAMED {
            NAMED - 2
        } else {
            NAMED
        };
        let mut names: Vec<String> = extras
            .iter()
            .take(shown)
            .map(|g| format!("{} {}", g.kind, g.name))
            .collect();
        if extras.len() > shown {
            names.push(format!("and {} more", extras.len() - shown));
        }
        out.push_str(&format!(
            "extra documents (--extras FILE): {}\n",
            names.join(", ")
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
    notes: &'a [String],
    /// The corrected input, every document, ready for `kubectl apply -f -`.
    fixed_yaml: String,
    /// Unified diff of the input against `fixed_yaml`'s sources.
    diff: &'a str,
    extras: &'a [crate::fix::Generated],
}

/// One JSON object: `findings` (the fields of DOMAIN.md section 6, plus file, document, column
/// and fix), `fixed_yaml`, `diff`, `extras`, `notes` and `summary` (counts).
pub fn json(report: &Report, source_names: &[&str], diff: &str) -> String {
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
        notes: &report.notes,
        fixed_yaml: report.fixed.combined(),
        diff,
        extras: &report.fixed.extras,
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
    fn the_extras_line_names_a_dozen_and_counts_the_rest() {
        let with = |n: usize| {
            let mut report = Report::default();
            report.fixed.extras = (0..n)
                .map(|i| crate::fix::Generated {
                    kind: "AuthorizationPolicy".into(),
                    name: format!("p{i}"),
                    yaml: String::new().into(),
                })
                .collect();
            let out = text(&report, &[]);
            out.lines()
                .find(|l| l.starts_with("extra documents"))
                .unwrap()
                .to_string()
        };
        let twelve = with(12);
        assert!(twelve.ends_with("AuthorizationPolicy p11"), "{twelve}");
        let many = with(1400);
        assert!(
            many.contains("AuthorizationPolicy p9, and 1390 more"),
            "{many}"
        );
        assert!(!many.contains("p10"), "{many}");
    }

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
                text: "kind: ConfigMap\nmetadata: {name: web}\n",
            }],
            &Options::default(),
        );
        let value: serde_json::Value =
            serde_json::from_str(&json(&report, &["x.yaml"], "")).unwrap();
        let f = &value["findings"][0];
        assert_eq!(f["code"], "INP002");
        assert_eq!(f["severity"], "info");
        assert_eq!(f["line"], 1);
        assert_eq!(f["file"], "x.yaml");
        assert_eq!(f["fixable"], false);
        assert!(f["policy"].is_null() && f["workload"].is_null());
        assert!(f["message"].as_str().unwrap().contains("ConfigMap `web`"));
        assert_eq!(value["summary"]["info"], 1);
    }
}

/// SARIF 2.1.0: one run, rule metadata from the code registry, results with file URIs and lines.
pub fn sarif(report: &Report, source_names: &[&str]) -> String {
    use serde_json::json;
    let rules: Vec<serde_json::Value> = crate::findings::RULES
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": r.title.replace(|c: char| !c.is_ascii_alphanumeric(), ""),
                "shortDescription": { "text": r.title },
                "fullDescription": { "text": r.explanation().lines().find(|l| !l.is_empty() && !l.starts_with('#')).unwrap_or(r.title) },
                "help": { "text": r.explanation(), "markdown": r.explanation() },
                "defaultConfiguration": { "level": sarif_level(r.severity) },
            })
        })
        .collect();
    let results: Vec<serde_json::Value> = report
        .findings
        .iter()
        .map(|f| {
            let index = crate::findings::RULES.iter().position(|r| r.code == f.code).unwrap_or(0);
            let mut result = json!({
                "ruleId": f.code.id(),
                "ruleIndex": index,
                "level": sarif_level(f.severity),
                "message": { "text": match &f.fix { Some(fix) => format!("{} Fix: {fix}.", f.message), None => f.message.clone() } },
            });
            if f.policy.is_some() || f.workload.is_some() {
                result["properties"] = json!({
                    "policy": f.policy,
                    "policy_kind": f.policy_kind,
                    "workload": f.workload,
                });
            }
            if let Some(l) = f.location {
                let name = source_names.get(l.source).copied().unwrap_or("input");
                result["locations"] = json!([{
                    "physicalLocation": {
                        "artifactLocation": { "uri": file_uri(name) },
                        "region": { "startLine": l.line, "startColumn": l.column },
                    }
                }]);
            }
            result
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "ambient-netpol",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://istio.io/latest/docs/ambient/usage/networkpolicy/",
                "rules": rules,
            }},
            "results": results,
        }],
    });
    let mut out = serde_json::to_string_pretty(&doc).expect("JSON values serialize infallibly");
    out.push('\n');
    out
}

fn sarif_level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// A relative path as a URI reference (percent-encoding what URIs do not allow).
fn file_uri(name: &str) -> String {
    let mut out = String::new();
    for b in name.trim_start_matches("./").bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The connectivity map as a table: source, destination, connections.
pub fn connectivity_text(connections: &[Connection]) -> String {
    let name = |n: &str, k: &str| format!("{n} [{k}]");
    let rows: Vec<(String, String, String)> = connections
        .iter()
        .map(|c| {
            let mut conn = match &c.plain {
                None => c.conn.0.to_string(),
                Some(plain) if c.conn.0.is_empty() => {
                    format!("BLOCKED once enrolled (today: {})", plain.0)
                }
                Some(plain) => format!("{} (today: {})", c.conn.0, plain.0),
            };
            // The ztunnel layer: what it refuses of what the CNI lets through, and who.
            let mut refused = Vec::new();
            if let Some(denied) = &c.ztunnel_denied {
                refused.push(format!("ztunnel refuses {}", denied.0));
            }
            if let Some(uncertain) = &c.ztunnel_uncertain {
                refused.push(format!(
                    "ztunnel may refuse {} (addresses unknown)",
                    uncertain.0
                ));
            }
            if !refused.is_empty() {
                conn.push_str(&format!(
                    " [{}: {}]",
                    refused.join(", "),
                    c.denied_by.join(", ")
                ));
            }
            (name(&c.src, &c.src_kind), name(&c.dst, &c.dst_kind), conn)
        })
        .collect();
    let w1 = rows
        .iter()
        .map(|r| r.0.len())
        .max()
        .unwrap_or(0)
        .max("SOURCE".len());
    let w2 = rows
        .iter()
        .map(|r| r.1.len())
        .max()
        .unwrap_or(0)
        .max("DESTINATION".len());
    let mut out = format!("{:w1$}  {:w2$}  CONNECTIONS\n", "SOURCE", "DESTINATION");
    for (src, dst, conn) in rows {
        out.push_str(&format!("{src:w1$}  {dst:w2$}  {conn}\n"));
    }
    let changed = connections.iter().filter(|c| c.plain.is_some()).count();
    let changed = if changed > 0 {
        format!(", {changed} changed once enrolled")
    } else {
        String::new()
    };
    out.push_str(&format!("{} pairs{changed}\n", connections.len()));
    out
}

/// One side of a verdict in words.
fn side_text(engine: &Engine, side: &SideVerdict, direction: Direction, who: &str) -> String {
    let policies = &engine.cluster.policies.network;
    let mut out = String::new();
    if !side.calico.is_empty() {
        return calico_side_text(engine, side, direction, who);
    }
    if !side.decided_by.is_empty() {
        // The cluster-wide tiers decided part of it: each deciding rule, then what is left.
        out.push_str(&format!(
            "  {} at {who}: {}\n",
            direction.as_str(),
            side.allowed
        ));
        for m in &side.decided_by {
            out.push_str(&format!(
                "    {}: {} {}\n",
                rule_text(engine, &m.rule_ref(direction)),
                action_word(m.action),
                m.conns
            ));
        }
    }
    if side.isolated_by.is_empty() {
        out.push_str(&if side.decided_by.is_empty() {
            format!(
                "  {direction} at {who}: not isolated (no policy selects it for {direction}): all allowed\n",
                direction = direction.as_str()
            )
        } else {
            format!(
                "    no NetworkPolicy isolates it for {}: the rest is allowed unless the Baseline tier denies it\n",
                direction.as_str()
            )
        });
        return out;
    }
    // A Cilium policy's allow rules are named with their kind (a NetworkPolicy by its name).
    let names: Vec<String> = side
        .isolated_by
        .iter()
        .map(|&p| engine.cluster.policy_label(PolicyRef::Network(p)))
        .collect();
    if side.decided_by.is_empty() {
        out.push_str(&format!(
            "  {} at {who}: isolated by {}: {}\n",
            direction.as_str(),
            names.join(", "),
            side.allowed
        ));
    } else {
        let family = if side
            .isolated_by
            .iter()
            .any(|&p| policies[p].cilium.is_some())
        {
            "the allow rules (NetworkPolicy and Cilium's)"
        } else {
            "NetworkPolicy"
        };
        out.push_str(&format!(
            "    the rest: {family}, isolated by {}\n",
            names.join(", ")
        ));
    }
    if side.admitted_by.is_empty() {
        out.push_str("    no rule of these policies admits this peer\n");
    }
    for m in &side.admitted_by {
        out.push_str(&format!(
            "    {} admits {}\n",
            rule_text(engine, &m.rule_ref(direction)),
            m.conns
        ));
    }
    out
}

/// A rule in an explanation: "ns/name ingress rule 1 (line 12)".
fn rule_text(engine: &Engine, rule: &RuleRef) -> String {
    let line = engine.cluster.rule_location(rule).map_or(0, |l| l.line);
    format!("{} (line {line})", engine.cluster.rule_label(rule))
}

/// [`side_text`] under Calico: each deciding Calico rule and tier end in the pipeline's order,
/// the Kubernetes NetworkPolicies in their place in the default tier.
fn calico_side_text(
    engine: &Engine,
    side: &SideVerdict,
    direction: Direction,
    who: &str,
) -> String {
    let mut out = format!("  {} at {who}: {}\n", direction.as_str(), side.allowed);
    for m in &side.decided_by {
        out.push_str(&format!(
            "    {}: {} {}\n",
            rule_text(engine, &m.rule_ref(direction)),
            action_word(m.action),
            m.conns
        ));
    }
    let kubernetes = |out: &mut String| {
        let names: Vec<String> = side
            .isolated_by
            .iter()
            .map(|&p| engine.cluster.policy_name(PolicyRef::Network(p)))
            .collect();
        out.push_str(&format!(
            "    Kubernetes NetworkPolicies {} (order 1000 of tier `default`): {}\n",
            names.join(", "),
            if side.admitted_by.is_empty() {
                "no rule admits this peer".to_string()
            } else {
                side.admitted_by
                    .iter()
                    .map(|m| {
                        format!(
                            "{} allows {}",
                            engine.cluster.rule_in_policy(&m.rule_ref(direction)),
                            m.conns
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            }
        ));
    };
    let mut placed = side.isolated_by.is_empty();
    for m in &side.calico {
        if !placed && m.after_kubernetes {
            kubernetes(&mut out);
            placed = true;
        }
        let verb = match m.action {
            crate::calico::Action::Allow => "allows",
            crate::calico::Action::Deny => "denies",
            crate::calico::Action::Pass => "passes on to the next tier",
            crate::calico::Action::Log => "logs",
        };
        match m.rule_ref(direction) {
            RuleRef::CalicoTierEnd(tier) => out.push_str(&format!(
                "    end of Calico tier `{tier}` (its policies select it; default action {}): {verb} {}\n",
                m.action.as_str(),
                m.conns
            )),
            rule => out.push_str(&format!(
                "    {}: {verb} {}\n",
                rule_text(engine, &rule),
                m.conns
            )),
        }
    }
    if !placed {
        kubernetes(&mut out);
    }
    out
}

fn action_word(action: Action) -> &'static str {
    match action {
        Action::Accept => "accepts",
        Action::Deny => "denies",
        Action::Pass => "passes on",
    }
}

/// `explain`'s text: a header with the port asked for (`--port`) and the set allowed today,
/// both sides of today's verdict, then (`enrolled`: the HBONE hops once
/// enrolled, from [`crate::ambient::paths::tunnel`]; `None` when a side is an address) what
/// NetworkPolicy sees once the pods are in the mesh.
pub fn explain_text(
    engine: &Engine,
    src: &str,
    dst: &str,
    verdict: &Verdict,
    port: Option<(Protocol, u16)>,
    enrolled: Option<&[Edge]>,
) -> String {
    // The header answers the question asked: the port's verdict when --port names one, and
    // always, labelled as such, the whole set allowed today (so neither reads as the other).
    let mut out = match port {
        Some((protocol, number)) => format!(
            "{src} -> {dst}: {number}/{} {} (allowed today: {})\n",
            protocol.as_str(),
            if verdict.allowed.contains(protocol, number) {
                "allowed"
            } else {
                "blocked"
            },
            verdict.allowed
        ),
        None => format!("{src} -> {dst}: allowed today: {}\n", verdict.allowed),
    };
    out.push_str(&side_text(engine, &verdict.egress, Direction::Egress, src));
    out.push_str(&side_text(
        engine,
        &verdict.ingress,
        Direction::Ingress,
        dst,
    ));
    if let Some((protocol, number)) = port {
        let allowed = verdict.allowed.contains(protocol, number);
        out.push_str(&format!(
            "{number}/{}: {}\n",
            protocol.as_str(),
            if allowed { "allowed" } else { "blocked" }
        ));
    }
    match enrolled {
        None => {}
        Some([]) => out.push_str(
            "once enrolled: unchanged, this traffic keeps its original port (plaintext, or mTLS between Istio proxies)\n",
        ),
        Some(hops) => {
            out.push_str(&format!(
                "once enrolled: tunnelled over HBONE{}; NetworkPolicy sees only 15008/TCP, and {}\n",
                if hops.len() > 1 { " through the waypoint" } else { "" },
                if hops.iter().all(|h| h.allowed) {
                    "every TCP port passes the tunnel"
                } else {
                    "TCP traffic is blocked"
                }
            ));
            for hop in hops {
                out.push_str(&format!(
                    "  {} -> {} {}: {}{} ({})\n",
                    hop.from,
                    hop.to,
                    hop.port,
                    if hop.allowed { "allowed" } else { "blocked" },
                    if hop.blocked_by.is_empty() {
                        String::new()
                    } else {
                        format!(" by {}", hop.blocked_by.join(", "))
                    },
                    hop.explanation
                ));
            }
        }
    }
    out
}

#[derive(Serialize)]
struct JsonSide {
    isolated_by: Vec<String>,
    admitted_by: Vec<JsonRule>,
    /// The cluster-wide rules that decided part of it, in the order they were asked.
    decided_by: Vec<JsonLayerRule>,
    /// Under `--cni calico`: the Calico rules and tier ends that decided part of it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    calico: Vec<JsonCalicoRule>,
    allowed: String,
}

#[derive(Serialize)]
struct JsonCalicoRule {
    /// `None`: the tier's end (its default action).
    policy: Option<String>,
    policy_kind: Option<String>,
    tier: String,
    order: Option<f64>,
    direction: &'static str,
    rule: Option<usize>,
    line: Option<u32>,
    action: &'static str,
    conn: String,
}

#[derive(Serialize)]
struct JsonLayerRule {
    policy: String,
    policy_kind: String,
    tier: &'static str,
    priority: u32,
    direction: &'static str,
    rule: usize,
    rule_name: Option<String>,
    line: u32,
    action: &'static str,
    conn: String,
}

#[derive(Serialize)]
struct JsonRule {
    policy: String,
    /// `NetworkPolicy`, or the Cilium kind whose allow rule it is.
    policy_kind: String,
    direction: &'static str,
    rule: usize,
    line: u32,
    conn: String,
}

/// `explain`'s JSON: `allowed` (the whole set allowed today), `port` (the port asked for and
/// its verdict today, `null` without `--port`), for `egress` and `ingress` the isolating
/// policies and the admitting rules (1-based rule numbers and document lines), and `enrolled`
/// as for [`explain_text`].
pub fn explain_json(
    engine: &Engine,
    src: &str,
    dst: &str,
    verdict: &Verdict,
    port: Option<(Protocol, u16)>,
    enrolled: Option<&[Edge]>,
) -> String {
    json_text(&explain_value(engine, src, dst, verdict, port, enrolled))
}

/// Pretty JSON with a final line break.
pub fn json_text(value: &serde_json::Value) -> String {
    let mut out = serde_json::to_string_pretty(value).expect("JSON values serialize infallibly");
    out.push('\n');
    out
}

/// [`explain_json`]'s value, for a caller that adds fields (the ztunnel layer's `ztunnel`).
pub fn explain_value(
    engine: &Engine,
    src: &str,
    dst: &str,
    verdict: &Verdict,
    port: Option<(Protocol, u16)>,
    enrolled: Option<&[Edge]>,
) -> serde_json::Value {
    let side = |side: &SideVerdict, direction: Direction| {
        let cluster = engine.cluster;
        let line = |rule: &RuleRef| cluster.rule_location(rule).map(|l| l.line);
        JsonSide {
            isolated_by: side
                .isolated_by
                .iter()
                .map(|&p| cluster.policy_name(PolicyRef::Network(p)))
                .collect(),
            admitted_by: side
                .admitted_by
                .iter()
                .map(|m| JsonRule {
                    policy: cluster.policy_name(PolicyRef::Network(m.policy)),
                    policy_kind: cluster.policy_kind(PolicyRef::Network(m.policy)),
                    direction: direction.as_str(),
                    rule: m.rule + 1,
                    line: line(&m.rule_ref(direction)).unwrap_or_default(),
                    conn: m.conns.to_string(),
                })
                .collect(),
            decided_by: side
                .decided_by
                .iter()
                .map(|m| {
                    let policy = &cluster.policies.tiered[m.policy];
                    let named = PolicyRef::Tiered(m.policy);
                    JsonLayerRule {
                        policy: cluster.policy_name(named),
                        policy_kind: cluster.policy_kind(named),
                        tier: policy.tier.as_str(),
                        priority: policy.priority,
                        direction: direction.as_str(),
                        rule: m.rule + 1,
                        rule_name: policy.rules(direction)[m.rule].name.clone(),
                        line: line(&m.rule_ref(direction)).unwrap_or_default(),
                        action: m.action.as_str(),
                        conn: m.conns.to_string(),
                    }
                })
                .collect(),
            calico: side
                .calico
                .iter()
                .map(|m| {
                    let named = m.policy.map(PolicyRef::Calico);
                    JsonCalicoRule {
                        policy: named.map(|p| cluster.policy_name(p)),
                        policy_kind: named.map(|p| cluster.policy_kind(p)),
                        tier: m.tier.clone(),
                        order: m.policy.and_then(|c| cluster.policies.calico[c].order),
                        direction: direction.as_str(),
                        rule: m.rule.map(|r| r + 1),
                        line: line(&m.rule_ref(direction)),
                        action: m.action.as_str(),
                        conn: m.conns.to_string(),
                    }
                })
                .collect(),
            allowed: side.allowed.to_string(),
        }
    };
    serde_json::json!({
        "src": src,
        "dst": dst,
        "allowed": verdict.allowed.to_string(),
        "egress": side(&verdict.egress, Direction::Egress),
        "ingress": side(&verdict.ingress, Direction::Ingress),
        "port": port.map(|(p, n)| serde_json::json!({
            "port": n,
            "protocol": p.as_str(),
            "allowed": verdict.allowed.contains(p, n),
        })),
        "enrolled": enrolled.map(|hops| serde_json::json!({
            "hbone": !hops.is_empty(),
            "hops": hops,
        })),
    })
}

/// The TCP ports as `TCP 8080,9090-9091`.
fn tcp(ports: &crate::istio::ztunnel::Ports) -> String {
    crate::net::conn::ConnSet::ports(Protocol::Tcp, ports.clone()).to_string()
}

/// `explain`'s lines for the ztunnel layer: the identity the destination's ztunnel sees, its
/// verdict on the inner ports once enrolled (`reached`: false when the CNI blocks the tunnel,
/// so ztunnel would judge them only once it is admitted), each part with the rule that decides
/// it, and the port asked for.
pub fn ztunnel_text(
    layer: &Layer,
    cx: &Context,
    j: &Judgement,
    port: Option<(Protocol, u16)>,
    reached: bool,
) -> String {
    let denied = j.denied();
    let uncertain = j.uncertain();
    let allowed = j.allowed();
    let mut verdict = Vec::new();
    if !allowed.is_empty() {
        verdict.push(format!("allows {}", tcp(&allowed)));
    }
    if !uncertain.is_empty() {
        verdict.push(format!(
            "may allow {} (it depends on addresses the input does not give)",
            tcp(&uncertain)
        ));
    }
    if !denied.is_empty() {
        verdict.push(format!("refuses {}", tcp(&denied)));
    }
    if verdict.is_empty() {
        verdict.push("has nothing to judge".into());
    }
    let mut out = format!(
        "ztunnel at {} {} the inner port by {}: {}\n",
        cx.workload_name(j.destination),
        if reached {
            "judges"
        } else {
            "would judge (once the CNI admits the tunnel)"
        },
        layer.describe_peer(j),
        verdict.join("; ")
    );
    for d in &j.decisions {
        out.push_str(&format!(
            "  {}: {} ({})\n",
            tcp(&d.ports),
            d.outcome.as_str(),
            crate::istio::ztunnel::describe_why(&cx.cluster.policies.istio, &d.why)
        ));
    }
    if let Some((Protocol::Tcp, number)) = port {
        let by = || {
            j.decisions
                .iter()
                .find(|d| d.ports.contains(number))
                .map(|d| {
                    crate::istio::ztunnel::decider_name(&cx.cluster.policies.istio, &d.why)
                        .join(", ")
                })
                .unwrap_or_default()
        };
        let verdict = if !j.asked.contains(number) {
            "not judged: the CNI does not let it through".to_string()
        } else if !reached {
            "blocked by the CNI (15008/TCP)".to_string()
        } else if denied.contains(number) {
            format!("denied by ztunnel ({})", by())
        } else if uncertain.contains(number) {
            format!(
                "may be denied by ztunnel ({}), depending on addresses",
                by()
            )
        } else {
            "allowed by the CNI and by ztunnel".to_string()
        };
        out.push_str(&format!("{number}/TCP once enrolled: {verdict}\n"));
    }
    out
}

/// `explain`'s JSON `ztunnel` field: `destination`, `via` (`plaintext`, `hbone`, `waypoint`),
/// `waypoint` (its pod), `identity` (`null` for plaintext), `reached`, the judged ports
/// (`asked`) and their split (`allowed`, `uncertain`, `denied`), `decisions` (each part's
/// `conn`, `verdict` and the deciding `kind`, `policy`, `action`, 1-based `rule`, `line` and
/// `reason`), and `port` (the port asked for: `verdict` once enrolled).
pub fn ztunnel_json(
    cx: &Context,
    j: &Judgement,
    port: Option<(Protocol, u16)>,
    reached: bool,
) -> serde_json::Value {
    use crate::istio::ztunnel::{Outcome, Why};
    let decisions: Vec<serde_json::Value> = j
        .decisions
        .iter()
        .map(|d| {
            let (kind, policy, action, rule, line) = match &d.why {
                Why::Deny { policy, rule } | Why::Allow { policy, rule } => {
                    let p = &cx.cluster.policies.istio.authorization[*policy];
                    (
                        Some("AuthorizationPolicy"),
                        vec![p.qualified_name()],
                        Some(p.action.as_str()),
                        Some(rule + 1),
                        Some(p.rules[*rule].line),
                    )
                }
                Why::Strict {
                    peer_authentication,
                } => {
                    let pa = peer_authentication
                        .map(|i| &cx.cluster.policies.istio.peer_authentications[i]);
                    (
                        Some("PeerAuthentication"),
                        pa.map(|pa| pa.qualified_name()).into_iter().collect(),
                        Some("STRICT"),
                        None,
                        pa.map(|pa| pa.location.line),
                    )
                }
                Why::NoAllow { policies } => (
                    Some("AuthorizationPolicy"),
                    policies
                        .iter()
                        .map(|&i| cx.cluster.policies.istio.authorization[i].qualified_name())
                        .collect(),
                    Some("ALLOW"),
                    None,
                    None,
                ),
                Why::Open => (None, Vec::new(), None, None, None),
            };
            serde_json::json!({
                "conn": tcp(&d.ports),
                "verdict": d.outcome.as_str(),
                "kind": kind,
                "policies": policy,
                "action": action,
                "rule": rule,
                "line": line,
                "reason": crate::istio::ztunnel::describe_why(&cx.cluster.policies.istio, &d.why),
            })
        })
        .collect();
    let port = port.map(|(protocol, number)| {
        let outcome = (protocol == Protocol::Tcp && j.asked.contains(number)).then(|| {
            j.decisions
                .iter()
                .find(|d| d.ports.contains(number))
                .map_or(Outcome::Allowed, |d| d.outcome)
        });
        serde_json::json!({
            "port": number,
            "protocol": protocol.as_str(),
            "verdict": match outcome {
                None => "not judged",
                Some(_) if !reached => "blocked by the CNI",
                Some(o) => o.as_str(),
            },
        })
    });
    serde_json::json!({
        "destination": cx.workload_name(j.destination),
        "via": match j.via {
            Via::Plaintext => "plaintext",
            Via::Hbone => "hbone",
            Via::Waypoint(_) => "waypoint",
        },
        "waypoint": match j.via {
            Via::Waypoint(w) => Some(cx.workload_name(w)),
            _ => None,
        },
        "identity": j.identity,
        "reached": reached,
        "asked": tcp(&j.asked),
        "allowed": tcp(&j.allowed()),
        "uncertain": tcp(&j.uncertain()),
        "denied": tcp(&j.denied()),
        "decisions": decisions,
        "port": port,
    })
}
