//! The AMB004 extra: an Istio `AuthorizationPolicy` (security.istio.io/v1, L4 only, enforced by
//! ztunnel) that gives back the port restriction NetworkPolicy loses once 15008 is admitted.
//!
//! For one destination it allows exactly the (mesh source, port) pairs that plain NetworkPolicy
//! allows today: each ambient source by its identity (its service account) on the TCP ports
//! NetworkPolicy admits from it. Traffic without a mesh identity (from pods outside the mesh,
//! arriving in plaintext) is allowed by a `notPrincipals: ["*"]` rule, because NetworkPolicy still
//! enforces its ports; without it the ALLOW policy would deny that traffic.

use std::collections::{BTreeMap, BTreeSet};

use super::{Context, HBONE_PORT};
use crate::fix::Generated;
use crate::fix::emit::{self, Y};
use crate::model::inferred::ANY_NAMESPACE;
use crate::netpol::conn::Protocol;
use crate::netpol::eval::Endpoint;

/// Ports are listed one by one in an AuthorizationPolicy: past this many, no policy is written.
const MAX_PORTS: usize = 64;
/// Sources allowed different port sets each need a rule: past this many, no policy is written
/// (it would not be reviewable, and a hostile input could make thousands of such policies).
const MAX_RULES: usize = 64;
/// Mesh identities (service accounts and namespaces) one policy names: past this many it is
/// not written either. A cluster where every pod may reach every other (8,400 namespaces with a
/// rule without `from` each) would otherwise get 8,400 policies of 8,400 names: 70 M lines.
const MAX_IDENTITIES: usize = 500;

/// Mesh identities of a group of sources, each once: service accounts as (namespace, name), the
/// namespaces that stand for pods not in the input, and whether any identity is admitted.
#[derive(Default)]
struct Identities<'c> {
    accounts: BTreeSet<(&'c str, &'c str)>,
    namespaces: BTreeSet<&'c str>,
    anyone: bool,
}

/// The AuthorizationPolicy for one destination workload, or why there is none.
pub fn policy_for(cx: &Context, d: usize) -> Result<Generated, String> {
    let target = &cx.cluster.workloads[d];
    if cx.waypoint[d].is_some() {
        return Err(format!(
            "`{}` uses a waypoint: its L7 policies belong on the waypoint",
            target.qualified_name()
        ));
    }
    // Sources grouped by the ports they may use (None: every TCP port). The members of a sender
    // group are allowed alike: one verdict per group.
    let mut groups: BTreeMap<Option<Vec<u16>>, Identities> = BTreeMap::new();
    let mut too_many: Option<usize> = None; // the first source allowed too many ports
    let mut identities_named = 0;
    // Members of a sender group are admitted alike: one look at the first is enough.
    let candidates = cx.engine.ingress_candidates(d);
    for senders in &cx.senders {
        let members = senders
            .iter()
            .copied()
            .filter(|&s| crate::rules::distinct(cx, s, d));
        let Some(first) = members.clone().next() else {
            continue;
        };
        if candidates.as_ref().is_some_and(|c| !c.contains(first)) {
            continue;
        }
        let allowed = cx
            .engine
            .allowed_between(Endpoint::Workload(first), Endpoint::Workload(d));
        let tcp = allowed.of(Protocol::Tcp);
        if tcp.is_empty() {
            continue;
        }
        let ports = if tcp.spans() == [(1, u16::MAX)] {
            None
        } else {
            let ports: Vec<u16> = tcp
                .spans()
                .iter()
                .flat_map(|&(lo, hi)| lo..=hi)
                .filter(|&p| p != HBONE_PORT)
                .take(MAX_PORTS + 1)
                .collect();
            if ports.len() > MAX_PORTS {
                too_many = Some(too_many.map_or(first, |s| s.min(first)));
                continue;
            }
            Some(ports)
        };
        if groups.len() == MAX_RULES && !groups.contains_key(&ports) {
            return Err(format!(
                "the mesh sources of `{}` are allowed more than {MAX_RULES} different sets of ports (an AuthorizationPolicy needs a rule for each)",
                target.qualified_name()
            ));
        }
        let identities = groups.entry(ports).or_default();
        for s in members {
            let source = &cx.cluster.workloads[s];
            let new = if source.is_inferred() {
                // Pods the input does not show: their service account is unknown, so their
                // namespace stands for them (broader), or any mesh identity for "any namespace".
                if source.namespace == ANY_NAMESPACE {
                    identities.anyone = true;
                    false
                } else {
                    identities.namespaces.insert(&source.namespace)
                }
            } else {
                let sa = source.service_account.as_deref().unwrap_or("default");
                identities.accounts.insert((&source.namespace, sa))
            };
            identities_named += usize::from(new);
            if identities_named > MAX_IDENTITIES {
                return Err(format!(
                    "more than {MAX_IDENTITIES} mesh identities may reach `{}` (an AuthorizationPolicy naming them all would not be reviewable)",
                    target.qualified_name()
                ));
            }
        }
    }
    if let Some(s) = too_many {
        return Err(format!(
            "NetworkPolicy admits more than {MAX_PORTS} ports from `{}`; an AuthorizationPolicy lists ports one by one",
            cx.cluster.workloads[s].qualified_name()
        ));
    }

    let mut rules = Vec::new();
    for (ports, identities) in groups {
        let mut principals: Vec<String> = identities
            .accounts
            .iter()
            .map(|(ns, sa)| format!("cluster.local/ns/{ns}/sa/{sa}"))
            .chain(identities.anyone.then(|| "*".to_string()))
            .collect();
        principals.sort();
        let namespaces: Vec<String> = identities
            .namespaces
            .iter()
            .map(|ns| ns.to_string())
            .collect();
        let mut from = Vec::new();
        if !principals.is_empty() {
            from.push(Y::map(vec![(
                "source",
                Y::map(vec![("principals", strings(principals))]),
            )]));
        }
        if !namespaces.is_empty() {
            from.push(Y::map(vec![(
                "source",
                Y::map(vec![("namespaces", strings(namespaces))]),
            )]));
        }
        let mut rule = vec![("from", Y::Seq(from))];
        if let Some(ports) = ports {
            let ports = ports.iter().map(|p| Y::str(p.to_string())).collect();
            rule.push((
                "to",
                Y::Seq(vec![Y::map(vec![(
                    "operation",
                    Y::map(vec![("ports", Y::Seq(ports))]),
                )])]),
            ));
        }
        rules.push(Y::map(rule));
    }
    rules.push(Y::map(vec![(
        "from",
        Y::Seq(vec![Y::map(vec![(
            "source",
            Y::map(vec![("notPrincipals", strings(vec!["*".into()]))]),
        )])]),
    )]));

    // Pods the input does not show are named by their app label, as people name them.
    let base = if target.is_inferred() {
        ["app.kubernetes.io/name", "app", "k8s-app"]
            .iter()
            .find_map(|k| target.labels.get(*k))
            .or_else(|| target.labels.values().next())
            .cloned()
            .unwrap_or_else(|| "pods".into())
    } else {
        target.name.clone()
    };
    let name = crate::fix::object_name(&format!("allow-ambient-ports-{base}"));
    // The controller's own selector, or the labels without the ones controllers add: a
    // `pod-template-hash` would stop selecting anything at the next rollout, and the port
    // restriction would be lost without a sign.
    let selector = target.selector_labels();
    if selector.is_empty() && !target.is_inferred() {
        // An empty selector would apply the policy to every pod of the namespace.
        return Err(format!(
            "`{}` has no label an AuthorizationPolicy could select its pods by",
            target.qualified_name()
        ));
    }
    let labels = selector.into_iter().map(|(k, v)| (k, Y::str(v))).collect();
    let doc = vec![
        ("apiVersion".to_string(), Y::str("security.istio.io/v1")),
        ("kind".to_string(), Y::str("AuthorizationPolicy")),
        (
            "metadata".to_string(),
            Y::map(vec![
                ("name", Y::str(name.clone())),
                ("namespace", Y::str(target.namespace.clone())),
                (
                    "annotations",
                    Y::map(vec![(
                        "ambient-netpol/note",
                        Y::str(
                            "Mesh sources may use only the ports NetworkPolicy allowed them; principals assume the trust domain cluster.local and the pods' service accounts; traffic without mesh identity stays under NetworkPolicy alone.",
                        ),
                    )]),
                ),
            ]),
        ),
        (
            "spec".to_string(),
            Y::map(vec![
                ("selector", Y::map(vec![("matchLabels", Y::Map(labels))])),
                ("action", Y::str("ALLOW")),
                ("rules", Y::Seq(rules)),
            ]),
        ),
    ];
    Ok(Generated {
        kind: "AuthorizationPolicy".into(),
        name,
        yaml: emit::document(&doc),
    })
}

fn strings(items: Vec<String>) -> Y {
    Y::Seq(items.into_iter().map(Y::Str).collect())
}

#[cfg(test)]
mod tests {
    use crate::{Code, Options, Source, analyze};

    /// A port-restricted rule without `from` in a cluster of many namespaces: every pod may use
    /// the tunnel, and an AuthorizationPolicy would have to name every identity.
    fn cluster(namespaces: usize) -> String {
        let mut text = String::from(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: web, namespace: ns-0}\nspec:\n  podSelector: {matchLabels: {app: web}}\n  ingress: [{ports: [{port: 8080}]}]\n",
        );
        for i in 0..namespaces {
            text.push_str(&format!(
                "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: web, namespace: ns-{i}, labels: {{app: web}}}}\nspec: {{containers: [{{name: c}}]}}\n"
            ));
        }
        text
    }

    fn amb004(text: &str) -> (String, usize) {
        let report = analyze(
            &[Source {
                name: "c.yaml",
                text,
            }],
            &Options::default(),
        );
        let finding = report
            .findings
            .iter()
            .find(|f| f.code == Code::Amb004)
            .expect("AMB004");
        (finding.message.clone(), report.fixed.extras.len())
    }

    #[test]
    fn the_same_name_in_two_namespaces_is_two_policies() {
        let policy = |ns: &str| {
            format!(
                "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: web, namespace: {ns}}}\nspec:\n  podSelector: {{matchLabels: {{app: web}}}}\n  ingress: [{{from: [{{podSelector: {{}}}}], ports: [{{port: 8080}}]}}]\n---\n"
            )
        };
        let text = policy("a") + &policy("b");
        let report = analyze(
            &[Source {
                name: "c.yaml",
                text: &text,
            }],
            &Options::default(),
        );
        let mut extras: Vec<(&str, bool, bool)> = report
            .fixed
            .extras
            .iter()
            .map(|e| {
                (
                    e.name.as_str(),
                    e.yaml.contains("namespace: a"),
                    e.yaml.contains("namespace: b"),
                )
            })
            .collect();
        extras.sort();
        assert_eq!(
            extras,
            [
                ("allow-ambient-ports-web", false, true),
                ("allow-ambient-ports-web", true, false)
            ]
        );
    }

    #[test]
    fn the_selector_leaves_out_the_labels_controllers_add() {
        // Pods dumped from a cluster, without their Deployment: a `pod-template-hash` in the
        // selector would stop matching at the next rollout.
        let pod = |name: &str, labels: &str| {
            format!(
                "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: shop\n  labels: {{{labels}}}\n  ownerReferences: [{{kind: ReplicaSet, name: {rs}, controller: true}}]\nspec: {{containers: [{{name: c}}]}}\n",
                rs = name.rsplit_once('-').unwrap().0
            )
        };
        let text = String::from(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: web, namespace: shop}\nspec:\n  podSelector: {matchLabels: {app: web}}\n  ingress: [{from: [{podSelector: {matchLabels: {app: client}}}], ports: [{port: 8080}]}]\n",
        ) + &pod(
            "web-5f6d7c-x7k2q",
            "app: web, version: v2, pod-template-hash: 5f6d7c",
        ) + &pod(
            "web-5f6d7c-m4n8z",
            "app: web, version: v2, pod-template-hash: 5f6d7c",
        ) + &pod(
            "client-7b9c5d-r2d9w",
            "app: client, pod-template-hash: 7b9c5d",
        );
        let report = analyze(
            &[Source {
                name: "dump.yaml",
                text: &text,
            }],
            &Options::default(),
        );
        let extras: Vec<&str> = report
            .fixed
            .extras
            .iter()
            .map(|e| e.yaml.as_str())
            .collect();
        assert_eq!(extras.len(), 1, "{extras:?}");
        assert!(
            extras[0].contains(
                "  selector:\n    matchLabels:\n      app: web\n      version: v2\n  action: ALLOW"
            ),
            "{}",
            extras[0]
        );
        assert!(
            extras[0].contains("name: allow-ambient-ports-web\n"),
            "{}",
            extras[0]
        );
    }

    #[test]
    fn a_workload_without_labels_gets_no_policy_rather_than_one_for_the_whole_namespace() {
        let text = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: all, namespace: shop}\nspec:\n  podSelector: {}\n  ingress: [{from: [{podSelector: {}}], ports: [{port: 8080}]}]\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: bare, namespace: shop}\nspec: {containers: [{name: c}]}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: client, namespace: shop, labels: {app: client}}\nspec: {containers: [{name: c}]}\n";
        let report = analyze(
            &[Source {
                name: "c.yaml",
                text,
            }],
            &Options::default(),
        );
        let names: Vec<&str> = report
            .fixed
            .extras
            .iter()
            .map(|e| e.name.as_str())
            .collect();
        assert_eq!(names, ["allow-ambient-ports-client"]);
        assert!(
            report.findings.iter().any(|f| f.code == Code::Amb004
                && f.message.contains(
                    "`shop/bare` has no label an AuthorizationPolicy could select its pods by"
                )),
            "{:?}",
            report.findings
        );
    }

    #[test]
    fn past_the_identity_limit_no_policy_is_written_and_the_finding_says_why() {
        // The destination's own pod is not a source: namespaces - 1 identities.
        let (message, extras) = amb004(&cluster(super::MAX_IDENTITIES + 2));
        assert!(
            message.contains("more than 500 mesh identities may reach `ns-0/web`"),
            "{message}"
        );
        assert_eq!(extras, 0);
        // At the limit the policy is written.
        let (message, extras) = amb004(&cluster(super::MAX_IDENTITIES + 1));
        assert!(!message.contains("mesh identities may reach"), "{message}");
        assert_eq!(extras, 1);
    }
}
