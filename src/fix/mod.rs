//! Fixes: turn the rules' `FixRequest`s into the corrected YAML.
//!
//! Edit style changes the user's text with the smallest insertions: every byte outside them
//! (indentation, quoting, comments, key order) stays as it was. AMB010's edit of an
//! AuthorizationPolicy (`authz.rs`) also replaces and deletes, each edit checked. Add style leaves the user's
//! policies alone and writes separate, additive policies. Extras (a Cilium clusterwide policy)
//! are separate documents the user may apply besides. Objects pasted one after the other
//! without `---` (INP006) get the missing marker lines.

mod authz;
mod calico;
pub mod emit;

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::ambient::{Cni, DirectionKey, FixRequest, HBONE_PORT, PortKey, ProbeSnat};
use crate::input::Source;
use crate::input::yaml::Node;
use crate::model::labels::{Operator, Selector};
use crate::netpol::policy::{Direction, NetworkPolicy, Peer};
use crate::pipeline::{Cluster, PolicyRef, RuleRef};
use emit::{Style, Y};

pub use crate::ambient::FixStyle;

/// A change to one source text, for one policy.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Edit {
    source: usize,
    policy: usize,
    at: usize,
    delete: usize,
    insert: String,
    /// Among insertions at the same offset, lower comes first in the text.
    order: u8,
}

/// A document the fixer writes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Generated {
    pub kind: String,
    pub name: String,
    /// Written when first read ([`emit::Yaml`]).
    pub yaml: emit::Yaml,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Fixed {
    /// Every source with the fixes applied (unchanged sources as they were); add-style policies
    /// are appended to the source of the policy they complement.
    pub texts: Vec<String>,
    /// Separate documents to apply besides (a Cilium clusterwide policy).
    pub extras: Vec<Generated>,
    /// Policies fixed in the add style although the edit style was asked for, and why.
    #[serde(default)]
    pub notes: Vec<String>,
    /// The fix labels a Service to use a waypoint (AMB010): its traffic takes a new path, whose
    /// own fixes (the waypoint hop, AMB005) a second round makes.
    #[serde(skip)]
    pub reroutes: bool,
}

impl Fixed {
    /// All sources as one multi-document text, ready for `kubectl apply -f -`.
    pub fn combined(&self) -> String {
        let mut out = String::new();
        for text in &self.texts {
            if text.trim().is_empty() {
                continue;
            }
            if !out.is_empty() {
                if !out.ends_with('\n') {
                    out.push('\n');
                }
                if !text.trim_start().lines().next().is_some_and(is_separator) {
                    out.push_str("---\n");
                }
            }
            out.push_str(text);
        }
        out
    }

    /// The extra documents as one multi-document text, ready for `kubectl apply -f -` (empty
    /// when there is none).
    pub fn extras_combined(&self) -> String {
        let mut out = String::new();
        for extra in &self.extras {
            if !out.is_empty() {
                if !out.ends_with('\n') {
                    out.push('\n');
                }
                out.push_str("---\n");
            }
            out.push_str(&extra.yaml);
        }
        out
    }
}

pub struct FixOptions<'a> {
    pub style: FixStyle,
    pub probe_snat: &'a ProbeSnat,
    pub cni: Cni,
    /// Parse every edited document again and fall back to the add style for the policies whose
    /// document it would not leave an extension of itself. The analysis asks for it only when
    /// its check of a fix made without it failed (it costs two more parses of those documents).
    pub careful: bool,
    /// Where objects follow another without a `---` line (INP006; source, byte offset of the
    /// line where the marker goes), from the reading of the input.
    pub separators: &'a [(usize, usize)],
}

pub fn fix(
    sources: &[Source],
    cluster: &Cluster,
    requests: &[FixRequest],
    options: &FixOptions,
) -> Fixed {
    let mut requests = requests.to_vec();
    crate::sort::sort(&mut requests);
    requests.dedup();
    let addresses: Vec<IpAddr> = match options.probe_snat {
        ProbeSnat::Addresses(a) => a.clone(),
        ProbeSnat::HostIp => Vec::new(),
    };

    // Edit style, except for the policies an in-place edit cannot fix safely (reached through
    // an alias, or an edit that would not leave their document an extension of itself): those
    // take the add style, and the notes say why.
    let mut edits: Vec<Edit> = Vec::new();
    let mut fallback: BTreeMap<usize, &str> = BTreeMap::new();
    if options.style == FixStyle::Edit {
        loop {
            let kept: Vec<FixRequest> = requests
                .iter()
                .filter(|r| r.policy().is_none_or(|p| !fallback.contains_key(&p)))
                .cloned()
                .collect();
            let (new_edits, aliased) = edits_for(sources, cluster, &kept, &addresses);
            let before = fallback.len();
            for policy in aliased {
                fallback.entry(policy).or_insert(
                    "its rules are reached through a YAML alias, and an edit there would change the anchor's other uses",
                );
            }
            if options.careful {
                for policy in unsafe_edits(sources, cluster, &new_edits) {
                    fallback.entry(policy).or_insert(
                        "an edit in place would not leave its document valid YAML with only additions",
                    );
                }
            }
            edits = new_edits;
            if fallback.len() == before {
                break;
            }
        }
    }
    // Cluster-wide policies: in the add style, a separate policy of the same kind and tier
    // where one can come first (see `layer_doc`), else an edit; an edit that would not leave its
    // document an extension of itself is not made, and the note says so.
    let mut notes: Vec<String> = Vec::new();
    let mut layer_docs: Vec<(usize, String)> = Vec::new();
    let mut calico_done = foldhash::HashSet::default();
    let documents = Documents::new(sources);
    for request in &requests {
        if let FixRequest::AddLayerHbonePort {
            policy: c,
            direction,
            rule,
            before,
        } = request
        {
            let policy = &cluster.policies.tiered[*c];
            if options.style == FixStyle::Add {
                match layer_doc(policy, Direction::from(*direction), *rule, *before) {
                    Ok(doc) => {
                        layer_docs.push((policy.location.source, doc));
                        continue;
                    }
                    Err(why) => notes.push(format!(
                        "{} is fixed by an edit, not a separate policy: {why}",
                        cluster.describe_policy(PolicyRef::Tiered(*c))
                    )),
                }
            }
            match layer_port_edit(sources, policy, Direction::from(*direction), *rule) {
                Some(edit) if keeps_document(&documents, &edit) => edits.push(edit),
                _ => notes.push(format!(
                    "{} is not fixed: its rule could not be extended in place (reached through an alias, or written in a way an insertion would change); add 15008/TCP to its {} by hand",
                    cluster.describe_policy(PolicyRef::Tiered(*c)),
                    cluster.rule_in_policy(&RuleRef::tiered(*c, Direction::from(*direction), *rule)),
                )),
            }
        }
        if let FixRequest::AddCalicoHbonePort {
            policy: c,
            direction,
            rule,
            blocker,
        } = request
            // One edit per rule, whichever findings ask for it (AMB001 and AMB005 may).
            && calico_done.insert((*c, *direction, *rule))
        {
            let policy = &cluster.policies.calico[*c];
            let direction = Direction::from(*direction);
            if options.style == FixStyle::Add {
                match calico::policy_doc(cluster, policy, direction, *rule, *blocker) {
                    Ok(doc) => {
                        layer_docs.push((policy.location.source, doc));
                        continue;
                    }
                    Err(why) => notes.push(format!(
                        "{} is fixed by an edit, not a separate policy: {why}",
                        cluster.describe_policy(PolicyRef::Calico(*c))
                    )),
                }
            }
            let edit = match calico::port_edit(sources, policy, direction, *rule) {
                Some(edit) if keeps_document(&documents, &edit) => Some(edit),
                Some(_) => None,
                None => calico::rule_edit(sources, policy, direction, *rule).filter(|edit| {
                    keeps_document_as(&documents, edit, |old, new| {
                        calico::inserted_after(old, new, direction, *rule)
                    })
                }),
            };
            match edit {
                Some(edit) => edits.push(edit),
                _ => notes.push(format!(
                    "{} is not fixed: its rule could not be extended or followed by one for 15008 in place (reached through an alias, or a flow-style list); add 15008 to its {} by hand",
                    cluster.describe_policy(PolicyRef::Calico(*c)),
                    cluster.rule_in_policy(&RuleRef::calico(*c, direction, *rule)),
                )),
            }
        }
    }
    // AMB010: AuthorizationPolicies and Services edited in place, each edit checked; where it
    // cannot be, the separate document of the add style and a note.
    let mut authz_extras: Vec<Generated> = Vec::new();
    let mut reroutes = false;
    // A policy attached to several Services (AMB010 and AMB011, destinations behind different
    // Services) gets one `targetRefs` naming them all; attached, it is not cut down as well.
    let mut attach: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for request in &requests {
        if let FixRequest::AttachToService { authz, service } = request {
            let services = attach.entry(*authz).or_default();
            if !services.contains(service) {
                services.push(service.clone());
            }
        }
    }
    let mut attached = std::collections::BTreeSet::new();
    for request in &requests {
        let (made, what) = match request {
            FixRequest::AttachToService { authz, .. } => {
                if !attached.insert(*authz) {
                    continue;
                }
                let Some(policy) = cluster.policies.istio.authorization.get(*authz) else {
                    continue;
                };
                let services = attach.get(authz).map_or(&[][..], Vec::as_slice);
                let Some(service) = services.first() else {
                    continue;
                };
                let text = sources.get(policy.location.source).map(|s| s.text);
                // A waypoint matches the Services' ports, not the pods' the policy names: the
                // rules change with the attachment when those differ (`ambient::service_ports`).
                let names: Vec<&str> = services.iter().map(String::as_str).collect();
                let rules = match crate::ambient::authz::rules_for_services(cluster, policy, &names)
                {
                    Ok(rules) => rules,
                    Err(why) => {
                        notes.push(format!(
                            "AuthorizationPolicy `{}` is not attached to the Service `{service}`: {why}; attach it by hand with the Service's ports",
                            policy.qualified_name()
                        ));
                        continue;
                    }
                };
                let changed = rules != crate::ambient::authz::rules_of(policy);
                let made = text.and_then(|t| {
                    authz::attach_edits(t, policy, services, changed.then_some(&rules[..]))
                });
                if made.is_none()
                    && let Ok(copy) = crate::ambient::authz::retargeted(
                        cluster,
                        policy,
                        service,
                        format!(
                            "A copy of `{}` attached to the Service `{service}`, whose waypoint enforces the L7 rules; delete `{}`.",
                            policy.qualified_name(),
                            policy.qualified_name()
                        ),
                    )
                {
                    authz_extras.push(copy);
                }
                (
                    made.map(|e| (policy.location.source, e)),
                    format!(
                        "AuthorizationPolicy `{}` is not attached to the Service `{service}` in place (written in a way an edit cannot change safely): the extra document is a copy attached to it; delete the original by hand",
                        policy.qualified_name()
                    ),
                )
            }
            FixRequest::KeepL4Part { authz } if !attach.contains_key(authz) => {
                let Some(policy) = cluster.policies.istio.authorization.get(*authz) else {
                    continue;
                };
                let text = sources.get(policy.location.source).map(|s| s.text);
                let made = text.and_then(|t| authz::l4_edits(t, policy));
                if made.is_none() {
                    authz_extras.push(crate::ambient::authz::l4_part(
                        policy,
                        format!(
                            "The L4 part of `{}` alone, which ztunnel enforces; delete `{}`.",
                            policy.qualified_name(),
                            policy.qualified_name()
                        ),
                    ));
                }
                (
                    made.map(|e| (policy.location.source, e)),
                    format!(
                        "AuthorizationPolicy `{}` is not cut down to its L4 part in place (written in a way an edit cannot change safely): the extra document is its L4 part; delete the original by hand",
                        policy.qualified_name()
                    ),
                )
            }
            FixRequest::AdmitPrincipal { authz, principal } => {
                let Some(policy) = cluster.policies.istio.authorization.get(*authz) else {
                    continue;
                };
                let made = sources
                    .get(policy.location.source)
                    .and_then(|s| authz::admit_edit(s.text, policy, principal));
                (
                    made.map(|e| (policy.location.source, vec![e])),
                    format!(
                        "AuthorizationPolicy `{}` is not edited in place (written in a way an edit cannot change safely): add a rule admitting `{principal}` to it by hand",
                        policy.qualified_name()
                    ),
                )
            }
            FixRequest::LabelUseWaypoint { service, waypoint } => {
                let Some(svc) = cluster.services.get(*service) else {
                    continue;
                };
                let made = sources
                    .get(svc.location.source)
                    .and_then(|s| authz::label_edit(s.text, &svc.node, waypoint));
                reroutes |= made.is_some();
                (
                    made.map(|e| (svc.location.source, vec![e])),
                    format!(
                        "the Service `{}/{}` is not labelled in place: label it `{}: {waypoint}` by hand",
                        svc.namespace,
                        svc.name,
                        crate::ambient::mesh::USE_WAYPOINT
                    ),
                )
            }
            _ => continue,
        };
        match made {
            Some((source, new)) => edits.extend(new.into_iter().map(|mut e| {
                e.source = source;
                e.policy = usize::MAX;
                e
            })),
            None => notes.push(what),
        }
    }

    let additive: Vec<FixRequest> = requests
        .iter()
        .filter(|r| {
            options.style == FixStyle::Add || r.policy().is_some_and(|p| fallback.contains_key(&p))
        })
        .cloned()
        .collect();
    notes.extend(fallback.iter().map(|(&p, why)| {
        format!(
            "{} is fixed by separate policies (`allow-ambient-*`) instead of an edit: {why}",
            cluster.describe_policy(PolicyRef::Network(p))
        )
    }));
    // New documents go after the policy they complement, in its source.
    let mut appended: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for (policy, doc) in additive_policies(cluster, &additive, &addresses)
        .into_iter()
        .chain(waypoint_policies(&requests))
        .chain(proxy_policies(cluster, &requests))
    {
        appended
            .entry(cluster.policies.network[policy].location.source)
            .or_default()
            .push(doc);
    }
    for (source, doc) in layer_docs {
        appended.entry(source).or_default().push(doc);
    }

    let texts = sources
        .iter()
        .enumerate()
        .map(|(i, source)| {
            let separators = separators(i, source.text, options.separators);
            let mut text = apply(
                source.text,
                edits.iter().filter(|e| e.source == i).chain(&separators),
            );
            for doc in appended.get(&i).into_iter().flatten() {
                if !text.is_empty() && !text.ends_with('\n') {
                    text.push('\n');
                }
                // A file that already ends with a separator gets no second one.
                if !text
                    .trim_end()
                    .lines()
                    .next_back()
                    .is_some_and(is_separator)
                {
                    text.push_str("---\n");
                }
                text.push_str(doc);
            }
            text
        })
        .collect();

    let mut extras = authz_extras;
    // Istio's documented clusterwide policy, for probes a NetworkPolicy blocks; a Cilium
    // policy that blocks them gets its own `fromCIDR` rule, and the extra would repeat it.
    let probes = requests.iter().any(|r| {
        matches!(r, FixRequest::AddProbeRule { policy, .. } if cluster.policies.network[*policy].cilium.is_none())
    });
    if probes && options.cni == Cni::Cilium && !addresses.is_empty() {
        extras.push(cilium_hostprobes(&addresses));
    }
    Fixed {
        texts,
        extras,
        notes,
        reroutes,
    }
}

/// INP006's fix: a `---` line before every object that follows another in the same document
/// (files pasted together; `at` as the input was read). After every edit at the same offset
/// (rules appended to the object above end there), whatever their order.
fn separators(source: usize, text: &str, at: &[(usize, usize)]) -> Vec<Edit> {
    use crate::input::yaml::separator_before;
    at.iter()
        .filter(|&&(s, offset)| s == source && offset <= text.len())
        .map(|&(_, at)| Edit {
            source,
            policy: usize::MAX,
            at,
            delete: 0,
            insert: separator_before(text, at).to_string(),
            order: u8::MAX,
        })
        .collect()
}

/// The policies whose edits would not leave their document an extension of itself (it must
/// parse, and hold every value it held, with additions only). Only the documents the edits
/// touch are parsed again.
fn unsafe_edits(sources: &[Source], cluster: &Cluster, edits: &[Edit]) -> Vec<usize> {
    use crate::input::yaml::{document_ranges, parse_range};
    let mut out = Vec::new();
    for (i, source) in sources.iter().enumerate() {
        let mine: Vec<&Edit> = edits.iter().filter(|e| e.source == i).collect();
        if mine.is_empty() {
            continue;
        }
        let policies_in = |start: usize, end: usize| {
            cluster
                .policies
                .network
                .iter()
                .enumerate()
                .filter_map(move |(p, policy)| {
                    (policy.location.source == i && (start..end).contains(&policy.node.span.start))
                        .then_some(p)
                })
        };
        let fixed = apply(source.text, mine.iter().copied());
        let before: Vec<(usize, usize, u32)> = document_ranges(source.text).collect();
        let after: Vec<(usize, usize, u32)> = document_ranges(&fixed).collect();
        if before.len() != after.len() {
            out.extend(mine.iter().map(|e| e.policy));
            continue;
        }
        // Where the edits are, in order: a document is looked at when one falls in it (thousands
        // of edits and documents must not cost their product).
        let mut at: Vec<usize> = mine.iter().map(|e| e.at).collect();
        crate::sort::sort(&mut at);
        for (&(start, end, line), &(s2, e2, l2)) in before.iter().zip(&after) {
            if at
                .get(at.partition_point(|&a| a < start))
                .is_none_or(|&a| a > end)
            {
                continue;
            }
            let old = parse_range(source.text, start, end, line).root;
            let new = parse_range(&fixed, s2, e2, l2).root;
            let kept = match (old, new) {
                (Ok(Some(old)), Ok(Some(new))) => old.is_extended_by(&new),
                _ => false,
            };
            if !kept {
                out.extend(policies_in(start, end));
            }
        }
    }
    out
}

fn apply<'a>(text: &str, edits: impl Iterator<Item = &'a Edit>) -> String {
    // One pass from the front (a policy with thousands of fixed rules would make edit-by-edit
    // replacement quadratic). At one offset: by `order`, and of equal order the one made later
    // first (a rule appended to the list that ends there goes before a key added after it).
    let mut edits: Vec<(usize, &Edit)> = edits.enumerate().collect();
    crate::sort::sort_by_key(&mut edits, |&(i, e)| (e.at, e.order, std::cmp::Reverse(i)));
    let mut out = String::with_capacity(
        text.len() + edits.iter().map(|(_, e)| e.insert.len()).sum::<usize>(),
    );
    let mut done = 0;
    for (_, e) in edits {
        let at = e.at.max(done);
        out.push_str(&text[done..at]);
        out.push_str(&e.insert);
        done = (e.at + e.delete).max(at);
    }
    out.push_str(&text[done..]);
    out
}

fn hbone_port() -> Y {
    Y::map(vec![
        ("port", Y::Int(HBONE_PORT.into())),
        ("protocol", Y::str("TCP")),
    ])
}

/// A Cilium `toPorts` entry admitting 15008/TCP.
fn cilium_hbone_ports() -> Y {
    cilium_ports(&[PortKey::Number(HBONE_PORT)])
}

/// A Cilium `toPorts` entry for TCP ports (Cilium writes ports as strings).
fn cilium_ports(ports: &[PortKey]) -> Y {
    let ports = ports
        .iter()
        .map(|p| {
            let port = match p {
                PortKey::Number(n) => n.to_string(),
                PortKey::Name(name) => name.clone(),
            };
            Y::map(vec![("port", Y::str(port)), ("protocol", Y::str("TCP"))])
        })
        .collect();
    Y::map(vec![("ports", Y::Seq(ports))])
}

/// The Cilium ingress rule that admits the probe SNAT addresses (on the probe ports when known).
fn cilium_probe_rule(addresses: &[IpAddr], ports: &[PortKey]) -> Y {
    let from = Y::Seq(addresses.iter().map(|a| Y::str(cidr(a))).collect());
    let mut rule = vec![("fromCIDR", from)];
    if !ports.is_empty() {
        rule.push(("toPorts", Y::Seq(vec![cilium_ports(ports)])));
    }
    Y::map(rule)
}

/// A Cilium endpoint selector for a namespace part and a pod part (the namespace's name as
/// `io.kubernetes.pod.namespace`, its other labels as `io.cilium.k8s.namespace.labels.<key>`;
/// every namespace as that key's `Exists`, since a CNP's selector without it means its own).
fn cilium_selector_y(namespaces: Option<&Selector>, pods: &Selector) -> Y {
    let mut merged = pods.clone();
    if namespaces.is_some_and(Selector::is_empty) {
        merged.requirements.push(crate::model::labels::Requirement {
            key: "io.kubernetes.pod.namespace".into(),
            operator: Operator::Exists,
            values: Vec::new(),
        });
    }
    if let Some(ns) = namespaces {
        let key = |k: &str| {
            if k == crate::model::NAMESPACE_NAME_LABEL {
                "io.kubernetes.pod.namespace".to_string()
            } else {
                format!("io.cilium.k8s.namespace.labels.{k}")
            }
        };
        merged
            .match_labels
            .extend(ns.match_labels.iter().map(|(k, v)| (key(k), v.clone())));
        merged.requirements.extend(ns.requirements.iter().map(|r| {
            crate::model::labels::Requirement {
                key: key(&r.key),
                ..r.clone()
            }
        }));
    }
    selector_y(&merged)
}

/// A NetworkPolicy peer in Cilium's words: (key, entry).
fn cilium_peer_y(peer: &Peer, direction: Direction) -> (&'static str, Y) {
    let (endpoints, cidrs) = match direction {
        Direction::Ingress => ("fromEndpoints", "fromCIDRSet"),
        Direction::Egress => ("toEndpoints", "toCIDRSet"),
    };
    match peer {
        Peer::Pods { namespaces, pods } => (
            endpoints,
            cilium_selector_y(namespaces.as_ref(), &pods.clone().unwrap_or_default()),
        ),
        Peer::IpBlock { cidr, except, .. } => {
            let mut block = vec![("cidr", Y::str(cidr.clone()))];
            if !except.is_empty() {
                block.push((
                    "except",
                    Y::Seq(except.iter().map(|e| Y::str(e.clone())).collect()),
                ));
            }
            (cidrs, Y::map(block))
        }
    }
}

/// A Cilium rule with these peers (`None`: every peer) admitting 15008/TCP.
fn cilium_hbone_rule(peers: Option<&[Peer]>, direction: Direction) -> Y {
    let mut keys: Vec<(&str, Vec<Y>)> = Vec::new();
    for peer in peers.into_iter().flatten() {
        let (key, y) = cilium_peer_y(peer, direction);
        match keys.iter_mut().find(|(k, _)| *k == key) {
            Some((_, list)) => list.push(y),
            None => keys.push((key, vec![y])),
        }
    }
    let mut rule: Vec<(&str, Y)> = keys.into_iter().map(|(k, v)| (k, Y::Seq(v))).collect();
    rule.push(("toPorts", Y::Seq(vec![cilium_hbone_ports()])));
    Y::map(rule)
}

/// Add style for a Cilium policy: a policy of the same kind and subject that only adds rules
/// (`enableDefaultDeny: false`, so it isolates nothing the original does not).
fn cilium_policy_doc(
    original: &NetworkPolicy,
    prefix: &str,
    ingress: Vec<Y>,
    egress: Vec<Y>,
) -> String {
    let base = original.name.split(' ').next().unwrap_or(&original.name);
    // One policy per spec: a policy written with `specs:` gives each of its specs an allow part of
    // its own (`web (specs[1])`), each with its own subject, so each gets its own additive policy,
    // named after the spec (`-specs-1`); the first spec's alone would clash with the second's.
    let spec = original
        .cilium
        .as_ref()
        .and_then(|c| c.spec_path.strip_prefix("specs["))
        .and_then(|rest| rest.strip_suffix(']'))
        .map_or(String::new(), |i| format!("-specs-{i}"));
    let mut metadata = vec![("name", Y::str(format!("{prefix}-{base}{spec}")))];
    if original.namespaces.is_none() {
        metadata.push(("namespace", Y::str(original.namespace.clone())));
    }
    let mut spec = vec![(
        "endpointSelector",
        cilium_selector_y(
            original.namespaces.as_ref().filter(|n| !n.is_empty()),
            &original.pod_selector,
        ),
    )];
    spec.push((
        "enableDefaultDeny",
        Y::map(vec![
            ("ingress", Y::Bool(false)),
            ("egress", Y::Bool(false)),
        ]),
    ));
    if !ingress.is_empty() {
        spec.push(("ingress", Y::Seq(ingress)));
    }
    if !egress.is_empty() {
        spec.push(("egress", Y::Seq(egress)));
    }
    let entries = vec![
        ("apiVersion".to_string(), Y::str("cilium.io/v2")),
        ("kind".to_string(), Y::str(original.kind())),
        ("metadata".to_string(), Y::map(metadata)),
        ("spec".to_string(), Y::map(spec)),
    ];
    emit::document(&entries)
}

fn cidr(addr: &IpAddr) -> String {
    match addr {
        IpAddr::V4(a) => format!("{a}/32"),
        IpAddr::V6(a) => format!("{a}/128"),
    }
}

/// The ingress rule that admits the probe SNAT addresses (on the probe ports when known).
fn probe_rule(addresses: &[IpAddr], ports: &[PortKey]) -> Y {
    let from = Y::Seq(
        addresses
            .iter()
            .map(|a| Y::map(vec![("ipBlock", Y::map(vec![("cidr", Y::str(cidr(a)))]))]))
            .collect(),
    );
    let mut rule = vec![("from", from)];
    if !ports.is_empty() {
        let ports = ports
            .iter()
            .map(|p| {
                let port = match p {
                    PortKey::Number(n) => Y::Int((*n).into()),
                    PortKey::Name(name) => Y::str(name.clone()),
                };
                Y::map(vec![("port", port), ("protocol", Y::str("TCP"))])
            })
            .collect();
        rule.push(("ports", Y::Seq(ports)));
    }
    Y::map(rule)
}

/// The source of a policy, its text and its `spec`.
fn policy_text<'a>(
    sources: &[Source<'a>],
    policy: &'a NetworkPolicy,
) -> Option<(usize, &'a str, &'a Node)> {
    let source = policy.location.source;
    let text = sources.get(source)?.text;
    let spec = match &policy.cilium {
        Some(origin) => &origin.spec,
        None => policy.node.get("spec")?,
    };
    Some((source, text, spec))
}

/// The conventions of a policy's text (they take a walk over all its rules: once per policy).
fn policy_style(sources: &[Source], policy: &NetworkPolicy) -> Option<Style> {
    let (_, text, _) = policy_text(sources, policy)?;
    Some(detect_style(text, &policy.node))
}

/// Adds `15008/TCP` to the ports of one rule (`style`: the policy's, found once per policy).
fn port_edit(
    sources: &[Source],
    policy: &NetworkPolicy,
    direction: Direction,
    rule: usize,
    style: Style,
) -> Option<Edit> {
    let (source, text, spec) = policy_text(sources, policy)?;
    let rule_node = spec.get(direction.as_str())?.as_seq()?.get(rule)?;
    if policy.cilium.is_some() {
        // A `toPorts` entry of its own: one with L7 `rules` would send the tunnel to the proxy.
        let to_ports = rule_node.get("toPorts")?;
        let mut edit = append_item(text, to_ports, &[cilium_hbone_ports()], style)?;
        edit.source = source;
        return Some(edit);
    }
    let ports = rule_node.get("ports")?;
    let item = ordered_like(hbone_port(), ports.as_seq()?.last());
    let mut edit = append_item(text, ports, &[item], style)?;
    edit.source = source;
    Some(edit)
}

/// Adds 15008/TCP to the ports of one rule of a cluster-wide policy: `protocols` in v1alpha2
/// (`tcp: {destinationPort: {number: 15008}}`), `ports` in v1alpha1 (`portNumber: {protocol:
/// TCP, port: 15008}`), in the text's own style.
fn layer_port_edit(
    sources: &[Source],
    policy: &crate::cnp::ClusterPolicy,
    direction: Direction,
    rule: usize,
) -> Option<Edit> {
    let at = RuleNodes::find(
        sources,
        &policy.node,
        policy.location.source,
        direction,
        rule,
    )?;
    let (key, item) = layer_hbone_port(policy);
    let list = at.rule.get(key)?;
    at.append(&[list], list, &[item])
}

/// The nodes down to rule `rule` of `direction` in a policy's `spec`, in its source's text.
struct RuleNodes<'a> {
    text: &'a str,
    source: usize,
    root: &'a Node,
    spec: &'a Node,
    rules: &'a Node,
    rule: &'a Node,
}

impl<'a> RuleNodes<'a> {
    fn find(
        sources: &'a [Source],
        root: &'a Node,
        source: usize,
        direction: Direction,
        rule: usize,
    ) -> Option<Self> {
        let spec = root.get("spec")?;
        let rules = spec.get(direction.as_str())?;
        Some(RuleNodes {
            text: sources.get(source)?.text,
            source,
            root,
            spec,
            rules,
            rule: rules.as_seq()?.get(rule)?,
        })
    }

    /// The edit that appends `items` to `list` (reached from the rule through `below`), in the
    /// text's style; `None` when the list is empty or any node on the way is an alias.
    fn append(&self, below: &[&Node], list: &Node, items: &[Y]) -> Option<Edit> {
        let last = list.as_seq()?.last()?;
        let mut path = vec![self.root, self.spec, self.rules, self.rule];
        path.extend_from_slice(below);
        path.push(last);
        if aliased(self.text, &path) {
            return None;
        }
        let mut edit = append_item(self.text, list, items, detect_style(self.text, self.root))?;
        edit.source = self.source;
        edit.policy = usize::MAX;
        Some(edit)
    }
}

/// The add style's separate policy for a cluster-wide rule: same kind, tier and subject, one
/// rule with the same action and peers for 15008/TCP only, at a priority that puts it before the
/// policy whose rule denies 15008 (`before`; `None`: NetworkPolicy blocks it, and the Admin tier
/// comes before NetworkPolicy at any priority). `Err` says why there can be none.
fn layer_doc(
    policy: &crate::cnp::ClusterPolicy,
    direction: Direction,
    rule: usize,
    before: Option<u32>,
) -> Result<String, &'static str> {
    use crate::cnp::{Peer as LayerPeer, Pods};
    if policy.kind == "BaselineAdminNetworkPolicy" {
        return Err("a cluster has one BaselineAdminNetworkPolicy, named `default`");
    }
    let priority = match before {
        None => policy.priority,
        Some(0) => {
            return Err(
                "the rule that denies 15008/TCP is in a policy of priority 0, and no policy can come before it",
            );
        }
        Some(p) => p - 1,
    };
    let Some(original) = policy.rules(direction).get(rule) else {
        return Err("the rule is gone");
    };
    let pods = |which: &Pods| match which {
        Pods::Namespaces(ns) => ("namespaces", selector_y(ns)),
        Pods::Pods { namespaces, pods } => (
            "pods",
            Y::map(vec![
                ("namespaceSelector", selector_y(namespaces)),
                ("podSelector", selector_y(pods)),
            ]),
        ),
    };
    let peers = original
        .peers
        .iter()
        .map(|peer| match peer {
            LayerPeer::Pods(which) => {
                let (key, value) = pods(which);
                Y::map(vec![(key, value)])
            }
            LayerPeer::Networks { cidrs, .. } => Y::map(vec![(
                "networks",
                Y::Seq(cidrs.iter().map(|c| Y::str(c.clone())).collect()),
            )]),
            LayerPeer::Nodes(sel) => Y::map(vec![("nodes", selector_y(sel))]),
            LayerPeer::DomainNames(names) => Y::map(vec![(
                "domainNames",
                Y::Seq(names.iter().map(|n| Y::str(n.clone())).collect()),
            )]),
        })
        .collect();
    let v1alpha2 = policy.kind == "ClusterNetworkPolicy";
    let action = match (original.action, v1alpha2) {
        (crate::cnp::Action::Accept, false) => "Allow",
        (action, _) => action.as_str(),
    };
    let (ports_key, port) = layer_hbone_port(policy);
    let new_rule = Y::map(vec![
        ("name", Y::str("allow-ambient-hbone")),
        ("action", Y::str(action)),
        (
            match direction {
                Direction::Ingress => "from",
                Direction::Egress => "to",
            },
            Y::Seq(peers),
        ),
        (ports_key, Y::Seq(vec![port])),
    ]);
    let mut spec = Vec::new();
    if v1alpha2 {
        spec.push(("tier", Y::str(policy.tier.as_str())));
    }
    spec.push(("priority", Y::Int(priority.into())));
    let (key, value) = pods(&policy.subject);
    spec.push(("subject", Y::map(vec![(key, value)])));
    spec.push((direction.as_str(), Y::Seq(vec![new_rule])));
    let api = if v1alpha2 { "v1alpha2" } else { "v1alpha1" };
    let doc = vec![
        (
            "apiVersion".to_string(),
            Y::str(format!("policy.networking.k8s.io/{api}")),
        ),
        ("kind".to_string(), Y::str(policy.kind.clone())),
        (
            "metadata".to_string(),
            Y::map(vec![(
                "name",
                Y::str(format!("allow-ambient-hbone-{}", policy.name)),
            )]),
        ),
        ("spec".to_string(), Y::map(spec)),
    ];
    Ok(emit::document(&doc))
}

/// 15008/TCP as a cluster-wide rule's ports write it, and the key of that list: `protocols` in
/// v1alpha2 (`tcp: {destinationPort: {number: 15008}}`), `ports` in v1alpha1 (`portNumber:
/// {protocol: TCP, port: 15008}`).
fn layer_hbone_port(policy: &crate::cnp::ClusterPolicy) -> (&'static str, Y) {
    if policy.kind == "ClusterNetworkPolicy" {
        let number = Y::map(vec![("number", Y::Int(HBONE_PORT.into()))]);
        let port = Y::map(vec![("destinationPort", number)]);
        ("protocols", Y::map(vec![("tcp", port)]))
    } else {
        let port = Y::map(vec![
            ("protocol", Y::str("TCP")),
            ("port", Y::Int(HBONE_PORT.into())),
        ]);
        ("ports", Y::map(vec![("portNumber", port)]))
    }
}

/// Each source's documents (`input::yaml::document_ranges`), found once for all the edits
/// [`keeps_document`] checks: scanning a large file per edit cost more than the rest of the fix.
struct Documents<'s> {
    sources: &'s [Source<'s>],
    ranges: Vec<std::cell::OnceCell<Vec<(usize, usize, u32)>>>,
}

impl<'s> Documents<'s> {
    fn new(sources: &'s [Source<'s>]) -> Self {
        Documents {
            sources,
            ranges: sources.iter().map(|_| std::cell::OnceCell::new()).collect(),
        }
    }

    fn of(&self, source: usize) -> &[(usize, usize, u32)] {
        self.ranges[source].get_or_init(|| {
            crate::input::yaml::document_ranges(self.sources[source].text).collect()
        })
    }
}

/// Whether the document an edit falls in still parses after it, holding every value it held.
fn keeps_document(documents: &Documents, edit: &Edit) -> bool {
    keeps_document_as(documents, edit, |old, new| old.is_extended_by(new))
}

/// [`keeps_document`] with the comparison of the old and new document given. The edit changes
/// one document's text only, so that document is edited and read alone; it must still be one
/// document (an edit that writes a `---` line, or ends a line where a marker starts, is not
/// kept). An edit on the boundary of two documents is checked on the whole text.
fn keeps_document_as(
    documents: &Documents,
    edit: &Edit,
    kept: impl Fn(&Node, &Node) -> bool,
) -> bool {
    use crate::input::yaml::{document_ranges, parse_range};
    let Some(source) = documents.sources.get(edit.source) else {
        return false;
    };
    let text = source.text;
    let before = documents.of(edit.source);
    let mut holding = before
        .iter()
        .filter(|&&(start, end, _)| (start..=end).contains(&edit.at));
    if let (Some(&(start, end, line)), None) = (holding.next(), holding.next())
        && edit.at + edit.delete <= end
    {
        let mut local = String::with_capacity(end - start + edit.insert.len());
        local.push_str(&text[start..edit.at]);
        local.push_str(&edit.insert);
        local.push_str(&text[edit.at + edit.delete..end]);
        let after: Vec<(usize, usize, u32)> = document_ranges(&local).collect();
        let [(s2, e2, _)] = after[..] else {
            return false;
        };
        return match (
            parse_range(text, start, end, line).root,
            parse_range(&local, s2, e2, line).root,
        ) {
            (Ok(Some(old)), Ok(Some(new))) => kept(&old, &new),
            _ => false,
        };
    }
    let fixed = apply(text, std::iter::once(edit));
    let after: Vec<(usize, usize, u32)> = document_ranges(&fixed).collect();
    if before.len() != after.len() {
        return false;
    }
    before
        .iter()
        .zip(&after)
        .all(|(&(start, end, line), &(s2, e2, l2))| {
            if !(start..=end).contains(&edit.at) {
                return true;
            }
            match (
                parse_range(text, start, end, line).root,
                parse_range(&fixed, s2, e2, l2).root,
            ) {
                (Ok(Some(old)), Ok(Some(new))) => kept(&old, &new),
                _ => false,
            }
        })
}

/// Adds rules to a policy's `ingress` or `egress` (creating the list when there is none): one
/// edit for all of them, so two fixes never write the same key twice.
fn rules_edit(
    sources: &[Source],
    policy: &NetworkPolicy,
    direction: Direction,
    rules: Vec<Y>,
) -> Option<Edit> {
    let (source, text, spec) = policy_text(sources, policy)?;
    let style = policy_style(sources, policy)?;
    let key = direction.as_str();
    let mut edit = match spec.get(key) {
        Some(existing) if existing.as_seq().is_some() => {
            append_item(text, existing, &rules, style)?
        }
        _ => add_entry(text, spec, key, &Y::Seq(rules), style)?,
    };
    edit.source = source;
    // After a port added to the last rule, at the same place.
    edit.order = 1;
    Some(edit)
}

/// The rule a request adds to a policy's ingress or egress (probe and waypoint rules), if any.
fn new_rule(
    cluster: &Cluster,
    request: &FixRequest,
    addresses: &[IpAddr],
) -> Option<(usize, DirectionKey, Y)> {
    match request {
        FixRequest::AddProbeRule { policy, ports } if !addresses.is_empty() => {
            let rule = if cluster.policies.network[*policy].cilium.is_some() {
                cilium_probe_rule(addresses, ports)
            } else {
                probe_rule(addresses, ports)
            };
            Some((*policy, DirectionKey::Ingress, rule))
        }
        FixRequest::AddWaypointRule {
            policy,
            direction,
            waypoint,
            waypoint_namespace,
        } => Some((
            *policy,
            *direction,
            waypoint_rule(
                &cluster.policies.network[*policy],
                Direction::from(*direction),
                waypoint,
                waypoint_namespace,
            ),
        )),
        _ => None,
    }
}

/// Edit style: the edits for all requests, and the policies whose edit would go through an
/// alias (left without edits).
fn edits_for(
    sources: &[Source],
    cluster: &Cluster,
    requests: &[FixRequest],
    addresses: &[IpAddr],
) -> (Vec<Edit>, Vec<usize>) {
    let mut edits = Vec::new();
    let mut aliased = Vec::new();
    let mut new_rules: BTreeMap<(usize, DirectionKey), Vec<Y>> = BTreeMap::new();
    let mut styles: BTreeMap<usize, Option<Style>> = BTreeMap::new();
    for request in requests {
        match request {
            FixRequest::AddHbonePort {
                policy,
                direction,
                rule,
            } => {
                let policy_ref = &cluster.policies.network[*policy];
                let direction = Direction::from(*direction);
                if through_alias(sources, policy_ref, &[direction.as_str()], Some(*rule)) {
                    aliased.push(*policy);
                    continue;
                }
                let style = *styles
                    .entry(*policy)
                    .or_insert_with(|| policy_style(sources, policy_ref));
                if let Some(style) = style {
                    edits.extend(port_edit(sources, policy_ref, direction, *rule, style).map(
                        |mut e| {
                            e.policy = *policy;
                            e
                        },
                    ));
                }
            }
            other => {
                if let Some((policy, direction, rule)) = new_rule(cluster, other, addresses) {
                    new_rules.entry((policy, direction)).or_default().push(rule);
                }
            }
        }
    }
    for ((policy, direction), rules) in new_rules {
        let policy_ref = &cluster.policies.network[policy];
        let direction = Direction::from(direction);
        if through_alias(sources, policy_ref, &[direction.as_str()], None) {
            aliased.push(policy);
            continue;
        }
        edits.extend(
            rules_edit(sources, policy_ref, direction, rules).map(|mut e| {
                e.policy = policy;
                e
            }),
        );
    }
    crate::sort::sort(&mut aliased);
    aliased.dedup();
    (edits, aliased)
}

/// Whether editing `spec.<key>` of a policy (its rule `rule`'s `ports`, or the list itself) would
/// go through an alias: a node on the way written as `*name`, or one whose text lies outside its
/// parent's (a copy of an anchor's).
fn through_alias(
    sources: &[Source],
    policy: &NetworkPolicy,
    keys: &[&str],
    rule: Option<usize>,
) -> bool {
    let Some((_, text, spec)) = policy_text(sources, policy) else {
        return false;
    };
    let mut path = vec![&policy.node, spec];
    for key in keys {
        match path.last().and_then(|n| n.get(key)) {
            Some(n) => path.push(n),
            None => break,
        }
    }
    if let Some(i) = rule
        && let Some(rule_node) = path.last().and_then(|n| n.as_seq()).and_then(|s| s.get(i))
    {
        path.push(rule_node);
        let ports_key = if policy.cilium.is_some() {
            "toPorts"
        } else {
            "ports"
        };
        if let Some(ports) = rule_node.get(ports_key) {
            path.push(ports);
        }
    }
    // The last item, after which new items go.
    if let Some(last) = path.last().and_then(|n| n.as_seq()).and_then(|s| s.last()) {
        path.push(last);
    }
    aliased(text, &path)
}

/// Whether a path of nodes from a document's root goes through an alias: a node written `*x`, or
/// one whose span is not inside its parent's (a copy of an anchor elsewhere).
fn aliased(text: &str, path: &[&Node]) -> bool {
    path.iter()
        .any(|n| text.get(n.span.start..).is_some_and(|t| t.starts_with('*')))
        || path
            .windows(2)
            .any(|w| w[1].span.start < w[0].span.start || w[1].span.start > w[0].span.end)
}

/// The rule admitting 15008/TCP from (ingress) or to (egress) a waypoint's pods.
fn waypoint_rule(
    policy: &NetworkPolicy,
    direction: Direction,
    waypoint: &str,
    namespace: &str,
) -> Y {
    if policy.cilium.is_some() {
        let pods = Selector {
            match_labels: vec![(
                crate::ambient::mesh::GATEWAY_NAME.to_string(),
                waypoint.to_string(),
            )],
            requirements: Vec::new(),
        };
        let namespaces = Selector {
            match_labels: vec![(
                crate::model::NAMESPACE_NAME_LABEL.to_string(),
                namespace.to_string(),
            )],
            requirements: Vec::new(),
        };
        let peer = Peer::Pods {
            namespaces: Some(namespaces),
            pods: Some(pods),
        };
        return cilium_hbone_rule(Some(std::slice::from_ref(&peer)), direction);
    }
    let pods = Y::map(vec![(
        "matchLabels",
        Y::map(vec![(crate::ambient::mesh::GATEWAY_NAME, Y::str(waypoint))]),
    )]);
    let mut peer = vec![("podSelector", pods)];
    if namespace != policy.namespace {
        peer.insert(
            0,
            (
                "namespaceSelector",
                Y::map(vec![(
                    "matchLabels",
                    Y::map(vec![(
                        crate::model::NAMESPACE_NAME_LABEL,
                        Y::str(namespace),
                    )]),
                )]),
            ),
        );
    }
    let peer_key = match direction {
        Direction::Ingress => "from",
        Direction::Egress => "to",
    };
    Y::map(vec![
        (peer_key, Y::Seq(vec![Y::map(peer)])),
        ("ports", Y::Seq(vec![hbone_port()])),
    ])
}

/// Writes a new port entry with its keys in the order the user's last entry has them.
fn ordered_like(item: Y, model: Option<&Node>) -> Y {
    let (Y::Map(mut entries), Some(model)) = (item.clone(), model) else {
        return item;
    };
    let order: Vec<String> = model
        .as_map()
        .unwrap_or_default()
        .iter()
        .filter_map(|(k, _)| k.as_str().map(str::to_string))
        .collect();
    crate::sort::sort_by_key(&mut entries, |(k, _)| {
        order.iter().position(|o| o == k).unwrap_or(usize::MAX)
    });
    Y::Map(entries)
}

/// Is the node written in flow style (`[...]`, `{...}`)? The parser starts an indentless block
/// sequence (`ports:` then `- {port: 80}` at the key's column) at its first item's content, so a
/// collection that starts where its first child does is a block one whose first item is flow.
fn is_flow(text: &str, node: &Node) -> bool {
    let start = after_properties(text, node.span.start);
    let first_child = match &node.value {
        crate::input::yaml::Value::Seq(items) => items.first().map(|n| n.span.start),
        crate::input::yaml::Value::Map(entries) => entries.first().map(|(k, _)| k.span.start),
        _ => return false,
    };
    text[start..].starts_with(['[', '{']) && first_child != Some(node.span.start)
}

/// Past a node's tag (`!`, `!!map`, `!<…>`) and anchor (`&name`), where its content starts: the
/// parser's span of `! {…}` starts at the tag.
fn after_properties(text: &str, start: usize) -> usize {
    let mut at = start;
    while text[at..].starts_with(['!', '&']) {
        at += text[at..]
            .find(char::is_whitespace)
            .unwrap_or(text.len() - at);
        at += text[at..].len() - text[at..].trim_start().len();
    }
    at
}

/// Is this line a YAML document separator (`---` alone or before a space, not `---x`)?
fn is_separator(line: &str) -> bool {
    line.strip_prefix("---")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r']))
}

/// The byte offset just past the end of the line holding `offset` (or the text's end). A lone
/// `\r` ends a line too, as it does for YAML.
fn end_of_line(text: &str, offset: usize) -> usize {
    let bytes = text.as_bytes();
    (offset..bytes.len())
        .find(|&i| bytes[i] == b'\n' || (bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n')))
        .map_or(text.len(), |i| i + 1)
}

/// Where block text goes after a node that ends at `offset`: the start of the next line. A node
/// the parser ends at a line start (an empty value ends at the next token, a block scalar after
/// its last newline) is followed right there, never past that line: it may be the next
/// document's `---`.
fn after_node(text: &str, offset: usize) -> usize {
    if offset > 0 && line_start(text, offset) == offset {
        offset
    } else {
        end_of_line(text, offset)
    }
}

fn line_start(text: &str, offset: usize) -> usize {
    text[..offset].rfind(['\n', '\r']).map_or(0, |i| i + 1)
}

/// Column of the `-` that introduces a block sequence item.
fn dash_column(text: &str, item: &Node) -> Option<usize> {
    let start = line_start(text, item.span.start);
    text[start..item.span.start].rfind('-')
}

/// Appends an item to a sequence, in its style.
fn append_item(text: &str, seq: &Node, new: &[Y], style: Style) -> Option<Edit> {
    let items = seq.as_seq()?;
    let flow_items: Vec<String> = new.iter().map(|item| emit::flow(item, style)).collect();
    if is_flow(text, seq) {
        return Some(match items.last() {
            Some(last) => Edit {
                source: 0,
                policy: 0,
                at: node_end(text, last),
                delete: 0,
                insert: format!(", {}", flow_items.join(", ")),
                order: 0,
            },
            None => Edit {
                source: 0,
                policy: 0,
                at: text[seq.span.start..]
                    .find(']')
                    .map(|i| seq.span.start + i)?,
                delete: 0,
                insert: flow_items.join(", "),
                order: 0,
            },
        });
    }
    let last = items.last()?;
    let dash = dash_column(text, last)?;
    let content = last.span.column as usize - 1;
    let at = after_node(text, node_end(text, last));
    // Items written `- {port: 80}` get their like.
    let flow_last = is_flow(text, last);
    let block: String = new
        .iter()
        .map(|item| match item {
            _ if flow_last => emit::flow_item(item, dash, content, style),
            _ => emit::block_item(item, dash, content, style),
        })
        .collect();
    Some(Edit {
        source: 0,
        policy: 0,
        at,
        delete: 0,
        insert: with_line_endings(text, at, block),
        order: 0,
    })
}

/// Where a node's text ends: past the closing bracket of a flow collection (whose parsed span
/// stops at its last item), else the span's end.
fn node_end(text: &str, node: &Node) -> usize {
    if is_flow(text, node) {
        end_of_flow(text, node.span.start)
    } else {
        node.span.end
    }
}

/// Block text inserted at `at`: on a line of its own, with the line endings of the line before.
fn with_line_endings(text: &str, at: usize, block: String) -> String {
    let newline = if at == text.len() && !text.is_empty() && !text.ends_with(['\n', '\r']) {
        "\n"
    } else {
        ""
    };
    // The line before `at`, with its ending (`\n`, `\r\n` or a lone `\r`).
    let before = &text[..at];
    let line = before.strip_suffix('\n').unwrap_or(before);
    let line = line.strip_suffix('\r').unwrap_or(line);
    let previous = &text[line_start(text, line.len())..at];
    let block = format!("{newline}{block}");
    if previous.ends_with("\r\n")
        || (previous.is_empty() && newline.is_empty() && text.contains("\r\n"))
    {
        block.replace('\n', "\r\n")
    } else {
        block
    }
}

/// Adds `key: value` to a map, in its style (or replaces an empty `key: []`).
fn add_entry(text: &str, map: &Node, key: &str, value: &Y, style: Style) -> Option<Edit> {
    let entries = map.as_map()?;
    if let Some((k, existing)) = entries.iter().find(|(k, _)| k.as_str() == Some(key)) {
        // `ingress: []`: the empty list is replaced. `ingress:`, `ingress: null`, `ingress: ~`:
        // the value goes after the colon, replacing the null's text if it has any.
        let (at, end, lead) = if existing.is_null() {
            let after_colon = k.span.end + text[k.span.end..].find(':')? + 1;
            let end = if existing.span.start >= after_colon {
                existing.span.end
            } else {
                after_colon
            };
            (after_colon, end, " ")
        } else {
            let start = existing.span.start;
            (start, existing.span.end.max(end_of_flow(text, start)), "")
        };
        return Some(Edit {
            source: 0,
            policy: 0,
            at,
            delete: end - at,
            insert: format!("{lead}{}", emit::flow(value, style)),
            order: 0,
        });
    }
    let (_, last) = entries.last()?;
    if is_flow(text, map) {
        return Some(Edit {
            source: 0,
            policy: 0,
            at: node_end(text, last),
            delete: 0,
            insert: format!(", {}: {}", emit::key(key, style), emit::flow(value, style)),
            order: 0,
        });
    }
    let (first_key, _) = entries.first()?;
    let indent = first_key.span.column as usize - 1;
    let at = after_node(text, node_end(text, last));
    let block = emit::block_map(&[(key.to_string(), value.clone())], indent, style);
    Some(Edit {
        source: 0,
        policy: 0,
        at,
        delete: 0,
        insert: with_line_endings(text, at, block),
        order: 0,
    })
}

/// The end of a flow collection starting at `start` (just past its closing bracket).
fn end_of_flow(text: &str, start: usize) -> usize {
    let opens = |previous: char| previous.is_whitespace() || "[{,:".contains(previous);
    let mut depth = 0usize;
    let mut chars = text[start..].char_indices().peekable();
    let mut previous = ' ';
    while let Some((i, c)) = chars.next() {
        match c {
            '[' | '{' => depth += 1,
            ']' | '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return start + i + 1;
                }
            }
            // Brackets inside quoted scalars and comments are text. A quote opens a scalar only
            // where a scalar starts (`it's` is plain text).
            '"' if opens(previous) => {
                while let Some((_, q)) = chars.next() {
                    match q {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
            }
            '\'' if opens(previous) => {
                while let Some((_, q)) = chars.next() {
                    if q == '\'' {
                        // `''` is an escaped quote inside the scalar.
                        if chars.peek().is_some_and(|&(_, n)| n == '\'') {
                            chars.next();
                        } else {
                            break;
                        }
                    }
                }
            }
            '#' if previous.is_whitespace() => {
                for (_, n) in chars.by_ref() {
                    if n == '\n' || n == '\r' {
                        break;
                    }
                }
            }
            _ => {}
        }
        previous = c;
    }
    start
}

/// The indentation conventions of a policy's text.
fn detect_style(text: &str, policy: &Node) -> Style {
    let mut style = Style::default();
    if let Some((first, _)) = policy.as_map().and_then(|m| m.first()) {
        style.json = text[first.span.start..].starts_with('"');
    }
    let Some(spec) = policy.get("spec") else {
        return style;
    };
    if let (Some((spec_key, _)), Some((child, _))) = (
        policy
            .as_map()
            .and_then(|m| m.iter().find(|(k, _)| k.as_str() == Some("spec"))),
        spec.as_map().and_then(|m| m.first()),
    ) && !is_flow(text, spec)
        && child.span.column > spec_key.span.column
    {
        style.step = (child.span.column - spec_key.span.column) as usize;
    }
    // Indentless or indented sequences: look at any block sequence under a key.
    let mut keyed_seqs: Vec<(&Node, &Node)> = Vec::new();
    for (k, v) in spec.as_map().unwrap_or_default() {
        keyed_seqs.push((k, v));
        for rule in v.as_seq().unwrap_or_default() {
            for (rk, rv) in rule.as_map().unwrap_or_default() {
                keyed_seqs.push((rk, rv));
            }
        }
    }
    for (k, v) in keyed_seqs {
        if let Some(first) = v.as_seq().and_then(|s| s.first())
            && !is_flow(text, v)
            && let Some(dash) = dash_column(text, first)
        {
            style.indentless = dash < k.span.column as usize;
            break;
        }
    }
    style
}

fn selector_y(selector: &Selector) -> Y {
    let mut entries = Vec::new();
    if !selector.match_labels.is_empty() {
        entries.push((
            "matchLabels".to_string(),
            Y::Map(
                selector
                    .match_labels
                    .iter()
                    .map(|(k, v)| (k.clone(), Y::str(v.clone())))
                    .collect(),
            ),
        ));
    }
    if !selector.requirements.is_empty() {
        let exprs = selector
            .requirements
            .iter()
            .map(|r| {
                let op = match r.operator {
                    Operator::In => "In",
                    Operator::NotIn => "NotIn",
                    Operator::Exists => "Exists",
                    Operator::DoesNotExist => "DoesNotExist",
                };
                let mut e = vec![("key", Y::str(r.key.clone())), ("operator", Y::str(op))];
                if !r.values.is_empty() {
                    e.push((
                        "values",
                        Y::Seq(r.values.iter().map(|v| Y::str(v.clone())).collect()),
                    ));
                }
                Y::map(e)
            })
            .collect();
        entries.push(("matchExpressions".to_string(), Y::Seq(exprs)));
    }
    Y::Map(entries)
}

fn peer_y(peer: &Peer) -> Y {
    match peer {
        Peer::Pods { namespaces, pods } => {
            let mut e = Vec::new();
            if let Some(ns) = namespaces {
                e.push(("namespaceSelector", selector_y(ns)));
            }
            if let Some(p) = pods {
                e.push(("podSelector", selector_y(p)));
            }
            Y::map(e)
        }
        Peer::IpBlock { cidr, except, .. } => {
            let mut block = vec![("cidr", Y::str(cidr.clone()))];
            if !except.is_empty() {
                block.push((
                    "except",
                    Y::Seq(except.iter().map(|e| Y::str(e.clone())).collect()),
                ));
            }
            Y::map(vec![("ipBlock", Y::map(block))])
        }
    }
}

/// Add style: one additive policy per original policy and kind of fix.
fn additive_policies(
    cluster: &Cluster,
    requests: &[FixRequest],
    addresses: &[IpAddr],
) -> Vec<(usize, String)> {
    // policy -> (ingress rules, egress rules) for HBONE; policy -> probe rule
    let mut hbone: BTreeMap<usize, (Vec<Y>, Vec<Y>)> = BTreeMap::new();
    let mut probes: BTreeMap<usize, Y> = BTreeMap::new();
    for request in requests {
        match request {
            FixRequest::AddHbonePort {
                policy,
                direction,
                rule,
            } => {
                let p = &cluster.policies.network[*policy];
                let original = &p.rules(Direction::from(*direction))[*rule];
                let peer_key = match direction {
                    DirectionKey::Ingress => "from",
                    DirectionKey::Egress => "to",
                };
                let rule = if p.cilium.is_some() {
                    cilium_hbone_rule(original.peers.as_deref(), Direction::from(*direction))
                } else {
                    let mut r = Vec::new();
                    if let Some(peers) = &original.peers {
                        r.push((peer_key, Y::Seq(peers.iter().map(peer_y).collect())));
                    }
                    r.push(("ports", Y::Seq(vec![hbone_port()])));
                    Y::map(r)
                };
                let entry = hbone.entry(*policy).or_default();
                match direction {
                    DirectionKey::Ingress => entry.0.push(rule),
                    DirectionKey::Egress => entry.1.push(rule),
                }
            }
            FixRequest::AddProbeRule { policy, ports } if !addresses.is_empty() => {
                let rule = if cluster.policies.network[*policy].cilium.is_some() {
                    cilium_probe_rule(addresses, ports)
                } else {
                    probe_rule(addresses, ports)
                };
                probes.insert(*policy, rule);
            }
            FixRequest::AddProbeRule { .. } => {}
            FixRequest::AddWaypointPolicy { .. }
            | FixRequest::AddProxyPolicy { .. }
            | FixRequest::AddLayerHbonePort { .. }
            | FixRequest::AttachToService { .. }
            | FixRequest::KeepL4Part { .. }
            | FixRequest::LabelUseWaypoint { .. }
            | FixRequest::AdmitPrincipal { .. }
            | FixRequest::AddCalicoHbonePort { .. } => {}
            FixRequest::AddWaypointRule { .. } => {
                if let Some((policy, direction, rule)) = new_rule(cluster, request, addresses) {
                    let entry = hbone.entry(policy).or_default();
                    match direction {
                        DirectionKey::Ingress => entry.0.push(rule),
                        DirectionKey::Egress => entry.1.push(rule),
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    for (policy, (ingress, egress)) in hbone {
        out.push((
            policy,
            policy_doc(
                &cluster.policies.network[policy],
                "allow-ambient-hbone",
                ingress,
                egress,
            ),
        ));
    }
    for (policy, rule) in probes {
        out.push((
            policy,
            policy_doc(
                &cluster.policies.network[policy],
                "allow-ambient-probes",
                vec![rule],
                Vec::new(),
            ),
        ));
    }
    out
}

fn policy_doc(original: &NetworkPolicy, prefix: &str, ingress: Vec<Y>, egress: Vec<Y>) -> String {
    if original.cilium.is_some() {
        return cilium_policy_doc(original, prefix, ingress, egress);
    }
    let base = original.name.trim_start_matches('<').trim_end_matches('>');
    let mut metadata = vec![("name", Y::str(format!("{prefix}-{base}")))];
    let explicit_namespace = original
        .node
        .get("metadata")
        .and_then(|m| m.field("namespace"))
        .is_some();
    if explicit_namespace {
        metadata.push(("namespace", Y::str(original.namespace.clone())));
    }
    let mut types = Vec::new();
    let mut spec = vec![("podSelector", selector_y(&original.pod_selector))];
    if !ingress.is_empty() {
        types.push(Y::str("Ingress"));
    }
    if !egress.is_empty() {
        types.push(Y::str("Egress"));
    }
    spec.push(("policyTypes", Y::Seq(types)));
    if !ingress.is_empty() {
        spec.push(("ingress", Y::Seq(ingress)));
    }
    if !egress.is_empty() {
        spec.push(("egress", Y::Seq(egress)));
    }
    let doc = Y::map(vec![
        ("apiVersion", Y::str("networking.k8s.io/v1")),
        ("kind", Y::str("NetworkPolicy")),
        ("metadata", Y::map(metadata)),
        ("spec", Y::map(spec)),
    ]);
    match doc {
        Y::Map(entries) => emit::document(&entries),
        _ => unreachable!("built as a map above"),
    }
}

/// Policies for waypoints' own pods: 15008/TCP from and to pods of every namespace, for the
/// waypoint only (it receives and forwards HBONE for its destinations and applies Istio's
/// AuthorizationPolicies itself). One document per waypoint, next to the isolating policy.
fn waypoint_policies(requests: &[FixRequest]) -> Vec<(usize, String)> {
    let mut merged: BTreeMap<(String, String), (usize, bool, bool)> = BTreeMap::new();
    for request in requests {
        if let FixRequest::AddWaypointPolicy {
            policy,
            waypoint,
            waypoint_namespace,
            ingress,
            egress,
        } = request
        {
            let entry = merged
                .entry((waypoint_namespace.clone(), waypoint.clone()))
                .or_insert((*policy, false, false));
            entry.1 |= ingress;
            entry.2 |= egress;
        }
    }
    merged
        .into_iter()
        .map(|((namespace, name), (policy, ingress, egress))| {
            let everyone = || {
                Y::Seq(vec![Y::map(vec![(
                    "namespaceSelector",
                    Y::Map(Vec::new()),
                )])])
            };
            let rule = |key: &str| {
                Y::Seq(vec![Y::Map(vec![
                    (key.to_string(), everyone()),
                    ("ports".to_string(), Y::Seq(vec![hbone_port()])),
                ])])
            };
            let mut types = Vec::new();
            let mut spec = vec![(
                "podSelector",
                Y::map(vec![(
                    "matchLabels",
                    Y::map(vec![(
                        crate::ambient::mesh::GATEWAY_NAME,
                        Y::str(name.clone()),
                    )]),
                )]),
            )];
            if ingress {
                types.push(Y::str("Ingress"));
            }
            if egress {
                types.push(Y::str("Egress"));
            }
            spec.push(("policyTypes", Y::Seq(types)));
            if ingress {
                spec.push(("ingress", rule("from")));
            }
            if egress {
                spec.push(("egress", rule("to")));
            }
            let doc = vec![
                ("apiVersion".to_string(), Y::str("networking.k8s.io/v1")),
                ("kind".to_string(), Y::str("NetworkPolicy")),
                (
                    "metadata".to_string(),
                    Y::map(vec![
                        ("name", Y::str(format!("allow-ambient-waypoint-{name}"))),
                        ("namespace", Y::str(namespace)),
                    ]),
                ),
                ("spec".to_string(), Y::map(spec)),
            ];
            (policy, emit::document(&doc))
        })
        .collect()
}

/// The name of the policy that lets a gateway or waypoint reach istiod and DNS.
pub fn proxy_policy_name(workload: &crate::model::Workload) -> String {
    let base = workload
        .labels
        .get(crate::ambient::mesh::GATEWAY_NAME)
        .unwrap_or(&workload.name);
    object_name(&format!("allow-istio-control-plane-{base}"))
}

/// A valid object name made of `text`: lower case, anything but letters, digits and `-` made a
/// `-`, at most 63 characters, no trailing `-`.
pub fn object_name(text: &str) -> String {
    // (Per character, without a lower-case copy of the whole text first; one byte each.)
    let mut name = String::with_capacity(63);
    name.extend(text.chars().take(63).map(|c| {
        if c.is_ascii_alphanumeric() || c == '-' {
            c.to_ascii_lowercase()
        } else {
            '-'
        }
    }));
    while name.ends_with('-') {
        name.pop();
    }
    name
}

/// Policies for gateways' and waypoints' own pods (AMB013): egress to istiod on 15012/TCP and
/// to kube-dns on 53, only what their policies lack. One document per proxy, next to the policy
/// that isolates it.
fn proxy_policies(cluster: &Cluster, requests: &[FixRequest]) -> Vec<(usize, String)> {
    let to = |namespace: &str, pods: (&str, &str), ports: Vec<(u16, &str)>| {
        let label =
            |(k, v): (&str, &str)| Y::map(vec![("matchLabels", Y::map(vec![(k, Y::str(v))]))]);
        Y::map(vec![
            (
                "to",
                Y::Seq(vec![Y::map(vec![
                    (
                        "namespaceSelector",
                        label((crate::model::NAMESPACE_NAME_LABEL, namespace)),
                    ),
                    ("podSelector", label(pods)),
                ])]),
            ),
            (
                "ports",
                Y::Seq(
                    ports
                        .into_iter()
                        .map(|(port, protocol)| {
                            Y::map(vec![
                                ("port", Y::Int(port.into())),
                                ("protocol", Y::str(protocol)),
                            ])
                        })
                        .collect(),
                ),
            ),
        ])
    };
    requests
        .iter()
        .filter_map(|request| {
            let FixRequest::AddProxyPolicy {
                policy,
                workload,
                selector,
                istiod,
                dns,
            } = request
            else {
                return None;
            };
            let proxy = &cluster.workloads[*workload];
            let mut egress = Vec::new();
            if let Some((namespace, (k, v))) = istiod {
                egress.push(to(
                    namespace,
                    (k, v),
                    vec![(crate::rules::amb013_proxy_control_plane::ISTIOD_PORT, "TCP")],
                ));
            }
            if *dns {
                egress.push(to(
                    "kube-system",
                    ("k8s-app", "kube-dns"),
                    vec![(53, "UDP"), (53, "TCP")],
                ));
            }
            let labels = selector
                .iter()
                .map(|(k, v)| (k.clone(), Y::str(v.clone())))
                .collect();
            let doc = vec![
                ("apiVersion".to_string(), Y::str("networking.k8s.io/v1")),
                ("kind".to_string(), Y::str("NetworkPolicy")),
                (
                    "metadata".to_string(),
                    Y::map(vec![
                        ("name", Y::str(proxy_policy_name(proxy))),
                        ("namespace", Y::str(proxy.namespace.clone())),
                    ]),
                ),
                (
                    "spec".to_string(),
                    Y::map(vec![
                        ("podSelector", Y::map(vec![("matchLabels", Y::Map(labels))])),
                        ("policyTypes", Y::Seq(vec![Y::str("Egress")])),
                        ("egress", Y::Seq(egress)),
                    ]),
                ),
            ];
            Some((*policy, emit::document(&doc)))
        })
        .collect()
}

/// Istio's documented Cilium fix for every ambient pod at once (platform prerequisites).
fn cilium_hostprobes(addresses: &[IpAddr]) -> Generated {
    let cidrs = Y::Seq(addresses.iter().map(|a| Y::str(cidr(a))).collect());
    let doc = vec![
        ("apiVersion".to_string(), Y::str("cilium.io/v2")),
        ("kind".to_string(), Y::str("CiliumClusterwideNetworkPolicy")),
        (
            "metadata".to_string(),
            Y::map(vec![("name", Y::str("allow-ambient-hostprobes"))]),
        ),
        (
            "spec".to_string(),
            Y::map(vec![
                (
                    "description",
                    Y::str("Allows SNAT-ed kubelet health check probes into ambient pods"),
                ),
                (
                    "enableDefaultDeny",
                    Y::map(vec![
                        ("egress", Y::Bool(false)),
                        ("ingress", Y::Bool(false)),
                    ]),
                ),
                ("endpointSelector", Y::Map(Vec::new())),
                ("ingress", Y::Seq(vec![Y::map(vec![("fromCIDR", cidrs)])])),
            ]),
        ),
    ];
    Generated {
        kind: "CiliumClusterwideNetworkPolicy".into(),
        name: "allow-ambient-hostprobes".into(),
        yaml: emit::Yaml::document(doc),
    }
}

#[cfg(test)]
mod tests {
    use super::end_of_flow;

    /// The edited document is read alone: an addition inside one is kept, one that starts a
    /// new document or changes a value is not, and an edit on the line between two documents
    /// is judged on the whole text, as before.
    #[test]
    fn an_edit_is_checked_on_its_own_document() {
        use super::{Documents, Edit, keeps_document};
        let text = "a: 1\n---\nb:\n  c: 2\n---\nd: 3\n";
        let sources = [crate::Source {
            name: "x.yaml",
            text,
        }];
        let documents = Documents::new(&sources);
        let edit = |at: usize, delete: usize, insert: &str| Edit {
            source: 0,
            policy: 0,
            at,
            delete,
            insert: insert.into(),
            order: 0,
        };
        let in_second = text.find("  c: 2\n").expect("the key") + "  c: 2\n".len();
        assert!(keeps_document(&documents, &edit(in_second, 0, "  e: 4\n")));
        assert!(!keeps_document(
            &documents,
            &edit(in_second, 0, "---\ne: 4\n")
        ));
        let value = text.find('2').expect("the value");
        assert!(!keeps_document(&documents, &edit(value, 1, "5")));
        assert!(!keeps_document(&documents, &edit(in_second, 0, "  c: [\n")));
        // On the boundary of the first two documents: the whole text is read again.
        let boundary = text.find("---").expect("the marker");
        assert!(keeps_document(&documents, &edit(boundary, 0, "")));
        assert!(!keeps_document(&documents, &edit(boundary, 0, "---\n")));
    }

    #[test]
    fn a_flow_collection_ends_at_its_own_bracket() {
        fn end(text: &str) -> &str {
            &text[..end_of_flow(text, 0)]
        }
        assert_eq!(end("[a, [b], c] x"), "[a, [b], c]");
        // Brackets inside quoted scalars, with their escapes, and in comments are text.
        assert_eq!(end(r#"{"]a": "b\"]", c: d} ]"#), r#"{"]a": "b\"]", c: d}"#);
        assert_eq!(end("{a: 'x'']y', b: c} ]"), "{a: 'x'']y', b: c}");
        assert_eq!(
            end("[a, # ] not the end\n b] ]"),
            "[a, # ] not the end\n b]"
        );
        // A quote inside a plain scalar opens nothing.
        assert_eq!(end("{name: it's, x: [1]} '"), "{name: it's, x: [1]}");
    }

    #[test]
    fn extras_combine_into_one_multi_document_text() {
        use super::{Fixed, Generated};
        let doc = |name: &str, yaml: &str| Generated {
            kind: "AuthorizationPolicy".into(),
            name: name.into(),
            yaml: yaml.into(),
        };
        let mut fixed = Fixed::default();
        assert_eq!(fixed.extras_combined(), "");
        fixed.extras = vec![
            doc("a", "kind: A\n"),
            doc("b", "kind: B"),
            doc("c", "kind: C\n"),
        ];
        assert_eq!(
            fixed.extras_combined(),
            "kind: A\n---\nkind: B\n---\nkind: C\n"
        );
    }

    #[test]
    fn a_tag_or_an_anchor_comes_before_a_nodes_content() {
        use super::after_properties;
        fn content(text: &str) -> &str {
            &text[after_properties(text, 0)..]
        }
        assert_eq!(content("! {a: 1}"), "{a: 1}");
        assert_eq!(content("!!map &x\n  [1]"), "[1]");
        assert_eq!(content("&anchor !<tag:x> {a: 1}"), "{a: 1}");
        assert_eq!(content("{a: 1}"), "{a: 1}");
        assert_eq!(content("&end"), "");
    }
}

#[cfg(test)]
mod fallback_tests {
    use crate::{Code, Options, Source, analyze};

    /// Rule 2's ports are an alias of rule 1's: an edit of either would change both, so the
    /// policy is fixed by a separate policy and a note says why; the text itself is untouched.
    #[test]
    fn a_rule_reached_through_an_alias_is_fixed_by_a_separate_policy() {
        let text = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: a}}}]
    ports: &web [{port: 8080, protocol: TCP}]
  - from: [{podSelector: {matchLabels: {app: b}}}]
    ports: *web
";
        let report = analyze(
            &[Source {
                name: "x.yaml",
                text,
            }],
            &Options::default(),
        );
        assert!(report.findings.iter().any(|f| f.code == Code::Amb001));
        assert!(report.findings.iter().all(|f| f.code != Code::Int001));
        let fixed = &report.fixed.texts[0];
        assert!(fixed.starts_with(text), "{fixed}");
        assert!(fixed.contains("name: allow-ambient-hbone-web"), "{fixed}");
        assert!(
            report
                .notes
                .iter()
                .any(|n| n.contains("`shop/web`") && n.contains("YAML alias")),
            "{:?}",
            report.notes
        );
    }
}
