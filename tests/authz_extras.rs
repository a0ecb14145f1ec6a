//! The AMB004 AuthorizationPolicy extras over generated clusters that have AuthorizationPolicies
//! of their own: applying the extras never adds an allowed (source, destination, port) for any
//! source, mesh or plaintext, and never removes one that ztunnel allowed before and plain
//! NetworkPolicy admits on an app port for a mesh source. ztunnel's verdicts are the core's
//! (`istio::ztunnel`), on the input with and without the extra documents.

#[path = "support/cluster.rs"]
mod generated;

use ambient_netpol::istio::ztunnel::{self, Peer, Settings};
use ambient_netpol::net::conn::Protocol;
use ambient_netpol::net::ranges::Ranges;
use ambient_netpol::pipeline::Cluster;
use ambient_netpol::pipeline::engine::{Endpoint, Engine};
use ambient_netpol::{Options, Source, analyze, load};
use proptest::prelude::*;

const SETTINGS: Settings = Settings {
    trust_domain: "cluster.local",
    root_namespace: "istio-system",
};
/// `shop` and `team` are enrolled; `out` is not (its pods send plaintext).
const NAMESPACES: [&str; 3] = ["shop", "team", "out"];
const ACCOUNTS: [&str; 3] = ["default", "a", "b"];
const PORTS: [u16; 4] = [8080, 9090, 7000, 15008];

#[derive(Clone, Debug)]
struct Pod {
    namespace: usize,
    account: usize,
}

#[derive(Clone, Debug)]
enum From {
    Anyone,
    Pod(usize),
    Namespace(usize),
    Labelled,
}

#[derive(Clone, Debug)]
struct NpRule {
    from: From,
    ports: Vec<u16>,
}

#[derive(Clone, Debug)]
enum Who {
    Account(usize, usize),
    Namespace(usize),
    Any,
}

#[derive(Clone, Debug)]
struct AzRule {
    from: Option<Who>,
    ports: Vec<u16>,
}

#[derive(Clone, Debug)]
struct AzPolicy {
    target: usize,
    deny: bool,
    rules: Vec<AzRule>,
}

fn pods() -> impl Strategy<Value = Vec<Pod>> {
    prop::collection::vec(
        (0..3usize, 0..3usize).prop_map(|(namespace, account)| Pod { namespace, account }),
        2..6,
    )
}

fn subset() -> impl Strategy<Value = Vec<u16>> {
    prop::sample::subsequence(PORTS.to_vec(), 0..=3)
}

/// The NetworkPolicies: a destination pod and its ingress rules.
type NetworkPolicies = Vec<(usize, Vec<NpRule>)>;

fn cluster() -> impl Strategy<Value = (Vec<Pod>, NetworkPolicies, Vec<AzPolicy>)> {
    pods().prop_flat_map(|pods| {
        let n = pods.len();
        let from = prop_oneof![
            Just(From::Anyone),
            (0..n).prop_map(From::Pod),
            (0..3usize).prop_map(From::Namespace),
            Just(From::Labelled),
        ];
        let np_rule = (from, subset()).prop_map(|(from, ports)| NpRule { from, ports });
        let np = prop::collection::vec((0..n, prop::collection::vec(np_rule, 1..3)), 1..3);
        let who = prop_oneof![
            (0..3usize, 0..3usize).prop_map(|(ns, sa)| Who::Account(ns, sa)),
            (0..3usize).prop_map(Who::Namespace),
            Just(Who::Any),
        ];
        let az_rule =
            (prop::option::of(who), subset()).prop_map(|(from, ports)| AzRule { from, ports });
        let az = prop::collection::vec(
            (0..n, any::<bool>(), prop::collection::vec(az_rule, 0..3)).prop_map(
                |(target, deny, rules)| AzPolicy {
                    target,
                    deny,
                    rules,
                },
            ),
            0..3,
        );
        (Just(pods), np, az)
    })
}

fn text(pods: &[Pod], nps: &[(usize, Vec<NpRule>)], azs: &[AzPolicy]) -> String {
    let mut out = String::new();
    for ns in NAMESPACES {
        let label = if ns == "out" {
            String::new()
        } else {
            ", labels: {istio.io/dataplane-mode: ambient, team: x}".into()
        };
        out.push_str(&format!(
            "apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}{label}}}\n---\n"
        ));
    }
    for (i, p) in pods.iter().enumerate() {
        out.push_str(&format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}, namespace: {}, labels: {{app: p{i}}}}}\nspec: {{serviceAccountName: {}, containers: [{{name: c}}]}}\n---\n",
            NAMESPACES[p.namespace], ACCOUNTS[p.account]
        ));
    }
    for (k, (d, rules)) in nps.iter().enumerate() {
        let mut ingress = Vec::new();
        for r in rules {
            let from = match &r.from {
                From::Anyone => String::new(),
                From::Pod(j) => format!(
                    "from: [{{namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: {}}}}}, podSelector: {{matchLabels: {{app: p{j}}}}}}}], ",
                    NAMESPACES[pods[*j].namespace]
                ),
                From::Namespace(ns) => format!(
                    "from: [{{namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: {}}}}}}}], ",
                    NAMESPACES[*ns]
                ),
                From::Labelled => "from: [{namespaceSelector: {matchLabels: {team: x}}}], ".into(),
            };
            let ports = if r.ports.is_empty() {
                String::new()
            } else {
                format!(
                    "ports: [{}]",
                    r.ports
                        .iter()
                        .map(|p| format!("{{port: {p}}}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            ingress.push(format!("{{{from}{ports}}}"));
        }
        out.push_str(&format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: np{k}, namespace: {}}}\nspec:\n  podSelector: {{matchLabels: {{app: p{d}}}}}\n  ingress: [{}]\n---\n",
            NAMESPACES[pods[*d].namespace],
            ingress.join(", ")
        ));
    }
    for (k, a) in azs.iter().enumerate() {
        let rules: Vec<String> = a
            .rules
            .iter()
            .map(|r| {
                let mut parts = Vec::new();
                match &r.from {
                    None => {}
                    Some(Who::Account(ns, sa)) => parts.push(format!(
                        "from: [{{source: {{principals: [cluster.local/ns/{}/sa/{}]}}}}]",
                        NAMESPACES[*ns], ACCOUNTS[*sa]
                    )),
                    Some(Who::Namespace(ns)) => parts.push(format!(
                        "from: [{{source: {{namespaces: [{}]}}}}]",
                        NAMESPACES[*ns]
                    )),
                    Some(Who::Any) => parts.push("from: [{source: {principals: ['*']}}]".into()),
                }
                if !r.ports.is_empty() {
                    parts.push(format!(
                        "to: [{{operation: {{ports: [{}]}}}}]",
                        r.ports
                            .iter()
                            .map(|p| format!("'{p}'"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
                format!("{{{}}}", parts.join(", "))
            })
            .collect();
        out.push_str(&format!(
            "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {{name: az{k}, namespace: {}}}\nspec:\n  selector: {{matchLabels: {{app: p{}}}}}\n  action: {}\n  rules: [{}]\n---\n",
            NAMESPACES[pods[a.target].namespace],
            a.target,
            if a.deny { "DENY" } else { "ALLOW" },
            rules.join(", ")
        ));
    }
    out
}

fn peer<'c>(cluster: &'c Cluster, s: usize) -> Peer<'c> {
    let w = &cluster.workloads[s];
    if w.namespace == "out" {
        Peer::Plaintext
    } else {
        Peer::of(w)
    }
}

/// ztunnel's allowed ports from `s` to `d` (no addresses in these clusters: lower = upper).
fn allowed(cluster: &Cluster, s: usize, d: usize) -> Ranges<u16> {
    let policies = ztunnel::enforced(&cluster.policies.istio, SETTINGS, &cluster.workloads[d]);
    let v = ztunnel::verdict(
        &cluster.policies.istio,
        SETTINGS,
        &policies,
        &Ranges::empty(),
        peer(cluster, s),
    );
    assert_eq!(v.lower, v.upper, "no address in these clusters");
    v.upper
}

/// Checks the two promises of the extras; `Err` says which (source, destination, port) breaks one.
fn check(input: &str, extras: &[String]) -> Result<(), String> {
    let before = load(&[Source {
        name: "a.yaml",
        text: input,
    }]);
    let with = format!("{input}{}", extras.join("---\n"));
    let after = load(&[Source {
        name: "b.yaml",
        text: &with,
    }]);
    let (a, b) = (&before.cluster, &after.cluster);
    assert_eq!(a.workloads.len(), b.workloads.len());
    let engine = Engine::new(a);
    for d in 0..a.workloads.len() {
        if a.workloads[d].namespace == "out" {
            continue; // not enrolled: ztunnel does not enforce anything for it
        }
        for s in 0..a.workloads.len() {
            if s == d {
                continue;
            }
            let (was, is) = (allowed(a, s, d), allowed(b, s, d));
            let plain = engine.allowed_between(Endpoint::Workload(s), Endpoint::Workload(d));
            for p in PORTS {
                let name = || format!("p{s} -> p{d} port {p}");
                if is.contains(p) && !was.contains(p) {
                    return Err(format!("{}: the extras widen", name()));
                }
                let mesh = peer(a, s) != Peer::Plaintext;
                if mesh
                    && p != 15008
                    && was.contains(p)
                    && plain.contains(Protocol::Tcp, p)
                    && !is.contains(p)
                {
                    return Err(format!(
                        "{}: NetworkPolicy admits it, ztunnel allowed it, the extras deny it",
                        name()
                    ));
                }
            }
        }
    }
    Ok(())
}

fn extras(text: &str) -> Vec<String> {
    analyze(
        &[Source {
            name: "c.yaml",
            text,
        }],
        &Options::default(),
    )
    .fixed
    .extras
    .into_iter()
    .filter(|e| e.kind == "AuthorizationPolicy")
    .map(|e| e.yaml.to_string())
    .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn extras_never_widen_and_keep_what_network_policy_admits((pods, nps, azs) in cluster()) {
        let input = text(&pods, &nps, &azs);
        let extras = extras(&input);
        // Pods the input does not show (a new service account in each namespace) are checked
        // too: the extras must not refuse them what NetworkPolicy admits.
        let ghosts: String = NAMESPACES
            .iter()
            .map(|ns| format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: ghost, namespace: {ns}, labels: {{app: ghost}}}}\nspec: {{serviceAccountName: ghost, containers: [{{name: c}}]}}\n---\n"))
            .collect();
        let input = format!("{input}{ghosts}");
        if let Err(why) = check(&input, &extras) {
            prop_assert!(false, "{why}\n--- input\n{input}--- extras\n{}", extras.join("---\n"));
        }
    }
}

/// The case of issue 18: the user's ALLOW policy admits `web` on every port; NetworkPolicy
/// admits it on 8080 (and 15008). The extra exists and is checked; the extra the project used to
/// write (an ALLOW policy with a `notPrincipals: ["*"]` rule) fails the same check, so the check
/// can fail.
#[test]
fn the_deny_extra_passes_where_the_old_allow_extra_widened() {
    let input = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {istio.io/dataplane-mode: ambient}}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: out}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop, labels: {app: web}}\nspec: {serviceAccountName: web, containers: [{name: c}]}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: api, namespace: shop, labels: {app: api}}\nspec: {serviceAccountName: api, containers: [{name: c}]}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: legacy, namespace: out, labels: {app: legacy}}\nspec: {containers: [{name: c}]}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: api, namespace: shop}\nspec:\n  podSelector: {matchLabels: {app: api}}\n  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}], ports: [{port: 8080}, {port: 15008}]}, {from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: out}}}], ports: [{port: 8080}]}]\n---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: api, namespace: shop}\nspec:\n  selector: {matchLabels: {app: api}}\n  rules: [{from: [{source: {principals: [cluster.local/ns/shop/sa/web]}}]}]\n---\n";
    let written = extras(input);
    assert_eq!(written.len(), 1, "{written:?}");
    assert!(written[0].contains("action: DENY"), "{}", written[0]);
    check(input, &written).expect("the DENY extra keeps both promises");
    let old = "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: old, namespace: shop}\nspec:\n  selector: {matchLabels: {app: api}}\n  rules: [{from: [{source: {principals: [cluster.local/ns/shop/sa/web]}}], to: [{operation: {ports: ['8080']}}]}, {from: [{source: {notPrincipals: ['*']}}]}]\n".to_string();
    let why = check(input, &[old]).expect_err("the plaintext rule widens the user's policy");
    assert!(why.contains("widen"), "{why}");
}

/// `gen-cluster --authz` (benches/compare-nca.sh --authz): every AuthorizationPolicy it writes is
/// read without an INP finding, and ztunnel enforces some policy for most workloads.
#[test]
fn the_generated_authorization_policies_are_valid() {
    let size = generated::S;
    let text = format!(
        "{}{}",
        generated::generate_mesh(size, 1),
        generated::authorization_policies(16, size, 1)
    );
    let loaded = load(&[Source {
        name: "authz.yaml",
        text: &text,
    }]);
    let inp: Vec<_> = loaded
        .findings
        .iter()
        .filter(|f| format!("{:?}", f.code).starts_with("Inp"))
        .collect();
    assert!(inp.is_empty(), "{inp:?}");
    let cluster = &loaded.cluster;
    assert_eq!(cluster.policies.istio.authorization.len(), 16);
    let enforced = cluster
        .workloads
        .iter()
        .filter(|w| !ztunnel::enforced(&cluster.policies.istio, SETTINGS, w).is_empty())
        .count();
    assert!(enforced * 2 > cluster.workloads.len(), "{enforced}");
}
