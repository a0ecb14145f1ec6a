//! CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy (`src/cilium`), each expected value
//! from Cilium's documentation ("Policy Enforcement Modes", "Deny Policies", "Layer 3
//! Policies", "Layer 4 Policies") and DOMAIN.md sections 3 and 7: NetworkPolicy, CNP and CCNP
//! allow as one union, deny rules win over every allow, a policy isolates in a direction where
//! it has rules unless `enableDefaultDeny` says false; the probe SNAT address is `world`.

use ambient_netpol::ambient::Cni;
use ambient_netpol::net::conn::Protocol;
use ambient_netpol::pipeline::engine::{Endpoint, Engine};
use ambient_netpol::{Options, Source, analyze, load};

/// Namespace `shop` with `web` (named port `http` 8080, probes on 8080), `frontend` and
/// `batch`; namespace `other` with `client`.
const PODS: &str = "
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec:
  containers:
  - name: main
    image: web
    ports: [{name: http, containerPort: 8080}]
    readinessProbe: {httpGet: {path: /, port: 8080}}
---
apiVersion: v1
kind: Pod
metadata: {name: frontend, namespace: shop, labels: {app: frontend}}
spec: {containers: [{name: main, image: frontend}]}
---
apiVersion: v1
kind: Pod
metadata: {name: batch, namespace: shop, labels: {app: batch}}
spec: {containers: [{name: main, image: batch}]}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: other, labels: {app: client}}
spec: {containers: [{name: main, image: client}]}
";

struct Verdicts {
    loaded: ambient_netpol::Loaded,
}

impl Verdicts {
    fn new(policies: &str) -> Verdicts {
        Verdicts::raw(&format!("{PODS}\n---\n{policies}"))
    }

    /// Without the shared pods: the input as given.
    fn raw(text: &str) -> Verdicts {
        let loaded = load(&[Source {
            name: "in.yaml",
            text,
        }]);
        let errors: Vec<_> = loaded
            .findings
            .iter()
            .filter(|f| f.code.id() == "INP003")
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
        Verdicts { loaded }
    }

    fn at(&self, who: &str) -> Endpoint {
        match who.parse() {
            Ok(ip) => Endpoint::Ip(ip),
            Err(_) => Endpoint::Workload(
                self.loaded
                    .cluster
                    .workload(who)
                    .unwrap_or_else(|| panic!("no workload {who}")),
            ),
        }
    }

    /// Whether `from` reaches `to` on `port` of `protocol`, asked of the explained verdict and
    /// of the class tables (which must agree).
    fn allows(&self, from: &str, to: &str, protocol: Protocol, port: u16) -> bool {
        let engine = Engine::new(&self.loaded.cluster);
        let (s, d) = (self.at(from), self.at(to));
        let explained = engine.verdict(s, d).allowed.contains(protocol, port);
        if let (Endpoint::Workload(_), Endpoint::Workload(_)) = (s, d) {
            assert_eq!(
                engine.allowed_between(s, d).contains(protocol, port),
                explained,
                "{from} -> {to} {port}: the tables and the explained verdict differ"
            );
        }
        explained
    }

    fn tcp(&self, from: &str, to: &str, port: u16) -> bool {
        self.allows(from, to, Protocol::Tcp, port)
    }
}

fn check(text: &str, options: &Options) -> ambient_netpol::Report {
    analyze(
        &[Source {
            name: "in.yaml",
            text,
        }],
        options,
    )
}

fn cilium() -> Options {
    Options {
        cni: Cni::Cilium,
        ..Options::default()
    }
}

fn codes(report: &ambient_netpol::Report) -> Vec<&'static str> {
    report.findings.iter().map(|f| f.code.id()).collect()
}

const WEB_FROM_FRONTEND: &str = "
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  endpointSelector: {matchLabels: {app: web}}
  ingress:
  - fromEndpoints: [{matchLabels: {k8s:app: frontend}}]
    toPorts: [{ports: [{port: \"8080\", protocol: TCP}]}]
";

#[test]
fn an_ingress_rule_isolates_and_admits_its_peers_on_its_ports() {
    let v = Verdicts::new(WEB_FROM_FRONTEND);
    assert!(v.tcp("shop/frontend", "shop/web", 8080));
    assert!(!v.tcp("shop/frontend", "shop/web", 9090));
    assert!(!v.tcp("shop/batch", "shop/web", 8080));
    // A CNP's peers without a namespace label are in its namespace.
    assert!(!v.tcp("other/client", "shop/web", 8080));
    // Egress is not isolated.
    assert!(v.tcp("shop/web", "other/client", 443));
}

#[test]
fn deny_wins_over_every_allow_across_cnp_ccnp_and_networkpolicy() {
    let allow_all_np = "
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: all, namespace: shop}
spec:
  podSelector: {}
  ingress: [{}]
";
    let deny_ccnp = "
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: no-frontend-8080}
spec:
  endpointSelector: {matchLabels: {app: web}}
  ingressDeny:
  - fromEndpoints: [{matchLabels: {app: frontend, io.kubernetes.pod.namespace: shop}}]
    toPorts: [{ports: [{port: \"8080\", protocol: TCP}]}]
";
    let v = Verdicts::new(&format!(
        "{allow_all_np}\n---\n{WEB_FROM_FRONTEND}\n---\n{deny_ccnp}"
    ));
    // Both the NetworkPolicy and the CNP admit it; the CCNP's deny wins.
    assert!(!v.tcp("shop/frontend", "shop/web", 8080));
    // Other ports and other peers: the NetworkPolicy still admits them.
    assert!(v.tcp("shop/frontend", "shop/web", 9090));
    assert!(v.tcp("shop/batch", "shop/web", 8080));

    // A CNP's deny over a CCNP's allow.
    let allow_ccnp = "
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: everyone-to-web}
spec:
  endpointSelector: {matchLabels: {app: web}}
  ingress:
  - fromEntities: [cluster]
";
    let deny_cnp = "
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: no-client, namespace: shop}
spec:
  endpointSelector: {}
  ingressDeny:
  - fromEndpoints: [{matchLabels: {k8s:io.kubernetes.pod.namespace: other}}]
";
    let v = Verdicts::new(&format!("{allow_ccnp}\n---\n{deny_cnp}"));
    assert!(!v.tcp("other/client", "shop/web", 8080));
    assert!(v.tcp("shop/frontend", "shop/web", 8080));
    // The deny-only CNP isolates every pod of `shop` for ingress (its deny section counts).
    assert!(!v.tcp("shop/web", "shop/batch", 8080));
}

#[test]
fn enable_default_deny_false_admits_without_isolating() {
    let ccnp = "
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: frontend-to-web}
spec:
  endpointSelector: {matchLabels: {app: web}}
  enableDefaultDeny: {ingress: false, egress: false}
  ingress:
  - fromEndpoints: [{matchLabels: {app: frontend}}]
    toPorts: [{ports: [{port: \"8080\"}]}]
";
    let v = Verdicts::new(ccnp);
    // Alone, it isolates nothing.
    assert!(v.tcp("shop/batch", "shop/web", 9090));
    assert!(v.tcp("other/client", "shop/web", 8080));

    // With a default deny from a NetworkPolicy, its rule still admits.
    let deny_all = "
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: shop}
spec: {podSelector: {}}
";
    let v = Verdicts::new(&format!("{ccnp}\n---\n{deny_all}"));
    assert!(v.tcp("shop/frontend", "shop/web", 8080));
    assert!(!v.tcp("shop/frontend", "shop/web", 9090));
    assert!(!v.tcp("shop/batch", "shop/web", 8080));
}

#[test]
fn entities_against_pods_the_node_the_snat_address_and_a_world_address() {
    let policy = |entities: &str| {
        format!(
            "
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {{name: web, namespace: shop}}
spec:
  endpointSelector: {{matchLabels: {{app: web}}}}
  ingress:
  - fromEntities: [{entities}]
"
        )
    };
    let world = Verdicts::new(&policy("world"));
    assert!(world.tcp("8.8.8.8", "shop/web", 8080));
    assert!(world.tcp("169.254.7.127", "shop/web", 8080));
    assert!(!world.tcp("shop/frontend", "shop/web", 8080));

    let cluster = Verdicts::new(&policy("cluster"));
    assert!(cluster.tcp("shop/frontend", "shop/web", 8080));
    assert!(cluster.tcp("other/client", "shop/web", 8080));
    assert!(!cluster.tcp("8.8.8.8", "shop/web", 8080));
    assert!(!cluster.tcp("169.254.7.127", "shop/web", 8080));

    // `host` is the node's own identity: no pod, not the SNAT address.
    let host = Verdicts::new(&policy("host, remote-node"));
    assert!(!host.tcp("shop/frontend", "shop/web", 8080));
    assert!(!host.tcp("169.254.7.127", "shop/web", 8080));
    assert!(!host.tcp("8.8.8.8", "shop/web", 8080));

    let all = Verdicts::new(&policy("all"));
    assert!(all.tcp("shop/frontend", "shop/web", 8080));
    assert!(all.tcp("169.254.7.127", "shop/web", 8080));
    assert!(all.tcp("2001:db8::1", "shop/web", 8080));
}

#[test]
fn probes_on_cilium_are_admitted_by_world_all_or_a_cidr_covering_the_snat_address() {
    let with = |peers: &str| {
        format!(
            "{PODS}\n---\napiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {{name: web, namespace: shop}}
spec:
  endpointSelector: {{matchLabels: {{app: web}}}}
  ingress:
  - fromEndpoints: [{{matchLabels: {{app: frontend}}}}]
  - {peers}
"
        )
    };
    let host = check(&with("fromEntities: [host]"), &cilium());
    let amb003 = host
        .findings
        .iter()
        .find(|f| f.code.id() == "AMB003")
        .expect("AMB003 with only `host` admitted");
    assert_eq!(amb003.severity, ambient_netpol::Severity::Error);
    for admitted in [
        "fromEntities: [world]",
        "fromEntities: [all]",
        "fromCIDR: [169.254.0.0/16]",
        "fromCIDRSet: [{cidr: 169.254.0.0/16, except: [169.254.169.254/32]}]",
    ] {
        let report = check(&with(admitted), &cilium());
        assert!(
            !codes(&report).contains(&"AMB003"),
            "{admitted}: {:?}",
            codes(&report)
        );
    }
    // The metadata-server exception that takes the SNAT address out.
    let report = check(
        &with("fromCIDRSet: [{cidr: 169.254.0.0/16, except: [169.254.7.0/24]}]"),
        &cilium(),
    );
    assert!(codes(&report).contains(&"AMB003"));
}

#[test]
fn ports_end_port_named_ports_and_any_protocol() {
    let policy = |ports: &str| {
        format!(
            "
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {{name: web, namespace: shop}}
spec:
  endpointSelector: {{matchLabels: {{app: web}}}}
  ingress:
  - fromEndpoints: [{{}}]
    toPorts: [{{ports: [{ports}]}}]
"
        )
    };
    let range = Verdicts::new(&policy("{port: \"8000\", endPort: 8100, protocol: TCP}"));
    assert!(range.tcp("shop/frontend", "shop/web", 8000));
    assert!(range.tcp("shop/frontend", "shop/web", 8080));
    assert!(range.tcp("shop/frontend", "shop/web", 8100));
    assert!(!range.tcp("shop/frontend", "shop/web", 8101));
    assert!(!range.allows("shop/frontend", "shop/web", Protocol::Udp, 8080));

    let named = Verdicts::new(&policy("{port: http, protocol: TCP}"));
    assert!(named.tcp("shop/frontend", "shop/web", 8080));
    assert!(!named.tcp("shop/frontend", "shop/web", 80));

    // No protocol: ANY (TCP, UDP and SCTP).
    let any = Verdicts::new(&policy("{port: \"53\"}"));
    assert!(any.tcp("shop/frontend", "shop/web", 53));
    assert!(any.allows("shop/frontend", "shop/web", Protocol::Udp, 53));
    assert!(!any.tcp("shop/frontend", "shop/web", 54));

    // Port 0: every port.
    let every = Verdicts::new(&policy("{port: \"0\", protocol: TCP}"));
    assert!(every.tcp("shop/frontend", "shop/web", 1));
    assert!(!every.allows("shop/frontend", "shop/web", Protocol::Udp, 1));
}

#[test]
fn empty_rules_deny_and_layer_4_rules_admit_every_peer() {
    let deny = Verdicts::new(
        "
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: deny, namespace: shop}
spec:
  endpointSelector: {}
  egress: [{}]
",
    );
    assert!(!deny.tcp("shop/frontend", "shop/web", 8080));
    assert!(!deny.tcp("shop/frontend", "8.8.8.8", 443));
    let l4 = Verdicts::new(
        "
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: l4, namespace: shop}
spec:
  endpointSelector: {}
  egress:
  - toPorts: [{ports: [{port: \"443\", protocol: TCP}]}]
",
    );
    assert!(l4.tcp("shop/frontend", "8.8.8.8", 443));
    assert!(l4.tcp("shop/frontend", "other/client", 443));
    assert!(!l4.tcp("shop/frontend", "other/client", 80));
}

#[test]
fn specs_hold_several_rules_each_with_its_own_subject() {
    let v = Verdicts::new(
        "
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: two, namespace: shop}
specs:
- endpointSelector: {matchLabels: {app: web}}
  ingress: [{fromEndpoints: [{matchLabels: {app: frontend}}]}]
- endpointSelector: {matchLabels: {app: batch}}
  ingress: [{fromEndpoints: [{matchLabels: {app: web}}]}]
",
    );
    assert!(v.tcp("shop/frontend", "shop/web", 1));
    assert!(!v.tcp("shop/batch", "shop/web", 1));
    assert!(v.tcp("shop/web", "shop/batch", 1));
    assert!(!v.tcp("shop/frontend", "shop/batch", 1));
}

#[test]
fn invalid_fields_are_located_inp003_and_skip_the_policy() {
    let text = format!(
        "{PODS}\n---\napiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {{name: bad, namespace: shop}}
spec:
  endpointSelector: {{}}
  ingress:
  - fromEntities: [everyone]
"
    );
    let report = check(&text, &cilium());
    let inp003 = report
        .findings
        .iter()
        .find(|f| f.code.id() == "INP003")
        .expect("INP003");
    assert!(
        inp003
            .message
            .contains("`spec.ingress[0].fromEntities[0]` is `everyone`"),
        "{}",
        inp003.message
    );
    let line = text
        .lines()
        .position(|l| l.contains("everyone"))
        .expect("the line") as u32
        + 1;
    assert_eq!(inp003.location.map(|l| l.line), Some(line));
    assert_eq!(inp003.policy_kind.as_deref(), Some("CiliumNetworkPolicy"));

    for (bad, says) in [
        (
            "toPorts: [{ports: [{port: \"9000\", endPort: 8000}]}]",
            "is below `port`",
        ),
        ("toPorts: [{ports: [{port: \"70000\"}]}]", "from 1 to 65535"),
        (
            "toPorts: [{ports: [{port: \"80\", protocol: QUIC}]}]",
            "TCP, UDP, SCTP or ANY",
        ),
        ("fromCIDR: [10.0.0.0/33]", "fromCIDR[0]"),
    ] {
        let text = format!(
            "apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {{name: bad, namespace: shop}}
spec:
  endpointSelector: {{}}
  ingress:
  - {bad}
"
        );
        let report = check(&text, &cilium());
        let found = report.findings.iter().find(|f| f.code.id() == "INP003");
        assert!(
            found.is_some_and(|f| f.message.contains(says)),
            "{bad}: {:?}",
            report.findings
        );
    }
}

#[test]
fn what_an_offline_analysis_cannot_resolve_is_reported_not_analysed() {
    let text = format!(
        "{PODS}\n---\napiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {{name: egress, namespace: shop}}
spec:
  endpointSelector: {{matchLabels: {{app: web}}}}
  egress:
  - toFQDNs: [{{matchName: api.example.com}}]
  - toServices: [{{k8sService: {{serviceName: db, namespace: shop}}}}]
  - toEndpoints: [{{matchExpressions: [{{key: io.cilium.k8s.policy.cluster, operator: NotIn, values: [default]}}]}}]
---
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {{name: nodes}}
spec:
  nodeSelector: {{}}
  ingress: [{{fromEntities: [cluster]}}]
"
    );
    let report = check(&text, &cilium());
    let inp007: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.code.id() == "INP007")
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(inp007.len(), 4, "{inp007:#?}");
    assert!(inp007.iter().any(|m| m.contains("cluster name")));
    assert!(
        inp007
            .iter()
            .any(|m| m.contains("toFQDNs") && m.contains("treated as matching nothing"))
    );
    assert!(inp007.iter().any(|m| m.contains("toServices")));
    assert!(inp007.iter().any(|m| m.contains("host policy")));
}

#[test]
fn findings_name_the_cilium_rule_and_its_kind_and_the_fix_adds_a_to_ports_entry() {
    let text = format!("{PODS}\n---\n{WEB_FROM_FRONTEND}");
    let report = check(&text, &cilium());
    let amb001 = report
        .findings
        .iter()
        .find(|f| f.code.id() == "AMB001")
        .expect("AMB001");
    assert!(
        amb001
            .message
            .contains("ingress rule 1 of CiliumNetworkPolicy `shop/web`"),
        "{}",
        amb001.message
    );
    assert_eq!(amb001.policy_kind.as_deref(), Some("CiliumNetworkPolicy"));
    assert_eq!(amb001.policy.as_deref(), Some("shop/web"));
    let fixed = &report.fixed.texts[0];
    assert!(
        fixed.contains(
            "    toPorts: [{ports: [{port: \"8080\", protocol: TCP}]}, {ports: [{port: \"15008\", protocol: TCP}]}]"
        ),
        "{fixed}"
    );
    assert!(
        fixed.contains("  - fromCIDR:\n    - 169.254.7.127/32\n    toPorts:\n    - ports:\n      - port: \"8080\"\n"),
        "{fixed}"
    );
    // The fixed text reads clean and fixing it again changes nothing.
    let again = check(fixed, &cilium());
    let errors: Vec<_> = again
        .findings
        .iter()
        .filter(|f| f.severity == ambient_netpol::Severity::Error)
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(&again.fixed.texts[0], fixed);
}

#[test]
fn a_deny_rule_on_15008_is_reported_on_the_deny_and_never_widened() {
    let text = format!(
        "{PODS}\n---\n{WEB_FROM_FRONTEND}\n---\napiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {{name: no-tunnel}}
spec:
  endpointSelector: {{}}
  enableDefaultDeny: {{ingress: false}}
  ingressDeny:
  - toPorts: [{{ports: [{{port: \"15008\", protocol: TCP}}]}}]
"
    );
    let report = check(&text, &cilium());
    let amb001: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.code.id() == "AMB001")
        .collect();
    assert!(
        amb001
            .iter()
            .any(|f| f.policy.as_deref() == Some("no-tunnel")
                && f.policy_kind.as_deref() == Some("CiliumClusterwideNetworkPolicy")
                && !f.fixable),
        "{amb001:#?}"
    );
}

#[test]
fn an_l7_rule_on_an_ambient_port_is_amb009() {
    let l7 = "
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  endpointSelector: {matchLabels: {app: web}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: frontend}}]
    toPorts:
    - ports: [{port: \"8080\", protocol: TCP}]
      rules:
        http: [{method: GET}]
  egress:
  - toEndpoints: [{matchLabels: {io.kubernetes.pod.namespace: kube-system, k8s-app: kube-dns}}]
    toPorts:
    - ports: [{port: \"53\", protocol: UDP}]
      rules:
        dns: [{matchPattern: \"*\"}]
";
    let report = check(&format!("{PODS}\n---\n{l7}"), &cilium());
    let amb009: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.code.id() == "AMB009")
        .collect();
    // The HTTP rule on the ambient destination; not the DNS rule to kube-dns (never captured).
    assert_eq!(amb009.len(), 1, "{amb009:#?}");
    assert_eq!(amb009[0].severity, ambient_netpol::Severity::Warning);
    assert!(
        amb009[0].message.contains("L7 rules (http) on port 8080"),
        "{}",
        amb009[0].message
    );
    assert_eq!(
        amb009[0].policy_kind.as_deref(),
        Some("CiliumNetworkPolicy")
    );
    // The 15008 entry the fix adds is a `toPorts` entry of its own, without L7 rules.
    assert!(report.fixed.texts[0].contains(
        "        http: [{method: GET}]\n    - ports:\n      - port: \"15008\"\n        protocol: TCP\n"
    ), "{}", report.fixed.texts[0]);

    // Outside the mesh, the L7 rule still sees the traffic.
    let opted_out = PODS.replace(
        "labels: {app: web}",
        "labels: {app: web, istio.io/dataplane-mode: none}",
    );
    let report = check(&format!("{opted_out}\n---\n{l7}"), &cilium());
    assert!(!codes(&report).contains(&"AMB009"), "{:?}", codes(&report));
}

#[test]
fn explain_names_the_cilium_rules_that_decide() {
    let dir = std::env::temp_dir().join(format!("ambient-netpol-cilium-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    let deny = "
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: no-frontend-9090}
spec:
  endpointSelector: {}
  enableDefaultDeny: {ingress: false}
  ingressDeny:
  - fromEndpoints: [{matchLabels: {app: frontend}}]
    toPorts: [{ports: [{port: \"9090\", protocol: TCP}]}]
";
    let file = dir.join("in.yaml");
    std::fs::write(
        &file,
        format!("{PODS}\n---\n{WEB_FROM_FRONTEND}\n---\n{deny}"),
    )
    .expect("written");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_ambient-netpol"))
            .arg("explain")
            .args(args)
            .arg(&file)
            .output()
            .expect("the CLI runs");
        String::from_utf8(out.stdout).expect("UTF-8")
    };
    let text = run(&["--from", "shop/frontend", "--to", "shop/web"]);
    assert!(
        text.contains("CiliumClusterwideNetworkPolicy `no-frontend-9090` ingressDeny rule 1 (line 47): denies TCP 9090"),
        "{text}"
    );
    assert!(
        text.contains("CiliumNetworkPolicy `shop/web` ingress rule 1 (line 35) admits TCP 8080"),
        "{text}"
    );
    let json: serde_json::Value = serde_json::from_str(&run(&[
        "--from",
        "shop/frontend",
        "--to",
        "shop/web",
        "--format",
        "json",
    ]))
    .expect("JSON");
    assert_eq!(
        json["ingress"]["admitted_by"][0]["policy_kind"],
        "CiliumNetworkPolicy"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn service_accounts_select_pods_and_stay_out_of_generated_selectors() {
    let text = PODS.replace(
        "metadata: {name: frontend, namespace: shop, labels: {app: frontend}}\nspec: {containers",
        "metadata: {name: frontend, namespace: shop, labels: {app: frontend}}\nspec: {serviceAccountName: shop-ui, containers",
    );
    let policy = "
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  endpointSelector: {matchLabels: {app: web}}
  ingress:
  - fromEndpoints: [{matchLabels: {io.cilium.k8s.policy.serviceaccount: shop-ui}}]
    toPorts: [{ports: [{port: \"8080\", protocol: TCP}]}]
";
    let loaded = load(&[Source {
        name: "in.yaml",
        text: &format!("{text}\n---\n{policy}"),
    }]);
    let v = Verdicts { loaded };
    assert!(v.tcp("shop/frontend", "shop/web", 8080));
    // `batch` has no service account: `default`.
    assert!(!v.tcp("shop/batch", "shop/web", 8080));
    // The AMB004 AuthorizationPolicy selects by the pod's own labels only.
    let report = check(&format!("{text}\n---\n{policy}"), &cilium());
    assert!(codes(&report).contains(&"AMB001"));
    for extra in &report.fixed.extras {
        assert!(!extra.yaml.contains("serviceaccount"), "{}", extra.yaml);
    }
}

/// `io.kubernetes.pod.namespace` Exists names every namespace, as a clusterwide policy's peers
/// do: the peers are the pods that match anywhere, not pods inferred in each namespace the input
/// names (which made the add style's own policies, written that way, find new pods and new
/// errors after the fix).
#[test]
fn a_namespace_exists_requirement_is_every_namespace() {
    let text = "apiVersion: v1
kind: Namespace
metadata: {name: a, labels: {istio.io/dataplane-mode: ambient}}
---
apiVersion: v1
kind: Namespace
metadata: {name: b, labels: {istio.io/dataplane-mode: ambient}}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: a, labels: {tier: frontend}}
spec: {containers: [{name: c, ports: [{containerPort: 8080}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: b, labels: {app: client}}
spec: {containers: [{name: c}]}
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: out, namespace: b}
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress:
  - toEndpoints:
    - matchLabels: {tier: frontend}
      matchExpressions:
      - {key: io.kubernetes.pod.namespace, operator: Exists}
    toPorts:
    - ports: [{port: \"8080\", protocol: TCP}]
";
    let report = check(text, &cilium());
    let amb002: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.code.id() == "AMB002")
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(amb002.len(), 1, "{:?}", report.findings);
    assert!(amb002[0].contains("to `a/web`"), "{}", amb002[0]);
    assert!(!amb002[0].contains("not in the input"), "{}", amb002[0]);
}

/// A cluster dump: `web` and `frontend` with their pod addresses (10.0.1.x), a host-network
/// `agent` (with its node's address) and `exporter` (a manifest, no address), and two Nodes
/// (192.168.1.10, 192.168.1.11).
const DUMP: &str = "
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec: {containers: [{name: main, image: web, ports: [{containerPort: 8080}]}]}
status: {podIP: 10.0.1.5, podIPs: [{ip: 10.0.1.5}]}
---
apiVersion: v1
kind: Pod
metadata: {name: frontend, namespace: shop, labels: {app: frontend}}
spec: {containers: [{name: main, image: frontend}]}
status: {podIP: 10.0.1.6, podIPs: [{ip: 10.0.1.6}]}
---
apiVersion: v1
kind: Pod
metadata: {name: agent, namespace: kube-system, labels: {app: agent}}
spec: {hostNetwork: true, containers: [{name: main, image: agent}]}
status: {podIP: 192.168.1.10, podIPs: [{ip: 192.168.1.10}]}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: exporter, namespace: kube-system}
spec:
  selector: {matchLabels: {app: exporter}}
  template:
    metadata: {labels: {app: exporter}}
    spec: {hostNetwork: true, containers: [{name: main, image: exporter}]}
---
apiVersion: v1
kind: Node
metadata: {name: node-a}
status: {addresses: [{type: InternalIP, address: 192.168.1.10}, {type: Hostname, address: node-a}]}
---
apiVersion: v1
kind: Node
metadata: {name: node-b}
status: {addresses: [{type: InternalIP, address: 192.168.1.11}]}
";

fn dump_with(rules: &str) -> Verdicts {
    Verdicts::raw(&format!(
        "{DUMP}
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {{name: web, namespace: shop}}
spec:
  endpointSelector: {{matchLabels: {{app: web}}}}
{rules}"
    ))
}

/// Cilium's "Layer 3 Policies" (IP/CIDR based): CIDR selectors select neither pods nor nodes
/// (nor host-network pods), whatever their addresses; `world` is a CIDR selector too.
#[test]
fn cidr_rules_select_no_pod_and_no_node_whatever_their_addresses() {
    let cidr = dump_with("  ingress:\n  - fromCIDR: [10.0.0.0/8, 192.168.0.0/16]\n");
    assert!(
        !cidr.tcp("shop/frontend", "shop/web", 8080),
        "a pod address in the CIDR"
    );
    assert!(
        !cidr.tcp("kube-system/agent", "shop/web", 8080),
        "a host-network pod"
    );
    assert!(!cidr.tcp("kube-system/exporter", "shop/web", 8080));
    assert!(
        !cidr.tcp("192.168.1.11", "shop/web", 8080),
        "a node address"
    );
    assert!(
        cidr.tcp("10.9.9.9", "shop/web", 8080),
        "an address no pod or node has"
    );
    assert!(cidr.tcp("192.168.7.1", "shop/web", 8080));

    let set =
        dump_with("  ingress:\n  - fromCIDRSet: [{cidr: 10.0.0.0/8, except: [10.9.0.0/16]}]\n");
    assert!(!set.tcp("shop/frontend", "shop/web", 8080));
    assert!(set.tcp("10.8.0.1", "shop/web", 8080));
    assert!(!set.tcp("10.9.0.1", "shop/web", 8080));

    let world = dump_with("  ingress:\n  - fromEntities: [world]\n");
    assert!(!world.tcp("shop/frontend", "shop/web", 8080));
    assert!(
        !world.tcp("192.168.1.10", "shop/web", 8080),
        "a node is not `world`"
    );
    assert!(
        world.tcp("169.254.7.127", "shop/web", 8080),
        "the SNAT address is `world`"
    );

    // Egress likewise: `toCIDR` covering the pods does not reach them.
    let egress = Verdicts::raw(&format!(
        "{DUMP}
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {{name: frontend, namespace: shop}}
spec:
  endpointSelector: {{matchLabels: {{app: frontend}}}}
  egress:
  - toCIDR: [10.0.0.0/8, 192.168.1.0/24]
"
    ));
    assert!(!egress.tcp("shop/frontend", "shop/web", 8080));
    assert!(!egress.tcp("shop/frontend", "192.168.1.10", 6443));
    assert!(egress.tcp("shop/frontend", "10.200.0.1", 443));

    // Deny rules too: a CIDR deny covering the pods does not deny them.
    let deny = dump_with(
        "  ingress:\n  - fromEntities: [all]\n  ingressDeny:\n  - fromCIDR: [10.0.0.0/8, 192.168.0.0/16]\n",
    );
    assert!(
        deny.tcp("shop/frontend", "shop/web", 8080),
        "the deny's CIDR is not the pod"
    );
    assert!(deny.tcp("192.168.1.10", "shop/web", 8080), "nor the node");
    assert!(!deny.tcp("10.9.9.9", "shop/web", 8080));
}

/// `host` and `remote-node` are the nodes (with their host-network pods); together, or as part
/// of `cluster` and `all`, they are every Node's address; alone, the input cannot tell which
/// node is local, and neither covers the probe SNAT address.
#[test]
fn host_and_remote_node_are_the_nodes_and_not_the_snat_address() {
    for entities in ["host, remote-node", "cluster", "all"] {
        let v = dump_with(&format!("  ingress:\n  - fromEntities: [{entities}]\n"));
        assert!(
            v.tcp("192.168.1.10", "shop/web", 8080),
            "{entities}: node-a"
        );
        assert!(
            v.tcp("192.168.1.11", "shop/web", 8080),
            "{entities}: node-b"
        );
        assert!(
            v.tcp("kube-system/agent", "shop/web", 8080),
            "{entities}: host network"
        );
        assert!(
            v.tcp("kube-system/exporter", "shop/web", 8080),
            "{entities}: no address"
        );
    }
    let nodes = dump_with("  ingress:\n  - fromEntities: [host, remote-node]\n");
    assert!(
        !nodes.tcp("169.254.7.127", "shop/web", 8080),
        "the SNAT address is `world`"
    );
    assert!(!nodes.tcp("shop/frontend", "shop/web", 8080));
    assert!(!nodes.tcp("10.9.9.9", "shop/web", 8080));
    let cluster = dump_with("  ingress:\n  - fromEntities: [cluster]\n");
    assert!(!cluster.tcp("169.254.7.127", "shop/web", 8080));
    for alone in ["host", "remote-node"] {
        let v = dump_with(&format!("  ingress:\n  - fromEntities: [{alone}]\n"));
        assert!(!v.tcp("192.168.1.11", "shop/web", 8080), "{alone} alone");
        assert!(!v.tcp("169.254.7.127", "shop/web", 8080), "{alone} alone");
    }

    // Egress to a node's address (an apiserver on the host network, say).
    let egress = |to: &str| {
        Verdicts::raw(&format!(
            "{DUMP}
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {{name: frontend, namespace: shop}}
spec:
  endpointSelector: {{matchLabels: {{app: frontend}}}}
  egress:
  - {to}
"
        ))
    };
    assert!(egress("toEntities: [host, remote-node]").tcp("shop/frontend", "192.168.1.11", 6443));
    assert!(!egress("toEntities: [world]").tcp("shop/frontend", "192.168.1.11", 6443));
    assert!(!egress("toCIDR: [192.168.1.11/32]").tcp("shop/frontend", "192.168.1.11", 6443));

    // A deny naming both denies the nodes.
    let deny = dump_with(
        "  ingress:\n  - fromEntities: [all]\n  ingressDeny:\n  - fromEntities: [host, remote-node]\n",
    );
    assert!(!deny.tcp("192.168.1.11", "shop/web", 8080));
    assert!(!deny.tcp("kube-system/agent", "shop/web", 8080));
    assert!(
        !deny.tcp("kube-system/exporter", "shop/web", 8080),
        "as the allow rules"
    );
    assert!(deny.tcp("169.254.7.127", "shop/web", 8080));
    assert!(deny.tcp("shop/frontend", "shop/web", 8080));
}

/// A NetworkPolicy's `ipBlock` is a CIDR selector to Cilium: under `--cni cilium` it selects no
/// pod and no node whatever their addresses, as Cilium's own CIDR rules; under other CNIs a pod
/// whose address a dump gives still matches it.
#[test]
fn network_policy_ip_blocks_select_no_pod_under_cilium() {
    let text = format!(
        "{DUMP}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: web, namespace: shop}}
spec:
  podSelector: {{matchLabels: {{app: web}}}}
  ingress:
  - from:
    - ipBlock: {{cidr: 10.0.0.0/8}}
    ports:
    - port: 8080
"
    );
    let loaded = load(&[Source {
        name: "in.yaml",
        text: &text,
    }]);
    let at = |name: &str| {
        loaded
            .cluster
            .workload(name)
            .unwrap_or_else(|| panic!("no workload {name}"))
    };
    let (frontend, web) = (at("shop/frontend"), at("shop/web"));
    let asked = |options: &Options, from: Endpoint| {
        let engine = options.engine(&loaded.cluster);
        let explained = engine
            .verdict(from, Endpoint::Workload(web))
            .allowed
            .contains(Protocol::Tcp, 8080);
        if let Endpoint::Workload(_) = from {
            assert_eq!(
                engine
                    .allowed_between(from, Endpoint::Workload(web))
                    .contains(Protocol::Tcp, 8080),
                explained,
                "the tables and the explained verdict differ"
            );
        }
        explained
    };
    let pod = Endpoint::Workload(frontend);
    let outside = Endpoint::Ip("10.200.0.1".parse().expect("an address"));
    assert!(
        asked(&Options::default(), pod),
        "its dumped address is in the block"
    );
    assert!(
        !asked(&cilium(), pod),
        "Cilium's CIDR selectors select no pod"
    );
    assert!(
        asked(&cilium(), outside),
        "an address outside the cluster still matches"
    );
}

/// `connectivity` gives each Node address a range of its own: a Cilium CIDR rule covering the
/// nodes' network leaves their addresses out, and the addresses around them in.
#[test]
fn connectivity_splits_addresses_at_node_addresses() {
    let cidr = dump_with("  ingress:\n  - fromCIDR: [192.168.0.0/16]\n");
    let engine = Engine::new(&cidr.loaded.cluster);
    let rows = ambient_netpol::pipeline::connectivity::connectivity(&engine);
    let to_web = |src: &str| rows.iter().any(|r| r.src == src && r.dst == "shop/web");
    let listed = |src: &str| rows.iter().any(|r| r.src == src);
    assert!(to_web("192.168.0.0-192.168.1.9"));
    // Each node's address is a range of its own, and not admitted.
    for node in ["192.168.1.10-192.168.1.10", "192.168.1.11-192.168.1.11"] {
        assert!(listed(node), "{node} is a range of its own");
        assert!(!to_web(node), "{node} is a node's address");
    }
    assert!(to_web("192.168.1.12-192.168.255.255"));
}
