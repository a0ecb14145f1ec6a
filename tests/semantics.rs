//! NetworkPolicy semantics, one rule a test: small YAML in, allowed connections out. Each expected
//! value follows from the Kubernetes documentation ("Network Policies") and DOMAIN.md section 1.

use ambient_netpol::pipeline::engine::{Endpoint, Engine, HostNetwork};
use ambient_netpol::{Options, Source, analyze, load};

/// Two namespaces (`a` labelled team=blue, `b` unlabelled) and workloads in them.
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
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: main
        ports:
        - {name: http, containerPort: 8080}
        - {name: dns, containerPort: 5353, protocol: UDP}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: a}
spec:
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - name: main
        ports:
        - {name: http, containerPort: 9090}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: client, namespace: b}
spec:
  template:
    metadata: {labels: {app: client}}
    spec:
      containers: [{name: main}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: b}
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: main}]
";

/// The allowed connections from `src` to `dst` (workload names or IP addresses) with the given
/// policies added to the cluster.
fn conn_with(policies: &str, src: &str, dst: &str, host_network: HostNetwork) -> String {
    let text = format!("{CLUSTER}---\n{policies}");
    let loaded = load(&[Source {
        name: "t.yaml",
        text: &text,
    }]);
    let errors: Vec<_> = loaded
        .findings
        .iter()
        .filter(|f| f.code.id() != "INP005")
        .collect();
    assert!(errors.is_empty(), "unexpected findings: {errors:#?}");
    let engine = Engine::with(&loaded.cluster, host_network);
    let endpoint = |name: &str| match name.parse() {
        Ok(ip) => Endpoint::Ip(ip),
        Err(_) => Endpoint::Workload(
            loaded
                .cluster
                .workload(name)
                .unwrap_or_else(|| panic!("no workload {name}")),
        ),
    };
    engine
        .verdict(endpoint(src), endpoint(dst))
        .allowed
        .to_string()
}

fn conn(policies: &str, src: &str, dst: &str) -> String {
    conn_with(policies, src, dst, HostNetwork::Node)
}

fn policy(namespace: &str, selector: &str, body: &str) -> String {
    format!(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: p, namespace: {namespace}}}\nspec:\n  podSelector: {selector}\n{body}"
    )
}

#[test]
fn no_policy_allows_everything() {
    assert_eq!(conn("", "b/client", "a/web"), "All Connections");
}

#[test]
fn policy_types_default_to_ingress_and_egress_only_with_egress_rules() {
    // No policyTypes, no egress rules: isolates ingress only.
    let p = policy("a", "{}", "");
    assert_eq!(conn(&p, "b/client", "a/web"), "No Connections");
    assert_eq!(conn(&p, "a/web", "b/client"), "All Connections");
    // An empty `egress: []` does not add Egress.
    let p = policy("a", "{}", "  egress: []\n");
    assert_eq!(conn(&p, "a/web", "b/client"), "All Connections");
    // An egress rule adds Egress (and Ingress stays).
    let p = policy(
        "a",
        "{}",
        "  egress:\n  - ports: [{port: 53, protocol: UDP}]\n",
    );
    assert_eq!(conn(&p, "a/web", "b/client"), "UDP 53");
    assert_eq!(conn(&p, "b/client", "a/web"), "No Connections");
    // Explicit Egress only: ingress stays open.
    let p = policy("a", "{}", "  policyTypes: [Egress]\n");
    assert_eq!(conn(&p, "b/client", "a/web"), "All Connections");
    assert_eq!(conn(&p, "a/web", "b/client"), "No Connections");
}

#[test]
fn empty_rule_list_denies_and_rule_without_from_allows_all() {
    let deny = policy("a", "{matchLabels: {app: web}}", "  ingress: []\n");
    assert_eq!(conn(&deny, "b/client", "a/web"), "No Connections");
    assert_eq!(
        conn(&deny, "b/client", "a/api"),
        "All Connections",
        "api is not selected"
    );
    let allow = policy("a", "{matchLabels: {app: web}}", "  ingress:\n  - {}\n");
    assert_eq!(conn(&allow, "b/client", "a/web"), "All Connections");
    let ports_only = policy(
        "a",
        "{matchLabels: {app: web}}",
        "  ingress:\n  - ports: [{port: 8080}]\n",
    );
    assert_eq!(conn(&ports_only, "b/client", "a/web"), "TCP 8080");
    assert_eq!(conn(&ports_only, "10.1.2.3", "a/web"), "TCP 8080");
}

#[test]
fn policies_are_additive() {
    let p1 = policy(
        "a",
        "{matchLabels: {app: web}}",
        "  ingress:\n  - ports: [{port: 8080}]\n",
    );
    let p2 = policy(
        "a",
        "{}",
        "  ingress:\n  - ports: [{port: 9000, protocol: UDP}]\n",
    )
    .replace("name: p,", "name: p2,");
    assert_eq!(
        conn(&format!("{p1}---\n{p2}"), "b/client", "a/web"),
        "TCP 8080,UDP 9000"
    );
}

#[test]
fn selectors_in_one_peer_are_anded_and_separate_peers_ored() {
    // One peer: pods app=client in namespaces team=blue (client is in b, unlabelled): nothing.
    let and = policy(
        "a",
        "{}",
        "  ingress:\n  - from:\n    - namespaceSelector: {matchLabels: {team: blue}}\n      podSelector: {matchLabels: {app: client}}\n",
    );
    assert_eq!(conn(&and, "b/client", "a/web"), "No Connections");
    assert_eq!(conn(&and, "a/api", "a/web"), "No Connections");
    // Two peers: namespaces team=blue OR pods app=client of the policy's namespace (a).
    let or = policy(
        "a",
        "{}",
        "  ingress:\n  - from:\n    - namespaceSelector: {matchLabels: {team: blue}}\n    - podSelector: {matchLabels: {app: client}}\n",
    );
    assert_eq!(conn(&or, "a/api", "a/web"), "All Connections");
    assert_eq!(
        conn(&or, "b/client", "a/web"),
        "No Connections",
        "podSelector alone means the policy's namespace"
    );
}

#[test]
fn missing_namespace_selector_is_not_an_empty_one() {
    let own = policy(
        "a",
        "{}",
        "  ingress:\n  - from:\n    - podSelector: {matchLabels: {app: client}}\n",
    );
    assert_eq!(conn(&own, "b/client", "a/web"), "No Connections");
    let all = policy(
        "a",
        "{}",
        "  ingress:\n  - from:\n    - podSelector: {matchLabels: {app: client}}\n      namespaceSelector: {}\n",
    );
    assert_eq!(conn(&all, "b/client", "a/web"), "All Connections");
}

#[test]
fn namespaces_carry_their_automatic_name_label() {
    let p = policy(
        "a",
        "{}",
        "  ingress:\n  - from:\n    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: b}}\n",
    );
    assert_eq!(conn(&p, "b/client", "a/web"), "All Connections");
    assert_eq!(conn(&p, "a/api", "a/web"), "No Connections");
}

#[test]
fn named_ports_resolve_on_each_destination() {
    // `http` is 8080 on web and 9090 on api; `dns` is UDP only, so a TCP `dns` matches nothing.
    let p = policy(
        "a",
        "{}",
        "  ingress:\n  - ports: [{port: http}, {port: dns}]\n",
    );
    assert_eq!(conn(&p, "b/client", "a/web"), "TCP 8080");
    assert_eq!(conn(&p, "b/client", "a/api"), "TCP 9090");
    let udp = policy(
        "a",
        "{}",
        "  ingress:\n  - ports: [{port: dns, protocol: UDP}]\n",
    );
    assert_eq!(conn(&udp, "b/client", "a/web"), "UDP 5353");
    assert_eq!(
        conn(&udp, "b/client", "a/api"),
        "No Connections",
        "api has no port named dns"
    );
    // Egress named ports resolve against the destination too.
    let egress = policy(
        "b",
        "{matchLabels: {app: client}}",
        "  egress:\n  - ports: [{port: http}]\n",
    );
    assert_eq!(conn(&egress, "b/client", "a/api"), "TCP 9090");
    assert_eq!(
        conn(&egress, "b/client", "10.0.0.1"),
        "No Connections",
        "no pod to name the port"
    );
}

#[test]
fn end_port_makes_a_range_and_a_port_entry_without_port_means_all_of_its_protocol() {
    let range = policy(
        "a",
        "{}",
        "  ingress:\n  - ports: [{port: 32000, endPort: 32768}]\n",
    );
    assert_eq!(conn(&range, "b/client", "a/web"), "TCP 32000-32768");
    let any_udp = policy("a", "{}", "  ingress:\n  - ports: [{protocol: UDP}]\n");
    assert_eq!(conn(&any_udp, "b/client", "a/web"), "UDP 1-65535");
    let sctp = policy(
        "a",
        "{}",
        "  ingress:\n  - ports: [{port: 3868, protocol: SCTP}, {port: 53, protocol: UDP}]\n",
    );
    assert_eq!(conn(&sctp, "b/client", "a/web"), "SCTP 3868,UDP 53");
}

#[test]
fn ip_block_except_is_subtracted() {
    let p = policy(
        "a",
        "{}",
        "  ingress:\n  - from:\n    - ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}\n    - ipBlock: {cidr: 'fd00::/8'}\n",
    );
    assert_eq!(conn(&p, "10.2.3.4", "a/web"), "All Connections");
    assert_eq!(conn(&p, "10.1.3.4", "a/web"), "No Connections");
    assert_eq!(conn(&p, "fd00::1", "a/web"), "All Connections");
    assert_eq!(conn(&p, "fe80::1", "a/web"), "No Connections");
    assert_eq!(
        conn(&p, "b/client", "a/web"),
        "No Connections",
        "pods without known IPs match no ipBlock"
    );
}

#[test]
fn both_sides_must_allow() {
    let egress = policy(
        "b",
        "{matchLabels: {app: client}}",
        "  policyTypes: [Egress]\n  egress:\n  - ports: [{port: 8080}, {port: 9090}]\n",
    );
    let ingress = policy(
        "a",
        "{matchLabels: {app: web}}",
        "  ingress:\n  - ports: [{port: 8080}, {port: 7070}]\n",
    )
    .replace("name: p,", "name: q,");
    assert_eq!(
        conn(&format!("{egress}---\n{ingress}"), "b/client", "a/web"),
        "TCP 8080"
    );
}

const HOST_NETWORK_POD: &str = "
apiVersion: v1
kind: Pod
metadata: {name: agent, namespace: a, labels: {app: agent}}
spec:
  hostNetwork: true
  containers: [{name: main}]
";

#[test]
fn host_network_pods_follow_the_chosen_cni_behaviour() {
    let deny_all = policy("a", "{}", "  policyTypes: [Ingress, Egress]\n");
    let input = format!("{HOST_NETWORK_POD}---\n{deny_all}");
    // Most CNIs: policies do not apply to it; its traffic is the node's and pod selectors miss it.
    assert_eq!(
        conn_with(&input, "a/agent", "b/client", HostNetwork::Node),
        "All Connections"
    );
    let allow_agent = policy(
        "a",
        "{matchLabels: {app: web}}",
        "  ingress:\n  - from: [{podSelector: {matchLabels: {app: agent}}}]\n",
    );
    assert_eq!(
        conn_with(
            &format!("{HOST_NETWORK_POD}---\n{allow_agent}"),
            "a/agent",
            "a/web",
            HostNetwork::Node
        ),
        "No Connections"
    );
    // CNIs that tell hostNetwork pods apart apply policies to them like to any pod.
    assert_eq!(
        conn_with(&input, "a/agent", "b/client", HostNetwork::Pod),
        "No Connections"
    );
    assert_eq!(
        conn_with(
            &format!("{HOST_NETWORK_POD}---\n{allow_agent}"),
            "a/agent",
            "a/web",
            HostNetwork::Pod
        ),
        "All Connections"
    );
}

#[test]
fn objects_without_namespace_live_in_default() {
    let text = "
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: main}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny}
spec:
  podSelector: {}
";
    let loaded = load(&[Source {
        name: "t.yaml",
        text,
    }]);
    assert_eq!(loaded.cluster.workloads[0].qualified_name(), "default/web");
    assert_eq!(
        loaded.cluster.policies.network[0].qualified_name(),
        "default/deny"
    );
    let engine = Engine::new(&loaded.cluster);
    assert_eq!(
        engine.isolating(0, ambient_netpol::net::Direction::Ingress),
        &[0]
    );
    let codes: Vec<_> = loaded.findings.iter().map(|f| f.code.id()).collect();
    assert_eq!(codes, ["INP005", "INP005"]);
}

/// Each invalid value gives INP003 at its line with a message that says what is valid, and the
/// rest of the input is still evaluated.
#[test]
fn invalid_values_are_located_inp003() {
    let cases = [
        (
            "  ingress:\n  - from: [{ipBlock: {cidr: 10.0.0.0/33}}]\n",
            "prefix length must be 0 to 32",
        ),
        (
            "  ingress:\n  - from: [{ipBlock: {cidr: 10.0.0.0/8, except: [192.168.0.0/16]}}]\n",
            "must lie strictly inside",
        ),
        (
            "  ingress:\n  - ports: [{port: 70000}]\n",
            "a port must be from 1 to 65535",
        ),
        (
            "  ingress:\n  - ports: [{port: 0}]\n",
            "a port must be from 1 to 65535",
        ),
        (
            "  ingress:\n  - ports: [{port: -5}]\n",
            "a port must be from 1 to 65535",
        ),
        (
            "  ingress:\n  - ports: [{port: Web_Port}]\n",
            "neither a port number nor a valid port name",
        ),
        (
            "  ingress:\n  - ports: [{port: \"8080\"}]\n",
            "write the number without quotes",
        ),
        (
            "  ingress:\n  - ports: [{port: http, endPort: 90}]\n",
            "needs a numeric `port`",
        ),
        (
            "  ingress:\n  - ports: [{port: 90, endPort: 80}]\n",
            "is below `port`",
        ),
        (
            "  ingress:\n  - ports: [{port: 90, protocol: tcp}]\n",
            "must be TCP, UDP or SCTP",
        ),
        (
            "  ingress:\n  - from: [{podSelector: {matchExpressions: [{key: a, operator: Equals, values: [x]}]}}]\n",
            "must be In, NotIn, Exists or DoesNotExist",
        ),
        (
            "  ingress:\n  - from: [{podSelector: {matchExpressions: [{key: a, operator: NotIn}]}}]\n",
            "without `values`",
        ),
        (
            "  ingress:\n  - from: {podSelector: {}}\n",
            "`spec.ingress[0].from` is a map; it must be a list",
        ),
        ("  ingress:\n  - from: [{}]\n", "names no peer"),
        (
            "  ingress:\n  - from: [{ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}]\n",
            "`ipBlock` alone",
        ),
        ("  policyTypes: [ingress]\n", "must be Ingress or Egress"),
    ];
    for (body, expected) in cases {
        let text = format!(
            "{}---\n{}",
            policy("a", "{}", body),
            policy("b", "{}", "").replace("name: p,", "name: ok,")
        );
        let report = analyze(
            &[Source {
                name: "t.yaml",
                text: &text,
            }],
            &Options::default(),
        );
        let inp003: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.code.id() == "INP003")
            .collect();
        assert_eq!(inp003.len(), 1, "{body}: {:#?}", report.findings);
        let f = inp003[0];
        assert!(f.message.contains(expected), "{body}: {}", f.message);
        assert!(f.message.contains("the object is skipped"), "{}", f.message);
        assert_eq!(f.policy.as_deref(), Some("a/p"));
        let line = f.line().unwrap();
        assert!((5..=8).contains(&line), "{body}: line {line}");
        // The valid policy in the other document is still there.
        let loaded = load(&[Source {
            name: "t.yaml",
            text: &text,
        }]);
        assert_eq!(loaded.cluster.policies.network.len(), 1);
        assert_eq!(loaded.cluster.policies.network[0].qualified_name(), "b/ok");
    }
}

/// A workload's invalid field gives INP003 with the field's whole path, from the template's
/// metadata down to a probe's port, and says whether the object or only the entry is dropped.
#[test]
fn invalid_workload_fields_name_their_whole_path() {
    let cases = [
        (
            "    metadata:\n      labels: {app: w, tier: 7}\n    spec:\n      containers: [{name: c}]\n",
            "`spec.template.metadata.labels.tier` is a number; it must be a string: write \"7\" in quotes; the object is skipped",
        ),
        (
            "    metadata:\n      annotations: {note: true}\n    spec:\n      containers: [{name: c}]\n",
            "`spec.template.metadata.annotations.note` is a boolean; it must be a string: write \"true\" in quotes; the object is skipped",
        ),
        (
            "    spec:\n      hostNetwork: \"yes\"\n      containers: [{name: c}]\n",
            "`spec.template.spec.hostNetwork` is a string; it must be true or false; the object is skipped",
        ),
        (
            "    spec:\n      serviceAccount: 12\n      containers: [{name: c}]\n",
            "`spec.template.spec.serviceAccount` is a number; it must be a string: write \"12\" in quotes; the object is skipped",
        ),
        (
            "    spec:\n      containers: [{name: c, ports: [{containerPort: 80, protocol: HTTP}]}]\n",
            "`spec.template.spec.containers[0].ports[0].protocol` is `HTTP`; it must be TCP, UDP or SCTP; that entry is ignored",
        ),
        (
            "    spec:\n      containers: [{name: c, ports: [{containerPort: 80}, {containerPort: 81, name: 42}]}]\n",
            "`spec.template.spec.containers[0].ports[1].name` is a number; it must be a string: write \"42\" in quotes; that entry is ignored",
        ),
        (
            "    spec:\n      initContainers: [{name: i}]\n      containers: [{name: c, livenessProbe: {httpGet: {port: Not_A_Name}}}]\n",
            "`spec.template.spec.containers[0].livenessProbe.httpGet.port` is `Not_A_Name`, which is neither a port number nor a valid port name",
        ),
        (
            "    spec:\n      containers: [{name: c, readinessProbe: {grpc: {port: web}}}]\n",
            "`spec.template.spec.containers[0].readinessProbe.grpc.port` must be a number from 1 to 65535; that entry is ignored",
        ),
        (
            "    spec:\n      containers: [{name: c, startupProbe: {tcpSocket: {}}}]\n",
            "`spec.template.spec.containers[0].startupProbe.tcpSocket` has no `port`; that entry is ignored",
        ),
        (
            "    spec:\n      containers: [{name: c, startupProbe: 3}]\n",
            "`spec.template.spec.containers[0].startupProbe` is a number; it must be a map; the object is skipped",
        ),
        (
            "    spec:\n      initContainers: [{name: [i]}]\n      containers: [{name: c}]\n",
            "`spec.template.spec.initContainers[0].name` is a list; it must be a string; the object is skipped",
        ),
    ];
    for (template, expected) in cases {
        let text = format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: w}}\nspec:\n  template:\n{template}"
        );
        let report = analyze(
            &[Source {
                name: "t.yaml",
                text: &text,
            }],
            &Options::default(),
        );
        let inp003: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.code.id() == "INP003")
            .map(|f| f.message.as_str())
            .collect();
        assert_eq!(inp003.len(), 1, "{template}: {inp003:?}");
        assert!(inp003[0].contains(expected), "{template}: {}", inp003[0]);
    }
}
