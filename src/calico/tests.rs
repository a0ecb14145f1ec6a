//! Parsing and validation of Calico's objects, from YAML as users write it.

use super::*;
use crate::findings::Code;
use crate::input::Source;

fn load(text: &str) -> crate::Loaded {
    crate::load(&[Source {
        name: "calico.yaml",
        text,
    }])
}

fn errors(text: &str) -> Vec<(u32, u32, String)> {
    load(text)
        .findings
        .into_iter()
        .filter(|f| f.code == Code::Inp003)
        .map(|f| {
            let at = f.location.unwrap_or_default();
            (at.line, at.column, f.message)
        })
        .collect()
}

const ALLOW_THEN_DENY: &str = "\
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: security.allow-frontend
spec:
  tier: security
  order: 100
  selector: app == 'backend'
  ingress:
  - action: Allow
    protocol: TCP
    source:
      selector: app == \"frontend\"
      namespaceSelector: has(team)
    destination:
      ports: [8080, \"9000:9100\", http]
      notPorts: [9050]
  - action: Log
  - action: Deny
    source:
      nets: [10.0.0.0/8, 192.168.1.1]
      notNets: [10.1.0.0/16]
---
apiVersion: projectcalico.org/v3
kind: Tier
metadata:
  name: security
spec:
  order: 50
  defaultAction: Pass
";

#[test]
fn a_global_policy_and_its_tier() {
    let loaded = load(ALLOW_THEN_DENY);
    assert!(loaded.findings.is_empty(), "{:?}", loaded.findings);
    let cluster = &loaded.cluster;
    let [policy] = cluster.policies.calico.as_slice() else {
        panic!("one policy: {:?}", cluster.policies.calico);
    };
    assert_eq!(policy.kind, "GlobalNetworkPolicy");
    assert_eq!(policy.namespace, None);
    assert_eq!(policy.tier, "security");
    assert_eq!(policy.order, Some(100.0));
    assert!(policy.ingress_applies && !policy.egress_applies);
    let rules = &policy.ingress;
    assert_eq!(
        rules.iter().map(|r| r.action).collect::<Vec<_>>(),
        [Action::Allow, Action::Log, Action::Deny]
    );
    let admit = &rules[0];
    assert_eq!(admit.protocol, Some(RuleProtocol::Known(Protocol::Tcp)));
    assert_eq!(
        admit.destination.ports,
        Some(vec![
            CalicoPort::Range(8080, 8080),
            CalicoPort::Range(9000, 9100),
            CalicoPort::Named("http".into())
        ])
    );
    assert_eq!(
        admit.destination.not_ports,
        Some(vec![CalicoPort::Range(9050, 9050)])
    );
    assert!(admit.source.names_endpoints());
    assert!(admit.has_named_ports());
    let deny = &rules[2];
    let nets = deny.source.nets.as_ref().expect("nets");
    assert!(nets.contains("10.2.3.4".parse().unwrap()));
    assert!(nets.contains("192.168.1.1".parse().unwrap()));
    assert!(!nets.contains("192.168.1.2".parse().unwrap()));
    let [tier] = cluster.policies.calico_tiers.as_slice() else {
        panic!("one tier");
    };
    assert_eq!(
        (tier.name.as_str(), tier.order, tier.default_action),
        ("security", Some(50.0), Action::Pass)
    );
}

#[test]
fn types_default_as_calico_documents() {
    let policy = |rules: &str| {
        let text = format!(
            "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {{name: p, namespace: a}}\nspec:\n{rules}"
        );
        let loaded = load(&text);
        assert!(loaded.findings.is_empty(), "{:?}", loaded.findings);
        let p = &loaded.cluster.policies.calico[0];
        (p.ingress_applies, p.egress_applies)
    };
    // No rules: Ingress. Ingress rules only: Ingress. Egress only: Egress. Both: both.
    assert_eq!(policy("  selector: all()\n"), (true, false));
    assert_eq!(policy("  ingress: [{action: Allow}]\n"), (true, false));
    assert_eq!(policy("  egress: [{action: Allow}]\n"), (false, true));
    assert_eq!(
        policy("  ingress: [{action: Allow}]\n  egress: [{action: Deny}]\n"),
        (true, true)
    );
    assert_eq!(policy("  types: [Egress]\n"), (false, true));
    assert_eq!(policy("  types: [Ingress, Egress]\n"), (true, true));
}

#[test]
fn the_crd_group_reads_alike_and_kubernetes_policies_stay_apart() {
    let loaded = load(
        "apiVersion: crd.projectcalico.org/v1
kind: NetworkPolicy
metadata: {name: p, namespace: a}
spec: {selector: \"app in {'x', 'y'}\", order: 10.5}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: k, namespace: a}
spec: {podSelector: {}}
",
    );
    assert!(loaded.findings.is_empty(), "{:?}", loaded.findings);
    assert_eq!(loaded.cluster.policies.calico.len(), 1);
    assert_eq!(loaded.cluster.policies.network.len(), 1);
    assert_eq!(loaded.cluster.policies.calico[0].order, Some(10.5));
    assert_eq!(
        loaded.cluster.policies.calico[0].namespace.as_deref(),
        Some("a")
    );
}

#[test]
fn a_selector_error_points_at_its_character() {
    let found = errors(
        "apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: p}
spec:
  selector: app = 'web'
",
    );
    let [(line, column, message)] = found.as_slice() else {
        panic!("{found:?}");
    };
    assert_eq!((*line, *column), (5, 17), "{message}");
    assert!(
        message.contains("`spec.selector` is not a valid Calico selector"),
        "{message}"
    );
    assert!(message.contains("`==`, not `=`"), "{message}");
    // Quoted: the quote is skipped.
    let found = errors(
        "apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: p}
spec:
  ingress:
  - action: Allow
    source: {selector: \"has(app) &&\"}
",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!((found[0].0, found[0].1), (7, 36), "{}", found[0].2);
    assert!(
        found[0].2.contains("spec.ingress[0].source.selector"),
        "{}",
        found[0].2
    );
}

#[test]
fn invalid_fields_are_located_errors() {
    for (spec, line, words) in [
        ("  order: first\n", 5, "must be a number"),
        ("  types: [Inbound]\n", 5, "must be Ingress or Egress"),
        (
            "  ingress: [{action: Accept}]\n",
            5,
            "Allow, Deny, Pass or Log",
        ),
        (
            "  ingress:\n  - action: Allow\n    destination: {ports: [80]}\n",
            6,
            "without `protocol`",
        ),
        (
            "  ingress:\n  - action: Allow\n    protocol: TCP\n    destination: {ports: [\"90:80\"]}\n",
            8,
            "write `80:90`",
        ),
        (
            "  ingress:\n  - action: Allow\n    protocol: TCP\n    destination: {notPorts: [70000]}\n",
            8,
            "from 1 to 65535",
        ),
        (
            "  ingress:\n  - action: Allow\n    source: {nets: [10.0.0.0/33]}\n",
            7,
            "prefix length",
        ),
        (
            "  ingress:\n  - action: Allow\n    protocol: HTTP\n",
            7,
            "must be TCP, UDP",
        ),
        (
            "  ingress:\n  - action: Allow\n    ipVersion: 5\n",
            7,
            "4 or 6",
        ),
        (
            "  types: [Egress]\n  ingress: [{action: Allow}]\n",
            6,
            "add Ingress",
        ),
        (
            "  namespaceSelector: all()\n",
            5,
            "GlobalNetworkPolicy field",
        ),
    ] {
        let text = format!(
            "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {{name: p, namespace: a}}\nspec:\n{spec}"
        );
        let found = errors(&text);
        assert_eq!(found.len(), 1, "{spec}: {found:?}");
        assert_eq!(found[0].0, line, "{spec}: {}", found[0].2);
        assert!(found[0].2.contains(words), "{spec}: {}", found[0].2);
        assert!(load(&text).cluster.policies.calico.is_empty());
    }
    let found = errors(
        "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: t}\nspec: {defaultAction: Allow}\n",
    );
    assert!(found[0].2.contains("Deny or Pass"), "{found:?}");
}

#[test]
fn what_the_analysis_cannot_see_is_reported() {
    let loaded = load(
        "apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: host}
spec:
  preDNAT: true
  applyOnForward: true
  ingress: [{action: Deny}]
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: l7, namespace: a}
spec:
  ingress:
  - action: Allow
    http: {methods: [GET]}
  - action: Allow
    destination: {services: {name: web, namespace: a}}
  - action: Allow
    protocol: TCP
    source: {ports: [1234]}
",
    );
    let notes: Vec<&str> = loaded
        .findings
        .iter()
        .filter(|f| f.code == Code::Inp007)
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(notes.len(), 4, "{notes:?}");
    assert!(notes[0].contains("host endpoint"), "{}", notes[0]);
    assert!(
        notes[1].contains("ingress rule 1 (Allow)") && notes[1].contains("HTTP"),
        "{}",
        notes[1]
    );
    assert!(notes[2].contains("Service"), "{}", notes[2]);
    assert!(notes[3].contains("client's port"), "{}", notes[3]);
    assert!(loaded.cluster.policies.calico[0].not_analysed.is_some());
    assert!(!loaded.cluster.policies.calico[0].applies(Direction::Ingress));
}

#[test]
fn policies_order_by_order_then_name_and_unordered_last() {
    let mut items = vec![
        (None, "a"),
        (Some(200.0), "b"),
        (Some(100.0), "z"),
        (Some(100.0), "c"),
    ];
    items.sort_by(|x, y| by_order(*x, *y));
    assert_eq!(
        items,
        [
            (Some(100.0), "c"),
            (Some(100.0), "z"),
            (Some(200.0), "b"),
            (None, "a")
        ]
    );
}

#[test]
fn rule_connections_take_protocols_and_ports() {
    let loaded = load(
        "apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: p}
spec:
  ingress:
  - {action: Allow, protocol: UDP}
  - {action: Allow, notProtocol: TCP}
  - {action: Allow, protocol: ICMP}
  - {action: Allow, protocol: 6, destination: {ports: [80, \"90:95\"]}}
",
    );
    let rules = &loaded.cluster.policies.calico[0].ingress;
    assert_eq!(rules[0].protocols(), ConnSet::all_of(Protocol::Udp));
    assert_eq!(
        rules[1].protocols(),
        ConnSet::all_of(Protocol::Udp).union(&ConnSet::all_of(Protocol::Sctp))
    );
    assert!(rules[2].protocols().is_empty());
    let specs = rules[3].port_specs(rules[3].destination.ports.as_deref().unwrap_or_default());
    assert_eq!(specs.len(), 2);
    assert!(specs.iter().all(|s| s.protocol == Protocol::Tcp));
    assert_eq!(specs[1].end_port, Some(95));
}
