//! The AMB004 extra: an Istio `AuthorizationPolicy` (security.istio.io/v1, L4 only, enforced by
//! ztunnel) that gives back the port restriction NetworkPolicy loses once 15008 is admitted.
//!
//! Two promises, whatever the user's own AuthorizationPolicies say:
//!
//! - **It never widens.** Where no ALLOW policy of the user's applies to the destination, the
//!   extra is an ALLOW policy: before it ztunnel allowed everything no DENY denied, after it
//!   only what it lists, so it can only take away. Traffic without a mesh identity (from pods
//!   outside the mesh, arriving in plaintext) is admitted by a `notPrincipals: ["*"]` rule,
//!   because NetworkPolicy still enforces its ports. Where the user has ALLOW policies, an ALLOW
//!   extra would add to them (ALLOW policies are a union): the extra is then a DENY policy that
//!   denies each mesh identity the ports NetworkPolicy does not allow it, and nothing else.
//! - **It is never narrower than NetworkPolicy for mesh traffic.** Each mesh identity keeps
//!   every TCP port NetworkPolicy admits from any source with that identity. Sources the input
//!   cannot enumerate (a rule without `from`, a namespace selector that names namespaces by
//!   other labels than their name, an `ipBlock`) become any mesh identity (`principals: ["*"]`)
//!   on the rule's ports; namespaces named by `kubernetes.io/metadata.name` become
//!   `namespaces`; pods a selector stands for that are not in the input, their namespace.

use std::collections::{BTreeMap, BTreeSet};

use super::{Context, HBONE_PORT, Identity};
use crate::fix::Generated;
use crate::fix::emit::{self, Y};
use crate::model::NAMESPACE_NAME_LABEL;
use crate::model::Workload;
use crate::model::inferred::ANY_NAMESPACE;
use crate::model::labels::{Operator, Selector};
use crate::net::conn::Protocol;
use crate::netpol::policy::{Direction, Peer};
use crate::pipeline::engine::{BitSet, Endpoint, port_conns};

/// Ports are listed one by one in an AuthorizationPolicy: past this many, no policy is written.
const MAX_PORTS: usize = 64;
/// Sources allowed different port sets each need a rule: past this many, no policy is written
/// (it would not be reviewable, and a hostile input could make thousands of such policies).
const MAX_RULES: usize = 64;
/// Mesh identities (service accounts and namespaces) one policy names: past this many it is
/// not written either.
const MAX_IDENTITIES: usize = 500;

/// Mesh identities of a group of sources, each once: service accounts as (namespace, name), the
/// namespaces that stand for pods not in the input, and whether any identity is admitted.
#[derive(Default)]
struct Identities<'c> {
    accounts: BTreeSet<(&'c str, &'c str)>,
    namespaces: BTreeSet<&'c str>,
    anyone: bool,
}

impl<'c> Identities<'c> {
    /// Adds one source's identity; 1 when it is newly named. Pods the input does not show:
    /// their service account is unknown, so their namespace stands for them (broader), or any
    /// mesh identity for "any namespace".
    fn insert(&mut self, (namespace, account): Identity<'c>) -> usize {
        let new = match account {
            Some(account) => self.accounts.insert((namespace, account)),
            None if namespace == ANY_NAMESPACE => {
                self.anyone = true;
                false
            }
            None => self.namespaces.insert(namespace),
        };
        usize::from(new)
    }
}

/// TCP ports a mesh source may use (`None`: every port), without 15008; `Err` past
/// [`MAX_PORTS`].
fn app_ports(tcp: &crate::net::ranges::Ranges<u16>) -> Result<Option<Vec<u16>>, ()> {
    if tcp.spans() == [(1, u16::MAX)] {
        return Ok(None);
    }
    let ports: Vec<u16> = tcp
        .spans()
        .iter()
        .flat_map(|&(lo, hi)| lo..=hi)
        .filter(|&p| p != HBONE_PORT)
        .take(MAX_PORTS + 1)
        .collect();
    if ports.len() > MAX_PORTS {
        Err(())
    } else {
        Ok(Some(ports))
    }
}

/// The namespaces a selector names by `kubernetes.io/metadata.name` alone (`matchLabels` or an
/// `In` expression); `None` when it may match namespaces the input does not show.
fn named_namespaces(selector: &Selector) -> Option<Vec<String>> {
    match (&selector.match_labels[..], &selector.requirements[..]) {
        ([(k, v)], []) if k == NAMESPACE_NAME_LABEL => Some(vec![v.clone()]),
        ([], [r]) if r.key == NAMESPACE_NAME_LABEL && r.operator == Operator::In => {
            Some(r.values.clone())
        }
        _ => None,
    }
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
    // Who decided the ports (for the messages).
    let (deciders, plural) = deciders(cx, d);
    let admits = format!("{deciders} {}", if plural { "admit" } else { "admits" });
    // Sources grouped by the ports they may use (None: every TCP port). The members of a sender
    // group are allowed alike: one verdict per group.
    let mut groups: BTreeMap<Option<Vec<u16>>, Identities> = BTreeMap::new();
    let mut too_many: Option<usize> = None; // the first source allowed too many ports
    // Identities named so far. Past the limit the policy would not be reviewable; stopping
    // there keeps this linear in the senders a destination can name, not in every sender of
    // the cluster (27,000 destinations each looking at 27,000 senders held 19 GB).
    let mut identities_named = 0;
    let candidates = cx.engine.ingress_candidates(d);
    let too_many_identities = || {
        Err(format!(
            "more than {MAX_IDENTITIES} mesh identities may reach `{}` (an AuthorizationPolicy naming them all would not be reviewable)",
            target.qualified_name()
        ))
    };
    for (senders, group_identities) in cx.senders.iter().zip(cx.sender_identities()) {
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
        let ports = match app_ports(tcp) {
            Ok(Some(ports)) if ports.is_empty() => continue, // 15008 only: no app port
            Ok(ports) => ports,
            Err(()) => {
                too_many = Some(too_many.map_or(first, |s| s.min(first)));
                continue;
            }
        };
        // The group alone names too many (less `d`'s own identity, left out): no need to list
        // them one by one.
        if group_identities.len().saturating_sub(1) > MAX_IDENTITIES {
            return too_many_identities();
        }
        let identities = groups.entry(ports).or_default();
        // The group's identities, less `d`'s own when `d` is its only member with it (a
        // workload of one pod is not its own sender).
        let own = cx.identity(d);
        let alone = !crate::rules::distinct(cx, d, d)
            && senders.contains(&d)
            && !members.clone().any(|s| cx.identity(s) == own);
        for &s in group_identities {
            let identity = cx.identity(s);
            if alone && identity == own {
                continue;
            }
            identities_named += identities.insert(identity);
            if identities_named > MAX_IDENTITIES {
                return too_many_identities();
            }
        }
    }
    if let Some(s) = too_many {
        return Err(format!(
            "{admits} more than {MAX_PORTS} ports from `{}`; an AuthorizationPolicy lists ports one by one",
            cx.cluster.workloads[s].qualified_name()
        ));
    }
    // Peers the input cannot enumerate, rule by rule of the policies isolating the destination.
    for &p in cx.engine.isolating(d, Direction::Ingress) {
        for rule in &cx.cluster.policies.network[p].ingress {
            let broad: Vec<Option<&'_ str>> = match &rule.peers {
                None => vec![None],
                Some(peers) => peers
                    .iter()
                    .flat_map(|peer| match peer {
                        Peer::IpBlock { .. } => vec![None],
                        Peer::Pods {
                            namespaces: Some(selector),
                            ..
                        } => match named_namespaces(selector) {
                            Some(names) => names
                                .into_iter()
                                .filter_map(|n| {
                                    cx.cluster.namespace(&n).map(|ns| Some(ns.name.as_str()))
                                })
                                .collect(),
                            None => vec![None],
                        },
                        Peer::Pods {
                            namespaces: None, ..
                        } => Vec::new(),
                    })
                    .collect(),
            };
            if broad.is_empty() {
                continue;
            }
            let tcp = match &rule.ports {
                None => crate::net::ranges::Ranges::span(1, u16::MAX),
                Some(specs) => specs
                    .iter()
                    .map(|spec| port_conns(spec, Some(target)).of(Protocol::Tcp).clone())
                    .fold(crate::net::ranges::Ranges::empty(), |acc, r| acc.union(&r)),
            };
            let ports = match app_ports(&tcp) {
                Ok(Some(ports)) if ports.is_empty() => continue,
                Ok(ports) => ports,
                Err(()) => {
                    return Err(format!(
                        "a rule of NetworkPolicy `{}` admits more than {MAX_PORTS} ports; an AuthorizationPolicy lists ports one by one",
                        cx.policy_name(p)
                    ));
                }
            };
            let identities = groups.entry(ports).or_default();
            for namespace in broad {
                match namespace {
                    None => identities.anyone = true,
                    Some(ns) => {
                        identities.namespaces.insert(ns);
                    }
                }
            }
        }
    }
    if groups.len() > MAX_RULES {
        return Err(format!(
            "the mesh sources of `{}` are allowed more than {MAX_RULES} different sets of ports (an AuthorizationPolicy needs a rule for each)",
            target.qualified_name()
        ));
    }
    // Any identity covers the group's others.
    for identities in groups.values_mut() {
        if identities.anyone {
            identities.accounts.clear();
            identities.namespaces.clear();
        }
    }
    let named: BTreeSet<(&str, &str)> =
        crate::sort::set(groups.values().flat_map(|i| i.accounts.iter().copied()));
    let named_namespaces: BTreeSet<&str> =
        crate::sort::set(groups.values().flat_map(|i| i.namespaces.iter().copied()));
    if named.len() + named_namespaces.len() > MAX_IDENTITIES {
        return Err(format!(
            "more than {MAX_IDENTITIES} mesh identities may reach `{}` (an AuthorizationPolicy naming them all would not be reviewable)",
            target.qualified_name()
        ));
    }
    let principal = |(ns, sa): &(&str, &str)| crate::istio::ztunnel::principal(cx.istio, ns, sa);

    // The user's own ALLOW policies for the destination: an ALLOW extra would add to them.
    let user_allow: Vec<String> =
        crate::istio::ztunnel::enforced(&cx.cluster.policies.istio, cx.istio, target)
            .into_iter()
            .map(|i| &cx.cluster.policies.istio.authorization[i])
            .filter(|p| p.action == crate::istio::Action::Allow)
            .map(|p| format!("`{}`", p.qualified_name()))
            .collect();

    // Without a NetworkPolicy isolating the pods, every source the cluster-wide Deny rules do
    // not name may reach them, pods the input does not show included: an ALLOW extra would
    // refuse those, a DENY one only takes away.
    let isolated = !cx
        .engine
        .isolating(d, crate::net::Direction::Ingress)
        .is_empty();
    let (action, rules) = if user_allow.is_empty() && isolated {
        let mut rules = Vec::new();
        for (ports, identities) in &groups {
            let principals: Vec<String> = if identities.anyone {
                vec!["*".to_string()]
            } else {
                identities.accounts.iter().map(principal).collect()
            };
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
                rule.push(("to", operation("ports", ports)));
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
        ("ALLOW", rules)
    } else {
        (
            "DENY",
            deny_rules(
                &groups,
                &named,
                &named_namespaces,
                &principal,
                !isolated && !groups.values().any(|i| i.anyone),
            ),
        )
    };

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
    let prefix = if action == "ALLOW" {
        "allow-ambient-ports"
    } else {
        "deny-ambient-ports"
    };
    let name = crate::fix::object_name(&format!("{prefix}-{base}"));
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
    // What decided the ports: NetworkPolicy, Cilium's policies, and the CNI's other layers.
    let (policies, does) = (&deciders, if plural { "do" } else { "does" });
    let note = if action == "ALLOW" {
        format!(
            "Mesh sources may use only the ports {policies} allowed them; principals assume the trust domain {} and the pods' service accounts; traffic without mesh identity stays under {policies} alone.",
            cx.istio.trust_domain
        )
    } else {
        format!(
            "A DENY policy, because {}: it denies each mesh identity the ports {policies} {does} not allow it, and nothing else; principals assume the trust domain {} and the pods' service accounts.",
            if user_allow.is_empty()
                && !cx
                    .engine
                    .calico_layered(d, crate::net::Direction::Ingress)
                    .is_empty()
            {
                "Calico's policies decide who reaches these pods, pods the input does not show included, and an ALLOW policy would refuse those they admit".to_string()
            } else if user_allow.is_empty() {
                "no NetworkPolicy isolates these pods, so pods the input does not show may reach them, which an ALLOW policy would refuse".to_string()
            } else {
                format!(
                    "the ALLOW {} {} {} who reaches these pods, and an ALLOW policy would add to them",
                    if user_allow.len() == 1 {
                        "AuthorizationPolicy"
                    } else {
                        "AuthorizationPolicies"
                    },
                    user_allow.join(", "),
                    if user_allow.len() == 1 {
                        "already decides"
                    } else {
                        "already decide"
                    },
                )
            },
            cx.istio.trust_domain
        )
    };
    Ok(document(target, name, note, action, rules))
}

/// An AuthorizationPolicy document for the pods of `target` (their own labels select them).
fn document(
    target: &Workload,
    name: String,
    note: String,
    action: &str,
    rules: Vec<Y>,
) -> Generated {
    let labels = target
        .selector_labels()
        .into_iter()
        .map(|(k, v)| (k, Y::str(v)))
        .collect();
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
                    Y::map(vec![("ambient-netpol/note", Y::str(note))]),
                ),
            ]),
        ),
        (
            "spec".to_string(),
            Y::map(vec![
                ("selector", Y::map(vec![("matchLabels", Y::Map(labels))])),
                ("action", Y::str(action)),
                ("rules", Y::Seq(rules)),
            ]),
        ),
    ];
    Generated {
        kind: "AuthorizationPolicy".into(),
        name,
        yaml: emit::Yaml::document(doc),
    }
}

/// Who a cluster-wide Deny rule names, as an AuthorizationPolicy's sources: any identity for
/// every pod of every namespace, namespaces named by `kubernetes.io/metadata.name`, else the
/// identities of the mesh senders the input shows (`senders`).
pub struct GuardRail<'a> {
    /// An ingress rule's peers; `None` for an egress rule, whose sources are its subjects: the
    /// mesh senders, by identity.
    pub peers: Option<&'a [crate::cnp::Peer]>,
    pub senders: &'a BitSet,
    /// The ports the rule denies that pass inside the tunnel.
    pub ports: &'a crate::net::ranges::Ranges<u16>,
    /// "ClusterNetworkPolicy `no-ssh` ingress rule 1 (`deny-ssh`)".
    pub rule: String,
    /// For the document's name: the policy's name and the rule's.
    pub id: String,
    /// The DENY rules and the note, the same for every destination: made for the first, then
    /// copied.
    pub rules: std::cell::OnceCell<Result<(Vec<Y>, String), String>>,
}

/// The DENY rules of [`guard_rail_for`]: the rail's peers refused its ports, with the
/// document's note (saying so when namespaces were picked by their labels).
fn guard_rail_rules(cx: &Context, rail: &GuardRail) -> Result<(Vec<Y>, String), String> {
    use crate::cnp::{Peer as CnpPeer, Pods};
    let (mut everyone, mut namespaces) = (false, BTreeSet::new());
    let mut enumerate = rail.peers.is_none();
    // Namespace selectors read against the input's Namespace objects.
    let mut by_labels: Vec<String> = Vec::new();
    for peer in rail.peers.into_iter().flatten() {
        let selector = match peer {
            CnpPeer::Pods(Pods::Namespaces(ns)) => ns,
            CnpPeer::Pods(Pods::Pods { namespaces, pods }) if pods.is_empty() => namespaces,
            _ => {
                enumerate = true;
                continue;
            }
        };
        if selector.is_empty() {
            everyone = true;
        } else if let Some(names) = named_namespaces(selector) {
            namespaces.extend(names);
        } else {
            // Namespaces picked by other labels: those of the input's Namespace objects it
            // matches (a DENY can name namespaces, not labels).
            let labelled: Vec<String> = cx
                .cluster
                .namespaces
                .iter()
                .filter(|ns| ns.location.is_some() && selector.matches(&ns.labels))
                .map(|ns| ns.name.clone())
                .collect();
            if labelled.is_empty() {
                enumerate = true;
            } else {
                by_labels.push(format!("`{selector}`"));
                namespaces.extend(labelled);
            }
        }
    }
    let mut principals: BTreeSet<String> = BTreeSet::new();
    if everyone {
        principals.insert("*".into());
    } else if enumerate {
        for s in rail.senders.iter() {
            if principals.len() + namespaces.len() > MAX_IDENTITIES {
                break;
            }
            let w = &cx.cluster.workloads[s];
            if w.is_inferred() {
                namespaces.insert(w.namespace.clone());
            } else if !namespaces.contains(&w.namespace) {
                let sa = w.service_account.as_deref().unwrap_or("default");
                principals.insert(crate::istio::ztunnel::principal(cx.istio, &w.namespace, sa));
            }
        }
    }
    if principals.len() + namespaces.len() > MAX_IDENTITIES {
        return Err(format!(
            "more than {MAX_IDENTITIES} mesh identities are denied by {}",
            rail.rule
        ));
    }
    // Istio lists single ports: the ports denied, or every port but the few left open.
    let spans = rail.ports.spans();
    let count: u32 = spans.iter().map(|&(lo, hi)| u32::from(hi - lo) + 1).sum();
    let listed = |ports: &crate::net::ranges::Ranges<u16>| -> Vec<u16> {
        ports.spans().iter().flat_map(|&(lo, hi)| lo..=hi).collect()
    };
    let to = if count as usize <= MAX_PORTS {
        operation("ports", &listed(rail.ports))
    } else {
        let open = crate::net::ranges::Ranges::span(1, u16::MAX)
            .subtract(rail.ports)
            .subtract(&crate::net::ranges::Ranges::single(HBONE_PORT));
        if listed(&open).len() > MAX_PORTS {
            return Err(format!(
                "{} denies more than {MAX_PORTS} ports and leaves more than {MAX_PORTS} open; an AuthorizationPolicy lists ports one by one",
                rail.rule
            ));
        }
        operation("notPorts", &listed(&open))
    };
    let mut from = Vec::new();
    if !principals.is_empty() {
        from.push(Y::map(vec![(
            "source",
            Y::map(vec![(
                "principals",
                strings(principals.into_iter().collect()),
            )]),
        )]));
    }
    if !namespaces.is_empty() {
        from.push(Y::map(vec![(
            "source",
            Y::map(vec![(
                "namespaces",
                strings(namespaces.into_iter().collect()),
            )]),
        )]));
    }
    if from.is_empty() {
        return Err(format!(
            "{} names no mesh identity the input shows",
            rail.rule
        ));
    }
    let labels_note = if by_labels.is_empty() {
        String::new()
    } else {
        format!(
            " The namespaces the rule picks by label ({}) are those of the input that have the label; a namespace labelled later is not covered until this policy names it.",
            by_labels.join(", ")
        )
    };
    let note = format!(
        "Puts back {} for mesh traffic, which passes inside the HBONE tunnel where no cluster-wide rule sees its port; principals assume the trust domain {} and the pods' service accounts.{labels_note}",
        rail.rule, cx.istio.trust_domain
    );
    Ok((vec![Y::map(vec![("from", Y::Seq(from)), ("to", to)])], note))
}

/// A DENY AuthorizationPolicy that puts back, for mesh traffic to the pods of `d`, what a
/// cluster-wide Deny rule denies: its peers' identities refused its ports.
pub fn guard_rail_for(cx: &Context, d: usize, rail: &GuardRail) -> Result<Generated, String> {
    let target = &cx.cluster.workloads[d];
    if target.selector_labels().is_empty() && !target.is_inferred() {
        return Err(format!(
            "`{}` has no label an AuthorizationPolicy could select its pods by",
            target.qualified_name()
        ));
    }
    let (rules, note) = rail
        .rules
        .get_or_init(|| guard_rail_rules(cx, rail))
        .clone()?;
    let name = crate::fix::object_name(&format!("deny-ambient-{}-{}", rail.id, target.name));
    Ok(document(target, name, note, "DENY", rules))
}

/// `to: [{operation: {<key>: [ports]}}]`.
fn operation(key: &str, ports: &[u16]) -> Y {
    let ports = ports.iter().map(|p| Y::str(p.to_string())).collect();
    Y::Seq(vec![Y::map(vec![(
        "operation",
        Y::map(vec![(key, Y::Seq(ports))]),
    )])])
}

/// The DENY form: each identity is denied the ports outside the union of what every group that
/// covers it may use. An account is covered by its own groups, its namespace's and any-identity
/// groups; a namespace (its other accounts) by its groups and any-identity groups; every other
/// mesh identity by any-identity groups alone (nothing, when there are none).
fn deny_rules(
    groups: &BTreeMap<Option<Vec<u16>>, Identities>,
    named: &BTreeSet<(&str, &str)>,
    namespaces: &BTreeSet<&str>,
    principal: &dyn Fn(&(&str, &str)) -> String,
    others_open: bool,
) -> Vec<Y> {
    // The union of port lists; `None` (every port) absorbs.
    let union = |covers: &dyn Fn(&Identities) -> bool| -> Option<BTreeSet<u16>> {
        let mut out = BTreeSet::new();
        for (ports, identities) in groups {
            if covers(identities) {
                match ports {
                    None => return None,
                    Some(list) => out.extend(list.iter().copied()),
                }
            }
        }
        Some(out)
    };
    let mut rules = Vec::new();
    let deny = |source: Y, ports: Option<BTreeSet<u16>>, rules: &mut Vec<Y>| {
        let Some(ports) = ports else { return };
        let mut rule = vec![("from", Y::Seq(vec![Y::map(vec![("source", source)])]))];
        if !ports.is_empty() {
            rule.push((
                "to",
                operation("notPorts", &ports.into_iter().collect::<Vec<_>>()),
            ));
        }
        rules.push(Y::map(rule));
    };
    for account in named {
        let ports = union(&|i| {
            i.anyone || i.accounts.contains(account) || i.namespaces.contains(account.0)
        });
        deny(
            Y::map(vec![("principals", strings(vec![principal(account)]))]),
            ports,
            &mut rules,
        );
    }
    for ns in namespaces {
        let ports = union(&|i| i.anyone || i.namespaces.contains(ns));
        let mut source = vec![("namespaces", strings(vec![ns.to_string()]))];
        let own: Vec<String> = named
            .iter()
            .filter(|(n, _)| n == ns)
            .map(principal)
            .collect();
        if !own.is_empty() {
            source.push(("notPrincipals", strings(own)));
        }
        deny(Y::map(source), ports, &mut rules);
    }
    let ports = union(&|i| i.anyone);
    let mut source = vec![("principals", strings(vec!["*".into()]))];
    if !named.is_empty() {
        source.push((
            "notPrincipals",
            strings(named.iter().map(principal).collect()),
        ));
    }
    if !namespaces.is_empty() {
        source.push((
            "notNamespaces",
            strings(namespaces.iter().map(|n| n.to_string()).collect()),
        ));
    }
    // Identities no group names: where nothing isolates the pods they reach every port.
    if !others_open {
        deny(Y::map(source), ports, &mut rules);
    }
    rules
}

fn strings(items: Vec<String>) -> Y {
    Y::Seq(items.into_iter().map(Y::Str).collect())
}

/// A YAML node as the emitter's value; plain scalars keep their type (numbers, booleans).
pub(crate) fn to_y(node: &crate::input::yaml::Node) -> Y {
    use crate::input::yaml::Value;
    match &node.value {
        Value::Scalar { text, plain: true } => match text.as_str() {
            "true" => Y::Bool(true),
            "false" => Y::Bool(false),
            t => t
                .parse::<i64>()
                .map_or_else(|_| Y::Str(t.to_string()), Y::Int),
        },
        Value::Scalar { text, .. } => Y::Str(text.clone()),
        Value::Seq(items) => Y::Seq(items.iter().map(to_y).collect()),
        Value::Map(entries) => Y::Map(
            entries
                .iter()
                .map(|(k, v)| {
                    let key = match &k.value {
                        Value::Scalar { text, .. } => text.clone(),
                        _ => String::new(),
                    };
                    (key, to_y(v))
                })
                .collect(),
        ),
    }
}

/// The L7 keys of a source, an operation, and the `when` keys that are not L4.
pub(crate) const L7_SOURCE: [&str; 4] = [
    "requestPrincipals",
    "notRequestPrincipals",
    "remoteIpBlocks",
    "notRemoteIpBlocks",
];
pub(crate) const L7_OPERATION: [&str; 6] = [
    "hosts",
    "notHosts",
    "methods",
    "notMethods",
    "paths",
    "notPaths",
];

/// A rule without its L7 attributes: what it matches at L4. An entry of `from` (or `to`) left
/// empty matched every source (operation) at L4, so the whole list goes.
pub(crate) fn l4_rule(rule: &Y) -> Y {
    let Y::Map(entries) = rule else {
        return rule.clone();
    };
    let strip = |list: &Y, inner: &str, keys: &[&str]| -> Option<Y> {
        let Y::Seq(items) = list else {
            return Some(list.clone());
        };
        let mut out = Vec::new();
        for item in items {
            let Y::Map(wrapper) = item else {
                return None;
            };
            let mut kept = Vec::new();
            for (k, v) in wrapper {
                if k == inner {
                    let Y::Map(fields) = v else { return None };
                    let fields: Vec<(String, Y)> = fields
                        .iter()
                        .filter(|(f, _)| !keys.contains(&f.as_str()))
                        .cloned()
                        .collect();
                    if fields.is_empty() {
                        return None; // this entry matches everything at L4
                    }
                    kept.push((k.clone(), Y::Map(fields)));
                } else {
                    kept.push((k.clone(), v.clone()));
                }
            }
            out.push(Y::Map(kept));
        }
        Some(Y::Seq(out))
    };
    let mut out = Vec::new();
    for (k, v) in entries {
        match k.as_str() {
            "from" => out.extend(strip(v, "source", &L7_SOURCE).map(|v| (k.clone(), v))),
            "to" => out.extend(strip(v, "operation", &L7_OPERATION).map(|v| (k.clone(), v))),
            "when" => {
                let Y::Seq(conditions) = v else { continue };
                let kept: Vec<Y> = conditions
                    .iter()
                    .filter(|c| match c {
                        Y::Map(fields) => fields.iter().any(|(f, key)| {
                            f == "key"
                                && matches!(key, Y::Str(s) if crate::istio::L4_WHEN_KEYS.contains(&s.as_str()))
                        }),
                        _ => false,
                    })
                    .cloned()
                    .collect();
                if !kept.is_empty() {
                    out.push((k.clone(), Y::Seq(kept)));
                }
            }
            _ => out.push((k.clone(), v.clone())),
        }
    }
    Y::Map(out)
}

/// The policy's document with a new name, `spec` given, and a note.
fn policy_document(
    policy: &crate::istio::AuthorizationPolicy,
    name: &str,
    note: String,
    scope: (&str, Y),
    rules: Vec<Y>,
) -> Generated {
    let doc = vec![
        ("apiVersion".to_string(), Y::str("security.istio.io/v1")),
        ("kind".to_string(), Y::str("AuthorizationPolicy")),
        (
            "metadata".to_string(),
            Y::map(vec![
                ("name", Y::str(name)),
                ("namespace", Y::str(policy.namespace.clone())),
                (
                    "annotations",
                    Y::map(vec![("ambient-netpol/note", Y::str(note))]),
                ),
            ]),
        ),
        (
            "spec".to_string(),
            Y::map(vec![
                scope,
                ("action", Y::str(policy.action.as_str())),
                ("rules", Y::Seq(rules)),
            ]),
        ),
    ];
    Generated {
        kind: "AuthorizationPolicy".into(),
        name: name.to_string(),
        yaml: emit::Yaml::document(doc),
    }
}

pub(crate) fn rules_of(policy: &crate::istio::AuthorizationPolicy) -> Vec<Y> {
    match policy.rules_node().map(to_y) {
        Some(Y::Seq(rules)) => rules,
        _ => Vec::new(),
    }
}

/// The rules of `policy` as a waypoint in front of `services` (Service names in the policy's
/// namespace) must read them: the pods' ports it names turned into the Services' ports that
/// forward to them (`ambient::service_ports`, where the evidence that a waypoint matches Service
/// ports is); `Err` says why no port list says the same.
pub fn rules_for_services(
    cluster: &crate::pipeline::Cluster,
    policy: &crate::istio::AuthorizationPolicy,
    services: &[&str],
) -> Result<Vec<Y>, String> {
    use crate::ambient::service_ports;
    let rules = rules_of(policy);
    if !service_ports::names_ports(&rules) {
        return Ok(rules);
    }
    let mut ports = Vec::new();
    for name in services {
        let service = cluster
            .services
            .iter()
            .find(|s| s.namespace == policy.namespace && s.name == *name)
            .ok_or_else(|| format!("the Service `{name}` is not in the input"))?;
        ports.push(service_ports::service_ports(cluster, service));
    }
    service_ports::to_service_ports(&rules, &ports).map_err(|why| {
        format!(
            "`{}` names pod ports, which a waypoint does not see (it matches the Service's ports), and {why}",
            policy.qualified_name()
        )
    })
}

/// AMB010, AMB011: a copy of `policy` attached to the Service `service` with `targetRefs`, so
/// the Service's waypoint enforces it (L7 attributes included) instead of the pods' ztunnel,
/// its ports the Service's ([`rules_for_services`]); `Err` says why there is none.
pub fn retargeted(
    cluster: &crate::pipeline::Cluster,
    policy: &crate::istio::AuthorizationPolicy,
    service: &str,
    note: String,
) -> Result<Generated, String> {
    let rules = rules_for_services(cluster, policy, &[service])?;
    let name = crate::fix::object_name(&format!("{}-waypoint", policy.name));
    let target = Y::Seq(vec![Y::map(vec![
        ("kind", Y::str("Service")),
        ("group", Y::str("")),
        ("name", Y::str(service)),
    ])]);
    Ok(policy_document(
        policy,
        &name,
        note,
        ("targetRefs", target),
        rules,
    ))
}

/// Who decides the ports `d` admits, in the extras' words: "NetworkPolicy" (the API), "Cilium's
/// policies" when Cilium's allow rules isolate `d` or its deny rules apply to it (their ports are
/// Cilium's, not NetworkPolicy's), both, and "the cluster-wide policies" when other cluster-wide
/// policies than Cilium's own deny parts are in the input; whether the words are plural.
fn deciders(cx: &Context, d: usize) -> (String, bool) {
    let isolating = cx.engine.isolating(d, crate::net::Direction::Ingress);
    let kinds = |cilium: bool| {
        isolating
            .iter()
            .any(|&p| cx.cluster.policies.network[p].cilium.is_some() == cilium)
    };
    let calico = !cx
        .engine
        .calico_layered(d, crate::net::Direction::Ingress)
        .is_empty();
    let mut names = Vec::new();
    if kinds(false) || !(kinds(true) || calico) {
        names.push("NetworkPolicy");
    }
    if calico {
        names.push("Calico's policies");
    }
    let cilium_denies = cx
        .engine
        .layered(d, crate::net::Direction::Ingress)
        .iter()
        .any(|&c| crate::cilium::KINDS.contains(&cx.cluster.policies.tiered[c].kind.as_str()));
    if kinds(true) || cilium_denies {
        names.push("Cilium's policies");
    }
    if cx
        .cluster
        .policies
        .tiered
        .iter()
        .any(|c| !crate::cilium::KINDS.contains(&c.kind.as_str()))
    {
        names.push("the cluster-wide policies");
    }
    let plural =
        names.len() > 1 || matches!(names[..], ["Cilium's policies" | "Calico's policies"]);
    let text = match names.as_slice() {
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
        [] => unreachable!("NetworkPolicy at least"),
    };
    (text, plural)
}

/// AMB011 when no Service selects the destination: a copy of `policy` attached to the waypoint
/// itself (`targetRefs` to its Gateway), which then checks the clients of the traffic addressed to
/// the pods. Only a policy attached to the Gateway (or its GatewayClass) applies there: istiod
/// builds the waypoint's "direct pod access" chains with the proxy's own authorization builder,
/// no Service (`buildWaypointInternal` in pilot/pkg/networking/core/listener_waypoint.go, the
/// `direct-tcp` and `direct-http` chains), and istio/istio#56505 says neither a `selector` nor a
/// Service-targeted policy governs workload-addressed traffic through a waypoint. Those chains
/// see the pod's own address and port, so the rules keep the pods' ports as written. It applies
/// to everything the waypoint carries: the caller offers it only where that is the policy's own
/// pods.
pub fn gateway_targeted(
    policy: &crate::istio::AuthorizationPolicy,
    waypoint: &str,
    note: String,
) -> Generated {
    let name = crate::fix::object_name(&format!("{}-waypoint", policy.name));
    let target = Y::Seq(vec![Y::map(vec![
        ("kind", Y::str("Gateway")),
        ("group", Y::str("gateway.networking.k8s.io")),
        ("name", Y::str(waypoint)),
    ])]);
    policy_document(
        policy,
        &name,
        note,
        ("targetRefs", target),
        rules_of(policy),
    )
}

/// AMB010 (ALLOW): the policy's L4 part alone, which ztunnel enforces (the HTTP restriction is
/// lost), with the policy's own selector (or none: namespace-wide).
pub fn l4_part(policy: &crate::istio::AuthorizationPolicy, note: String) -> Generated {
    let name = crate::fix::object_name(&format!("{}-l4", policy.name));
    let rules: Vec<Y> = rules_of(policy).iter().map(l4_rule).collect();
    let scope = match &policy.scope {
        crate::istio::Scope::Selector(labels) => (
            "selector",
            Y::map(vec![(
                "matchLabels",
                Y::Map(
                    labels
                        .iter()
                        .map(|(k, v)| (k.clone(), Y::str(v.clone())))
                        .collect(),
                ),
            )]),
        ),
        // (Namespace-wide: an empty selector says the same as none.)
        _ => ("selector", Y::map(vec![])),
    };
    policy_document(policy, &name, note, scope, rules)
}

/// A waypoint for a namespace, as `istioctl waypoint apply -n <namespace>` writes it.
pub fn waypoint_gateway(namespace: &str) -> Generated {
    let doc = vec![
        (
            "apiVersion".to_string(),
            Y::str("gateway.networking.k8s.io/v1"),
        ),
        ("kind".to_string(), Y::str("Gateway")),
        (
            "metadata".to_string(),
            Y::map(vec![
                ("name", Y::str("waypoint")),
                ("namespace", Y::str(namespace)),
                (
                    "labels",
                    Y::map(vec![("istio.io/waypoint-for", Y::str("service"))]),
                ),
            ]),
        ),
        (
            "spec".to_string(),
            Y::map(vec![
                ("gatewayClassName", Y::str("istio-waypoint")),
                (
                    "listeners",
                    Y::Seq(vec![Y::map(vec![
                        ("name", Y::str("mesh")),
                        ("port", Y::Int(15008)),
                        ("protocol", Y::str("HBONE")),
                    ])]),
                ),
            ]),
        ),
    ];
    Generated {
        kind: "Gateway".into(),
        name: "waypoint".into(),
        yaml: emit::Yaml::document(doc),
    }
}

#[cfg(test)]
mod tests {
    use crate::{Code, Options, Source, analyze};

    /// A port-restricted rule admitting `clients` pods, each with its own service account: an
    /// AuthorizationPolicy would have to name every identity.
    fn cluster(clients: usize) -> String {
        let mut text = String::from(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: web, namespace: ns-0}\nspec:\n  podSelector: {matchLabels: {app: web}}\n  ingress: [{from: [{podSelector: {matchLabels: {app: client}}}], ports: [{port: 8080}]}]\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: ns-0, labels: {app: web}}\nspec: {containers: [{name: c}]}\n",
        );
        for i in 0..clients {
            text.push_str(&format!(
                "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: c-{i}, namespace: ns-0, labels: {{app: client}}}}\nspec: {{serviceAccountName: sa-{i}, containers: [{{name: c}}]}}\n"
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

    /// A workload of one pod is not its own sender: its identity is left out of its policy,
    /// unless another sender shares it; a workload of two pods sends to itself.
    #[test]
    fn a_policy_names_the_other_senders_identities() {
        let pod = |name: &str, account: &str| {
            format!(
                "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: shop, labels: {{app: {name}}}}}\nspec: {{serviceAccountName: {account}, containers: [{{name: c}}]}}\n"
            )
        };
        let policy = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: web, namespace: shop}\nspec:\n  podSelector: {}\n  ingress: [{from: [{podSelector: {}}], ports: [{port: 8080}]}]\n";
        let principals = |text: &str, of: &str| {
            let report = analyze(
                &[Source {
                    name: "c.yaml",
                    text,
                }],
                &Options::default(),
            );
            let extra = report
                .fixed
                .extras
                .iter()
                .find(|e| e.name == format!("allow-ambient-ports-{of}"))
                .expect("the extra");
            let mut named: Vec<String> = extra
                .yaml
                .lines()
                .filter_map(|l| l.trim().strip_prefix("- cluster.local/ns/shop/sa/"))
                .map(str::to_string)
                .collect();
            crate::sort::sort(&mut named);
            named
        };
        let text = format!("{policy}{}{}", pod("web", "web"), pod("api", "api"));
        assert_eq!(principals(&text, "web"), ["api"]);
        assert_eq!(principals(&text, "api"), ["web"]);
        // Another sender with web's account: the account is named.
        let text = format!("{text}{}", pod("cron", "web"));
        assert_eq!(principals(&text, "web"), ["api", "web"]);
        // Two pods of one Deployment reach each other.
        let deployment = "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {serviceAccountName: web, containers: [{name: c}]}\n";
        let text = format!("{policy}{deployment}{}", pod("api", "api"));
        assert_eq!(principals(&text, "web"), ["api", "web"]);
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
        crate::sort::sort(&mut extras);
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
        let extras: Vec<&str> = report.fixed.extras.iter().map(|e| &*e.yaml).collect();
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
        let (message, extras) = amb004(&cluster(super::MAX_IDENTITIES + 1));
        assert!(
            message.contains("more than 500 mesh identities may reach `ns-0/web`"),
            "{message}"
        );
        assert_eq!(extras, 0);
        // At the limit the policy is written.
        let (message, extras) = amb004(&cluster(super::MAX_IDENTITIES));
        assert!(!message.contains("mesh identities may reach"), "{message}");
        assert_eq!(extras, 1);
    }
}
