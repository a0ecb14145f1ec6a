//! Exercises: whether a learner's edit of an example meets a lesson's goal.
//!
//! The page's lessons end with "edit the example so that this finding disappears". Making a
//! finding disappear is easy and says nothing (delete the policy, break the YAML, replace 9090 by
//! 15008, allow everything); the goal is met when the edit is the fix. So the goal is the same
//! for every lesson, only the findings to remove change ([`Goal`]), and [`check`] says what is
//! still missing:
//!
//! - the text parses (no INP001);
//! - the goal's findings are gone, and the example had them under these settings;
//! - the example's NetworkPolicies are still there (same namespace and name), and its other
//!   objects (namespaces, workloads, gateways, services) are as they were: the exercise edits
//!   policies, it does not leave the mesh or drop a probe;
//! - every connection the example's policies allow is still allowed (the ports and peers kept);
//! - nothing is allowed that neither the example nor its corrected YAML allows (every other
//!   connection still denied), the probe SNAT addresses aside: only the kubelet sends from them;
//! - the same two for what the AuthorizationPolicies let through from each mesh workload, the
//!   example's read as the sidecars enforced them, the others as ztunnel does;
//! - no error is reported that the example did not have.
//!
//! Connections are compared on one set of endpoints for the three texts (example, corrected,
//! learner's): the example's workloads, the pods every policy's selectors stand for, a pod with
//! no labels in each namespace and in a namespace of its own, and one address per part of the
//! address space that the policies' `ipBlock`s and the SNAT addresses cut.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::ambient::{HBONE_PORT, ProbeSnat};
use crate::findings::{Code, Finding, Severity};
use crate::input::yaml::{Node, Value};
use crate::input::{Object, WORKLOAD_KINDS};
use crate::istio::{self, ztunnel};
use crate::model::{Model, Workload, inferred};
use crate::net::conn::{ConnSet, Protocol};
use crate::net::ip::IpSet;
use crate::net::ranges::Ranges;
use crate::netpol::policy::{NetworkPolicy, Peer};
use crate::pipeline::engine::{Endpoint, Engine};
use crate::pipeline::{self, Cluster, Policies};
use crate::{Options, Report, Source, analyze, input, model};

/// The findings an exercise must make disappear (a lesson file's `goal:` line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Goal {
    pub gone: Vec<Code>,
}

impl Goal {
    /// `AMB001` or `AMB001, AMB003`: the codes, each a known one.
    pub fn parse(text: &str) -> Result<Goal, String> {
        let gone = text
            .split([',', ' '])
            .filter(|w| !w.is_empty())
            .map(|w| Code::from_id(w).ok_or_else(|| format!("`{w}` is not a finding code")))
            .collect::<Result<Vec<_>, _>>()?;
        if gone.is_empty() {
            return Err("no finding code".into());
        }
        Ok(Goal { gone })
    }

    fn codes(&self) -> String {
        self.gone
            .iter()
            .map(|c| c.id())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// What [`check`] found.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// What is still missing or wrong, the most basic first; empty when the goal is met.
    pub missing: Vec<String>,
    /// What was checked, for the message that says the goal is met.
    pub checked: Vec<String>,
}

impl Outcome {
    pub fn done(&self) -> bool {
        self.missing.is_empty()
    }
}

/// Past this many endpoints the comparison is not made (the text is no longer a lesson's
/// example, and the other checks say so).
const MAX_ENDPOINTS: usize = 200;
/// How many sentences of each kind (lost, added, new errors) are listed.
const SHOWN: usize = 3;

/// Checks `text`, whose analysis is `report`, against the goal of an exercise on `example`.
pub fn check(
    goal: &Goal,
    example: &str,
    text: &str,
    report: &Report,
    options: &Options,
) -> Outcome {
    let mut out = Outcome::default();
    let missing = &mut out.missing;
    if let Some(f) = report.findings.iter().find(|f| f.code == Code::Inp001) {
        missing.push(format!(
            "{}the YAML does not parse (INP001): {}",
            at_line(f),
            f.message
        ));
        return out;
    }
    out.checked.push("the YAML parses".into());
    let original = analyze(&[source(example)], options);
    let codes = goal.codes();
    if !original
        .findings
        .iter()
        .any(|f| goal.gone.contains(&f.code))
    {
        missing.push(format!(
            "the example has no {codes} with the current settings: set them back to do this exercise"
        ));
        return out;
    }
    for f in report
        .findings
        .iter()
        .filter(|f| goal.gone.contains(&f.code))
    {
        missing.push(format!("{}{} is still reported", at_line(f), f.code.id()));
    }
    if missing.is_empty() {
        out.checked.push(format!("{codes} is gone"));
    }

    let example_objects = input::load(&[source(example)]).objects;
    let objects = input::load(&[source(text)]).objects;
    if !objects_changed(&example_objects, &objects, missing) {
        out.checked
            .push("the example's policies are still there and its other objects unchanged".into());
        compare_connections(
            &example_objects,
            &objects,
            &original.fixed.combined(),
            options,
            &mut out,
        );
    }

    // Errors the example did not have (the goal's own aside), counted per code.
    let errors = |findings: &[Finding], code: Code| {
        findings
            .iter()
            .filter(|f| f.code == code && f.severity == Severity::Error)
            .count()
    };
    let mut new: Vec<Code> = Vec::new();
    for f in &report.findings {
        let code = f.code;
        if f.severity == Severity::Error
            && !goal.gone.contains(&code)
            && !new.contains(&code)
            && errors(&report.findings, code) > errors(&original.findings, code)
        {
            new.push(code);
            out.missing.push(format!(
                "a new error: {}{}: {}",
                at_line(f),
                code.id(),
                f.message
            ));
        }
    }
    if new.is_empty() {
        out.checked.push("no new error".into());
    }
    out
}

fn source(text: &str) -> Source<'_> {
    Source {
        name: "exercise.yaml",
        text,
    }
}

fn at_line(f: &Finding) -> String {
    f.line().map_or(String::new(), |l| format!("line {l}: "))
}

/// The kinds whose objects the exercise must leave as they are (they decide who is in the mesh,
/// which pods exist and which probes they have).
fn is_fixed_kind(kind: &str) -> bool {
    matches!(kind, "Namespace" | "Gateway" | "Service") || WORKLOAD_KINDS.contains(&kind)
}

/// Whether an example's NetworkPolicy is missing from `objects` or another of its objects
/// changed (said in `missing`).
fn objects_changed(example: &[Object], objects: &[Object], missing: &mut Vec<String>) -> bool {
    let before = missing.len();
    let unnamed = |o: &Object| o.name.starts_with("<unnamed");
    let same_id = |a: &Object, b: &Object| {
        a.kind == b.kind
            && a.namespace == b.namespace
            && (a.name == b.name || unnamed(a) && unnamed(b))
    };
    for object in example {
        let found = objects.iter().find(|o| same_id(object, o));
        let name = if unnamed(object) {
            format!("{} without a name in `{}`", object.kind, object.namespace)
        } else {
            format!("{} `{}`", object.kind, object.name)
        };
        match found {
            None => missing.push(format!("the {name} is no longer in the text")),
            Some(o) if is_fixed_kind(&o.kind) && !same_node(&o.node, &object.node) => missing.push(
                format!("the {name} is not as in the example: this exercise changes policies only"),
            ),
            _ => {}
        }
    }
    for object in objects.iter().filter(|o| is_fixed_kind(&o.kind)) {
        if !example.iter().any(|e| same_id(e, object)) {
            missing.push(format!(
                "a {} `{}` was added: this exercise changes policies only",
                object.kind, object.name
            ));
        }
    }
    missing.len() > before
}

/// The same YAML value, wherever it is written and in whatever order the keys come.
fn same_node(a: &Node, b: &Node) -> bool {
    match (&a.value, &b.value) {
        (Value::Scalar { text: x, .. }, Value::Scalar { text: y, .. }) => x == y,
        (Value::Seq(x), Value::Seq(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_node(a, b))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter().all(|(k, v)| {
                    y.iter()
                        .any(|(k2, v2)| same_node(k, k2) && same_node(v, v2))
                })
        }
        _ => false,
    }
}

/// The endpoints of the comparison: workloads, and one address per part of the address space.
struct Endpoints {
    cluster: Cluster,
    /// (range, its first address).
    addresses: Vec<(String, IpAddr)>,
}

impl Endpoints {
    fn name(&self, e: Endpoint) -> String {
        match e {
            Endpoint::Workload(w) => describe(&self.cluster.workloads[w]),
            Endpoint::Ip(a) => self
                .addresses
                .iter()
                .find(|(_, b)| *b == a)
                .map_or(a.to_string(), |(range, _)| range.clone()),
        }
    }

    /// "any pod", "any address", "any source", or up to two names and how many more.
    fn list(&self, ends: &[Endpoint], any: &str) -> String {
        let pods = ends
            .iter()
            .filter(|e| matches!(e, Endpoint::Workload(_)))
            .count();
        let (all_pods, all_addresses) = (
            pods == self.cluster.workloads.len(),
            ends.len() - pods == self.addresses.len(),
        );
        if all_pods && all_addresses {
            return any.into();
        }
        let mut parts: Vec<String> = Vec::new();
        if all_pods {
            parts.push("any pod".into());
        }
        let named: Vec<String> = ends
            .iter()
            .filter(|e| match e {
                Endpoint::Workload(_) => !all_pods,
                Endpoint::Ip(_) => !all_addresses,
            })
            .map(|e| self.name(*e))
            .collect();
        parts.extend(named.iter().take(2).cloned());
        if all_addresses {
            parts.push("any address".into());
        }
        let mut text = parts.join(", ");
        if named.len() > 2 {
            text.push_str(&format!(" and {} more", named.len() - 2));
        }
        text
    }
}

/// Compares what the learner's policies allow with what the example's allow and what its
/// corrected YAML allows, on the same endpoints.
fn compare_connections(
    example: &[Object],
    objects: &[Object],
    fixed: &str,
    options: &Options,
    out: &mut Outcome,
) {
    let fixed_objects = input::load(&[source(fixed)]).objects;
    let policies = |objects: &[Object]| pipeline::load(objects).0.policies.network;
    let sets = [
        policies(example),
        policies(&fixed_objects),
        policies(objects),
    ];
    let Some(endpoints) = endpoints(example, &sets, options) else {
        out.missing.push(
            "the text has grown far beyond the example: this exercise edits its policies only"
                .into(),
        );
        return;
    };
    let clusters: Vec<Cluster> = sets
        .into_iter()
        .map(|network| Cluster {
            model: Model {
                namespaces: endpoints.cluster.namespaces.clone(),
                workloads: endpoints.cluster.workloads.clone(),
                ..Model::default()
            },
            policies: Policies {
                network,
                ..Policies::default()
            },
        })
        .collect();
    let engines: Vec<Engine> = clusters.iter().map(|c| options.engine(c)).collect();
    let snat: &[IpAddr] = match &options.probe_snat {
        ProbeSnat::Addresses(a) => a,
        ProbeSnat::HostIp => &[],
    };

    let workloads = endpoints.cluster.workloads.len();
    let mut pairs: Vec<(Endpoint, Endpoint)> = Vec::new();
    for d in 0..workloads {
        for s in 0..workloads {
            pairs.push((Endpoint::Workload(s), Endpoint::Workload(d)));
        }
        for (_, a) in &endpoints.addresses {
            pairs.push((Endpoint::Ip(*a), Endpoint::Workload(d)));
            pairs.push((Endpoint::Workload(d), Endpoint::Ip(*a)));
        }
    }
    let [mut lost, mut added, mut kept] = [0, 1, 2].map(|_| Groups::default());
    for (s, d) in pairs {
        let [before, fixed, now] = [0, 1, 2].map(|i| engines[i].allowed_between(s, d));
        lost.add(s, d, before.subtract(&now));
        // Only the kubelet sends from the probe SNAT addresses.
        let allowed = if matches!(s, Endpoint::Ip(a) if snat.contains(&a)) {
            ConnSet::all()
        } else {
            before.union(&fixed)
        };
        added.add(s, d, now.subtract(&allowed));
        if !before.is_all() {
            kept.add(s, d, (*before).clone());
        }
    }
    compare_authorization(
        [example, &fixed_objects, objects],
        &endpoints,
        &engines[0],
        options,
        [&mut lost, &mut added],
    );
    let lost = lost.sentences(&endpoints, "is no longer allowed");
    let added = added.sentences(
        &endpoints,
        "is now allowed: neither the example nor the corrected YAML allows it",
    );
    if lost.is_empty() {
        let kept = kept.sentences(&endpoints, "");
        out.checked.push(if kept.is_empty() {
            "everything the example allowed is still allowed".into()
        } else {
            format!("still allowed: {}", kept.join("; "))
        });
    }
    if added.is_empty() {
        out.checked
            .push("nothing is allowed beyond what the corrected YAML allows".into());
    }
    out.missing.extend(lost);
    out.missing.extend(added);
}

/// What the AuthorizationPolicies let through from each mesh workload, compared like the
/// connections: the example read as the sidecars enforced it (an ALLOW rule's HTTP attributes
/// matched some request, so its L4 part admits; a DENY rule with them denies some requests
/// only, so it denies no connection), the corrected YAML and the learner's text as ztunnel
/// enforces them. Lost: ports the example's policies surely admitted and its NetworkPolicies
/// allow, that the learner's policies surely refuse; added: ports the learner's policies surely
/// admit that neither the example's nor the corrected YAML's may admit (an ALLOW policy turned
/// AUDIT or retargeted admits every identity). Nothing to compare when none of the three has an
/// AuthorizationPolicy.
fn compare_authorization(
    texts: [&[Object]; 3],
    endpoints: &Endpoints,
    example_engine: &Engine,
    options: &Options,
    [lost, added]: [&mut Groups; 2],
) {
    let clusters = texts.map(|objects| Cluster {
        policies: Policies {
            istio: istio::Policies {
                authorization: pipeline::load(objects).0.policies.istio.authorization,
                ..istio::Policies::default()
            },
            ..Policies::default()
        },
        ..Cluster::default()
    });
    if clusters
        .iter()
        .all(|c| c.policies.istio.authorization.is_empty())
    {
        return;
    }
    let [mut example, mut fixed, now] = clusters;
    // As the sidecars (or a waypoint) enforce a policy: an ALLOW rule's HTTP attributes match
    // some request, a DENY rule with them denies no whole connection.
    let as_with_http = |policy: &mut istio::AuthorizationPolicy| {
        let deny = policy.action == istio::Action::Deny;
        policy.rules.retain(|r| !deny || r.l7.is_empty());
        for rule in &mut policy.rules {
            rule.l7.clear();
        }
    };
    // The corrected YAML may attach one of the example's policies to a waypoint (`targetRefs`):
    // the waypoint then enforces it, with its HTTP attributes, for the same pods. (Read as
    // ztunnel reads it, a retargeted policy admits everyone, and any learner's edit would pass.)
    for policy in &mut fixed.policies.istio.authorization {
        if !matches!(policy.scope, istio::Scope::TargetRefs(_)) {
            continue;
        }
        if let Some(original) = example
            .policies
            .istio
            .authorization
            .iter()
            .find(|p| p.name == policy.name && p.namespace == policy.namespace)
        {
            policy.scope = original.scope.clone();
            as_with_http(policy);
        }
    }
    for policy in &mut example.policies.istio.authorization {
        as_with_http(policy);
    }
    let settings = ztunnel::Settings {
        trust_domain: &options.trust_domain,
        root_namespace: &options.istio_root_namespace,
    };
    let tcp = |ports: Ranges<u16>| ConnSet::ports(Protocol::Tcp, ports);
    let workloads = &endpoints.cluster.workloads;
    for (d, wd) in workloads.iter().enumerate() {
        let [e, f, n] = [&example, &fixed, &now].map(|cluster| {
            let policies = ztunnel::enforced(&cluster.policies.istio, settings, wd);
            move |peer| {
                ztunnel::verdict(
                    &cluster.policies.istio,
                    settings,
                    &policies,
                    &Ranges::empty(),
                    peer,
                )
            }
        });
        for (s, ws) in workloads.iter().enumerate() {
            let peer = ztunnel::Peer::of(ws);
            let (e, f, n) = (e(peer), f(peer), n(peer));
            let (src, dst) = (Endpoint::Workload(s), Endpoint::Workload(d));
            let admitted = example_engine.allowed_between(src, dst);
            // (15008 is the tunnel's port, never the inner one the policies judge.)
            let kept = e
                .lower
                .intersect(admitted.of(Protocol::Tcp))
                .subtract(&Ranges::span(HBONE_PORT, HBONE_PORT));
            lost.add(src, dst, tcp(kept.subtract(&n.upper)));
            added.add(src, dst, tcp(n.lower.subtract(&e.upper.union(&f.upper))));
        }
    }
}

/// The endpoints of the comparison; `None` past [`MAX_ENDPOINTS`].
fn endpoints(
    example: &[Object],
    sets: &[Vec<NetworkPolicy>],
    options: &Options,
) -> Option<Endpoints> {
    let (mut cluster, _) = pipeline::load(example);
    cluster.policies.network = sets.concat();
    cluster.add_inferred();
    cluster.policies.network.clear();
    if cluster.workloads.len() > MAX_ENDPOINTS {
        return None;
    }
    // A pod with no labels in each namespace and in one of its own: "any other pod".
    // (`Model::namespaces` stays sorted by name.)
    if let Err(at) = cluster
        .namespaces
        .binary_search_by(|ns| ns.name.as_str().cmp(inferred::ANY_NAMESPACE))
    {
        let any = model::Namespace {
            name: inferred::ANY_NAMESPACE.into(),
            labels: Default::default(),
            location: None,
        };
        cluster.model.namespaces.insert(at, any);
    }
    for ns in &cluster.model.namespaces {
        let taken = cluster
            .workloads
            .iter()
            .any(|w| w.namespace == ns.name && w.labels.is_empty());
        if !taken {
            cluster.model.workloads.push(Workload {
                kind: "Pod".into(),
                name: "[all pods]".into(),
                namespace: ns.name.clone(),
                labels: Default::default(),
                annotations: Default::default(),
                containers: Vec::new(),
                host_network: false,
                service_account: None,
                ips: Vec::new(),
                location: Default::default(),
                inferred: Some("any other pod".into()),
                replicated: true,
                owner_selector: None,
            });
        }
    }
    // Where the address space is cut: the first address of every block and the one after it,
    // IPv4 addresses as `u32` values in a `u128`, IPv6 ones apart.
    let mut cuts: [Vec<u128>; 2] = [vec![0], vec![0]];
    let mut cut = |set: &IpSet| {
        let v4 = set
            .v4
            .spans()
            .iter()
            .map(|&(lo, hi)| (0, u128::from(lo), u128::from(hi)));
        let v6 = set.v6.spans().iter().map(|&(lo, hi)| (1, lo, hi));
        for (family, lo, hi) in v4.chain(v6) {
            for c in [Some(lo), hi.checked_add(1)].into_iter().flatten() {
                // (Past the limit the comparison is not made: no need to go on.)
                if cuts[family].len() <= MAX_ENDPOINTS && !cuts[family].contains(&c) {
                    cuts[family].push(c);
                }
            }
        }
    };
    for rule in sets
        .iter()
        .flatten()
        .flat_map(|p| p.ingress.iter().chain(&p.egress))
    {
        for peer in rule.peers.iter().flatten() {
            if let Peer::IpBlock { set, .. } = peer {
                cut(set);
            }
        }
    }
    if let ProbeSnat::Addresses(addresses) = &options.probe_snat {
        for a in addresses {
            cut(&IpSet::address(*a));
        }
    }
    if cluster.workloads.len() + cuts[0].len() + cuts[1].len() > MAX_ENDPOINTS {
        return None;
    }
    // Each part of the address space, from a cut to the address before the next one, in order.
    let mut addresses = Vec::new();
    for (family, cuts) in cuts.iter_mut().enumerate() {
        // IPv6 only when some block has IPv6 addresses.
        if family == 1 && cuts.len() == 1 {
            continue;
        }
        let max = if family == 0 {
            u128::from(u32::MAX)
        } else {
            u128::MAX
        };
        let ip = |n: u128| -> IpAddr {
            if family == 0 {
                std::net::Ipv4Addr::from(n as u32).into()
            } else {
                std::net::Ipv6Addr::from(n).into()
            }
        };
        cuts.retain(|&c| c <= max);
        let mut lo = 0;
        loop {
            let next = cuts.iter().copied().filter(|&c| c > lo).min();
            let hi = next.map_or(max, |c| c - 1);
            addresses.push((
                if lo == hi {
                    ip(lo).to_string()
                } else {
                    format!("{}-{}", ip(lo), ip(hi))
                },
                ip(lo),
            ));
            let Some(next) = next else { break };
            lo = next;
        }
    }
    Some(Endpoints { cluster, addresses })
}

/// How sentences name a workload: `namespace/name`, or for pods a selector stands for the
/// diagram's label (`default/my-app`); `any pod` is every pod.
fn describe(w: &Workload) -> String {
    if w.inferred.is_none() {
        return w.qualified_name();
    }
    let label = crate::ambient::paths::inferred_label(&w.labels);
    match (w.namespace == inferred::ANY_NAMESPACE, w.labels.is_empty()) {
        (true, true) => "pods of other namespaces".into(),
        (true, false) => format!("{label} pods of any namespace"),
        (false, true) => format!("other pods of {}", w.namespace),
        (false, false) => format!("{}/{label}", w.namespace),
    }
}

/// `TCP 9090`, `every port`, or `every port but TCP 9090` when that is shorter.
fn ports(conns: &ConnSet) -> String {
    let but = ConnSet::all().subtract(conns);
    if but.is_empty() {
        return "every port".into();
    }
    let (words, but) = (conns.to_string(), but.to_string());
    if but.len() < words.len() {
        format!("every port but {but}")
    } else {
        words
    }
}

/// One group of connections: an end, a set, and the other ends.
struct Group {
    this: Endpoint,
    conns: ConnSet,
    others: Vec<Endpoint>,
}

/// Connections grouped by destination and set, and by source and set, for short sentences.
#[derive(Default)]
struct Groups {
    by_destination: Vec<Group>,
    by_source: Vec<Group>,
}

impl Groups {
    fn add(&mut self, s: Endpoint, d: Endpoint, conns: ConnSet) {
        if conns.is_empty() {
            return;
        }
        for (groups, this, other) in [
            (&mut self.by_destination, d, s),
            (&mut self.by_source, s, d),
        ] {
            match groups
                .iter_mut()
                .find(|g| g.this == this && g.conns == conns)
            {
                Some(g) => g.others.push(other),
                None => groups.push(Group {
                    this,
                    conns: conns.clone(),
                    others: vec![other],
                }),
            }
        }
    }

    /// "TCP 9090 from any source to default/my-app is no longer allowed", one per group, in
    /// whichever grouping needs fewer sentences; at most [`SHOWN`].
    fn sentences(&self, endpoints: &Endpoints, verb: &str) -> Vec<String> {
        let by_destination = self.by_destination.len() <= self.by_source.len();
        let groups = if by_destination {
            &self.by_destination
        } else {
            &self.by_source
        };
        let mut out: Vec<String> = groups
            .iter()
            .take(SHOWN)
            .map(|g| {
                let this = endpoints.name(g.this);
                let (from, to) = if by_destination {
                    (endpoints.list(&g.others, "any source"), this)
                } else {
                    (this, endpoints.list(&g.others, "any destination"))
                };
                format!("{} from {from} to {to} {verb}", ports(&g.conns))
                    .trim_end()
                    .to_string()
            })
            .collect();
        if groups.len() > SHOWN {
            out.push(format!("and {} more like these", groups.len() - SHOWN));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = include_str!("../tests/seed/hbone-blocked.yaml");
    const DENY: &str = include_str!("../tests/seed/deny-ingress.yaml");

    fn outcome(goal: &str, example: &str, text: &str) -> Outcome {
        let options = Options::default();
        let report = analyze(&[source(text)], &options);
        check(
            &Goal::parse(goal).unwrap(),
            example,
            text,
            &report,
            &options,
        )
    }

    fn fixed(example: &str) -> String {
        analyze(&[source(example)], &Options::default())
            .fixed
            .combined()
    }

    #[test]
    fn goals_are_finding_codes() {
        assert_eq!(
            Goal::parse("AMB001, amb003").unwrap().gone,
            [Code::Amb001, Code::Amb003]
        );
        assert!(Goal::parse("").is_err());
        assert!(Goal::parse("AMB999").unwrap_err().contains("AMB999"));
    }

    #[test]
    fn the_corrected_yaml_meets_the_goal() {
        let done = outcome("AMB001", SEED, &fixed(SEED));
        assert!(done.done(), "{:?}", done.missing);
        assert!(
            done.checked.iter().any(|c| c.contains("TCP 9090")),
            "{:?}",
            done.checked
        );
        let done = outcome("AMB003", DENY, &fixed(DENY));
        assert!(done.done(), "{:?}", done.missing);
    }

    #[test]
    fn the_unchanged_example_is_not_done() {
        let todo = outcome("AMB001", SEED, SEED);
        assert_eq!(todo.missing, ["line 5: AMB001 is still reported"]);
    }

    #[test]
    fn an_empty_or_broken_text_is_not_done() {
        let empty = outcome("AMB001", SEED, "");
        assert!(
            empty.missing[0].contains("NetworkPolicy without a name in `default` is no longer"),
            "{:?}",
            empty.missing
        );
        let broken = outcome("AMB001", SEED, &format!("{}  ports: [\n", fixed(SEED)));
        assert!(
            broken.missing[0].contains("does not parse (INP001)"),
            "{:?}",
            broken.missing
        );
    }

    #[test]
    fn replacing_the_port_loses_it() {
        let text = SEED.replace("port: 9090", "port: 15008");
        let todo = outcome("AMB001", SEED, &text);
        assert_eq!(
            todo.missing,
            ["TCP 9090 from any source to default/my-app is no longer allowed"]
        );
    }

    #[test]
    fn opening_other_ingress_is_not_done() {
        let text =
            format!("{DENY}  ingress:\n  - from:\n    - ipBlock:\n        cidr: 0.0.0.0/0\n");
        let todo = outcome("AMB003", DENY, &text);
        assert!(!todo.done());
        assert!(
            todo.missing
                .iter()
                .any(|m| m.contains("every port from 0.0.0.0-169.254.7.126, 169.254.7.128-255.255.255.255 to default/my-app is now allowed")),
            "{:?}",
            todo.missing
        );
        let egress = DENY.replace("- Ingress", "- Egress");
        let todo = outcome("AMB003", DENY, &egress);
        assert!(
            todo.missing
                .iter()
                .any(|m| m.starts_with("every port from pods of other namespaces, other pods of default and 2 more to default/my-app is now allowed")),
            "{:?}",
            todo.missing
        );
        // And my-app may no longer send anything.
        assert!(
            todo.missing[0].starts_with("every port from default/my-app to")
                && todo.missing[0].ends_with("is no longer allowed"),
            "{:?}",
            todo.missing
        );
    }

    #[test]
    fn port_sets_read_short() {
        use crate::net::conn::Protocol;
        let tcp = |p| ConnSet::port(Protocol::Tcp, p);
        assert_eq!(ports(&tcp(9090)), "TCP 9090");
        assert_eq!(ports(&ConnSet::all()), "every port");
        assert_eq!(
            ports(&ConnSet::all().subtract(&tcp(9090).union(&tcp(15008)))),
            "every port but TCP 9090,15008"
        );
    }

    #[test]
    fn the_probe_address_may_be_admitted_on_every_port() {
        let text = format!(
            "{DENY}  ingress:\n  - from:\n    - ipBlock:\n        cidr: 169.254.7.127/32\n"
        );
        assert!(outcome("AMB003", DENY, &text).done());
        // A wider block lets others in.
        let wide = text.replace("/32", "/16");
        assert!(
            outcome("AMB003", DENY, &wide).missing[0]
                .contains("from 169.254.0.0-169.254.7.126, 169.254.7.128-169.254.255.255 to"),
            "{:?}",
            outcome("AMB003", DENY, &wide).missing
        );
    }

    #[test]
    fn other_objects_stay_as_they_were() {
        // Leaving the mesh makes AMB001 go away, and is not the fix.
        let namespace = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: default\n  labels:\n    istio.io/dataplane-mode: none\n---\n";
        let todo = outcome("AMB001", SEED, &format!("{namespace}{SEED}"));
        assert!(
            todo.missing
                .iter()
                .any(|m| m.contains("a Namespace `default` was added")),
            "{:?}",
            todo.missing
        );
    }

    /// A text far beyond the example is not compared pair by pair (the cost grows with the
    /// square of the endpoints), and says so.
    #[test]
    fn a_huge_text_is_not_compared() {
        // Many selectors, or many address blocks.
        for (selected, peer) in [
            ("{matchLabels: {app: aN}}", "podSelector: {}"),
            ("{}", "ipBlock: {cidr: 10.0.N.0/24}"),
        ] {
            let mut text = fixed(SEED);
            for i in 0..MAX_ENDPOINTS {
                let n = i.to_string();
                let (selected, peer) = (selected.replace('N', &n), peer.replace('N', &n));
                text.push_str(&format!("---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: p{i}}}\nspec:\n  podSelector: {selected}\n  ingress:\n  - from:\n    - {peer}\n"));
            }
            // (Its findings do not matter here, and analysing it takes a while unoptimised.)
            let goal = Goal::parse("AMB001").unwrap();
            let todo = check(&goal, SEED, &text, &Report::default(), &Options::default());
            assert!(
                todo.missing
                    .iter()
                    .any(|m| m.contains("grown far beyond the example")),
                "{peer}: {:?}",
                todo.missing
            );
        }
    }

    #[test]
    fn a_new_error_is_not_done() {
        let text = fixed(SEED).replace(
            "protocol: TCP\n  podSelector",
            "protocol: TPC\n  podSelector",
        );
        let todo = outcome("AMB001", SEED, &text);
        assert!(
            todo.missing
                .iter()
                .any(|m| m.starts_with("a new error: line")),
            "{:?}",
            todo.missing
        );
    }
}
