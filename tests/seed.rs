//! The seed document's four examples, with the verdicts the Istio page gives for each (checked by
//! hand against `tests/seed/README.md`'s source and DOMAIN.md sections 2, 3 and 5).

use ambient_netpol::ambient::{Cni, FixStyle};
use ambient_netpol::{Options, Report, Severity, Source, analyze};

fn check(name: &str, options: &Options) -> (String, Report) {
    let path = format!("{}/tests/seed/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    let report = analyze(&[Source { name, text: &text }], options);
    (text, report)
}

fn codes(report: &Report, severity: Severity) -> Vec<&'static str> {
    report
        .findings
        .iter()
        .filter(|f| f.severity == severity)
        .map(|f| f.code.id())
        .collect()
}

fn reanalyse(fixed: &str, options: &Options) -> Report {
    analyze(
        &[Source {
            name: "fixed.yaml",
            text: fixed,
        }],
        options,
    )
}

#[test]
fn example_1_blocks_hbone_and_the_fix_keeps_9090_and_adds_15008() {
    let options = Options::default();
    let (text, report) = check("hbone-blocked.yaml", &options);
    assert_eq!(codes(&report, Severity::Error), ["AMB001"]);
    let amb001 = report
        .findings
        .iter()
        .find(|f| f.code.id() == "AMB001")
        .unwrap();
    assert_eq!(amb001.line(), Some(5), "points at the rule");
    assert!(amb001.fixable);
    assert_eq!(amb001.policy.as_deref(), Some("default/<unnamed-1>"));
    assert!(amb001.message.contains("TCP 9090"), "{}", amb001.message);
    // Not AMB003: the rule admits everyone (the SNAT address too) on 9090.
    assert!(!codes(&report, Severity::Warning).contains(&"AMB003"));

    // The seed's correction turns 9090 into 8080 (a typo, DOMAIN.md section 2): ours keeps 9090.
    let expected = text.replace(
        "      protocol: TCP\n  podSelector:",
        "      protocol: TCP\n    - port: 15008\n      protocol: TCP\n  podSelector:",
    );
    assert_eq!(report.fixed.combined(), expected);
    let again = reanalyse(&expected, &options);
    assert!(
        codes(&again, Severity::Error).is_empty(),
        "{:#?}",
        again.findings
    );
    // Through the tunnel the port list no longer holds: the warning says so.
    assert!(codes(&again, Severity::Warning).contains(&"AMB004"));
}

#[test]
fn example_2_the_corrected_policy_has_no_error() {
    let (text, report) = check("hbone-corrected.yaml", &Options::default());
    assert!(
        codes(&report, Severity::Error).is_empty(),
        "{:#?}",
        report.findings
    );
    assert_eq!(
        codes(&report, Severity::Warning),
        ["AMB004"],
        "15008 from everyone opens every port"
    );
    assert_eq!(report.fixed.texts, [text], "nothing to fix");
}

#[test]
fn example_3_deny_all_blocks_probes_depending_on_the_cni() {
    let (text, report) = check("deny-ingress.yaml", &Options::default());
    assert!(codes(&report, Severity::Error).is_empty());
    assert_eq!(
        codes(&report, Severity::Warning),
        ["AMB003"],
        "generic CNI: may be blocked"
    );
    assert!(codes(&report, Severity::Info).contains(&"AMB006"));
    let amb003 = report
        .findings
        .iter()
        .find(|f| f.code.id() == "AMB003")
        .unwrap();
    assert!(amb003.message.contains("169.254.7.127") && amb003.message.contains("may be blocked"));

    // The fix is the seed's rule: admit the SNAT address (ports unknown without the pods).
    let expected =
        format!("{text}  ingress:\n  - from:\n    - ipBlock:\n        cidr: 169.254.7.127/32\n");
    assert_eq!(report.fixed.combined(), expected);
    let again = reanalyse(&expected, &Options::default());
    assert!(
        !again.findings.iter().any(|f| f.code.id() == "AMB003"),
        "{:#?}",
        again.findings
    );

    for cni in [Cni::Cilium, Cni::OvnKubernetes] {
        let (_, report) = check(
            "deny-ingress.yaml",
            &Options {
                cni,
                ..Options::default()
            },
        );
        assert_eq!(
            codes(&report, Severity::Error),
            ["AMB003"],
            "{cni:?} blocks them"
        );
    }
    let (_, cilium) = check(
        "deny-ingress.yaml",
        &Options {
            cni: Cni::Cilium,
            ..Options::default()
        },
    );
    assert_eq!(cilium.fixed.extras.len(), 1);
    assert!(
        cilium.fixed.extras[0]
            .yaml
            .contains("kind: CiliumClusterwideNetworkPolicy")
    );
    assert!(cilium.fixed.extras[0].yaml.contains("- 169.254.7.127/32"));
    let (_, calico) = check(
        "deny-ingress.yaml",
        &Options {
            cni: Cni::Calico,
            ..Options::default()
        },
    );
    assert_eq!(codes(&calico, Severity::Warning), ["AMB003"]);
}

#[test]
fn example_4_the_probe_rule_fixes_it() {
    let options = Options {
        cni: Cni::Cilium,
        ..Options::default()
    };
    let (_, report) = check("deny-ingress-allow-kubelet-healthprobes.yaml", &options);
    assert!(
        codes(&report, Severity::Error).is_empty(),
        "{:#?}",
        report.findings
    );
    assert!(!report.findings.iter().any(|f| f.code.id() == "AMB003"));
    assert!(report.fixed.extras.is_empty());
}

#[test]
fn add_style_leaves_the_policy_and_adds_one() {
    let options = Options {
        fix_style: FixStyle::Add,
        ..Options::default()
    };
    let (text, report) = check("hbone-blocked.yaml", &options);
    let fixed = report.fixed.combined();
    assert!(fixed.starts_with(&text), "the original is untouched");
    let added = &fixed[text.len()..];
    assert_eq!(
        added,
        "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: allow-ambient-hbone-unnamed-1\nspec:\n  podSelector:\n    matchLabels:\n      app.kubernetes.io/name: my-app\n  policyTypes:\n  - Ingress\n  ingress:\n  - ports:\n    - port: 15008\n      protocol: TCP\n"
    );
    let again = reanalyse(&fixed, &options);
    assert!(
        codes(&again, Severity::Error).is_empty(),
        "{:#?}",
        again.findings
    );
}

#[test]
fn example_1_paths_show_the_blocked_tunnel() {
    use ambient_netpol::ambient::paths::EdgeKind;
    let (_, report) = check("hbone-blocked.yaml", &Options::default());
    let hbone: Vec<_> = report
        .paths
        .edges
        .iter()
        .filter(|e| e.kind == EdgeKind::Hbone)
        .collect();
    assert!(!hbone.is_empty());
    assert!(hbone.iter().all(|e| !e.allowed && e.port == "15008/TCP"));
    assert!(
        hbone
            .iter()
            .all(|e| e.blocked_by == ["default/<unnamed-1>"])
    );
    let app = report
        .paths
        .edges
        .iter()
        .find(|e| e.kind == EdgeKind::App)
        .unwrap();
    assert!(app.allowed && app.port == "TCP 9090");

    // After the fix the same tunnel is open.
    let fixed = reanalyse(&report.fixed.combined(), &Options::default());
    let hbone: Vec<_> = fixed
        .paths
        .edges
        .iter()
        .filter(|e| e.kind == EdgeKind::Hbone)
        .collect();
    assert!(!hbone.is_empty() && hbone.iter().all(|e| e.allowed));
}

#[test]
fn example_3_paths_show_the_blocked_probe() {
    use ambient_netpol::ambient::paths::EdgeKind;
    let (_, report) = check("deny-ingress.yaml", &Options::default());
    let probe = report
        .paths
        .edges
        .iter()
        .find(|e| e.kind == EdgeKind::Probe)
        .unwrap();
    assert!(!probe.allowed);
    assert_eq!(probe.from, "kubelet");
    assert_eq!(probe.blocked_by, ["default/deny-ingress"]);
    let fixed = reanalyse(&report.fixed.combined(), &Options::default());
    assert!(
        fixed
            .paths
            .edges
            .iter()
            .any(|e| e.kind == EdgeKind::Probe && e.allowed)
    );
}
