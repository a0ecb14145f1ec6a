//! The policy pipeline: cluster-wide policies (ClusterNetworkPolicy v1alpha2, AdminNetworkPolicy
//! and BaselineAdminNetworkPolicy v1alpha1) around NetworkPolicy. Each expected value follows
//! from the API's documentation (the Go types' comments of kubernetes-sigs/network-policy-api)
//! and DOMAIN.md section 7: Admin tier by priority, rules in order, first match decides, Pass on
//! to NetworkPolicy; NetworkPolicy decides for the pods it isolates; then the Baseline tier; then
//! allow.

use ambient_netpol::pipeline::engine::{Decider, Endpoint, Engine};
use ambient_netpol::{Source, load};

/// Namespaces `a` (team=blue) and `b`; `a/web` (named ports), `a/api`, `b/client`, and a pod
/// `b/db` whose addresses are known (IPv4 and IPv6).
const CLUSTER: &str = "
apiVersion: v1
kind: Namespace
metadata: {name: a, labels: {team: blue}}
---
apiVersion: v1
kind: Namespace
metadata: {name: b}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: a}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: main
        image: web
        ports:
        - {name: http, containerPort: 8080}
        - {name: dns, containerPort: 5353, protocol: UDP}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: a}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - name: main
        image: api
        ports:
        - {name: http, containerPort: 9090}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: client, namespace: b}
spec:
  selector: {matchLabels: {app: client}}
  template:
    metadata: {labels: {app: client}}
    spec:
      containers: [{name: main, image: client}]
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: b, labels: {app: db}}
spec:
  containers: [{name: main, image: db, ports: [{containerPort: 5432}]}]
status:
  podIP: 10.1.0.7
  podIPs: [{ip: 10.1.0.7}, {ip: 'fd00::7'}]
";

fn cnp(name: &str, tier: &str, priority: u32, subject: &str, body: &str) -> String {
    format!(
        "---\napiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {{name: {name}}}\nspec:\n  tier: {tier}\n  priority: {priority}\n  subject: {subject}\n{body}"
    )
}

fn np(namespace: &str, name: &str, selector: &str, body: &str) -> String {
    format!(
        "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: {name}, namespace: {namespace}}}\nspec:\n  podSelector: {selector}\n{body}"
    )
}

const NS_A: &str = "{namespaces: {matchLabels: {team: blue}}}";
const FROM_B: &str = "[{namespaces: {matchLabels: {kubernetes.io/metadata.name: b}}}]";

fn with_engine<T>(policies: &str, f: impl FnOnce(&Engine, &dyn Fn(&str) -> Endpoint) -> T) -> T {
    let text = format!("{CLUSTER}{policies}");
    let loaded = load(&[Source {
        name: "t.yaml",
        text: &text,
    }]);
    assert!(loaded.findings.is_empty(), "{:#?}", loaded.findings);
    let engine = Engine::new(&loaded.cluster);
    let endpoint = |name: &str| match name.parse() {
        Ok(ip) => Endpoint::Ip(ip),
        Err(_) => Endpoint::Workload(
            loaded
                .cluster
                .workload(name)
                .unwrap_or_else(|| panic!("no workload {name}")),
        ),
    };
    f(&engine, &endpoint)
}

/// What `src` may open to `dst`, through the whole pipeline, as text.
fn conn(policies: &str, src: &str, dst: &str) -> String {
    with_engine(policies, |engine, at| {
        let verdict = engine.verdict(at(src), at(dst));
        // The fast path (class tables) agrees with the explained verdict.
        if let (Endpoint::Workload(s), Endpoint::Workload(d)) = (at(src), at(dst)) {
            assert_eq!(
                *engine.allowed_between(Endpoint::Workload(s), Endpoint::Workload(d)),
                verdict.allowed,
                "{src} -> {dst}"
            );
        }
        verdict.allowed.to_string()
    })
}

#[test]
fn admin_accept_then_deny_leaves_only_the_accepted_port() {
    let policies = cnp(
        "guard",
        "Admin",
        10,
        NS_A,
        &format!(
            "  ingress:\n  - {{action: Accept, from: {FROM_B}, protocols: [{{tcp: {{destinationPort: {{number: 8080}}}}}}]}}\n  - {{action: Deny, from: {FROM_B}}}\n"
        ),
    );
    assert_eq!(conn(&policies, "b/client", "a/web"), "TCP 8080");
    // The Admin tier's Accept stands even where a NetworkPolicy would deny.
    let deny_all = np("a", "deny", "{}", "  policyTypes: [Ingress]\n");
    assert_eq!(
        conn(&format!("{policies}{deny_all}"), "b/client", "a/web"),
        "TCP 8080"
    );
    // Traffic inside `a` is named by no rule: NetworkPolicy decides it.
    assert_eq!(
        conn(&format!("{policies}{deny_all}"), "a/api", "a/web"),
        "No Connections"
    );
    assert_eq!(conn(&policies, "a/api", "a/web"), "All Connections");
}

#[test]
fn lower_priority_number_goes_first_and_ties_are_ordered_by_name() {
    let accept = |name: &str, priority| {
        cnp(
            name,
            "Admin",
            priority,
            NS_A,
            &format!("  ingress:\n  - {{action: Accept, from: {FROM_B}}}\n"),
        )
    };
    let deny = |name: &str, priority| {
        cnp(
            name,
            "Admin",
            priority,
            NS_A,
            &format!("  ingress:\n  - {{action: Deny, from: {FROM_B}}}\n"),
        )
    };
    let both = |a: String, d: String| conn(&format!("{a}{d}"), "b/client", "a/web");
    assert_eq!(both(accept("x", 1), deny("y", 2)), "All Connections");
    assert_eq!(both(accept("x", 2), deny("y", 1)), "No Connections");
    // The API leaves equal priorities to the implementation; ours is the kind, then the name,
    // so the answer never depends on the order of the files.
    assert_eq!(
        both(accept("a-first", 5), deny("b-second", 5)),
        "All Connections"
    );
    assert_eq!(
        both(deny("b-second", 5), accept("a-first", 5)),
        "All Connections"
    );
    assert_eq!(
        both(accept("b-second", 5), deny("a-first", 5)),
        "No Connections"
    );
}

#[test]
fn pass_in_the_admin_tier_hands_over_to_network_policy() {
    let pass_then_deny = cnp(
        "guard",
        "Admin",
        1,
        NS_A,
        &format!(
            "  ingress:\n  - {{action: Pass, from: {FROM_B}, protocols: [{{tcp: {{destinationPort: {{number: 8080}}}}}}]}}\n  - {{action: Deny, from: {FROM_B}}}\n"
        ),
    );
    // Not isolated by NetworkPolicy: 8080 goes on to the Baseline tier (none), then allow.
    assert_eq!(conn(&pass_then_deny, "b/client", "a/web"), "TCP 8080");
    // Pass skips the rest of the Admin tier, also in later policies.
    let later_deny = cnp(
        "later",
        "Admin",
        2,
        NS_A,
        &format!("  ingress:\n  - {{action: Deny, from: {FROM_B}}}\n"),
    );
    assert_eq!(
        conn(
            &format!("{pass_then_deny}{later_deny}"),
            "b/client",
            "a/web"
        ),
        "TCP 8080"
    );
    // Isolated by a NetworkPolicy that admits 9090 only: it decides the passed 8080 (denied).
    let np_9090 = np(
        "a",
        "only-9090",
        "{}",
        "  ingress: [{ports: [{port: 9090}]}]\n",
    );
    assert_eq!(
        conn(&format!("{pass_then_deny}{np_9090}"), "b/client", "a/web"),
        "No Connections"
    );
    let np_8080 = np(
        "a",
        "only-8080",
        "{}",
        "  ingress: [{ports: [{port: 8080}]}]\n",
    );
    assert_eq!(
        conn(&format!("{pass_then_deny}{np_8080}"), "b/client", "a/web"),
        "TCP 8080"
    );
}

#[test]
fn the_baseline_tier_applies_only_where_no_network_policy_isolates() {
    let baseline = cnp(
        "default-deny",
        "Baseline",
        1,
        NS_A,
        &format!("  ingress:\n  - {{action: Deny, from: {FROM_B}}}\n"),
    );
    assert_eq!(conn(&baseline, "b/client", "a/web"), "No Connections");
    // A NetworkPolicy that selects `web` overrides the baseline for it, not for `api`.
    let np_web = np(
        "a",
        "web",
        "{matchLabels: {app: web}}",
        "  ingress: [{ports: [{port: 8080}]}]\n",
    );
    let both = format!("{baseline}{np_web}");
    assert_eq!(conn(&both, "b/client", "a/web"), "TCP 8080");
    assert_eq!(conn(&both, "b/client", "a/api"), "No Connections");
    // Pass in the Baseline tier goes on to the default: allow.
    let pass = cnp(
        "pass",
        "Baseline",
        0,
        NS_A,
        &format!(
            "  ingress:\n  - {{action: Pass, from: {FROM_B}, protocols: [{{tcp: {{destinationPort: {{number: 9090}}}}}}]}}\n"
        ),
    );
    assert_eq!(
        conn(&format!("{pass}{baseline}"), "b/client", "a/api"),
        "TCP 9090"
    );
}

#[test]
fn a_pod_selected_by_both_tiers_and_network_policy() {
    let admin = cnp(
        "admin",
        "Admin",
        1,
        NS_A,
        &format!(
            "  ingress:\n  - {{action: Deny, from: {FROM_B}, protocols: [{{tcp: {{destinationPort: {{number: 22}}}}}}]}}\n  - {{action: Pass, from: {FROM_B}}}\n"
        ),
    );
    let baseline = cnp(
        "baseline",
        "Baseline",
        1,
        NS_A,
        &format!("  ingress:\n  - {{action: Accept, from: {FROM_B}}}\n"),
    );
    let np_web = np(
        "a",
        "web",
        "{matchLabels: {app: web}}",
        "  ingress: [{ports: [{port: 8080}, {port: 22}]}]\n",
    );
    let all = format!("{admin}{baseline}{np_web}");
    // web: Admin denies 22, passes the rest to NetworkPolicy, which admits 8080.
    assert_eq!(conn(&all, "b/client", "a/web"), "TCP 8080");
    // api: no NetworkPolicy, so the Baseline's Accept decides what the Admin tier passed.
    assert_eq!(
        conn(&all, "b/client", "a/api"),
        "SCTP 1-65535,TCP 1-21,23-65535,UDP 1-65535"
    );
    // The explanation names who decided each port.
    with_engine(&all, |engine, at| {
        let side = engine.verdict(at("b/client"), at("a/web")).ingress;
        use ambient_netpol::net::conn::Protocol::Tcp;
        assert!(matches!(side.decider(Tcp, 22), Decider::Layer(_, 0, _)));
        assert_eq!(side.decider(Tcp, 8080), Decider::NetworkPolicy);
        let api = engine.verdict(at("b/client"), at("a/api")).ingress;
        assert!(matches!(api.decider(Tcp, 9090), Decider::Layer(_, 0, _)));
    });
}

#[test]
fn named_ports_in_admin_rules_resolve_on_the_destination_with_their_protocol() {
    let v2 = cnp(
        "named",
        "Admin",
        1,
        NS_A,
        &format!(
            "  ingress:\n  - {{action: Accept, from: {FROM_B}, protocols: [{{destinationNamedPort: http}}, {{destinationNamedPort: dns}}]}}\n  - {{action: Deny, from: {FROM_B}}}\n"
        ),
    );
    // `http` is 8080/TCP on web and 9090/TCP on api; `dns` is 5353/UDP on web only.
    assert_eq!(conn(&v2, "b/client", "a/web"), "TCP 8080,UDP 5353");
    assert_eq!(conn(&v2, "b/client", "a/api"), "TCP 9090");
    let v1 = format!(
        "---\napiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {{name: named}}\nspec:\n  priority: 1\n  subject: {NS_A}\n  ingress:\n  - {{action: Allow, from: {FROM_B}, ports: [{{namedPort: http}}]}}\n  - {{action: Deny, from: {FROM_B}}}\n"
    );
    assert_eq!(conn(&v1, "b/client", "a/web"), "TCP 8080");
    assert_eq!(conn(&v1, "b/client", "a/api"), "TCP 9090");
}

#[test]
fn egress_networks_match_addresses_and_known_pod_addresses_in_both_families() {
    let egress = |cidr: &str| {
        cnp(
            "egress",
            "Admin",
            1,
            "{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: client}}}}",
            &format!(
                "  egress:\n  - {{action: Deny, to: [{{networks: ['{cidr}']}}], protocols: [{{tcp: {{destinationPort: {{number: 5432}}}}}}]}}\n"
            ),
        )
    };
    for cidr in ["fd00::/64", "10.1.0.0/16"] {
        let policy = egress(cidr);
        // The pod's known addresses put it inside the network.
        assert_eq!(
            conn(&policy, "b/client", "b/db"),
            "SCTP 1-65535,TCP 1-5431,5433-65535,UDP 1-65535",
            "{cidr}"
        );
        assert_eq!(conn(&policy, "b/client", "a/web"), "All Connections");
    }
    let v6 = egress("fd00::/64");
    assert_eq!(
        conn(&v6, "b/client", "fd00::1234"),
        "SCTP 1-65535,TCP 1-5431,5433-65535,UDP 1-65535"
    );
    assert_eq!(conn(&v6, "b/client", "fd01::1"), "All Connections");
    assert_eq!(conn(&v6, "b/client", "10.1.0.9"), "All Connections");
    // Ingress peers are pods only: an address (e.g. the probe SNAT one) is never matched.
    let deny_in = cnp(
        "deny-in",
        "Admin",
        1,
        NS_A,
        "  ingress:\n  - {action: Deny, from: [{namespaces: {}}]}\n",
    );
    assert_eq!(conn(&deny_in, "169.254.7.127", "a/web"), "All Connections");
    assert_eq!(conn(&deny_in, "b/client", "a/web"), "No Connections");
}

/// `connectivity` lists outside addresses as ranges whose verdict is constant: a cluster-wide
/// egress rule's `networks` cut the address space as an ipBlock does, in both families.
#[test]
fn connectivity_cuts_addresses_at_egress_networks() {
    let policy = cnp(
        "egress",
        "Admin",
        1,
        "{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: client}}}}",
        "  egress:\n  - {action: Deny, to: [{networks: ['192.168.0.0/16', 'fd00::/64']}]}\n",
    );
    with_engine(&policy, |engine, _| {
        let rows = ambient_netpol::pipeline::connectivity::connectivity(engine);
        let to = |dst: &str| {
            rows.iter()
                .find(|r| r.src == "b/client" && r.dst == dst)
                .map(|r| r.conn.0.to_string())
        };
        assert_eq!(to("192.168.0.0-192.168.255.255"), None, "denied");
        assert_eq!(to("fd00::-fd00::ffff:ffff:ffff:ffff"), None, "denied");
        assert_eq!(
            to("0.0.0.0-192.167.255.255").as_deref(),
            Some("All Connections")
        );
        assert_eq!(
            to("192.169.0.0-255.255.255.255").as_deref(),
            Some("All Connections")
        );
    });
}

#[test]
fn a_policy_without_rules_in_a_direction_leaves_it_alone() {
    let ingress_only = cnp(
        "in",
        "Baseline",
        1,
        "{namespaces: {}}",
        "  ingress:\n  - {action: Deny, from: [{namespaces: {}}]}\n",
    );
    // Egress of `a/web` is untouched, ingress of `b/client` denied.
    with_engine(&ingress_only, |engine, at| {
        let v = engine.verdict(at("a/web"), at("b/client"));
        assert!(v.egress.allowed.is_all());
        assert!(v.ingress.allowed.is_empty());
        assert!(v.egress.decided_by.is_empty());
    });
}
