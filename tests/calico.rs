//! Calico's policies in the pipeline (`--cni calico`). Each expected value follows from Calico's
//! reference documentation ("Network policy", "Global network policy", "Tiers", "Policy
//! ordering") and DOMAIN.md section 7: tiers by order, a tier's policies by order (ties by
//! name, no order last), rules in order, the first match decides (Allow and Deny end, Pass goes
//! to the next tier, Log goes on); what a tier's policies select and no rule decides gets the
//! tier's default action; Kubernetes NetworkPolicies are the default tier's policies of order
//! 1000; no tier applies: allowed.

use ambient_netpol::calico::eval::PodAddresses;
use ambient_netpol::net::conn::Protocol;
use ambient_netpol::net::ip::Cidr;
use ambient_netpol::pipeline::engine::{Decider, Endpoint, Engine, HostNetwork};
use ambient_netpol::{Source, load};

/// Namespace `a` (team=blue) with `web` (container port `http` 8080), `client` (service account
/// `buyer`) and `other`; namespace `b` with `remote`.
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
        ports: [{name: http, containerPort: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: client, namespace: a}
spec:
  selector: {matchLabels: {app: client}}
  template:
    metadata: {labels: {app: client}}
    spec:
      serviceAccountName: buyer
      containers: [{name: main, image: client}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: other, namespace: a}
spec:
  selector: {matchLabels: {app: other}}
  template:
    metadata: {labels: {app: other}}
    spec:
      containers: [{name: main, image: other}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: remote, namespace: b}
spec:
  selector: {matchLabels: {app: remote}}
  template:
    metadata: {labels: {app: remote}}
    spec:
      containers: [{name: main, image: remote}]
";

struct Case {
    loaded: ambient_netpol::Loaded,
}

impl Case {
    fn new(policies: &str) -> Case {
        let text = format!("{CLUSTER}---\n{policies}");
        let loaded = load(&[Source {
            name: "case.yaml",
            text: &text,
        }]);
        // (INP002: a kind NetworkPolicy ignores, a ServiceAccount here.)
        let errors: Vec<_> = loaded
            .findings
            .iter()
            .filter(|f| f.code.id() != "INP002")
            .collect();
        assert!(errors.is_empty(), "the case reads cleanly: {errors:?}");
        Case { loaded }
    }

    fn engine(&self, pods: Option<&str>) -> Engine<'_> {
        let ranges = pods.map(|c| Cidr::parse(c).expect("a CIDR").set());
        Engine::configured(
            &self.loaded.cluster,
            HostNetwork::Node,
            Some(PodAddresses { ranges }),
        )
    }

    fn workload(&self, name: &str) -> usize {
        self.loaded
            .cluster
            .workload(name)
            .unwrap_or_else(|| panic!("no workload {name}"))
    }

    /// Whether `from` reaches `to` on TCP `port`, asked both ways (the class tables and the
    /// explained verdict), which must agree.
    fn allows_with(&self, engine: &Engine, from: &str, to: &str, port: u16) -> bool {
        let (s, d) = (
            Endpoint::Workload(self.workload(from)),
            Endpoint::Workload(self.workload(to)),
        );
        let fast = engine.allowed_between(s, d).contains(Protocol::Tcp, port);
        let explained = engine.verdict(s, d).allowed.contains(Protocol::Tcp, port);
        assert_eq!(
            fast, explained,
            "{from} -> {to}:{port}: tables and explanation agree"
        );
        fast
    }

    fn allows(&self, from: &str, to: &str, port: u16) -> bool {
        self.allows_with(&self.engine(None), from, to, port)
    }

    fn ingress_decider(&self, from: &str, to: &str, port: u16) -> Decider {
        let engine = self.engine(None);
        let side = engine.workload_side(
            self.workload(to),
            self.workload(from),
            ambient_netpol::net::Direction::Ingress,
        );
        side.decider(Protocol::Tcp, port)
    }
}

fn gnp(name: &str, body: &str) -> String {
    format!(
        "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {{name: {name}}}\nspec:\n{body}---\n"
    )
}

#[test]
fn allow_then_deny_admits_the_app_port_only() {
    let case = Case::new(&gnp(
        "web-in",
        "  order: 100\n  selector: app == 'web'\n  ingress:\n  - {action: Allow, protocol: TCP, source: {selector: app == 'client'}, destination: {ports: [8080]}}\n  - {action: Deny}\n",
    ));
    assert!(case.allows("a/client", "a/web", 8080));
    assert!(!case.allows("a/client", "a/web", 15008));
    assert!(!case.allows("a/other", "a/web", 8080));
    // Not selected: no tier applies, allowed.
    assert!(case.allows("a/web", "a/client", 9999));
    assert_eq!(
        case.ingress_decider("a/client", "a/web", 15008),
        Decider::Calico(Some(0), Some(1), ambient_netpol::calico::Action::Deny)
    );
    assert_eq!(
        case.ingress_decider("a/client", "a/web", 8080),
        Decider::Calico(Some(0), Some(0), ambient_netpol::calico::Action::Allow)
    );
    // Without --cni calico the policy is not evaluated.
    let plain = Engine::new(&case.loaded.cluster);
    assert!(case.allows_with(&plain, "a/other", "a/web", 15008));
}

#[test]
fn the_end_of_the_tier_denies_what_no_rule_decides() {
    let case = Case::new(&gnp(
        "web-in",
        "  selector: app == 'web'\n  ingress:\n  - {action: Allow, protocol: TCP, destination: {ports: [8080]}}\n",
    ));
    assert!(case.allows("a/client", "a/web", 8080));
    assert!(!case.allows("a/client", "a/web", 15008));
    assert_eq!(
        case.ingress_decider("a/client", "a/web", 15008),
        Decider::Calico(None, None, ambient_netpol::calico::Action::Deny)
    );
}

#[test]
fn ties_in_order_go_by_name_and_policies_without_order_come_last() {
    // Same order: `a-deny` before `b-allow` by name.
    let tie = Case::new(&format!(
        "{}{}",
        gnp(
            "b-allow",
            "  order: 10\n  selector: app == 'web'\n  ingress: [{action: Allow}]\n"
        ),
        gnp(
            "a-deny",
            "  order: 10\n  selector: app == 'web'\n  ingress: [{action: Deny}]\n"
        ),
    ));
    assert!(!tie.allows("a/client", "a/web", 8080));
    // No order: after every ordered policy, even one with a higher number.
    let last = Case::new(&format!(
        "{}{}",
        gnp(
            "a-deny",
            "  selector: app == 'web'\n  ingress: [{action: Deny}]\n"
        ),
        gnp(
            "z-allow",
            "  order: 99999\n  selector: app == 'web'\n  ingress: [{action: Allow}]\n"
        ),
    ));
    assert!(last.allows("a/client", "a/web", 8080));
}

#[test]
fn pass_goes_to_the_next_tier_and_log_decides_nothing() {
    let tiers = "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: security}\nspec: {order: 100}\n---\n";
    let case = Case::new(&format!(
        "{tiers}{}{}",
        gnp(
            "security.pass-client",
            "  tier: security\n  selector: app == 'web'\n  ingress:\n  - {action: Log}\n  - {action: Pass, source: {selector: app == 'client'}}\n  - {action: Deny}\n",
        ),
        gnp(
            "default-allow-8080",
            "  selector: app == 'web'\n  ingress: [{action: Allow, protocol: TCP, destination: {ports: [8080]}}]\n",
        ),
    ));
    // Passed on to the default tier, which allows 8080 and denies the rest at its end.
    assert!(case.allows("a/client", "a/web", 8080));
    assert!(!case.allows("a/client", "a/web", 15008));
    // Not passed: denied in the security tier.
    assert!(!case.allows("a/other", "a/web", 8080));
}

#[test]
fn a_tier_whose_default_action_is_pass_hands_on_what_it_leaves() {
    let case = Case::new(&format!(
        "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {{name: platform}}\nspec: {{order: 10, defaultAction: Pass}}\n---\n{}",
        gnp(
            "platform.deny-other",
            "  tier: platform\n  selector: app == 'web'\n  ingress: [{action: Deny, source: {selector: app == 'other'}}]\n",
        ),
    ));
    // The platform tier leaves the client's traffic; no other tier applies: allowed.
    assert!(case.allows("a/client", "a/web", 15008));
    assert!(!case.allows("a/other", "a/web", 15008));
}

#[test]
fn kubernetes_network_policies_sit_at_order_1000_in_the_default_tier() {
    let np = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: web, namespace: a}\nspec:\n  podSelector: {matchLabels: {app: web}}\n  ingress:\n  - from: [{podSelector: {matchLabels: {app: client}}}]\n    ports: [{port: 8080}]\n---\n";
    // Before the NetworkPolicy (order 500): its Deny wins.
    let before = Case::new(&format!(
        "{np}{}",
        gnp(
            "deny-early",
            "  order: 500\n  selector: app == 'web'\n  ingress: [{action: Deny, source: {selector: app == 'client'}}]\n"
        ),
    ));
    assert!(!before.allows("a/client", "a/web", 8080));
    // After it (order 2000): the NetworkPolicy's allow decides 8080, the Calico policy the rest.
    let after = Case::new(&format!(
        "{np}{}",
        gnp(
            "allow-late",
            "  order: 2000\n  selector: app == 'web'\n  ingress: [{action: Allow, protocol: TCP, destination: {ports: [15008]}}]\n"
        ),
    ));
    assert!(after.allows("a/client", "a/web", 8080));
    assert!(after.allows("a/client", "a/web", 15008));
    assert!(after.allows("a/other", "a/web", 15008));
    assert!(!after.allows("a/other", "a/web", 8080));
    assert_eq!(
        after.ingress_decider("a/client", "a/web", 8080),
        Decider::NetworkPolicy
    );
    // The NetworkPolicy alone: its end-of-tier deny.
    let alone = Case::new(np);
    assert!(!alone.allows("a/client", "a/web", 15008));
    assert!(alone.allows("a/client", "a/web", 8080));
}

#[test]
fn not_ports_and_named_ports() {
    let case = Case::new(&gnp(
        "web-in",
        "  selector: app == 'web'\n  ingress:\n  - {action: Allow, protocol: TCP, destination: {ports: [\"8000:9000\"], notPorts: [http]}}\n  - {action: Allow, protocol: TCP, source: {selector: app == 'client'}, destination: {ports: [http]}}\n",
    ));
    // `http` is 8080 on web: excluded from the first rule, admitted by the second for client.
    assert!(case.allows("a/other", "a/web", 8081));
    assert!(!case.allows("a/other", "a/web", 8080));
    assert!(case.allows("a/client", "a/web", 8080));
    assert!(!case.allows("a/client", "a/web", 9001));
}

#[test]
fn nets_and_not_nets_match_pods_by_their_ranges() {
    let case = Case::new(&gnp(
        "web-in",
        "  selector: app == 'web'\n  ingress:\n  - {action: Allow, source: {nets: [10.0.0.0/8], notNets: [10.2.0.0/16]}}\n",
    ));
    let engine = case.engine(Some("10.1.0.0/16"));
    assert!(case.allows_with(&engine, "a/client", "a/web", 15008));
    // Pods in the excluded range: not admitted.
    let engine = case.engine(Some("10.2.0.0/16"));
    assert!(!case.allows_with(&engine, "a/client", "a/web", 15008));
    // Pods elsewhere: not admitted.
    let engine = case.engine(Some("192.168.0.0/16"));
    assert!(!case.allows_with(&engine, "a/client", "a/web", 15008));
    // Unknown: assumed inside `nets`, outside `notNets`.
    assert!(case.allows("a/client", "a/web", 15008));
    // Addresses outside the cluster.
    let engine = case.engine(None);
    let web = Endpoint::Workload(case.workload("a/web"));
    let at = |ip: &str| Endpoint::Ip(ip.parse().expect("an address"));
    assert!(
        engine
            .allowed_between(at("10.9.9.9"), web)
            .contains(Protocol::Tcp, 80)
    );
    assert!(
        !engine
            .allowed_between(at("10.2.9.9"), web)
            .contains(Protocol::Tcp, 80)
    );
}

#[test]
fn an_ip_block_matches_pods_under_calico() {
    let case = Case::new(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: web, namespace: a}\nspec:\n  podSelector: {matchLabels: {app: web}}\n  ingress:\n  - from: [{ipBlock: {cidr: 0.0.0.0/0, except: [169.254.0.0/16]}}]\n    ports: [{port: 8080}]\n",
    );
    assert!(case.allows("a/client", "a/web", 8080));
    assert!(!case.allows("a/client", "a/web", 15008));
    // Kubernetes leaves it open; the generic CNI does not match pods by an ipBlock.
    let plain = Engine::new(&case.loaded.cluster);
    assert!(!case.allows_with(&plain, "a/client", "a/web", 8080));
}

#[test]
fn selectors_namespaces_service_accounts_and_not_selector() {
    let case = Case::new(&format!(
        "{}apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {{name: local, namespace: a}}\nspec:\n  order: 1\n  selector: app == 'client'\n  ingress:\n  - {{action: Allow, source: {{notSelector: app == 'other'}}}}\n",
        gnp(
            "web-in",
            "  selector: app == 'web' && projectcalico.org/namespace == 'a'\n  ingress:\n  - {action: Allow, source: {serviceAccounts: {names: [buyer]}}}\n  - {action: Allow, source: {namespaceSelector: projectcalico.org/name == 'b'}}\n",
        ),
    ));
    assert!(case.allows("a/client", "a/web", 1));
    assert!(case.allows("b/remote", "a/web", 1));
    assert!(!case.allows("a/other", "a/web", 1));
    // The namespaced policy's peers: its own namespace only, less `other`.
    assert!(case.allows("a/web", "a/client", 1));
    assert!(!case.allows("a/other", "a/client", 1));
    assert!(!case.allows("b/remote", "a/client", 1));
}

#[test]
fn egress_and_types() {
    let case = Case::new(&gnp(
        "client-out",
        "  selector: app == 'client'\n  types: [Egress]\n  egress:\n  - {action: Allow, protocol: TCP, destination: {selector: app == 'web', ports: [8080]}}\n",
    ));
    assert!(case.allows("a/client", "a/web", 8080));
    assert!(!case.allows("a/client", "a/web", 15008));
    assert!(!case.allows("a/client", "a/other", 8080));
    // Ingress is not part of the policy: others reach the client.
    assert!(case.allows("a/other", "a/client", 1));
}

#[test]
fn an_earlier_tier_decides_before_the_kubernetes_network_policies() {
    let case = Case::new(&format!(
        "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {{name: security}}\nspec: {{order: 100}}\n---\n{}apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: web, namespace: a}}\nspec:\n  podSelector: {{}}\n  ingress: [{{}}]\n",
        gnp(
            "security.client-only",
            "  tier: security\n  selector: app == 'web'\n  ingress: [{action: Pass, source: {selector: app == 'client'}}]\n",
        ),
    ));
    // The NetworkPolicy admits everyone, but the security tier's end denies `other` first.
    assert!(case.allows("a/client", "a/web", 15008));
    assert!(!case.allows("a/other", "a/web", 15008));
    assert_eq!(
        case.ingress_decider("a/other", "a/web", 15008),
        Decider::Calico(None, None, ambient_netpol::calico::Action::Deny)
    );
    assert_eq!(
        case.ingress_decider("a/client", "a/web", 15008),
        Decider::NetworkPolicy
    );
}

#[test]
fn connectivity_splits_addresses_at_calico_nets() {
    let case = Case::new(&gnp(
        "web-in",
        "  selector: app == 'web'\n  ingress:\n  - {action: Allow, source: {nets: [10.0.0.0/8], notNets: [10.2.0.0/16]}}\n",
    ));
    let engine = case.engine(Some("192.168.0.0/16"));
    let rows = ambient_netpol::pipeline::connectivity::connectivity(&engine);
    let from = |src: &str| rows.iter().any(|r| r.src == src && r.dst == "a/web");
    assert!(from("10.0.0.0-10.1.255.255"));
    assert!(from("10.3.0.0-10.255.255.255"));
    assert!(!from("10.2.0.0-10.2.255.255"));
    assert!(!from("0.0.0.0-9.255.255.255"));
}

#[test]
fn tiers_ordered_below_1000_come_before_the_admin_network_policies() {
    let admin = "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {name: accept-all}\nspec:\n  tier: Admin\n  priority: 10\n  subject: {namespaces: {}}\n  ingress:\n  - action: Accept\n    from: [{namespaces: {}}]\n---\n";
    let case = |order: u32| {
        Case::new(&format!(
            "{admin}apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {{name: guard}}\nspec: {{order: {order}}}\n---\n{}",
            gnp(
                "guard.deny-other",
                "  tier: guard\n  selector: app == 'web'\n  ingress: [{action: Deny, source: {selector: app == 'other'}}, {action: Pass}]\n",
            ),
        ))
    };
    // Order 100: Calico's guard tier denies before the AdminNetworkPolicy accepts.
    let early = case(100);
    assert!(!early.allows("a/other", "a/web", 8080));
    assert!(early.allows("a/client", "a/web", 8080));
    // Order 5000: the AdminNetworkPolicy accepts first.
    let late = case(5000);
    assert!(late.allows("a/other", "a/web", 8080));
}

#[test]
fn a_global_policys_lone_not_selector_matches_addresses_a_namespaced_ones_does_not() {
    // libcalico-go's rule conversion scopes a namespaced policy's `notSelector` to its namespace
    // (a selector `projectcalico.org/namespace == 'a'`, so endpoints only); a global rule keeps
    // the `notSelector` alone, which excludes the selected endpoints' addresses and nothing
    // else. Found by benches/compare-nca-calico.sh (NCA denied, we allowed).
    let case = Case::new(&format!(
        "{}apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {{name: local, namespace: a}}\nspec:\n  order: 1\n  selector: app == 'client'\n  ingress:\n  - {{action: Deny, source: {{notSelector: app == 'other'}}}}\n  - {{action: Allow}}\n",
        gnp(
            "web-in",
            "  order: 1\n  selector: app == 'web'\n  ingress:\n  - {action: Deny, protocol: TCP, source: {notSelector: app == 'client'}}\n  - {action: Allow}\n",
        ),
    ));
    let engine = case.engine(Some("10.244.0.0/16"));
    let at = |ip: &str| Endpoint::Ip(ip.parse().expect("an address"));
    let (web, client) = (
        Endpoint::Workload(case.workload("a/web")),
        Endpoint::Workload(case.workload("a/client")),
    );
    // Global: an address is not `client`, so the Deny matches it.
    assert!(
        !engine
            .allowed_between(at("192.0.2.1"), web)
            .contains(Protocol::Tcp, 80)
    );
    assert!(
        !engine
            .verdict(at("192.0.2.1"), web)
            .allowed
            .contains(Protocol::Tcp, 80)
    );
    assert!(case.allows_with(&engine, "a/client", "a/web", 80));
    assert!(!case.allows_with(&engine, "b/remote", "a/web", 80));
    // Namespaced: endpoints of `a` only; an address and `b`'s pods reach the Allow.
    assert!(
        engine
            .allowed_between(at("192.0.2.1"), client)
            .contains(Protocol::Tcp, 80)
    );
    assert!(case.allows_with(&engine, "b/remote", "a/client", 80));
    assert!(!case.allows_with(&engine, "a/web", "a/client", 80));
}

#[test]
fn ties_at_order_1000_with_kubernetes_network_policies_go_by_felixs_names() {
    // felix sorts a tier's policies by order, then by v1 name: `ns/name` for a NetworkPolicy
    // (libcalico-go's ConvertNetworkPolicyV3ToV1Key), the name for a GlobalNetworkPolicy, and
    // `ns/knp.default.<name>` for a Kubernetes NetworkPolicy. Found by
    // benches/compare-nca-calico.sh, whose NCA input is sorted that way.
    let np = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: web, namespace: a}\nspec:\n  podSelector: {matchLabels: {app: web}}\n  ingress:\n  - from: [{podSelector: {matchLabels: {app: client}}}]\n    ports: [{port: 8080}]\n---\n";
    let deny = "  order: 1000\n  selector: app == 'web'\n  ingress: [{action: Deny, source: {selector: app == 'client'}}]\n";
    let namespaced = |name: &str| {
        Case::new(&format!(
            "{np}apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {{name: {name}, namespace: a}}\nspec:\n{deny}---\n"
        ))
    };
    // `a/alpha-deny` < `a/knp.default.web`: the Deny comes first.
    assert!(!namespaced("alpha-deny").allows("a/client", "a/web", 8080));
    // `a/zeta-deny` > `a/knp.default.web`: the NetworkPolicy's allow comes first.
    assert!(namespaced("zeta-deny").allows("a/client", "a/web", 8080));
    // Global: `a-deny` < `a/knp.default.web` ('-' before '/'), `b-deny` after it.
    assert!(!Case::new(&format!("{np}{}", gnp("a-deny", deny))).allows("a/client", "a/web", 8080));
    assert!(Case::new(&format!("{np}{}", gnp("b-deny", deny))).allows("a/client", "a/web", 8080));
}

/// `serviceAccounts.selector` and `serviceAccountSelector` read the ServiceAccount's labels when
/// the input has the object (and `projectcalico.org/name` always).
#[test]
fn service_account_selectors_read_the_service_accounts_labels() {
    let policy = gnp(
        "web-in",
        "  selector: app == 'web'\n  ingress:\n  - {action: Allow, source: {serviceAccounts: {selector: tier == 'trusted'}}}\n  - {action: Deny}\n",
    );
    let accounts = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: buyer, namespace: a, labels: {tier: trusted}}\n---\n";
    let labelled = Case::new(&format!("{accounts}{policy}"));
    assert!(
        labelled.allows("a/client", "a/web", 8080),
        "buyer is labelled trusted"
    );
    assert!(!labelled.allows("a/other", "a/web", 8080), "default is not");
    let unlabelled = Case::new(&policy);
    assert!(
        !unlabelled.allows("a/client", "a/web", 8080),
        "without the ServiceAccount, its labels are unknown"
    );
    // The policy's own serviceAccountSelector selects by the same labels.
    let own = Case::new(&format!(
        "{accounts}{}",
        gnp(
            "clients",
            "  selector: all()\n  serviceAccountSelector: tier == 'trusted'\n  ingress:\n  - {action: Deny}\n",
        )
    ));
    assert!(
        !own.allows("a/web", "a/client", 8080),
        "buyer's pods are selected"
    );
    assert!(own.allows("a/client", "a/other", 8080), "default's are not");
}

/// Tiers ordered at or after Calico's tier of BaselineAdminNetworkPolicies (10,000,000), and
/// tiers without an order (last of all), come after the Baseline tier.
#[test]
fn tiers_without_order_come_after_the_baseline_tier() {
    let baseline = "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {name: baseline}\nspec:\n  tier: Baseline\n  priority: 10\n  subject: {namespaces: {}}\n  ingress:\n  - action: Accept\n    from: [{namespaces: {}}]\n    protocols: [{tcp: {destinationPort: {number: 8080}}}]\n---\n";
    let case = |order: &str| {
        Case::new(&format!(
            "{baseline}apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {{name: late}}\nspec: {{{order}}}\n---\n{}",
            gnp(
                "late.deny-all",
                "  tier: late\n  selector: app == 'web'\n  ingress: [{action: Deny}]\n",
            ),
        ))
    };
    for order in ["", "order: 20000000"] {
        let late = case(order);
        assert!(
            late.allows("a/client", "a/web", 8080),
            "{order}: the Baseline tier accepts first"
        );
        assert!(
            !late.allows("a/client", "a/web", 9090),
            "{order}: the late tier denies the rest"
        );
    }
    // Order 5000 comes before the Baseline tier: its Deny decides 8080 too.
    let early = case("order: 5000");
    assert!(!early.allows("a/client", "a/web", 8080));
}
